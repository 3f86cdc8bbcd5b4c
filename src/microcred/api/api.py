"""The public HTTP API: one NinjaAPI, one router per app."""

from ninja import NinjaAPI

from microcred.catalog.api import router as catalog_router

api = NinjaAPI(
    title="microcred API",
    version="1.0.0",
    description="Read the micro-credential catalog; later versions add earning and assessing.",
    urls_namespace="api-1.0.0",
)
api.add_router("/catalog/", catalog_router)
api.add_router("/credentials/", "microcred.credentials.api.router")
api.add_router("/assessment/", "microcred.assessment.api.router")
api.add_router("/earning/", "microcred.earning.api.router")

"""The public HTTP API: one NinjaAPI, one router per app."""

from microcred.catalog.api import router as catalog_router

from .docs import LocalSwagger
from .errors import ErrorDocumentingAPI

api = ErrorDocumentingAPI(
    title="microcred API",
    version="1.0.0",
    description=(
        "Read the micro-credential catalog, earn (attempts, evidence uploads, submissions, "
        "decisions) and assess. Every error answers with an ApiError body: "
        '{"detail": ..., "code": ..., "errors": [{"field": ..., "message": ...}]}.'
    ),
    urls_namespace="api-1.0.0",
    docs=LocalSwagger(),
)
api.add_router("/catalog/", catalog_router)
api.add_router("/credentials/", "microcred.credentials.api.router")
api.add_router("/assessment/", "microcred.assessment.api.router")
api.add_router("/assessment/", "microcred.assessment.api_standing.router")
api.add_router("/earning/", "microcred.earning.api.router")
api.add_router("/earning/", "microcred.earning.api_supports.router")
api.add_router("/earning/", "microcred.earning.api_coaching.router")
api.add_router("/recognition/", "microcred.recognition.api.router")
api.add_router("/programs/", "microcred.orgs.api_programs.router")
api.add_router("/sso/", "microcred.orgs.api_sso.router")
api.add_router("/rosters/", "microcred.orgs.api_rosters.router")
api.add_router("/lti/", "microcred.lti.api.router")
api.add_router("/webhooks/", "microcred.webhooks.api.router")

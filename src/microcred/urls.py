from django.contrib import admin
from django.urls import include, path

from microcred.api.api import api

urlpatterns = [
    path("", include("microcred.web.urls")),
    path("accounts/", include("allauth.urls")),
    path("catalog/", include("microcred.catalog.urls")),
    path("author/", include("microcred.catalog.urls_authoring")),
    path("vetting/", include("microcred.catalog.urls_vetting")),
    path("manage/", include("microcred.orgs.urls")),
    path("uploads/", include("microcred.earning.urls_uploads")),
    path("earn/", include("microcred.earning.urls")),
    path("", include("microcred.credentials.urls")),
    path("ob2/", include("microcred.credentials.urls_ob2")),
    path("notifications/", include("microcred.notifications.urls")),
    path("evidence/", include("microcred.earning.urls_evidence")),
    path("assess/", include("microcred.assessment.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]

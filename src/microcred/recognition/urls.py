"""Recognition's pages: policies, the ledger and its exports, licenses and the educator's
record, credentials from elsewhere. Each area keeps its routes in its own module."""

from . import urls_external, urls_ledger, urls_policies, urls_record

app_name = "recognition"
urlpatterns = [
    *urls_policies.urlpatterns,
    *urls_ledger.urlpatterns,
    *urls_record.urlpatterns,
    *urls_external.urlpatterns,
]

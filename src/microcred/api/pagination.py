"""Page-number pagination for every paginated list in the API.

ninja's own PageNumberPagination slices the query with whatever page it is given: a page
past the end of the list returns an empty page, and a page like 922337203685477580 makes an
offset the database cannot hold (a 500). Here the page is checked against the count first:
a page past the end is a 404 that says how many pages there are, and nothing is sliced.
"""

# No `from __future__ import annotations`: django-ninja reads these annotations at run time.
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PageNumberPagination

from .errors import ApiHttpError


class CheckedPageNumberPagination(PageNumberPagination):
    class Input(Schema):
        page: int = Field(1, ge=1, description="Which page, from 1.")
        page_size: int | None = Field(None, ge=1, description="Results per page.")

    def paginate_queryset(
        self, queryset: QuerySet, pagination: Any, request: HttpRequest, **params: Any
    ) -> Any:
        page_size = self._get_page_size(pagination.page_size)
        count = self._items_count(queryset)
        pages = max(1, -(-count // page_size))
        if pagination.page > pages:
            raise ApiHttpError(
                404,
                f"There is no page {pagination.page}: these results have {pages} "
                f"page{'s' if pages != 1 else ''} of {page_size}.",
                code="no_such_page",
            )
        offset = (pagination.page - 1) * page_size
        return {self.items_attribute: queryset[offset : offset + page_size], "count": count}

"""The public catalog: search, micro-credential pages and stacks. Anyone may read them, signed
in or not; everything shown is published (or was, for earlier and retired versions)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from .models import MicroCredentialVersion, Stack
from .search import (
    PAGE_SIZE,
    CatalogQuery,
    LocalCache,
    catalog_generation,
    resolve_filters,
    search,
)
from .selectors import approved_uses, public_micro_credential, public_stack, public_stacks

# Rendered search pages by (catalog generation, query string): a page is worth keeping because
# the catalog changes rarely and visitors repeat the same few searches; a new generation (see
# search.py) retires every kept page at once. At most 100 pages of 30-60 KB per process.
search_pages = LocalCache(size=100)
_MAX_KEPT_QUERY = 1000  # characters; longer addresses are rendered each time, never kept
# What a result card (catalog/public/_card.html) reads of a version: the long texts stay in the
# database, and out of the sort of every match that picks a page of them.
CARD_FIELDS = (
    "micro_credential__slug",
    "micro_credential__provider__name",
    "status",
    "title",
    "summary",
    "difficulty",
    "estimated_hours",
)


def catalog_search(request: HttpRequest) -> HttpResponse:
    generation = catalog_generation()
    params = request.GET.urlencode()
    query = CatalogQuery.from_params(request.GET)  # cheap; the page title needs only `q`
    content: SafeString | None = search_pages.get((generation, params))
    if content is None:
        content = _search_content(request, query, generation)
        if len(params) <= _MAX_KEPT_QUERY:
            search_pages.set((generation, params), content)
    return render(request, "catalog/public/search.html", {"query": query, "content": content})


def _search_content(request: HttpRequest, query: CatalogQuery, generation: str) -> SafeString:
    filters = resolve_filters(query, generation=generation)
    paginator = Paginator(search(filters.query).only(*CARD_FIELDS), PAGE_SIZE)
    paginator.count = filters.total  # counted with the filters, in the same query
    page = paginator.get_page(request.GET.get("page"))
    content = render_to_string(
        "catalog/public/_search.html",
        {
            "query": filters.query,
            "params": request.GET,
            "facets": [facet for facet in filters.facets if facet.options],
            "ignored": filters.ignored,
            "page": page,
            "results": [(version, approved_uses(version)) for version in page],
        },
    )
    return SafeString(content)


def micro_credential(request: HttpRequest, slug: str, number: int | None = None) -> HttpResponse:
    try:
        mc = public_micro_credential(slug, number)
    except MicroCredentialVersion.DoesNotExist as exc:
        raise Http404("There is no such micro-credential in the catalog.") from exc
    if number is not None and mc.is_current:
        # One address for the current version, however it was reached.
        return redirect("catalog:detail", slug=slug)
    return render(request, "catalog/public/detail.html", {"mc": mc, "version": mc.version})


def stack_list(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/public/stacks.html", {"stacks": public_stacks()})


def stack_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        pathway = public_stack(slug)
    except Stack.DoesNotExist as exc:
        raise Http404("There is no such stack in the catalog.") from exc
    return render(
        request, "catalog/public/stack.html", {"pathway": pathway, "stack": pathway.stack}
    )

"""The public catalog: search, micro-credential pages and stacks. Anyone may read them, signed
in or not; everything shown is published (or was, for earlier and retired versions)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from .models import MicroCredentialVersion, Stack
from .search import PAGE_SIZE, CatalogQuery, resolve_filters, search
from .selectors import approved_uses, public_micro_credential, public_stack, public_stacks


def catalog_search(request: HttpRequest) -> HttpResponse:
    filters = resolve_filters(CatalogQuery.from_params(request.GET))
    page = Paginator(search(filters.query), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/public/search.html",
        {
            "query": filters.query,
            "facets": [facet for facet in filters.facets if facet.options],
            "ignored": filters.ignored,
            "page": page,
            "results": [(version, approved_uses(version)) for version in page],
        },
    )


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

"""/accounts/ routes allauth's pages and its SAML and OpenID Connect endpoints without
importing the providers' views (web/lazy.py): the table must still be allauth's own."""

from __future__ import annotations

import importlib

from django.urls import get_resolver

ALLAUTH = "allauth.urls"
OURS = "microcred.orgs.urls_accounts"


def patterns_by_name(urlconf: str) -> dict[str, set[str]]:
    resolver = get_resolver(urlconf)
    return {
        name: {
            pattern
            for _bits, pattern, _defaults, _converters in resolver.reverse_dict.getlist(name)
        }
        for name in resolver.reverse_dict
        if isinstance(name, str)
    }


def test_every_named_allauth_route_is_routed_at_the_same_path():
    theirs, ours = patterns_by_name(ALLAUTH), patterns_by_name(OURS)
    assert theirs, "allauth.urls has named routes"
    assert {name: ours.get(name) for name in theirs} == theirs


def test_lazy_views_load_the_real_view_and_keep_its_csrf_exemption():
    lazy = [
        pattern.callback
        for resolver in get_resolver(OURS).url_patterns
        for pattern in getattr(resolver, "url_patterns", [])
        if hasattr(pattern.callback, "lazy_target")
    ]
    assert len(lazy) == 7  # five SAML endpoints, two OpenID Connect ones
    for view in lazy:
        module, attribute = view.lazy_target.split(":")
        real = getattr(importlib.import_module(module), attribute)
        assert getattr(view, "csrf_exempt", False) == getattr(real, "csrf_exempt", False), (
            view.lazy_target
        )

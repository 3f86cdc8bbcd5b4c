"""Processed JSON-LD active contexts, cached, with what each says about every key.

Context processing is pyld's own (`_process_context`), so its semantics and errors are pyld's;
what is added here is memory: an active context is computed once per (parent context, local
context) and kept, and so is each key's meaning in it (`TermPlan`). An Open Badges credential
meets the same dozen contexts every time, so after the first document this costs dict lookups.
Caches are bounded, so hostile documents with endless inline contexts cannot grow them forever.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from pyld.context_resolver import ContextResolver
from pyld.jsonld import KEYWORDS, JsonLdProcessor

from . import nquads
from .loader import document_loader

ABSOLUTE_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$")
JSONLD_KEYWORDS = frozenset(KEYWORDS)
UNSUPPORTED_CONTAINERS = frozenset(("@language", "@index", "@id", "@type"))
CACHE_LIMIT = 4096


def is_absolute(value: str) -> bool:
    """pyld's (and jsonld.js's) test for an absolute IRI or blank node id."""
    return ABSOLUTE_IRI.match(value) is not None


def pyld_options() -> dict[str, Any]:
    # base None keeps relative IRIs relative (JSON-LD with no document base).
    return {
        "base": None,
        "documentLoader": document_loader,
        "contextResolver": _RESOLVER,
        "processingMode": "json-ld-1.1",
        "isFrame": False,
        "keepFreeFloatingNodes": False,
        "produceGeneralizedRdf": False,
        "extractAllScripts": True,
    }


_PROCESSOR = JsonLdProcessor()
_RESOLVER = ContextResolver({}, document_loader)


class ActiveContext:
    """A pyld active context plus our caches of its children and of IRI expansions."""

    __slots__ = ("children", "plans", "previous", "raw", "terms", "vocab_iris")

    def __init__(self, raw: dict) -> None:
        self.raw = raw
        self.terms: dict = raw["mappings"]
        previous = raw.get("previousContext")
        self.previous = wrap(previous) if previous is not None else None
        self.children: dict[tuple, tuple[Any, ActiveContext]] = {}
        self.vocab_iris: dict[str, str | None] = {}
        self.plans: dict[str, TermPlan] = {}

    def plan(self, key: str) -> TermPlan:
        """What this context says about a key: its IRI, coercion, container, scoped context."""
        plan = self.plans.get(key)
        if plan is None:
            plan = TermPlan(self, key)
            if len(self.plans) < CACHE_LIMIT:
                self.plans[key] = plan
        return plan

    def child(self, local: Any, kind: str) -> ActiveContext:
        """The context after processing `local` ("doc", "property" or "type" scoped) on this one."""
        # Scoped contexts belong to term definitions and are met again and again as the same
        # objects: key them by identity (and keep the object, so the id cannot be reused).
        owned = kind != "doc"
        key = (kind, id(local) if owned else context_key(local))
        hit = self.children.get(key)
        if hit is not None and (not owned or hit[0] is local):
            return hit[1]
        raw = _PROCESSOR._process_context(
            self.raw,
            local if owned else copy.deepcopy(local),  # cached: must not share the caller's
            pyld_options(),
            override_protected=kind == "property",
            propagate=kind != "type",
        )
        ctx = wrap(raw)
        if len(self.children) < 256:
            self.children[key] = (local, ctx)
        return ctx

    def typed(self, names: tuple[str, ...]) -> ActiveContext:
        """The context for a node of these types (sorted as JSON-LD orders them)."""
        key = ("types", names)
        hit = self.children.get(key)
        if hit is not None:
            return hit[1]
        ctx = self
        for name in names:
            definition = self.terms.get(name)
            scoped = definition.get("@context") if definition else None
            if scoped is not None and scoped is not False:
                ctx = ctx.child(scoped, "type")
        if len(self.children) < 256:
            self.children[key] = (names, ctx)
        return ctx

    def vocab(self, value: str) -> str | None:
        """IRI expansion with vocab=True (keys, types, @vocab-typed values)."""
        try:
            return self.vocab_iris[value]
        except KeyError:
            result = _PROCESSOR._expand_iri(self.raw, value, vocab=True)
            if len(self.vocab_iris) < CACHE_LIMIT:
                self.vocab_iris[value] = result
            return result

    def document_iri(self, value: str) -> str | None:
        """IRI expansion of an @id value: compact IRIs expand, anything else stays as written."""
        if value[:1] == "@":
            return _PROCESSOR._expand_iri(self.raw, value)
        colon = value.find(":")
        if colon > 0:
            suffix = value[colon + 1 :]
            if suffix[:2] != "//":
                mapping = self.terms.get(value[:colon])
                if mapping and mapping.get("_prefix"):
                    return mapping["@id"] + suffix
        return value


class TermPlan:
    """A key's meaning in one active context, worked out once (see ActiveContext.plan)."""

    __slots__ = (
        "defined",
        "direction",
        "expanded",
        "graph",
        "json",
        "keyword",
        "language",
        "list",
        "mapping",
        "predicate",
        "scoped",
        "type",
        "unsupported",
    )

    def __init__(self, ctx: ActiveContext, key: str) -> None:
        expanded = ctx.vocab(key)
        self.expanded = expanded
        self.keyword = expanded in JSONLD_KEYWORDS
        self.defined = expanded is not None and (self.keyword or is_absolute(expanded))
        mapping = ctx.terms.get(key)
        self.mapping = mapping
        self.predicate = (
            nquads.iri(expanded)
            if self.defined and not self.keyword and expanded[:2] != "_:"
            else None
        )
        mapping = mapping or {}
        container = mapping.get("@container", ())
        self.unsupported = bool(
            mapping.get("reverse")
            or "@nest" in mapping
            or "@index" in mapping
            or UNSUPPORTED_CONTAINERS.intersection(container)
        )
        self.list = "@list" in container
        self.graph = "@graph" in container
        self.scoped = mapping.get("@context")
        self.type = mapping.get("@type")
        self.json = self.type == "@json"
        self.language = mapping["@language"] if "@language" in mapping else ctx.raw.get("@language")
        self.direction = (
            mapping["@direction"] if "@direction" in mapping else ctx.raw.get("@direction")
        )


_WRAPPED: dict[int, ActiveContext] = {}


def wrap(raw: dict) -> ActiveContext:
    ctx = _WRAPPED.get(id(raw))
    if ctx is not None and ctx.raw is raw:
        return ctx
    ctx = ActiveContext(raw)
    if len(_WRAPPED) < CACHE_LIMIT:
        _WRAPPED[id(raw)] = ctx
    return ctx


def context_key(local: Any) -> Any:
    if isinstance(local, str):
        return local
    if isinstance(local, list) and all(isinstance(item, str) for item in local):
        return tuple(local)
    return json.dumps(local, sort_keys=True)


_INITIAL: ActiveContext | None = None


def initial_context() -> ActiveContext:
    global _INITIAL
    if _INITIAL is None:
        _INITIAL = wrap(_PROCESSOR._get_initial_context({"processingMode": "json-ld-1.1"}))
    return _INITIAL

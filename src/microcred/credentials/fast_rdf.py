"""The fast path from JSON-LD to quads: one walk over the compact document (see rdf.py).

It mirrors pyld's expansion step by step for what credentials use and raises `Fallback` for
anything else, so callers can hand those documents to pyld whole.

The quads come out as pyld's (and jsonld.js's) node map lets them through, not as a set: a value
is added to a node's property unless an equal one is already there (same @id; or same @value,
@type and @language), and a list is always added. So an empty list met twice on the same node
(`"allowedValue": []` on two occurrences of one @id, or `[{"@list": []}, {"@list": []}]`) is the
same `rdf:nil` quad twice, and so are `"1"` typed xsd:integer and the number 1; both reference
implementations keep such repeats and canonicalize each one as a line of its own.
"""

from __future__ import annotations

from typing import Any

from . import nquads
from .active_context import (
    CACHE_LIMIT,
    ActiveContext,
    TermPlan,
    initial_context,
    is_absolute,
)
from .nquads import RDF_FIRST, RDF_NIL, RDF_REST, RDF_TYPE, Quad

NOT_DEFINED = "not an absolute IRI nor a term the @context defines"


class Fallback(Exception):
    """The fast walk met something it leaves to pyld."""


class _List:
    __slots__ = ("items",)

    def __init__(self, items: list) -> None:
        self.items = items


class _Literal:
    """A literal's N-Quads term, and what pyld compares to tell equal values apart."""

    __slots__ = ("key", "term")

    def __init__(self, term: str, key: tuple) -> None:
        self.term = term
        self.key = key


def _value_key(value: Any, datatype: str | None, language: str | None) -> tuple:
    # pyld's compare_values: equal @value (a boolean never equals a number), @type and @language.
    # Not @direction: pyld and jsonld.js both keep the first of two values that differ only in
    # direction, so the fast path does too.
    return (value, value.__class__ is bool, datatype, language)


class _Relative:
    """An IRI reference that is not absolute: its triple is dropped, as toRdf requires."""


_RELATIVE = _Relative()

# Serialized terms of IRIs and string literals met before (achievement ids, rubric names...).
_IRI_TERMS: dict[str, str] = {}
_STRING_LITERALS: dict[tuple, _Literal] = {}


def arrayify(value: Any) -> list:
    return value if isinstance(value, list) else [value]


class _Walk:
    """One document's deserialization to quads."""

    def __init__(self) -> None:
        self.quads: list[Quad] = []
        self.seen: set[tuple] = set()  # the values each node already has (see add)
        self.issues: list[str] = []
        self.labels: dict[str, str] = {}
        self.counter = 0

    def add(self, quad: Quad, key: tuple) -> None:
        """Adds the quad unless its node already has an equal value (pyld's add_value)."""
        if key not in self.seen:
            self.seen.add(key)
            self.quads.append(quad)

    def fresh(self) -> str:
        self.counter += 1
        return f"_:b{self.counter}"

    def reference(self, value: str | None, what: str) -> str | _Relative:
        if value is None:
            raise Fallback
        if value[:2] == "_:":
            label = self.labels.get(value)
            if label is None:
                label = self.labels[value] = self.fresh()
            return label
        term = _IRI_TERMS.get(value)
        if term is not None:
            return term
        if is_absolute(value):
            term = nquads.iri(value)
            if len(value) <= 300 and len(_IRI_TERMS) < CACHE_LIMIT * 16:
                _IRI_TERMS[value] = term
            return term
        self.issues.append(
            f"{what} {value!r} is not an absolute IRI nor a term the @context defines"
        )
        return _RELATIVE

    # -- expansion -------------------------------------------------------------------------

    def expand(
        self, ctx: ActiveContext, prop: str | None, element: Any, graph: str, in_list: bool
    ) -> Any:
        if element is None:
            return None
        if isinstance(element, list):
            in_list = in_list or (prop is not None and ctx.plan(prop).list)
            out: list = []
            for item in element:
                expanded = self.expand(ctx, prop, item, graph, in_list)
                if in_list and isinstance(expanded, list):
                    expanded = _List(expanded)
                if expanded is None:
                    continue
                if isinstance(expanded, list):
                    out.extend(expanded)
                else:
                    out.append(expanded)
            return out
        if isinstance(element, dict):
            return self.expand_object(ctx, prop, element, graph, in_list)
        if not in_list and (prop is None or ctx.vocab(prop) == "@graph"):
            return None  # free-floating scalar
        return self.expand_scalar(ctx, prop, element)

    def expand_scalar(self, ctx: ActiveContext, prop: str | None, value: Any) -> Any:
        if prop is None:
            raise Fallback
        plan = ctx.plan(prop)
        type_ = plan.type
        if isinstance(value, str):
            if type_ == "@id" or plan.expanded == "@graph":
                return self.reference(ctx.document_iri(value), "identifier")
            if type_ == "@vocab":
                return self.reference(ctx.vocab(value), "value")
        if plan.keyword or plan.json:
            raise Fallback
        if isinstance(value, str):
            key = (value, type_, plan.language, plan.direction)
            cached = _STRING_LITERALS.get(key)
            if cached is not None:
                return cached
        datatype = language = direction = None
        if type_ is not None and type_ not in ("@id", "@vocab", "@none"):
            datatype = type_
        elif isinstance(value, str):
            # The term's (or the context's default) language and base direction, as expansion
            # adds them to a plain string.
            language = plan.language
            direction = plan.direction
        term = nquads.value_literal(value, datatype, language, direction)
        if term is None:
            raise Fallback
        literal = _Literal(term, _value_key(value, datatype, language))
        if isinstance(value, str) and len(value) <= 200 and len(_STRING_LITERALS) < CACHE_LIMIT * 4:
            _STRING_LITERALS[key] = literal
        return literal

    def expand_object(
        self,
        ctx: ActiveContext,
        prop: str | None,
        element: dict,
        graph: str,
        in_list: bool,
        root: bool = False,
    ) -> Any:
        if prop is not None:
            prop_plan = ctx.plan(prop)
            expanded_prop = prop_plan.expanded
            property_scoped = prop_plan.scoped
        else:
            expanded_prop = property_scoped = None

        # Type-scoped contexts do not reach nested node objects (value objects and bare
        # references keep them).
        if ctx.previous is not None:
            revert = True
            if len(element) <= 2 and "@context" not in element:
                for key in sorted(element):
                    expanded = ctx.plan(key).expanded
                    if expanded == "@value" or (expanded == "@id" and len(element) == 1):
                        revert = False
                        break
            if revert:
                ctx = ctx.previous
        if property_scoped is not None:
            ctx = ctx.child(property_scoped, "property")

        if "@context" in element:
            local = element["@context"]
            if isinstance(local, dict) and len(local) == 1 and "@context" in local:
                raise Fallback
            ctx = ctx.child(local, "doc")
        type_ctx = ctx
        type_keys = [key for key in element if ctx.plan(key).expanded == "@type"]
        type_key = None
        if type_keys:
            if len(type_keys) > 1:
                type_keys.sort()
            type_key = type_keys[0]
            names: list[str] = []
            for key in type_keys:
                value = element[key]
                if isinstance(value, str):
                    names.append(value)
                elif isinstance(value, list):
                    names.extend(sorted(t for t in value if isinstance(t, str)))
            if names:
                ctx = ctx.typed(tuple(names))

        keys: list[tuple[str, TermPlan]] = []
        for key in element:
            if key == "@context":
                continue
            plan = ctx.plan(key)
            if not plan.defined:
                self.issues.append(f"term {key!r} is not defined by the @context")
                continue
            keys.append((key, plan))

        if any(plan.expanded == "@value" for _, plan in keys):
            literal = self.value_object(ctx, type_ctx, element, keys, type_key)
            if literal is None or (not in_list and (prop is None or expanded_prop == "@graph")):
                return None
            return literal
        return self.node_object(
            ctx, type_ctx, prop, expanded_prop, element, keys, graph, in_list, root
        )

    def value_object(
        self,
        ctx: ActiveContext,
        type_ctx: ActiveContext,
        element: dict,
        keys: list[tuple[str, TermPlan]],
        type_key: str | None,
    ) -> _Literal | None:
        seen: set[str] = set()
        value: Any = None
        datatype = language = direction = None
        for key, plan in keys:
            expanded = plan.expanded
            if expanded in seen:
                raise Fallback  # colliding keywords
            seen.add(expanded)
            raw = element[key]
            if expanded == "@value":
                value = raw
            elif expanded == "@type":
                if raw is None:
                    continue
                if not isinstance(raw, str):
                    raise Fallback
                datatype = type_ctx.vocab(raw)
            elif expanded == "@language":
                if raw is None:
                    continue
                if not isinstance(raw, str):
                    raise Fallback
                language = raw.lower()
            elif expanded == "@direction":
                if raw not in ("ltr", "rtl"):
                    raise Fallback  # null or anything else is an error pyld reports
                direction = raw
            else:
                raise Fallback
        if datatype == "@json":
            return _json_literal(value)
        if type_key is not None:
            first = arrayify(element[type_key])[0] if element[type_key] else None
            if isinstance(first, str) and ctx.vocab(first) == "@json":
                raise Fallback
        if value is None:
            return None
        if isinstance(value, dict | list):
            raise Fallback
        if datatype is not None and (
            language is not None or datatype[:2] == "_:" or not is_absolute(datatype)
        ):
            raise Fallback
        if (language is not None or direction is not None) and not isinstance(value, str):
            raise Fallback
        if direction is not None and datatype is not None:
            raise Fallback  # an invalid value object: pyld says so
        term = nquads.value_literal(value, datatype, language, direction)
        if term is None:
            raise Fallback
        return _Literal(term, _value_key(value, datatype, language))

    def node_object(
        self,
        ctx: ActiveContext,
        type_ctx: ActiveContext,
        prop: str | None,
        expanded_prop: str | None,
        element: dict,
        keys: list[tuple[str, TermPlan]],
        graph: str,
        in_list: bool,
        root: bool,
    ) -> Any:
        id_value: str | None = None
        has_id = False
        type_keys: list[str] = []
        graph_key = list_key = set_key = None
        properties: list[tuple[str, TermPlan]] = []
        for key, plan in keys:
            expanded = plan.expanded
            if not plan.keyword:
                properties.append((key, plan))
            elif expanded == "@id":
                raw = element[key]
                if has_id or not isinstance(raw, str):
                    raise Fallback
                has_id = True
                id_value = ctx.document_iri(raw)
            elif expanded == "@type":
                type_keys.append(key)
            elif expanded == "@graph" and graph_key is None:
                graph_key = key
            elif expanded == "@list" and list_key is None:
                list_key = key
            elif expanded == "@set" and set_key is None:
                set_key = key
            else:
                raise Fallback

        if list_key is not None or set_key is not None:
            if len(keys) != 1:
                raise Fallback
            if list_key is not None:
                if not in_list and (prop is None or expanded_prop == "@graph"):
                    raise Fallback  # a free-floating list is dropped with all it holds
                next_prop = None if expanded_prop == "@graph" else prop
                items = self.expand(ctx, next_prop, element[list_key], graph, True)
                if items is None:
                    raise Fallback
                return _List(arrayify(items))
            items = self.expand(ctx, prop, element[set_key], graph, False)
            if items is None:
                raise Fallback
            return arrayify(items)

        subject = self.reference(id_value, "id") if has_id else self.fresh()
        emit = subject is not _RELATIVE
        for key in type_keys:
            raw = element[key]
            for name in arrayify(raw):
                if not isinstance(name, str):
                    raise Fallback
                term = self.reference(type_ctx.vocab(name), "type")
                if emit and term is not _RELATIVE:
                    # Kept apart from values of an rdf:type property, as in pyld's node map.
                    self.add((subject, RDF_TYPE, term, graph), (subject, "@type", term, graph))

        if graph_key is not None:
            contents = element[graph_key]
            if not isinstance(contents, dict | list):
                raise Fallback
            if ctx.terms.get(graph_key) and ctx.terms[graph_key].get("@context") is not None:
                raise Fallback
            if root and len(keys) == 1:
                # A top-level object holding only @graph is just a wrapper around its nodes.
                self.expand(ctx, graph_key, contents, graph, False)
            elif root:
                raise Fallback  # whether it wraps depends on which other entries expand to null
            else:
                if subject is _RELATIVE:
                    raise Fallback
                self.expand(ctx, graph_key, contents, subject, False)

        for key, plan in properties:
            self.property(ctx, subject, key, plan, element[key], graph)
        return subject

    def property(
        self, ctx: ActiveContext, subject: Any, key: str, plan: TermPlan, value: Any, graph: str
    ) -> None:
        if plan.unsupported:
            raise Fallback
        term_ctx = ctx
        if plan.scoped is not None:
            term_ctx = ctx.child(plan.scoped, "property")
            if term_ctx.plan(key).unsupported:
                raise Fallback
        predicate = plan.predicate
        emit = subject is not _RELATIVE
        if predicate is None:
            self.issues.append(f"term {key!r} expands to a blank node, which RDF drops")
            emit = False

        if plan.json:
            items: list = [_json_literal(value)]
            if plan.list:
                items = [_List(items)]
        elif plan.graph:
            if plan.list:
                raise Fallback
            for element in arrayify(value):
                name = self.fresh()
                expanded = self.expand(term_ctx, key, element, name, False)
                if isinstance(expanded, list):
                    if len(expanded) > 1:
                        raise Fallback
                    expanded = expanded[0] if expanded else None
                if expanded is None:
                    continue
                if isinstance(expanded, _List):
                    raise Fallback
                if emit:
                    quad = (subject, predicate, name, graph)
                    self.add(quad, quad)
            return
        else:
            expanded = self.expand(term_ctx, key, value, graph, False)
            if expanded is None:
                return
            if plan.list and not isinstance(expanded, _List):
                expanded = _List(arrayify(expanded))
            items = arrayify(expanded)
        if not emit:
            return
        for item in items:
            if item is _RELATIVE:
                continue
            if item.__class__ is _Literal:
                self.add(
                    (subject, predicate, item.term, graph), (subject, predicate, item.key, graph)
                )
            elif item.__class__ is _List:
                # Lists are never equal to one another: each is added, an empty one as rdf:nil.
                self.quads.append((subject, predicate, self.list_head(item, graph), graph))
            else:
                quad = (subject, predicate, item, graph)
                self.add(quad, quad)

    def list_head(self, lst: _List, graph: str) -> str:
        if not lst.items:
            return RDF_NIL
        head = node = self.fresh()
        last = len(lst.items) - 1
        for index, item in enumerate(lst.items):
            if item is _RELATIVE:
                raise Fallback
            if item.__class__ is _Literal:
                item = item.term
            elif item.__class__ is _List:
                item = self.list_head(item, graph)
            # Every list node is new, so none of these can repeat.
            self.quads.append((node, RDF_FIRST, item, graph))
            rest = RDF_NIL if index == last else self.fresh()
            self.quads.append((node, RDF_REST, rest, graph))
            node = rest
        return head


def _json_literal(value: Any) -> _Literal:
    term = nquads.value_literal(value, "@json", None)
    if term is None:
        raise Fallback
    return _Literal(term, ("@json", _frozen(value)))


def _frozen(value: Any) -> Any:
    """A hashable stand-in for JSON data, equal exactly when the data are == (as pyld compares)."""
    if isinstance(value, dict):
        return frozenset((name, _frozen(item)) for name, item in value.items())
    if isinstance(value, list):
        return ("@list", tuple(_frozen(item) for item in value))
    return value


def walk_document(document: Any) -> tuple[list[Quad], list[str]]:
    """The document's quads and what it loses on the way (raises Fallback when unsure)."""
    walk = _Walk()
    ctx = initial_context()
    if isinstance(document, dict):
        walk.expand_object(ctx, None, document, "", False, root=True)
    else:
        walk.expand(ctx, None, document, "", False)
    return walk.quads, walk.issues

"""RDF Dataset Canonicalization (W3C RDFC-1.0, formerly URDNA2015).

Works on quads of serialized terms (see nquads.py). Credentials mostly have blank nodes whose
first-degree hashes are unique, and for those the algorithm is a sort of a few SHA-256 digests;
the N-degree hashing (spec section 4.8) runs only for blank nodes that look alike, and is
implemented in full (permutations, recursion, path pruning).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from hashlib import sha256
from itertools import permutations
from typing import Any

from .nquads import Quad
from .rdf import to_dataset

_UCHAR = re.compile(r"\\u([0-9A-F]{4})")


class _Issuer:
    """Issues identifiers (prefix + counter), remembering the order it issued them in."""

    __slots__ = ("issued", "prefix")

    def __init__(self, prefix: str, issued: dict[str, str] | None = None) -> None:
        self.prefix = prefix
        self.issued: dict[str, str] = issued if issued is not None else {}

    def get(self, existing: str) -> str:
        label = self.issued.get(existing)
        if label is None:
            label = self.issued[existing] = f"{self.prefix}{len(self.issued)}"
        return label

    def copy(self) -> _Issuer:
        return _Issuer(self.prefix, dict(self.issued))


def _digest(text: str) -> str:
    return sha256(text.encode("utf-8")).hexdigest()


def _predicate_value(predicate: str) -> str:
    # The related-hash input names the predicate as "<" + its IRI + ">", unescaped.
    value = predicate[1:-1]
    if "\\u" in value:
        value = _UCHAR.sub(lambda match: chr(int(match.group(1), 16)), value)
    return f"<{value}>"


class _Canonicalizer:
    def __init__(self, quads: Iterable[Quad]) -> None:
        self.quads = list(quads)
        self.mentions: dict[str, list[Quad]] = {}
        for quad in self.quads:
            s, _, o, g = quad
            if s[:2] == "_:":
                self.mentions.setdefault(s, []).append(quad)
            if o[:2] == "_:":
                self.mentions.setdefault(o, []).append(quad)
            if g[:2] == "_:":
                self.mentions.setdefault(g, []).append(quad)
        self.canonical = _Issuer("_:c14n")
        self.first_degree: dict[str, str] = {}

    def hash_first_degree(self, node: str) -> str:
        cached = self.first_degree.get(node)
        if cached is not None:
            return cached
        lines = []
        for s, p, o, g in self.mentions[node]:
            s = ("_:a" if s == node else "_:z") if s[:2] == "_:" else s
            o = ("_:a" if o == node else "_:z") if o[:2] == "_:" else o
            g = ("_:a" if g == node else "_:z") if g[:2] == "_:" else g
            lines.append(f"{s} {p} {o} {g} .\n" if g else f"{s} {p} {o} .\n")
        lines.sort()
        result = self.first_degree[node] = _digest("".join(lines))
        return result

    def hash_related(self, related: str, quad: Quad, issuer: _Issuer, position: str) -> str:
        if related in self.canonical.issued:
            identifier = self.canonical.issued[related]
        elif related in issuer.issued:
            identifier = issuer.issued[related]
        else:
            identifier = self.hash_first_degree(related)
        text = position
        if position != "g":
            text += _predicate_value(quad[1])
        return _digest(text + identifier)

    def hash_n_degree(self, node: str, issuer: _Issuer) -> tuple[str, _Issuer]:
        related_by_hash: dict[str, list[str]] = {}
        for quad in self.mentions[node]:
            s, _, o, g = quad
            for position, term in (("s", s), ("o", o), ("g", g)):
                if term[:2] == "_:" and term != node:
                    digest = self.hash_related(term, quad, issuer, position)
                    related_by_hash.setdefault(digest, []).append(term)

        data = []
        for digest in sorted(related_by_hash):
            data.append(digest)
            chosen_path = ""
            chosen_issuer: _Issuer | None = None
            for permutation in permutations(related_by_hash[digest]):
                issuer_copy = issuer.copy()
                path = ""
                recursion: list[str] = []
                skip = False
                for related in permutation:
                    if related in self.canonical.issued:
                        path += self.canonical.issued[related]
                    else:
                        if related not in issuer_copy.issued:
                            recursion.append(related)
                        path += issuer_copy.get(related)
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                for related in recursion:
                    result_hash, issuer_copy = self.hash_n_degree(related, issuer_copy)
                    path += issuer_copy.get(related) + f"<{result_hash}>"
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                if not chosen_path or path < chosen_path:
                    chosen_path = path
                    chosen_issuer = issuer_copy
            data.append(chosen_path)
            assert chosen_issuer is not None
            issuer = chosen_issuer
        return _digest("".join(data)), issuer

    def run(self) -> str:
        by_hash: dict[str, list[str]] = {}
        for node in self.mentions:
            by_hash.setdefault(self.hash_first_degree(node), []).append(node)

        shared = []
        for digest in sorted(by_hash):
            nodes = by_hash[digest]
            if len(nodes) == 1:
                self.canonical.get(nodes[0])
            else:
                shared.append(nodes)

        for nodes in shared:
            results = []
            for node in nodes:
                if node in self.canonical.issued:
                    continue
                temporary = _Issuer("_:b")
                temporary.get(node)
                results.append(self.hash_n_degree(node, temporary))
            results.sort(key=lambda result: result[0])
            for _, issuer in results:
                for existing in issuer.issued:
                    self.canonical.get(existing)

        labels = self.canonical.issued
        lines = []
        for s, p, o, g in self.quads:
            if s[:2] == "_:":
                s = labels[s]
            if o[:2] == "_:":
                o = labels[o]
            if g:
                if g[:2] == "_:":
                    g = labels[g]
                lines.append(f"{s} {p} {o} {g} .\n")
            else:
                lines.append(f"{s} {p} {o} .\n")
        lines.sort()
        return "".join(lines)


def canonicalize_quads(quads: Iterable[Quad]) -> str:
    """Canonical N-Quads of a dataset: one line per quad, a repeated quad included.

    Repeats come from toRdf (an empty list twice on a node); pyld and rdf-canonize both hash and
    write every occurrence, so this does too.
    """
    return _Canonicalizer(quads).run()


def canonicalize(document: Any) -> str:
    """Canonical N-Quads (RDFC-1.0) of a JSON-LD document, loading only vendored contexts."""
    return canonicalize_quads(to_dataset(document).quads)

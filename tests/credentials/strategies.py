"""Hypothesis strategies: Open Badges 3.0 credentials and plain JSON-LD graphs to canonicalize.

Texts avoid the characters where pyld departs from RDFC-1.0's escaping (control characters other
than tab, newline and carriage return), and every IRI is absolute, so pyld is a valid oracle (see
microcred/credentials/rdf.py). Blank nodes are plentiful: objects without `id`, repeated identical
objects (evidence, results) and rings of `_:` nodes whose first-degree hashes collide, which
forces the N-degree hashing path. Repeated objects with an `id` are one node met several times,
whose values (empty lists among them) the node map merges.
"""

from __future__ import annotations

from hypothesis import strategies as st

V2 = "https://www.w3.org/ns/credentials/v2"
V1 = "https://www.w3.org/2018/credentials/v1"
OB303 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB301 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json"
EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
DATA_INTEGRITY_V1 = "https://w3id.org/security/data-integrity/v1"

_ALPHABET = st.characters(
    blacklist_categories=("Cs",),
    blacklist_characters=[chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"] + ["\x7f"],
)
text = st.text(_ALPHABET, max_size=24)
short = st.sampled_from(["Yes", "Almost", "Not Yet", 'say "hi"', "back\\slash", "tab\there"])
words = st.one_of(short, text)
# VC 2.0 language and base-direction values (JSON-LD value objects), in any letter case.
directional = st.builds(
    lambda value, language, direction: {
        "@value": value,
        **({"@language": language} if language else {}),
        "@direction": direction,
    },
    words,
    st.sampled_from([None, "ar", "AR", "he-IL", "en"]),
    st.sampled_from(["rtl", "ltr"]),
)
slug = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8)
iri = st.builds(
    lambda scheme, host, path: f"{scheme}{host}/{path}",
    st.sampled_from(["https://", "http://", "urn:x:"]),
    st.sampled_from(["example.org", "case.example.org", "microcred.example.org"]),
    slug,
)
did = st.builds(lambda s: f"did:example:{s}", slug)
number = st.one_of(
    st.integers(min_value=-(10**22), max_value=10**22),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
)
datetime_text = st.sampled_from(
    ["2010-01-01T00:00:00Z", "2026-05-01T12:00:00Z", "2024-02-29T23:59:59-05:00"]
)


def _maybe(strategy: st.SearchStrategy, key: str) -> st.SearchStrategy:
    return st.one_of(st.just({}), strategy.map(lambda value: {key: value}))


def _node(required: dict, optional: dict) -> st.SearchStrategy:
    parts = [st.fixed_dictionaries(required)] + [_maybe(s, k) for k, s in optional.items()]
    return st.tuples(*parts).map(lambda dicts: {k: v for d in dicts for k, v in d.items()})


def _twins(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """Lists that may hold the same object several times.

    Identical blank nodes without an `id`; one node met again (its values merged) with one.
    """
    return st.one_of(
        st.lists(strategy, max_size=3),
        st.tuples(strategy, st.integers(2, 3)).map(lambda pair: [pair[0]] * pair[1]),
    )


image = st.one_of(
    iri,
    _node({"id": iri, "type": st.just("Image")}, {"caption": words}),
)
criteria = _node({}, {"id": iri, "narrative": words})
alignment = _node(
    {"type": st.just(["Alignment"]), "targetName": words, "targetUrl": iri},
    {
        "targetType": st.sampled_from(["CFItem", "CFRubric", "ext:Custom"]),
        "targetCode": slug,
        "targetFramework": words,
        "targetDescription": words,
    },
)
rubric_level = _node(
    {"type": st.just(["RubricCriterionLevel"]), "name": words},
    {"id": iri, "points": st.sampled_from(["1", "2", "3"]), "level": words, "description": words},
)
result_description = _node(
    {
        "type": st.just(["ResultDescription"]),
        "name": words,
        "resultType": st.sampled_from(["RubricCriterionLevel", "Status", "ext:Band"]),
    },
    {
        "id": iri,
        "allowedValue": st.lists(short, max_size=3),
        "rubricCriterionLevel": st.lists(rubric_level, max_size=3),
        "requiredLevel": iri,
    },
)
result = _node(
    {"type": st.just(["Result"])},
    {
        "resultDescription": iri,
        "achievedLevel": iri,
        "value": short,
        "status": st.just("Completed"),
    },
)
identity = _node(
    {
        "type": st.just("IdentityObject"),
        "identityType": st.just("emailAddress"),
        "hashed": st.booleans(),
        "identityHash": words,
    },
    {"salt": slug},
)
evidence = _node(
    {"type": st.just(["Evidence"])},
    {"id": iri, "name": words, "narrative": words, "genre": short, "audience": short},
)
achievement = _node(
    {"type": st.just(["Achievement"]), "name": words, "criteria": criteria},
    {
        "id": iri,
        "description": words,
        "achievementType": st.sampled_from(["MicroCredential", "Badge", "ext:Stack"]),
        "image": image,
        "alignment": st.lists(alignment, max_size=3),
        "resultDescription": _twins(result_description),
        "creditsAvailable": number,
        "tag": st.lists(short, max_size=3),
        "fieldOfStudy": words,
        "inLanguage": st.sampled_from(["en", "es-MX"]),
    },
)


subject = _node(
    {"type": st.just(["AchievementSubject"]), "achievement": achievement},
    {
        "id": did,
        "identifier": st.lists(identity, max_size=2),
        "result": _twins(result),
        "creditsEarned": number,
        "activityStartDate": datetime_text,
    },
)
issuer = st.one_of(
    iri,
    _node({"id": iri, "type": st.just(["Profile"])}, {"name": words, "url": iri, "email": words}),
)
proof = _node(
    {
        "type": st.just("DataIntegrityProof"),
        "cryptosuite": st.just("eddsa-rdfc-2022"),
        "created": datetime_text,
        "verificationMethod": iri,
        "proofPurpose": st.just("assertionMethod"),
    },
    {"proofValue": st.just("z3FXQje")},
)


@st.composite
def credentials(draw: st.DrawFn) -> dict:
    """An Open Badges 3.0 credential (v2 contexts, or the older v1 + OB 3.0.1 form)."""
    modern = draw(st.booleans())
    if modern:
        context = [V2, OB303] + ([EXTENSIONS] if draw(st.booleans()) else [])
    else:
        context = [V1, OB301, DATA_INTEGRITY_V1]
    document = {
        "@context": context,
        "type": ["VerifiableCredential", draw(st.sampled_from(["OpenBadgeCredential"]))],
        "issuer": draw(issuer),
        "name": draw(st.one_of(words, directional)),
        "credentialSubject": draw(subject),
    }
    if draw(st.booleans()):
        document["id"] = draw(iri)
    document["validFrom" if modern else "issuanceDate"] = draw(datetime_text)
    if draw(st.booleans()):
        document["evidence"] = draw(_twins(evidence))
    if draw(st.booleans()):
        document["description"] = draw(st.one_of(words, directional))
    if draw(st.booleans()):
        document["proof"] = draw(st.lists(proof, min_size=1, max_size=2))
    return document


_GRAPH_CONTEXT = {
    "@vocab": "http://example.org/vocab#",
    "knows": {"@type": "@id"},
    "items": {"@container": "@list"},
    "inner": {"@container": "@graph"},
    "data": {"@type": "@json"},
    "when": {"@type": "http://www.w3.org/2001/XMLSchema#dateTime"},
    "label": {"@language": "en"},
    # Terms that give plain strings a language and a base direction, or take the default away.
    "rtlLabel": {"@language": "AR", "@direction": "rtl"},
    "ltrNote": {"@direction": "ltr"},
    "undirected": {"@direction": None},
}


@st.composite
def blank_node_graphs(draw: st.DrawFn) -> dict:
    """Nodes linked among a few `_:` ids, often symmetrically: the N-degree hashing path."""
    count = draw(st.integers(2, 5))
    names = [f"_:n{i}" for i in range(count)]
    nodes = []
    for name in names:
        node: dict = {"@id": name}
        links = draw(st.lists(st.sampled_from(names), max_size=2))
        if links:
            node["knows"] = links
        if draw(st.integers(0, 3)) == 0:
            node["label"] = draw(short)
        if draw(st.integers(0, 3)) == 0:
            node["items"] = draw(st.lists(short, max_size=2))
        nodes.append(node)
    # A node may be written twice: the node map merges it, but keeps both of its lists.
    nodes += draw(st.lists(st.sampled_from(nodes), max_size=2))
    extras = draw(
        st.lists(
            st.one_of(
                st.fixed_dictionaries({"items": st.lists(st.one_of(short, number), max_size=3)}),
                st.fixed_dictionaries(
                    {"inner": st.fixed_dictionaries({"knows": st.just(names[0])})}
                ),
                st.fixed_dictionaries(
                    {"data": st.dictionaries(slug, st.one_of(short, st.integers()), max_size=2)}
                ),
                st.fixed_dictionaries({"when": datetime_text, "flag": st.booleans()}),
                st.fixed_dictionaries(
                    {"rtlLabel": short, "ltrNote": st.one_of(short, number), "label": directional}
                ),
                st.fixed_dictionaries({"@context": st.just({"@direction": "rtl"}), "t": short}),
                st.fixed_dictionaries(
                    {"@context": st.just({"@direction": "ltr"}), "undirected": short}
                ),
            ),
            max_size=3,
        )
    )
    return {"@context": _GRAPH_CONTEXT, "@graph": nodes + extras}

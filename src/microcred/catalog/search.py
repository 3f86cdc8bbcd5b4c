"""Finding published micro-credentials: full-text search, the catalog's filters, their counts.

The catalog page and the JSON API both describe a search as a `CatalogQuery` and read through
`search` (ranked results) and `resolve_filters` (filter options with counts), so the two can
never disagree about what matches.

Full-text search differs by database, and this module is the only place that knows it:

- PostgreSQL: `websearch_to_tsquery('english', q)` against a weighted document (title "A",
  search_text "B"), served by the GIN expression index of migration 0003, ranked by ts_rank.
- SQLite: the FTS5 table `catalog_version_fts` (porter stemming), kept in sync with
  `MicroCredentialVersion` by triggers, queried with the same web-search syntax translated by
  `fts5_expression`, ranked by bm25 with the title weighted ten times the rest.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Count, F, FloatField, Q, QuerySet, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Lower
from django.db.models.signals import m2m_changed, post_delete, post_save

from microcred.orgs.models import Organization

from .models import (
    Approval,
    ApprovedUse,
    GradeBand,
    MicroCredential,
    MicroCredentialVersion,
    Stack,
    StandardFramework,
    StandardItem,
    Subject,
)
from .selectors import PUBLIC_STATUSES, with_listing_parts

if TYPE_CHECKING:
    from django.contrib.postgres.search import SearchVector

PUBLISHED = MicroCredentialVersion.Status.PUBLISHED
PAGE_SIZE = 20
MAX_QUERY_LENGTH = 200


# ---------------------------------------------------------------------------- the query
@dataclass(frozen=True)
class CatalogQuery:
    """What a visitor asked for. Every filter holds the values chosen in its group: a version
    matches a group when it has any of them, and the result must match every group."""

    q: str = ""
    grade_band: tuple[str, ...] = ()
    subject: tuple[str, ...] = ()
    difficulty: tuple[str, ...] = ()
    use: tuple[str, ...] = ()
    provider: tuple[str, ...] = ()
    stack: tuple[str, ...] = ()
    framework: tuple[str, ...] = ()
    standard: tuple[str, ...] = ()

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> CatalogQuery:
        """From GET parameters (a QueryDict or a plain mapping of lists/strings); empty
        values, such as a select left on "Any", are dropped."""
        values: dict[str, Any] = {"q": str(params.get("q") or "").strip()[:MAX_QUERY_LENGTH]}
        for name in FILTER_NAMES:
            raw = params.getlist(name) if hasattr(params, "getlist") else params.get(name) or ()
            if isinstance(raw, str):
                raw = [raw]
            values[name] = tuple(dict.fromkeys(str(v).strip() for v in raw if str(v).strip()))
        return cls(**values)

    @property
    def has_filters(self) -> bool:
        return any(getattr(self, name) for name in FILTER_NAMES)


FILTER_NAMES = tuple(f.name for f in fields(CatalogQuery) if f.name != "q")


# ---------------------------------------------------------------------------- full text
# Function words PostgreSQL's "english" configuration drops from queries; SQLite drops the same
# so that "coaching for leaders" finds the same micro-credentials on both databases.
_STOPWORD_TEXT = """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with you your yours
    yourself yourselves
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+")


def fts5_expression(text: str) -> str | None:
    """Web-search syntax (words, "a phrase", OR, -word) as an FTS5 MATCH expression.

    Every term is emitted as a quoted FTS5 string built only from word characters, so nothing
    a visitor types is read as FTS5 syntax. None when nothing searchable is left.
    """
    groups: list[list[str]] = []
    excluded: list[str] = []
    join_next = False
    for negated, phrase, bare in _TOKEN.findall(text):
        if not phrase and bare.lower() == "or":
            join_next = bool(groups)
            continue
        if bare.startswith("-") and len(bare) > 1:
            negated, bare = "-", bare[1:]
        words = [w.lower() for w in _WORD.findall(phrase or bare)]
        if not phrase:
            words = [w for w in words if w not in STOPWORDS]
        if not words or all(w in STOPWORDS for w in words):
            continue
        # A hyphenated or dotted word ("co-develop") is one phrase, as PostgreSQL reads it.
        term = '"' + " ".join(words) + '"'
        if negated:
            excluded.append(term)
        elif join_next:
            groups[-1].append(term)
        else:
            groups.append([term])
        join_next = False
    if not groups:
        return None
    expression = " AND ".join("(" + " OR ".join(group) + ")" for group in groups)
    return expression + "".join(f" NOT {term}" for term in excluded)


_PG_CONFIG = "english"


def _pg_document() -> SearchVector:
    # django.contrib.postgres is imported on the PostgreSQL path only: it loads psycopg, which
    # a process on SQLite never needs (issue 8, a lighter web process).
    from django.contrib.postgres.search import SearchVector

    # Must stay identical to the GIN index expression created in migration 0003; the test
    # suite checks on PostgreSQL that the planner uses that index.
    return SearchVector("title", config=_PG_CONFIG, weight="A") + SearchVector(
        "search_text", config=_PG_CONFIG, weight="B"
    )


FTS_TABLE = "catalog_version_fts"
_VERSION_TABLE = MicroCredentialVersion._meta.db_table
_FTS_MATCH = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
# bm25 is smaller for better matches; negated so that a higher rank is better on both databases.
_FTS_RANK = (
    f"SELECT -bm25({FTS_TABLE}, 10.0, 1.0) FROM {FTS_TABLE} "
    f"WHERE {FTS_TABLE} MATCH %s AND rowid = {_VERSION_TABLE}.id"
)


def text_match(
    qs: QuerySet[MicroCredentialVersion], text: str, *, ranked: bool
) -> QuerySet[MicroCredentialVersion]:
    """Keep the versions matching `text`; with `ranked`, annotate `rank` (higher is better)."""
    vendor = connections[qs.db].vendor
    if vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank  # see _pg_document

        query = SearchQuery(text, config=_PG_CONFIG, search_type="websearch")
        qs = qs.alias(document=_pg_document()).filter(document=query)
        rank: Any = SearchRank(_pg_document(), query)
    elif vendor == "sqlite":
        expression = fts5_expression(text)
        if expression is None:
            qs, rank = qs.none(), Value(0.0, output_field=FloatField())
        else:
            qs = qs.filter(pk__in=RawSQL(_FTS_MATCH, [expression]))
            rank = RawSQL(_FTS_RANK, [expression], output_field=FloatField())
    else:
        raise ImproperlyConfigured(f"Catalog search runs on PostgreSQL or SQLite, not on {vendor}.")
    return qs.annotate(rank=rank) if ranked else qs


# PostgreSQL: the GIN index that serves `_pg_document` (same expression, or the planner
# ignores it).
PG_INDEX = "catalog_version_search_gin"
_PG_INDEX_SQL = (
    f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON {_VERSION_TABLE} USING gin (("
    f"setweight(to_tsvector('{_PG_CONFIG}'::regconfig, COALESCE(title, '')), 'A') || "
    f"setweight(to_tsvector('{_PG_CONFIG}'::regconfig, COALESCE(search_text, '')), 'B')))"
)

# SQLite: an external-content FTS5 table over the version table, and the triggers that keep it
# in step with every insert, update and delete. IF NOT EXISTS lets `install_fulltext` repair a
# database whose triggers were lost (an SQLite migration that rebuilds the version table drops
# them), which CatalogConfig.ready does after every migrate.
_SQLITE_FTS_SCHEMA = [
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(
        title, search_text, content='{_VERSION_TABLE}', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_insert AFTER INSERT ON {_VERSION_TABLE} BEGIN
        INSERT INTO {FTS_TABLE}(rowid, title, search_text)
        VALUES (new.id, new.title, new.search_text);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_delete AFTER DELETE ON {_VERSION_TABLE} BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, search_text)
        VALUES ('delete', old.id, old.title, old.search_text);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_update
    AFTER UPDATE OF title, search_text ON {_VERSION_TABLE} BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, search_text)
        VALUES ('delete', old.id, old.title, old.search_text);
        INSERT INTO {FTS_TABLE}(rowid, title, search_text)
        VALUES (new.id, new.title, new.search_text);
    END""",
]
_SQLITE_OBJECTS = {FTS_TABLE} | {f"{FTS_TABLE}_{event}" for event in ("insert", "delete", "update")}


def install_fulltext(connection: BaseDatabaseWrapper) -> bool:
    """Create whatever full-text structure the database lacks; True when something was made.

    SQLite: the FTS5 table and its triggers, then a rebuild of the index from the version
    table (rows written while the triggers were missing are indexed too). PostgreSQL: the GIN
    index. Other databases have neither (and no catalog search).
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [PG_INDEX])
            if cursor.fetchone():
                return False
            cursor.execute(_PG_INDEX_SQL)
            return True
        if connection.vendor != "sqlite":
            return False
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger') AND name LIKE %s",
            [f"{FTS_TABLE}%"],
        )
        if {row[0] for row in cursor.fetchall()} >= _SQLITE_OBJECTS:
            return False
        for statement in _SQLITE_FTS_SCHEMA:
            cursor.execute(statement)
        cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
        return True


def remove_fulltext(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
        elif connection.vendor == "sqlite":
            for name in sorted(_SQLITE_OBJECTS - {FTS_TABLE}):
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")


# ---------------------------------------------------------------------------- filters
def _having(**lookups: Any) -> Q:
    """Versions related to a match through a many-valued path, without duplicating rows."""
    return Q(pk__in=MicroCredentialVersion.objects.filter(**lookups).values("pk"))


def _uuids(values: Iterable[str]) -> list[uuid.UUID]:
    found = []
    for value in values:
        try:
            found.append(uuid.UUID(value))
        except ValueError:
            continue  # cannot name anything; resolve_filters reports it as unknown
    return found


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    count: int
    selected: bool = False
    group: str = ""


@dataclass(frozen=True)
class Facet:
    name: str
    label: str
    multiple: bool  # a group of checkboxes, or one select
    options: list[Option]

    @property
    def values(self) -> set[str]:
        return {o.value for o in self.options}

    @property
    def any_label(self) -> str:
        return f"Any {self.label.lower()}"

    def groups(self) -> list[tuple[str, list[Option]]]:
        """Options by group, in order (standards are grouped by framework)."""
        grouped: dict[str, list[Option]] = {}
        for option in self.options:
            grouped.setdefault(option.group, []).append(option)
        return list(grouped.items())


# Every value a filter offers, as (value, label, group), in display order.
Choices = list[tuple[str, str, str]]
Versions = QuerySet[MicroCredentialVersion]


@dataclass(frozen=True)
class FilterSpec:
    name: str
    label: str
    multiple: bool
    narrow: Callable[[tuple[str, ...]], Q]
    choices: Callable[[], Choices]
    # Counts group the versions themselves by the value at `path`, with every condition in one
    # WHERE clause, so the full-text index serves them (a per-option subquery left PostgreSQL
    # scanning every row). `within` narrows the versions counted (current approvals only...);
    # `distinct` counts a version once when it reaches one value twice (two aligned standards
    # of one framework).
    path: str
    distinct: bool = False
    within: Callable[[Versions], Versions] | None = None
    # Values come back as text; UUIDs in the database's own spelling (SQLite stores 32 hex
    # digits), which `normalize` turns into the spelling the choices use.
    normalize: Callable[[str], str] = str

    def counting(self, versions: Versions) -> QuerySet[Any]:
        """(facet name, value, count) rows: one branch of `count_matches`' query."""
        if self.within is not None:
            versions = self.within(versions)
        return (
            versions.order_by()
            .values(facet=Value(self.name), value=Cast(self.path, output_field=TextField()))
            .annotate(n=Count("pk", distinct=self.distinct))
        )

    def facet(self, query: CatalogQuery, choices: Choices, counts: Mapping[str, int]) -> Facet:
        chosen = set(getattr(query, self.name))
        options = [
            Option(value, label, counts.get(value, 0), value in chosen, group)
            for value, label, group in choices
        ]
        return Facet(self.name, self.label, self.multiple, options)


def _fixed(choices: list[tuple[str, str]]) -> Callable[[], Choices]:
    return lambda: [(value, label, "") for value, label in choices]


def _uuid_text(value: str) -> str:
    return str(uuid.UUID(value))


def _grade_band_choices() -> Choices:
    return [(b.code, b.name, "") for b in GradeBand.objects.order_by("order", "code")]


def _subject_choices() -> Choices:
    return [(s.code, s.name, "") for s in Subject.objects.order_by("name")]


def _provider_choices() -> Choices:
    providers = Organization.objects.filter(micro_credentials__versions__status=PUBLISHED)
    return [(o.slug, o.name, "") for o in providers.distinct().order_by("name")]


def _stack_choices() -> Choices:
    stacks = Stack.objects.filter(status=Stack.Status.PUBLISHED).order_by("title")
    return [(s.slug, s.title, "") for s in stacks]


def _framework_choices() -> Choices:
    frameworks = StandardFramework.objects.filter(items__alignments__version__status=PUBLISHED)
    return [(str(f.identifier), f.title, "") for f in frameworks.distinct().order_by("title")]


def _standard_choices() -> Choices:
    items = (
        StandardItem.objects.filter(alignments__version__status=PUBLISHED)
        .distinct()
        .select_related("framework")
        .order_by("framework__title", "sequence", "human_coding_scheme", "pk")
    )
    return [(str(i.identifier), str(i), i.framework.title) for i in items]


FILTERS: list[FilterSpec] = [
    FilterSpec(
        "grade_band",
        "Grade band",
        True,
        lambda values: _having(grade_bands__code__in=values),
        _grade_band_choices,
        "grade_bands__code",
    ),
    FilterSpec(
        "subject",
        "Subject",
        True,
        lambda values: _having(subjects__code__in=values),
        _subject_choices,
        "subjects__code",
    ),
    FilterSpec(
        "difficulty",
        "Difficulty",
        True,
        lambda values: Q(difficulty__in=values),
        _fixed(MicroCredentialVersion.Difficulty.choices),
        "difficulty",
    ),
    FilterSpec(
        "use",
        "Approved for",
        True,
        lambda values: _having(approvals__use__in=values, approvals__withdrawn_at__isnull=True),
        _fixed(ApprovedUse.choices),
        "approvals__use",
        # Several recognizers may approve one version for the same use: count the version once.
        distinct=True,
        within=lambda versions: versions.filter(approvals__withdrawn_at__isnull=True),
    ),
    FilterSpec(
        "provider",
        "Provider",
        False,
        lambda values: Q(micro_credential__provider__slug__in=values),
        _provider_choices,
        "micro_credential__provider__slug",
    ),
    FilterSpec(
        "stack",
        "Stack",
        False,
        lambda values: _having(
            micro_credential__stack_memberships__stack__slug__in=values,
            micro_credential__stack_memberships__stack__status=Stack.Status.PUBLISHED,
        ),
        _stack_choices,
        "micro_credential__stack_memberships__stack__slug",
        within=lambda versions: versions.filter(
            micro_credential__stack_memberships__stack__status=Stack.Status.PUBLISHED
        ),
    ),
    FilterSpec(
        "framework",
        "Standards framework",
        False,
        lambda values: _having(alignments__standard_item__framework__identifier__in=_uuids(values)),
        _framework_choices,
        "alignments__standard_item__framework__identifier",
        distinct=True,
        normalize=_uuid_text,
    ),
    FilterSpec(
        "standard",
        "Standard",
        False,
        lambda values: _having(alignments__standard_item__identifier__in=_uuids(values)),
        _standard_choices,
        "alignments__standard_item__identifier",
        normalize=_uuid_text,
    ),
]
assert [spec.name for spec in FILTERS] == list(FILTER_NAMES), "one FilterSpec per filter"
FILTERS_BY_NAME = {spec.name: spec for spec in FILTERS}


# ---------------------------------------------------------------------------- caching
# The catalog changes when something is published, retired, approved or renamed: rarely, next
# to how often it is read. What the search page derives from it (the filters' choices, whole
# rendered result pages) is kept in each process's memory, under a *generation* token kept in
# the shared default cache. Every write the public catalog shows starts a new generation (the
# signal receivers below), so every process stops using what it kept: this one at once, the
# others within TOKEN_SECONDS.
#
# Why memory plus a token, rather than the choices themselves in the default cache: that cache
# is a database table unless Redis is configured, so reading the lists from it would cost the
# same round trips as reading them from their tables; one small read of the token (at most once
# a second per process outside transactions) is the only round trip left. With the database
# cache the token is written in the writer's transaction, so it changes exactly when the data
# does (and reverts with it on a rollback: the entries kept under the abandoned token are
# simply never asked for again). It is written again on commit for caches outside the
# database, so no process keeps what it read before the commit. Known gap with such a cache
# (Redis): its in-transaction write survives a rollback, so a page rendered inside a writer's
# transaction that is then rolled back is kept until LOCAL_SECONDS; no view reads the catalog
# inside a writer's transaction today.
# Writes that bypass model signals (QuerySet.update, bulk_create, raw SQL) are not seen: every
# kept entry also expires after LOCAL_SECONDS, which bounds how stale such a write leaves it.
GENERATION_KEY = "microcred:catalog:generation"
LOCAL_SECONDS = 300.0


class LocalCache:
    """A bounded, thread-safe, in-process LRU store whose entries expire after `seconds`."""

    def __init__(self, size: int, seconds: float = LOCAL_SECONDS) -> None:
        self.size = size
        self.seconds = seconds
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] < time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def set(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + self.seconds, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_choices = LocalCache(size=4)


# The token as this process last read it, and until when (monotonic clock) it may be used
# without asking the shared cache again: one round trip a second per process rather than one per
# page. Only read outside transactions, so a token that a rollback may take back is never kept.
TOKEN_SECONDS = 1.0
_token: tuple[float, str] | None = None


def catalog_generation() -> str:
    """The current generation token; a new one when the shared cache has none (first use, or
    evicted): nothing kept under an earlier token is used again. Another process's change is
    seen within TOKEN_SECONDS; this process's own, at once."""
    global _token
    kept = _token
    outside = not transaction.get_connection().in_atomic_block
    if outside and kept is not None and kept[0] > time.monotonic():
        return kept[1]
    token = cache.get(GENERATION_KEY)
    if token is None:
        token = uuid.uuid4().hex
        if not cache.add(GENERATION_KEY, token, timeout=None):
            token = cache.get(GENERATION_KEY) or token
    if outside:
        _token = (time.monotonic() + TOKEN_SECONDS, str(token))
    return str(token)


def _new_generation() -> None:
    global _token
    _token = None
    cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)


def catalog_changed() -> None:
    """Start a new generation now (seen inside the writer's transaction) and again on commit."""
    _new_generation()
    connection = transaction.get_connection()
    # Once per transaction: one publish saves several watched rows, the demo loader hundreds,
    # and a single new token on commit retires everything they changed. Robust: the data is
    # committed by then, so a cache that cannot be written must not turn it into an error page
    # (the kept entries still expire after LOCAL_SECONDS).
    if connection.in_atomic_block and not any(
        func is _new_generation for _sids, func, _robust in connection.run_on_commit
    ):
        transaction.on_commit(_new_generation, robust=True)


def _changed(**kwargs: Any) -> None:
    catalog_changed()


def _version_changed(instance: MicroCredentialVersion, **kwargs: Any) -> None:
    # Drafts and versions in vetting are not in the public catalog; a version enters it (and
    # leaves it) by a save in a public status (published, then superseded or retired).
    if instance.status in PUBLIC_STATUSES:
        catalog_changed()


def _tags_changed(instance: Any, action: str, **kwargs: Any) -> None:
    if not action.startswith("post_"):
        return
    if not isinstance(instance, MicroCredentialVersion) or instance.status in PUBLIC_STATUSES:
        catalog_changed()


def _organization_changed(instance: Organization, **kwargs: Any) -> None:
    # Only providers' names and slugs appear in the catalog (the provider filter, the cards).
    if instance.kind == Organization.Kind.PROVIDER:
        catalog_changed()


for _model, _receiver in [
    (MicroCredentialVersion, _version_changed),
    (Organization, _organization_changed),
    (MicroCredential, _changed),
    (Approval, _changed),
    (Stack, _changed),
    (StandardFramework, _changed),
    (StandardItem, _changed),
    (GradeBand, _changed),
    (Subject, _changed),
]:
    for _signal in (post_save, post_delete):
        _signal.connect(_receiver, sender=_model, dispatch_uid=f"catalog-generation-{_model}")
for _through in (
    MicroCredentialVersion.grade_bands.through,
    MicroCredentialVersion.subjects.through,
):
    m2m_changed.connect(_tags_changed, sender=_through, dispatch_uid=f"catalog-tags-{_through}")
# Not watched: stack members and alignments, written with bulk_create (which sends no signal)
# only while their stack or version is a draft; publishing the stack or version saves it.


def filter_choices(generation: str | None = None) -> dict[str, Choices]:
    """Every filter's choices, by filter name, kept in memory for the catalog's generation."""
    key = generation or catalog_generation()
    choices: dict[str, Choices] | None = _choices.get(key)
    if choices is None:
        choices = {spec.name: spec.choices() for spec in FILTERS}
        _choices.set(key, choices)
    return choices


# ---------------------------------------------------------------------------- reads
def matching(
    query: CatalogQuery, *, without: str | None = None, ranked: bool = False
) -> QuerySet[MicroCredentialVersion]:
    """Published versions that match the text and every filter (but `without`)."""
    qs = MicroCredentialVersion.objects.filter(status=PUBLISHED)
    if query.q:
        qs = text_match(qs, query.q, ranked=ranked)
    for spec in FILTERS:
        values = getattr(query, spec.name)
        if values and spec.name != without:
            qs = qs.filter(spec.narrow(values))
    return qs


def search(query: CatalogQuery) -> QuerySet[MicroCredentialVersion]:
    """Ranked results (best first, then by title) with everything a result row shows, so a
    page of them costs the same few queries however many rows it has."""
    qs = matching(query, ranked=bool(query.q))
    order = [Lower("title"), "pk"]
    if query.q:
        order.insert(0, F("rank").desc())
    return with_listing_parts(qs.order_by(*order))


_TOTAL = ""  # the facet name of count_matches' row counting the results themselves


def count_matches(query: CatalogQuery) -> tuple[dict[str, dict[str, int]], int]:
    """Every filter's counts by value, each counted with all the *other* filters applied (so a
    count says how many results that choice would give), and the number of results.

    One query: a UNION ALL of one GROUP BY per filter over its own filtered set, and a count of
    the results, so the database is asked once, not once per filter.
    """
    branches = [spec.counting(matching(query, without=spec.name)) for spec in FILTERS]
    total = (
        matching(query)
        .order_by()
        .values(facet=Value(_TOTAL), value=Value(""))
        .annotate(n=Count("pk"))
    )
    counts: dict[str, dict[str, int]] = {spec.name: {} for spec in FILTERS}
    results = 0
    rows = total.union(*branches, all=True).order_by()  # no ORDER BY from Meta.ordering
    for name, value, n in rows.values_list("facet", "value", "n"):
        if name == _TOTAL:
            results = n
        elif value:
            counts[name][FILTERS_BY_NAME[name].normalize(value)] = n
    return counts, results


@dataclass(frozen=True)
class Filters:
    """The filters as they were applied: the query (without values we could not use), each
    filter's options with counts, how many results they give, and plain-language notes about
    the values left out."""

    query: CatalogQuery
    facets: list[Facet]
    total: int
    ignored: list[str] = field(default_factory=list)


def _facets(query: CatalogQuery, choices: Mapping[str, Choices]) -> tuple[list[Facet], int]:
    counts, total = count_matches(query)
    found = [spec.facet(query, choices[spec.name], counts[spec.name]) for spec in FILTERS]
    return found, total


def facets(query: CatalogQuery) -> list[Facet]:
    """Every filter's options, each counted with all the *other* filters applied, so a count
    says how many results that choice would give (choices in one group add up)."""
    return _facets(query, filter_choices())[0]


def resolve_filters(query: CatalogQuery, *, generation: str | None = None) -> Filters:
    """Counts for the filter sidebar; values that name nothing in the catalog (an old bookmark,
    a hand-edited address) are left out and reported rather than silently matching nothing."""
    choices = filter_choices(generation)
    unknown = {
        name: [v for v in getattr(query, name) if v not in {c[0] for c in choices[name]}]
        for name in FILTER_NAMES
    }
    unknown = {name: values for name, values in unknown.items() if values}
    cleaned = replace(
        query,
        **{
            name: tuple(v for v in getattr(query, name) if v not in values)
            for name, values in unknown.items()
        },
    )
    notes = [
        f"{FILTERS_BY_NAME[name].label}: “{value}” is not one of the choices, so that filter "
        "was left out."
        for name, values in unknown.items()
        for value in values
    ]
    found, total = _facets(cleaned, choices)
    return Filters(cleaned, found, total, notes)

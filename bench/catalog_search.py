#!/usr/bin/env python
"""Benchmark of the public catalog search page.

    .venv/bin/python bench/catalog_search.py [--n 1000] [--runs 50]

Builds a throwaway database (a temporary SQLite file; with DATABASE_URL set, a separate test
database on that server, such as test_microcred on PostgreSQL), publishes N varied
micro-credentials through catalog.services (so every one passed vetting like real content), adds
approvals for use and a few stacks, then requests the catalog search page with Django's test
Client for several scenarios and prints, for each, the SQL queries per request, the median and
95th percentile time in milliseconds, requests per second, and the ratio of those to a bare
view's (a view returning a small HttpResponse, through the same Client and middleware) measured
in the same run: each timed request alternates with a bare one, so both see the same load on
the machine. The database is removed at the end.

Each search scenario is measured twice: "first" empties the kept rendered pages before every
request (what the first visitor to an address after a catalog change waits for; the filters'
choices stay kept), "kept" repeats the address (what every later visitor gets: the catalog's
generation token is read from the shared cache at most once a second, so usually no query at
all). Exits with status 1 when a catalog page takes more than 6 queries (first or kept), or
when the kept page serves fewer than a quarter of the bare view's requests per second (issue 8,
finding 14).
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from benchdb import configure  # noqa: E402  (bench/, the script's own folder, is on the path)

TOPICS = [
    ("exit tickets", "assessment", "checks understanding at the end of a lesson"),
    ("number talks", "mathematics", "builds mental math strategies through discussion"),
    ("phonemic awareness", "literacy", "teaches students to hear and blend sounds"),
    ("guided reading groups", "literacy", "matches texts to small groups of readers"),
    ("claim-evidence-reasoning", "science", "structures scientific explanations"),
    ("restorative circles", "all-subjects", "repairs harm and builds community"),
    ("project-based learning", "all-subjects", "organizes learning around a driving question"),
    ("academic vocabulary", "english-learners", "teaches tier two words explicitly"),
    ("primary source analysis", "social-studies", "questions documents from the past"),
    ("feedback on writing", "literacy", "gives timely, specific feedback on drafts"),
    ("inquiry labs", "science", "lets students design their own investigations"),
    ("co-teaching", "special-education", "shares instruction between two teachers"),
    ("universal design for learning", "special-education", "removes barriers in lessons"),
    ("digital citizenship", "digital-learning", "teaches safe and responsible technology use"),
    ("blended learning stations", "digital-learning", "rotates students through stations"),
    ("mathematical discourse", "mathematics", "orchestrates productive math discussions"),
    ("formative assessment", "assessment", "adjusts teaching from evidence of learning"),
    ("peer observation", "leadership", "learns from colleagues' classrooms"),
    ("instructional coaching cycles", "leadership", "supports a colleague's goal over time"),
    ("visual art critique", "arts", "guides structured critique of student work"),
    ("target language immersion", "world-languages", "keeps the lesson in the language"),
    ("data team meetings", "leadership", "uses student data to plan instruction"),
]
ACTIONS = ["Using", "Designing", "Facilitating", "Leading", "Teaching with", "Assessing with"]
SETTINGS = [
    "in the early grades",
    "for multilingual learners",
    "in middle school",
    "in high school",
    "across the curriculum",
    "in small groups",
    "in a co-taught classroom",
    "with families",
]
BANDS = ["pre-k", "k-2", "3-5", "6-8", "9-12", "k-12"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="published micro-credentials")
    parser.add_argument("--runs", type=int, default=50, help="timed requests per scenario")
    parser.add_argument(
        "--kept-runs",
        type=int,
        default=500,
        help="timed requests per kept page: ~1 ms each, so one stall of the machine weighs "
        "on their requests/s unless there are many",
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed for the content")
    return parser.parse_args()


def load(n: int, rng: random.Random) -> None:
    """N published micro-credentials from several providers, with approvals and stacks."""
    from django.db import transaction

    from microcred.catalog import services
    from microcred.catalog.models import CriterionRating, QualityCriterion, StandardFramework
    from microcred.catalog.samples import coaching_content
    from microcred.orgs.models import Membership, Organization, User

    K = Organization.Kind
    with transaction.atomic():
        state = Organization.objects.create(kind=K.STATE_AGENCY, name="State DPI", slug="dpi")
        lea = Organization.objects.create(kind=K.LEA, name="Pine County", slug="pine", parent=state)
        providers = [
            Organization.objects.create(kind=K.PROVIDER, name=name, slug=f"provider-{i}")
            for i, name in enumerate(
                ["Learning Forward Lab", "State University", "Teach Together", "Digital Promise"]
            )
        ]
        reviewer = User.objects.create_user(email="reviewer@bench.example", password=None)
        Membership.objects.create(user=reviewer, organization=state, role="vetting_reviewer")
        authors = []
        for provider in providers:
            author = User.objects.create_user(email=f"{provider.slug}@bench.example", password=None)
            Membership.objects.create(user=author, organization=provider, role="provider_author")
            authors.append(author)
        framework = StandardFramework.objects.create(
            identifier=_uuid(rng), title="Professional Teaching Standards"
        )
        items = [
            framework.items.create(
                identifier=_uuid(rng),
                human_coding_scheme=f"{1 + i // 4}.{'abcd'[i % 4]}",
                full_statement=f"Teachers demonstrate professional practice {i + 1}.",
                sequence=i,
            )
            for i in range(20)
        ]
        ratings = {
            c.pk: (CriterionRating.Rating.MEETS, "")
            for c in QualityCriterion.objects.filter(active=True)
        }
        published = []
        for i in range(n):
            topic, subject, purpose = rng.choice(TOPICS)
            setting = rng.choice(SETTINGS)
            title = f"{rng.choice(ACTIONS)} {topic} {setting} ({i + 1})"
            content = coaching_content()
            content.update(
                {
                    "title": title,
                    "summary": f"Show that your use of {topic} {purpose} {setting}.",
                    "competency_statement": (
                        f"The educator uses {topic}, which {purpose}, {setting}, and adjusts "
                        "instruction from what students show."
                    ),
                    "key_method": (
                        f"The educator plans, teaches and reflects on {topic}: sets a goal, "
                        f"collects student evidence {setting}, and revises the next lesson."
                    ),
                    "difficulty": rng.choice(["foundational", "intermediate", "advanced"]),
                    "estimated_hours": str(rng.choice([5, 8, 10, 12.5, 15, 20])),
                    "grade_bands": rng.sample(BANDS, rng.randint(1, 2)),
                    "subjects": [subject],
                    "alignments": [str(x.identifier) for x in rng.sample(items, rng.randint(0, 3))],
                }
            )
            k = rng.randrange(len(providers))
            version = services.create_micro_credential(
                provider=providers[k], author=authors[k], content=content
            )
            services.submit_for_vetting(version, author=authors[k])
            services.record_review(
                version, reviewer=reviewer, decision="approved", comments="", ratings=ratings
            )
            version = services.publish_version(version, actor=reviewer)
            for recognizer, use in ((state, "license_renewal"), (lea, "professional_learning")):
                if rng.random() < 0.4:
                    services.approve_for_use(
                        version, recognizer=recognizer, actor=reviewer, use=use
                    )
            published.append((k, version.micro_credential))
        for s in range(5):
            k = s % len(providers)
            own = [mc for provider_index, mc in published if provider_index == k]
            members = [(mc, j < 2) for j, mc in enumerate(rng.sample(own, min(5, len(own))))]
            if len(members) < 2:
                continue
            stack = services.save_stack(
                provider=providers[k],
                author=authors[k],
                data={
                    "title": f"Pathway {s + 1}",
                    "description": "A pathway.",
                    "target_role": "Classroom teacher",
                    "level": "intermediate",
                    "achievement_name": f"Pathway {s + 1} credential",
                    "min_electives": 1 if len(members) > 2 else 0,
                },
                members=members,
            )
            services.publish_stack(stack, actor=authors[k])


def _uuid(rng: random.Random) -> Any:
    import uuid

    return uuid.UUID(int=rng.getrandbits(128), version=4)


MAX_QUERIES = 6
MIN_RATIO = 0.25


def bare_view(request: Any) -> Any:
    from django.http import HttpResponse

    return HttpResponse("ok", content_type="text/plain")


def install_bare_view() -> str:
    """A URLconf with the site's patterns and /bench/bare/, made the root one; its path."""
    import types

    from django.conf import settings
    from django.urls import clear_url_caches, path

    import microcred.urls

    module = types.ModuleType("bench_catalog_urls")
    module.urlpatterns = [path("bench/bare/", bare_view), *microcred.urls.urlpatterns]  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    settings.ROOT_URLCONF = module.__name__
    clear_url_caches()
    return "/bench/bare/"


def count_queries(request: Callable[[], Any]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = request()
    if response.status_code != 200:
        raise SystemExit(f"Request failed with status {response.status_code}.")
    return len(captured)  # read now: the next request clears the log it slices


def measure(
    request: Callable[[], Any], bare: Callable[[], Any], runs: int, before: Callable[[], Any]
) -> tuple[int, list[float], list[float]]:
    """Queries of one request, then `runs` timed requests each paired with a bare one."""
    for _ in range(2):  # warm caches and connections
        before()
        request()
        bare()
    before()
    queries = count_queries(request)
    times, bare_times = [], []
    for _ in range(runs):
        before()
        start = time.perf_counter()
        response = request()
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"Request failed with status {response.status_code}.")
        start = time.perf_counter()
        bare()
        bare_times.append((time.perf_counter() - start) * 1000)
    return queries, times, bare_times


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[18] if len(times) > 1 else times[0]


def per_second(times: list[float]) -> float:
    return 1000 * len(times) / sum(times)


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="microcred-bench-") as tmp:
        configure(Path(tmp))
        from django.db import connection
        from django.test import Client

        from microcred.catalog.search import CatalogQuery, search
        from microcred.catalog.views_public import search_pages

        test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        failures: list[str] = []
        try:
            started = time.perf_counter()
            load(args.n, random.Random(args.seed))
            loaded = time.perf_counter() - started
            if connection.vendor == "postgresql":
                # Table statistics, as autovacuum gathers them soon after a bulk load: without
                # them the planner guesses row counts and may skip the full-text index.
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
            # As in a fresh web worker: the many objects the load left behind are not scanned by
            # every garbage collection during the timed requests (which they would slow unevenly).
            gc.collect()
            gc.freeze()
            client = Client()
            bare_path = install_bare_view()
            scenarios: list[tuple[str, str, dict[str, Any]]] = [
                ("Empty query, first page", "/catalog/", {}),
                ("Empty query, page 10", "/catalog/", {"page": 10}),
                ("Word query", "/catalog/", {"q": "formative assessment"}),
                (
                    "Filtered (grade band, subject, difficulty)",
                    "/catalog/",
                    {"grade_band": "3-5", "subject": "mathematics", "difficulty": "intermediate"},
                ),
                (
                    "Words + filters + approved use",
                    "/catalog/",
                    {
                        "q": "feedback writing",
                        "grade_band": ["6-8", "9-12"],
                        "use": "license_renewal",
                    },
                ),
                ("JSON API, word query", "/api/v1/catalog/micro-credentials", {"q": "coaching"}),
            ]
            print(
                f"Catalog search benchmark: {args.n} published micro-credentials on "
                f"{connection.vendor} ({test_db}); loaded in {loaded:.1f} s; "
                f"{args.runs} timed requests per row ({args.kept_runs} for kept pages) via "
                "Django's test Client, each followed by one to the bare view."
            )
            header = (
                f"{'scenario':<52} {'matches':>7} {'queries':>7} {'median ms':>10} "
                f"{'p95 ms':>8} {'req/s':>8} {'x bare':>7}"
            )
            print(header)
            print("-" * len(header))
            all_bare: list[float] = []

            def row(label: str, matches: str, queries: int, times: list[float], ratio: str) -> None:
                print(
                    f"{label:<52} {matches:>7} {queries:>7} {statistics.median(times):>10.2f} "
                    f"{p95(times):>8.2f} {per_second(times):>8.0f} {ratio:>7}"
                )

            def bare() -> Any:
                return client.get(bare_path)

            for label, path, params in scenarios:
                matches = str(search(CatalogQuery.from_params(params)).count())
                page = path == "/catalog/"
                kinds = (
                    [("first", search_pages.clear), ("kept", lambda: None)]
                    if page
                    else [("", lambda: None)]
                )
                for kind, before in kinds:
                    runs = args.kept_runs if kind == "kept" else args.runs
                    queries, times, bare_times = measure(
                        lambda p=path, q=params: client.get(p, q), bare, runs, before
                    )
                    all_bare += bare_times
                    ratio = per_second(times) / per_second(bare_times)
                    name = f"{label}, {kind}" if kind else label
                    row(name, matches, queries, times, f"{ratio:.2f}")
                    if page and queries > MAX_QUERIES:
                        failures.append(f"{name}: {queries} queries (at most {MAX_QUERIES})")
                    if kind == "kept" and ratio < MIN_RATIO:
                        failures.append(
                            f"{name}: {ratio:.2f} of the bare view's requests/s "
                            f"(at least {MIN_RATIO})"
                        )
            row("Bare view (every pairing above)", "", count_queries(bare), all_bare, "1.00")
        finally:
            connection.creation.destroy_test_db(test_db, verbosity=0)
        if failures:
            print("\nFAILED:\n  " + "\n  ".join(failures))
            raise SystemExit(1)
        print(
            f"\nOK: every catalog page in at most {MAX_QUERIES} queries; kept pages at least "
            f"{MIN_RATIO} of the bare view's requests/s."
        )


if __name__ == "__main__":
    main()

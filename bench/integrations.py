#!/usr/bin/env python
"""Benchmark of the integrations (issue 12): a OneRoster 1.2 district roster import, webhook
delivery to a real local receiver and LTI 1.3 resource-link launches, through the real services.

    .venv/bin/python bench/integrations.py [--db sqlite|postgres] [--staff 10000]
        [--schools 150] [--events 1000] [--launches 200] [--seed 1]

Builds a throwaway database (bench/benchdb.py: a temporary SQLite file, or with DATABASE_URL
set a separate test database on that server; --db postgres without DATABASE_URL uses the local
server at postgres://postgres@127.0.0.1:5432). The SETUP (not measured) makes a state with one
district (its code is what the roster's district row names), the district's program admin, a
published MC (tests/catalog/factories.publish), and for the launches as many district teachers
as there are distinct launchers.

OneRoster: a generated district export (orgs.csv: the district and --schools schools; users.csv:
--staff staff, no students; roles.csv: one primary role each, teachers mostly, a principal per
school, aides and counselors, and a secondary role at another school for some teachers). It
prints the sizes of the zip and its files, and the largest staff count whose files fit the 2 MB
limits (MAX_BYTES, checked on the zip and on each unpacked file). When --staff does not fit, the
largest that does is timed instead, and it says so. Measured: encode_upload and the dry run
(build_plan), the import (services.run_import) and a second import of the same zip, which must
change nothing (checked on the plan's counts); time and SQL statements of each.

Webhooks: one endpoint of the district (services.create_endpoint) pointing at
tests/webhooks/receiver.py's HTTP server on 127.0.0.1, in this process. --events events are
stored through events.record_event (setup), then delivery.sweep() sends them all. Measured:
deliveries per second, milliseconds per delivery (from one delivery recorded to the next: the
queue head, the lease, the signed POST and its recording), SQL statements per delivery. The
receiver checks every event arrived once, signed, in the deliveries' order.

LTI: tests/lti/platform.py's platform (its own RSA key set, served on 127.0.0.1) registered for
the district (services.save_platform); --launches resource-link launches through Django's test
Client, each a new browser: POST /lti/login/, then the id_token posted to /lti/launch/. The
first half are first launches of distinct teachers (the account is matched by email and linked),
the second half the same teachers again (the link is found). The platform's signing of the
id_token is not timed. Measured: milliseconds and SQL statements per launch (both requests).

Exits with status 1 when a check fails. The figures are wall-clock times on whatever else the
machine runs; the receiver and platform threads share this process's interpreter.
"""

from __future__ import annotations

import argparse
import csv
import gc
import io
import logging
import os
import random
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(1, str(ROOT))  # tests/: the catalog factories, the receiver, the platform

from assignment_solver import peak_mb  # noqa: E402  (bench/ is the script's folder)
from benchdb import configure  # noqa: E402

LOCAL_SERVER = "postgres://postgres@127.0.0.1:5432/mc_integrations_bench"
LEA_CODE = "3700990"
STAMP = "2026-08-01T12:00:00.000Z"
GIVEN = ("Maria", "James", "Lena", "Sam", "Aisha", "Diego", "Mei", "Tom", "Priya", "Olu")
FAMILY = ("Alvarez", "Okafor", "Fischer", "Whitley", "Nguyen", "Brooks", "Patel", "Kowalski")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default=None)
    parser.add_argument("--staff", type=int, default=10_000)
    parser.add_argument("--schools", type=int, default=150)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--launches", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


class Count:
    n = 0


@contextmanager
def counting() -> Iterator[Count]:
    """The SQL statements run inside (a bulk insert's batch is one). Not Django's
    CaptureQueriesContext: its log keeps only the last 9000, which an import overflows."""
    from django.db import connection

    count = Count()

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        count.n += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield count


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.1f} ms, p95 {p95(values):.1f} ms"


# --- The roster --------------------------------------------------------------------------------


def _csv(columns: Sequence[str], rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\r\n", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def roster_files(staff: int, schools: int, seed: int) -> dict[str, str]:
    """A district's OneRoster 1.2 export: the columns of the 1.2 CSV binding, filled as a
    student information system fills them (sourcedIds are GUID-like, dates on every row)."""
    from microcred.orgs.oneroster import ORG_COLUMNS, ROLE_COLUMNS, USER_COLUMNS

    rng = random.Random(seed)
    district = "org-district-0001"
    orgs = [
        {
            "sourcedId": district,
            "status": "active",
            "dateLastModified": STAMP,
            "name": "Bench County Schools",
            "type": "district",
            "identifier": LEA_CODE,
        }
    ]
    school_ids = [f"org-school-{s:04d}" for s in range(schools)]
    for s, sid in enumerate(school_ids):
        level = ("Elementary", "Middle", "High")[s % 3]
        orgs.append(
            {
                "sourcedId": sid,
                "status": "active",
                "dateLastModified": STAMP,
                "name": f"{FAMILY[s % len(FAMILY)]} {level} School {s:03d}",
                "type": "school",
                "identifier": f"{LEA_CODE}{s:05d}",
                "parentSourcedId": district,
            }
        )
    users, roles = [], []
    for i in range(staff):
        uid = f"u-{i:07d}-{rng.getrandbits(32):08x}"
        home = school_ids[i % schools]
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        if i < schools:
            role, prefix = "principal", "P"
        else:
            draw = rng.random()
            role = "teacher" if draw < 0.85 else "aide" if draw < 0.95 else "counselor"
            prefix = {"teacher": "T", "aide": "A", "counselor": "C"}[role]
        users.append(
            {
                "sourcedId": uid,
                "status": "active",
                "dateLastModified": STAMP,
                "enabledUser": "true",
                "username": f"{given[0].lower()}{family.lower()}{i}",
                "givenName": given,
                "familyName": family,
                "identifier": f"{prefix}{i:06d}",
                "email": f"{given.lower()}.{family.lower()}.{i}@bench.k12.nc.us",
                "primaryOrgSourcedId": home,
            }
        )
        held = [("primary", role, home)]
        if role == "teacher" and rng.random() < 0.08:  # itinerant: art, music, special ed.
            held.append(("secondary", "teacher", school_ids[(i + 1 + schools // 2) % schools]))
        for kind, what, where in held:
            roles.append(
                {
                    "sourcedId": f"r-{len(roles):07d}",
                    "status": "active",
                    "dateLastModified": STAMP,
                    "userSourcedId": uid,
                    "roleType": kind,
                    "role": what,
                    "beginDate": "2026-08-01",
                    "endDate": "2027-06-30",
                    "orgSourcedId": where,
                }
            )
    manifest = [("manifest.version", "1.0"), ("oneroster.version", "1.2")]
    manifest += [(f"file.{n}", "bulk") for n in ("orgs", "users", "roles")]
    manifest += [("file.classes", "absent"), ("file.enrollments", "absent")]
    manifest += [("source.systemName", "Bench SIS"), ("source.systemCode", "bench-sis")]
    return {
        "manifest.csv": "propertyName,value\r\n" + "".join(f"{k},{v}\r\n" for k, v in manifest),
        "orgs.csv": _csv(ORG_COLUMNS, orgs),
        "users.csv": _csv(USER_COLUMNS, users),
        "roles.csv": _csv(ROLE_COLUMNS, roles),
    }


def roster_zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def fits(staff: int, schools: int, seed: int) -> tuple[bool, dict[str, str], bytes]:
    from microcred.orgs.imports import MAX_BYTES

    files = roster_files(staff, schools, seed)
    data = roster_zip(files)
    largest = max(len(text.encode()) for text in files.values())
    return len(data) <= MAX_BYTES and largest <= MAX_BYTES, files, data


def largest_fitting(schools: int, seed: int, start: int) -> int:
    """The largest staff count whose roster passes the 2 MB limits (a bisection)."""
    low, high = schools, max(start, schools + 1)
    while fits(high, schools, seed)[0]:
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        if fits(middle, schools, seed)[0]:
            low = middle
        else:
            high = middle
    return low


def kb(n: int) -> str:
    return f"{n / 1024:,.0f} KB"


def bench_roster(args: argparse.Namespace, world: dict[str, Any]) -> list[str]:

    from microcred.orgs import oneroster, services
    from microcred.orgs.imports import MAX_BYTES
    from microcred.orgs.models import Membership, Organization, RosterRecord, User

    problems: list[str] = []
    ok, files, data = fits(args.staff, args.schools, args.seed)
    sizes = ", ".join(f"{name} {kb(len(text.encode()))}" for name, text in files.items())
    print(
        f"  OneRoster roster of {args.staff:,} staff, {args.schools} schools: zip {kb(len(data))}"
        f" ({sizes}); {'fits' if ok else 'is over'} the {MAX_BYTES / 1024 / 1024:.0f} MB limits"
    )
    t = time.perf_counter()
    limit = largest_fitting(args.schools, args.seed, args.staff)
    _, limit_files, limit_data = fits(limit, args.schools, args.seed)
    print(
        f"  largest roster that fits, {args.schools} schools: {limit:,} staff (zip "
        f"{kb(len(limit_data))}, users.csv {kb(len(limit_files['users.csv'].encode()))}, "
        f"roles.csv {kb(len(limit_files['roles.csv'].encode()))}; "
        f"{limit + 1:,} staff are refused) [search {time.perf_counter() - t:.1f} s, not timed]"
    )
    staff = args.staff
    if not ok:
        staff, files, data = limit, limit_files, limit_data
        print(f"  --staff {args.staff:,} is over the limit: timing {staff:,} staff instead")
    admin = world["lea_admin"]
    roles_in_file = files["roles.csv"].count("\r\n") - 1
    before = (User.objects.count(), Membership.objects.count(), Organization.objects.count())

    with counting() as queries:
        t = time.perf_counter()
        text, found = oneroster.encode_upload(data)
        plan = services.preview_import(admin, "oneroster", text)
        dry = time.perf_counter() - t
    dry_sql = queries.n
    if found or not plan.is_valid:
        problems.append(f"roster refused: {(found or plan.problems)[:3]}")
        return problems
    print(
        f"  dry run (encode_upload + build_plan): {dry:.2f} s, {dry_sql} SQL statements; "
        f"plan: {', '.join(f'{n} {label}' for label, n in plan.summary())}"
    )
    with counting() as queries:
        t = time.perf_counter()
        plan = services.run_import(admin, "oneroster", text, filename="bench.zip")
        took = time.perf_counter() - t
    print(
        f"  import (run_import): {took:.2f} s, {queries.n} SQL statements "
        f"({staff / took:,.0f} staff/s; {queries.n / (staff + roles_in_file):.1f} statements "
        f"per users.csv + roles.csv row)"
    )
    after = (User.objects.count(), Membership.objects.count(), Organization.objects.count())
    made = tuple(a - b for a, b in zip(after, before, strict=True))
    if made != (staff, roles_in_file, args.schools):
        problems.append(
            f"the import made {made} (users, memberships, orgs), wanted "
            f"{(staff, roles_in_file, args.schools)}"
        )
    records = RosterRecord.objects.count()
    with counting() as queries:
        t = time.perf_counter()
        again = services.run_import(admin, "oneroster", text, filename="bench.zip")
        second = time.perf_counter() - t
    changes = {k: v for k, v in again.counts.items() if k not in again.NOT_CHANGES and v}
    print(
        f"  second import of the same zip: {second:.2f} s, {queries.n} SQL statements; "
        f"changes {changes or 'none'}, {again.counts.get('unchanged', 0):,} rows unchanged"
    )
    if changes or again.has_changes or RosterRecord.objects.count() != records:
        problems.append(f"the second import changed something: {changes}")
    return problems


# --- Webhooks --------------------------------------------------------------------------------


def bench_webhooks(args: argparse.Namespace, world: dict[str, Any]) -> list[str]:
    from django.utils import timezone

    from microcred.webhooks import delivery, events
    from microcred.webhooks import services as webhooks
    from microcred.webhooks.models import SUBSCRIBABLE, EventType, WebhookAttempt, WebhookDelivery
    from tests.webhooks.receiver import Receiver, start, stop

    problems: list[str] = []
    lea = world["lea"]
    receiver = start(Receiver())
    try:
        endpoint, secret = webhooks.create_endpoint(
            world["lea_admin"], lea, url=receiver.url, event_types=SUBSCRIBABLE
        )
        receiver.secret = secret
        t = time.perf_counter()
        now = timezone.now()
        for i in range(args.events):
            # Shaped like credential.issued (events._credential_data); emission is setup.
            events.record_event(
                EventType.CREDENTIAL_ISSUED,
                {
                    "credential": {
                        "id": f"00000000-0000-4000-8000-{i:012d}",
                        "url": f"https://microcred.example.org/credentials/{i}/",
                        "name": "Coaching practice",
                        "issued_at": now.isoformat(),
                    },
                    "achievement": {"micro_credential": "coaching", "version": 1},
                    "earner": {"email": f"teacher{i}@bench.example"},
                    "issuer": {"organization": "iss", "name": "Issuer"},
                },
                [lea.pk, world["state"].pk],
                source_key=f"bench:{i}",
            )
        emitted = time.perf_counter() - t
        gc.collect()
        stamps: list[float] = []
        real_record = delivery.record

        def timed_record(*a: Any, **k: Any) -> Any:
            result = real_record(*a, **k)
            stamps.append(time.perf_counter())
            return result

        delivery.record = timed_record  # type: ignore[assignment]
        try:
            with counting() as queries:
                started = time.perf_counter()
                sent = delivery.sweep()
                took = time.perf_counter() - started
        finally:
            delivery.record = real_record  # type: ignore[assignment]
        per = [(b - a) * 1000 for a, b in zip([started, *stamps], stamps, strict=False)]
        posts = list(WebhookAttempt.objects.values_list("duration_ms", flat=True))
        print(
            f"  webhooks: {args.events} events emitted in {emitted:.1f} s (setup), sweep sent "
            f"{sent} in {took:.2f} s: {sent / took:,.0f} deliveries/s"
        )
        print(
            f"  per delivery: {spread(per)} (the POST alone: median "
            f"{statistics.median(posts):.0f} ms), {queries.n / max(1, sent):.1f} SQL "
            f"statements ({queries.n} in the sweep)"
        )
        order = [
            str(e)
            for e in WebhookDelivery.objects.filter(endpoint=endpoint)
            .order_by("id")
            .values_list("event_id", flat=True)
        ]
        arrived = [r.event_id for r in receiver.requests]
        unsigned = sum(not r.signature_ok for r in receiver.requests)
        delivered = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.DELIVERED)
        checks = {
            "every event arrived": len(set(arrived)) == args.events == len(order),
            "once": len(arrived) == len(set(arrived)),
            "signed": unsigned == 0,
            "in order": arrived == order and receiver.accepted_ids == order,
            "all marked delivered": delivered.count() == args.events,
        }
        failed = [name for name, held in checks.items() if not held]
        print(
            f"  receiver: {len(arrived)} requests, {len(set(arrived))} events, {unsigned} "
            f"unsigned; {', '.join(checks)}: {'FAILED ' + ', '.join(failed) if failed else 'yes'}"
        )
        problems += [f"webhooks: not {name}" for name in failed]
    finally:
        stop(receiver)
    return problems


# --- LTI -------------------------------------------------------------------------------------


def bench_lti(args: argparse.Namespace, world: dict[str, Any]) -> list[str]:
    from urllib.parse import parse_qs, urlparse

    from django.core.cache import cache
    from django.test import Client
    from django.urls import reverse

    from microcred.lti import services
    from microcred.lti.models import LtiResourceLaunch, LtiUserLink
    from microcred.orgs.services import SYSTEM
    from tests.lti.platform import CLIENT_ID, DEPLOYMENT_ID, PlatformServer, new_key

    problems: list[str] = []
    server = PlatformServer(new_key())
    platform = server.platform
    try:
        cache.clear()
        base = platform.base
        services.save_platform(
            SYSTEM,
            world["lea"],
            services.PlatformFields(
                name="Bench Canvas",
                issuer=base,
                client_id=CLIENT_ID,
                auth_login_url=f"{base}/auth",
                auth_token_url=f"{base}/token",
                key_set_url=f"{base}/jwks",
                deployment_ids=[DEPLOYMENT_ID],
            ),
        )
        slug = world["mc_slug"]
        warm, teachers = world["teachers"][0], world["teachers"][1:]
        first: list[float] = []
        returning: list[float] = []
        statements: list[int] = []
        refused = 0
        cold = 0.0
        for i in range(-1, args.launches):
            # Launch -1 warms up (code paths, the platform's key set fetched and cached).
            teacher = warm if i < 0 else teachers[i % len(teachers)]
            client = Client()
            login_data = {"iss": base, "login_hint": f"hint-{i}", "client_id": CLIENT_ID}
            with counting() as queries:
                t = time.perf_counter()
                response = client.post(reverse("lti:login"), login_data)
                spent = time.perf_counter() - t
            count = queries.n
            query = {k: v[0] for k, v in parse_qs(urlparse(response["Location"]).query).items()}
            token = platform.id_token(
                query["nonce"],
                sub=f"canvas-{teacher.pk}",
                email=teacher.email,
                custom={"mc": slug},
            )
            with counting() as queries:
                t = time.perf_counter()
                response = client.post(
                    reverse("lti:launch"), {"id_token": token, "state": query["state"]}
                )
                spent += time.perf_counter() - t
            refused += response.status_code != 302
            if i < 0:
                cold = spent * 1000
                continue
            statements.append(count + queries.n)
            (first if i < len(teachers) else returning).append(spent * 1000)
        every = first + returning
        print(
            f"  LTI: {args.launches} resource-link launches (login + launch POST): "
            f"{spread(every)}, SQL statements median {statistics.median(statements):.0f} "
            f"(max {max(statements)})"
        )
        print(f"    warm-up launch, not counted (key set fetched): {cold:.0f} ms")
        print(
            f"    first launches ({len(first)}: account matched by email, linked): {spread(first)}"
        )
        if returning:
            print(f"    returning launches ({len(returning)}: link found): {spread(returning)}")
        links, recorded = LtiUserLink.objects.count(), LtiResourceLaunch.objects.count()
        print(
            f"    {refused} refused; {links} account links, {recorded} launch records; key set "
            f"fetched {len(platform.requests_to('/jwks'))} times"
        )
        if refused or links != len(teachers) + 1:
            problems.append(f"LTI: {refused} launches refused, {links} links")
    finally:
        server.stop()
    return problems


# --- Setup -----------------------------------------------------------------------------------


def build(args: argparse.Namespace) -> dict[str, Any]:
    from django.db import transaction

    from microcred.orgs.models import Membership, Organization, Role, User
    from tests.catalog.factories import publish, vary

    K = Organization.Kind
    with transaction.atomic():
        state = Organization.objects.create(kind=K.STATE_AGENCY, name="State DPI", slug="dpi")
        provider = Organization.objects.create(kind=K.PROVIDER, name="Teach Together", slug="tt")
        lea = Organization.objects.create(
            kind=K.LEA, name="Bench County Schools", slug="bench", parent=state, code=LEA_CODE
        )
        home = Organization.objects.create(
            kind=K.SCHOOL, name="Bench Learning Center", slug="blc", parent=lea
        )
        lea_admin = User.objects.create_user(
            email="lea@bench.example", password=None, first_name="Pat", last_name="Admin"
        )
        Membership.objects.create(user=lea_admin, organization=lea, role=Role.PROGRAM_ADMIN)
        author = User.objects.create_user(email="author@bench.example", password=None)
        Membership.objects.create(user=author, organization=provider, role=Role.PROVIDER_AUTHOR)
        reviewer = User.objects.create_user(email="reviewer@bench.example", password=None)
        Membership.objects.create(user=reviewer, organization=state, role=Role.VETTING_REVIEWER)
        version = publish(vary(title="Coaching practice"), provider, author, reviewer)
        launchers = 1 + max(1, (args.launches + 1) // 2)  # the first warms up
        teachers = User.objects.bulk_create(
            User(email=f"lti{i}@bench.example", first_name="Lee", last_name=f"T{i}", password="!")
            for i in range(launchers)
        )
        Membership.objects.bulk_create(
            Membership(user=u, organization=home, role=Role.EARNER) for u in teachers
        )
    return {
        "state": state,
        "lea": lea,
        "lea_admin": lea_admin,
        "mc_slug": version.micro_credential.slug,
        "teachers": teachers,
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.db == "postgres" and "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = LOCAL_SERVER
    elif args.db == "sqlite":
        os.environ.pop("DATABASE_URL", None)
    with tempfile.TemporaryDirectory(prefix="microcred-bench-") as tmp:
        configure(Path(tmp))
        from django.conf import settings
        from django.db import connection

        settings.ALLOWED_HOSTS = ["*"]
        # One access-log line per test-client request would bury the figures.
        logging.getLogger("microcred.access").setLevel(logging.WARNING)
        settings.SITE_URL = "https://microcred.example.org"
        test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            started = time.perf_counter()
            world = build(args)
            gc.collect()
            gc.freeze()
            print(
                f"integrations bench on {connection.vendor} "
                f"(setup {time.perf_counter() - started:.1f} s)"
            )
            problems = bench_roster(args, world)
            problems += bench_webhooks(args, world)
            problems += bench_lti(args, world)
            for problem in problems:
                print(f"  VIOLATION: {problem}")
            print(f"  checks: {'FAILED' if problems else 'all hold'}; peak RSS {peak_mb():.0f} MB")
            return 1 if problems else 0
        finally:
            connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    sys.exit(main())

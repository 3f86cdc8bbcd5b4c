#!/usr/bin/env python
"""Benchmark of the ledger (issue 10): posting what issued credentials grant, the repair
sweep, bulk approval and the HR export, through the real services.

    .venv/bin/python bench/ledger.py [--credentials 5000] [--districts 20] [--seed 1]

Builds a throwaway database (bench/benchdb.py: a temporary SQLite file, or with DATABASE_URL
set a separate test database on that server): a state with --districts districts of one
school each, one published MC (through catalog.services), approved by the state for license
renewal and by each district for every other use. The state's policy converts hours to CEUs
and counts MCs toward renewal; each district's policy has one rule of every other kind (a
stipend whose budget covers two thirds of its teachers, a salary step, master's credit and
contact units with caps, a role). The SETUP bulk-loads the earners, their attempts,
decisions, awards and issued credentials (signing is measured by bench/credentials.py, not
here); that is data loading, not what is measured.

Measured: `posting.repair()` posting every credential (the path a lost task takes, and the
same `_post` the on-commit task runs), then a second run that must post nothing; per
credential, milliseconds and SQL statements of `post_issued`; `approve_entries` for a
district's pending entries; `export_entries` and the CSV of the export. It checks from the
database: exactly one entry per credential and rule, the budget never overspent, caps held.
Exits with status 1 on a violation.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(1, str(ROOT))  # tests.catalog.factories publishes the MC

from assignment_solver import peak_mb  # noqa: E402  (bench/ is the script's folder)
from benchdb import configure  # noqa: E402

BATCH = 2000


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--credentials", type=int, default=5000)
    parser.add_argument("--districts", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


def build(args: argparse.Namespace) -> dict[str, Any]:
    from django.db import transaction
    from django.utils import timezone

    from microcred.assessment.models import Award, Decision
    from microcred.catalog import services as catalog
    from microcred.credentials import services as credentials
    from microcred.credentials.models import IssuedCredential
    from microcred.earning.models import Attempt, Submission
    from microcred.orgs.models import Membership, Organization, Role, User
    from microcred.orgs.services import SYSTEM
    from microcred.recognition import services
    from tests.catalog.factories import publish, vary

    rng = random.Random(args.seed)
    K = Organization.Kind
    with transaction.atomic():
        state = Organization.objects.create(kind=K.STATE_AGENCY, name="State DPI", slug="dpi")
        provider = Organization.objects.create(kind=K.PROVIDER, name="Teach Together", slug="tt")
        issuer = Organization.objects.create(kind=K.ISSUER, name="Issuer", slug="iss", parent=state)
        leas = [
            Organization.objects.create(
                kind=K.LEA, name=f"District {d}", slug=f"lea-{d}", parent=state
            )
            for d in range(args.districts)
        ]
        schools = [
            Organization.objects.create(
                kind=K.SCHOOL, name=f"School {d}", slug=f"school-{d}", parent=lea
            )
            for d, lea in enumerate(leas)
        ]
        author = User.objects.create_user(email="author@bench.example", password=None)
        Membership.objects.create(user=author, organization=provider, role=Role.PROVIDER_AUTHOR)
        reviewer = User.objects.create_user(email="reviewer@bench.example", password=None)
        Membership.objects.create(user=reviewer, organization=state, role=Role.VETTING_REVIEWER)
        version = publish(vary(title="Coaching practice"), provider, author, reviewer)
        admin = User.objects.create_superuser(email="admin@bench.example", password=None)
        for use in ("license_renewal",):
            catalog.approve_for_use(version, recognizer=state, actor=admin, use=use)
        per_district = args.credentials // args.districts
        budget = Decimal(300) * (2 * per_district // 3)
        for lea in leas:
            for use in ("stipend", "salary", "masters_equivalency", "professional_learning"):
                catalog.approve_for_use(version, recognizer=lea, actor=admin, use=use)
        start = timezone.localdate().replace(year=timezone.localdate().year - 1)

        def policy(recognizer: Any, *rules: dict[str, Any]) -> None:
            p = services.create_policy(admin, recognizer, name="Policy", effective_from=start)
            for rule in rules:
                services.add_rule(admin, p, **rule)
            services.activate(admin, p)

        policy(
            state,
            {"kind": "ceu", "ceu_source": "hours", "hours_per_ceu": Decimal(10)},
            {"kind": "renewal_count", "mcs_required": 4},
        )
        for lea in leas:
            policy(
                lea,
                {
                    "kind": "stipend",
                    "amount": Decimal(300),
                    "budget": budget,
                    "funding_source": "Title II",
                },
                {
                    "kind": "salary",
                    "salary_advanced": Decimal(600),
                    "salary_foundational": Decimal(200),
                },
                {"kind": "masters", "mcs_per_credit": 2, "cap": Decimal(15)},
                {"kind": "contact_units", "units_per_hour": Decimal(1), "cap": Decimal(30)},
                {
                    "kind": "role",
                    "role_title": "Coach",
                    "micro_credentials": [version.micro_credential],
                },
            )
        earners = User.objects.bulk_create(
            (
                User(
                    email=f"t{i}@bench.example", first_name="Tess", last_name=f"T{i}", password="!"
                )
                for i in range(args.credentials)
            ),
            batch_size=BATCH,
        )
        school_of = [schools[i % len(schools)] for i in range(len(earners))]
        Membership.objects.bulk_create(
            (
                Membership(user=u, organization=s, role=Role.EARNER)
                for u, s in zip(earners, school_of, strict=True)
            ),
            batch_size=BATCH,
        )
        attempts = Attempt.objects.bulk_create(
            (
                Attempt(version=version, earner=u, school=s, status=Attempt.Status.EARNED)
                for u, s in zip(earners, school_of, strict=True)
            ),
            batch_size=BATCH,
        )
        submissions = Submission.objects.bulk_create(
            (Submission(attempt=a, number=1, snapshot={}, submitted_by=a.earner) for a in attempts),
            batch_size=BATCH,
        )
        band = version.rubric.bands.filter(passing=True).first()
        decisions = Decision.objects.bulk_create(
            (
                Decision(submission=s, outcome="earned", total_points=18, band=band)
                for s in submissions
            ),
            batch_size=BATCH,
        )
        awards = Award.objects.bulk_create(
            (
                Award(attempt=a, earner=a.earner, decision=d)
                for a, d in zip(attempts, decisions, strict=True)
            ),
            batch_size=BATCH,
        )
        profile = credentials.create_issuer_profile(SYSTEM, issuer)
        key = profile.keys.get()
        status_list = credentials._new_status_list(profile)
        now = timezone.now()
        IssuedCredential.objects.bulk_create(
            (
                IssuedCredential(
                    award=a,
                    issuer=profile,
                    key=key,
                    document={"name": "x"},
                    status_list=status_list,
                    status_index=i,
                    issued_at=now,
                )
                for i, a in enumerate(awards)
            ),
            batch_size=BATCH,
        )
    rng.shuffle(earners)
    return {"admin": admin, "leas": leas, "state": state}


def check() -> list[str]:
    from django.db.models import Count, Sum

    from microcred.recognition.models import LedgerEntry, RecognitionRule

    problems = []
    twice = (
        LedgerEntry.objects.filter(reverses__isnull=True)
        .values("credential", "rule")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    if twice:
        problems.append(f"{twice} credential and rule pairs posted twice")
    for rule in RecognitionRule.objects.filter(kind="stipend"):
        used = (
            LedgerEntry.objects.filter(rule=rule)
            .exclude(status="unfunded")
            .aggregate(s=Sum("amount"))["s"]
            or 0
        )
        if used > rule.budget:
            problems.append(f"stipend rule {rule.pk} overspent: {used} of {rule.budget}")
    over = (
        LedgerEntry.objects.filter(kind="contact_units")
        .values("educator")
        .annotate(s=Sum("quantity"))
        .filter(s__gt=30)
        .count()
    )
    if over:
        problems.append(f"{over} educators over the contact-unit cap")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="microcred-bench-") as tmp:
        configure(Path(tmp))
        from django.db import connection, reset_queries
        from django.test.utils import CaptureQueriesContext

        test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            started = time.perf_counter()
            world = build(args)
            print(
                f"ledger bench on {connection.vendor}: {args.credentials} issued credentials, "
                f"{args.districts} districts (setup {time.perf_counter() - started:.1f} s)"
            )
            from microcred.credentials.models import IssuedCredential
            from microcred.recognition import posting, services
            from microcred.recognition.models import LedgerEntry

            ids = list(IssuedCredential.objects.order_by("pk").values_list("pk", flat=True))
            sample, rest = ids[:200], ids[200:]
            per_ms, per_sql = [], []
            for pk in sample:
                with CaptureQueriesContext(connection) as queries:
                    t = time.perf_counter()
                    posting.post_issued(pk)
                    per_ms.append((time.perf_counter() - t) * 1000)
                per_sql.append(len(queries))
            reset_queries()
            t = time.perf_counter()
            posted = posting.repair()
            sweep = time.perf_counter() - t
            t = time.perf_counter()
            again = posting.repair()
            second = time.perf_counter() - t
            entries = LedgerEntry.objects.count()
            print(
                f"  post_issued, one credential (7 rules, 2 policies): median "
                f"{statistics.median(per_ms):.1f} ms, p95 "
                f"{sorted(per_ms)[int(len(per_ms) * 0.95)]:.1f} ms, "
                f"{statistics.median(per_sql):.0f} SQL statements"
            )
            print(
                f"  repair sweep: {len(rest)} credentials, {posted} entries in {sweep:.1f} s "
                f"({len(rest) / sweep:.0f} credentials/s); second run posted {again} "
                f"in {second:.2f} s"
            )
            lea = world["leas"][0]
            pending = LedgerEntry.objects.filter(policy__recognizer=lea, status="pending")
            n = pending.count()
            t = time.perf_counter()
            approved, skipped = services.approve_entries(world["admin"], list(pending))
            approve = time.perf_counter() - t
            print(
                f"  approve_entries: {approved} entries of one district in {approve:.2f} s "
                f"({skipped} skipped of {n})"
            )
            t = time.perf_counter()
            export = services.export_entries(world["admin"], lea)
            exported = time.perf_counter() - t
            print(
                f"  export_entries: {export.entry_count if export else 0} entries marked "
                f"exported in {exported:.2f} s"
            )
            try:
                from microcred.recognition import ledger

                t = time.perf_counter()
                text = ledger.export_csv(export) if hasattr(ledger, "export_csv") else ""
                if text:
                    print(
                        f"  export CSV: {text.count(chr(10))} lines in "
                        f"{time.perf_counter() - t:.2f} s"
                    )
            except ImportError:
                pass
            print(f"  ledger entries in all: {entries}; peak RSS {peak_mb():.0f} MB")
            problems = check()
            for problem in problems:
                print(f"  VIOLATION: {problem}")
            print(
                "  checks: exactly once per credential and rule, budgets, caps: "
                + ("FAILED" if problems else "all hold")
            )
            return 1 if problems else 0
        finally:
            connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    sys.exit(main())

"""A small program with figures worked out by hand, for the program report tests.

Pine County (West, rural, low-wealth) has four educators at Pine Elementary; Oak City (East,
city) has two at Oak Middle. Days count from T0 (attempt starts):

  ada  coaching: #1 day 2 -> not yet day 5 (3 d), #2 day 10 -> earned day 12 (2 d); earned in 12
  bea  coaching: #1 day 4 -> earned day 8 (4 d); earned in 8
  cal  phonics:  #1 day 1, waiting for an assessor
  ada  phonics:  collecting evidence, nothing submitted
  oli  coaching (Oak): #1 day 3 -> not yet day 9 (6 d)

Nearest rank (ceil(p x n)): coaching's turnarounds 2, 3, 4, 6 give a median of 3 and a 90th
percentile of 6; its times to earn 8, 12 give 8 and 12.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from microcred.assessment.models import Decision
from microcred.earning.models import Attempt, Submission

T0 = timezone.make_aware(datetime(2026, 3, 2, 9, 0))


def at(day: float) -> datetime:
    return T0 + timedelta(days=day)


def attempt(version: Any, earner: Any, school: Any, *, day: float = 0, status: str = "") -> Attempt:
    made = Attempt.objects.create(
        version=version,
        earner=earner,
        school=school,
        status=status or Attempt.Status.IN_PROGRESS,
    )
    Attempt.objects.filter(pk=made.pk).update(created=at(day))
    return made


def submit(made: Attempt, number: int, day: float) -> Submission:
    submission = Submission.objects.create(
        attempt=made, number=number, snapshot={"n": number}, submitted_by=made.earner
    )
    Submission.objects.filter(pk=submission.pk).update(submitted_at=at(day))
    return submission


def decide(submission: Submission, outcome: str, day: float) -> Decision:
    bands = submission.attempt.version.rubric.bands
    band = bands.filter(passing=outcome == Decision.Outcome.EARNED).first()
    decision = Decision.objects.create(
        submission=submission, outcome=outcome, total_points=band.min_points, band=band
    )
    Decision.objects.filter(pk=decision.pk).update(decided_at=at(day))
    Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.DECIDED)
    return decision


def build(org_tree: dict[str, Any], make_user: Any, coaching: Any, phonics: Any) -> dict[str, Any]:
    pine, oak = org_tree["school1"], org_tree["school2"]
    people = {
        name: make_user("earner", school, first_name=name.title())
        for name, school in (
            ("ada", pine),
            ("bea", pine),
            ("cal", pine),
            ("dot", pine),
            ("oli", oak),
            ("pat", oak),
        )
    }
    earned, not_yet = Decision.Outcome.EARNED, Decision.Outcome.NOT_YET
    a = attempt(coaching, people["ada"], pine, status=Attempt.Status.EARNED)
    decide(submit(a, 1, 2), not_yet, 5)
    decide(submit(a, 2, 10), earned, 12)
    b = attempt(coaching, people["bea"], pine, status=Attempt.Status.EARNED)
    decide(submit(b, 1, 4), earned, 8)
    c = attempt(phonics, people["cal"], pine, day=0.5, status=Attempt.Status.SUBMITTED)
    submit(c, 1, 1)
    attempt(phonics, people["ada"], pine, day=20)
    o = attempt(coaching, people["oli"], oak, day=1, status=Attempt.Status.NOT_YET)
    decide(submit(o, 1, 3), not_yet, 9)
    return people

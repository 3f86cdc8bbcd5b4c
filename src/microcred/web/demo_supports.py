"""The demo's people around the earner (issue 11), made by the same services a person uses, so
each role's page has something to show: Maya has a coach, a learning plan waiting for her
principal's sign-off and a draft her coach commented on; the earned credentials have their
after-award surveys, answered by their earners; each district is at its own roll-out stage.
Everything here checks what is already there, so loading the demo again changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

from microcred.catalog.models import MicroCredential, MicroCredentialVersion
from microcred.catalog.samples import COACHING_SLUG
from microcred.credentials.models import IssuedCredential
from microcred.earning import coaching, supports
from microcred.earning import selectors as earning_selectors
from microcred.earning import services as earning
from microcred.earning.models import Attempt, DraftComment, LearningPlan
from microcred.insights import surveys
from microcred.insights.models import SurveyInvitation, Wave
from microcred.orgs import programs
from microcred.orgs.demo import DemoWorld
from microcred.orgs.models import LeaProgram, Organization, Role

MAYA = "earner@demo.microcred.org"
# Ratings of Guskey's five levels each demo earner gives after award.
RATINGS = {
    "earner@demo.microcred.org": {1: 5, 2: 5, 3: 4, 4: 4, 5: None},
    "teacher@demo.microcred.org": {1: 4, 2: 4, 3: 2, 4: 3, 5: 3},
}
DRAFT_SLUG = "using-whiteboards"  # Maya's draft, shared with her coach
PROGRAMS = [
    # district, stage, pilot schools, funded MCs, pre-approval
    ("pine-ridge-county", LeaProgram.Stage.PILOT, ["laurel-creek-es"], [COACHING_SLUG], False),
    ("maple-valley", LeaProgram.Stage.FULL, [], ["reading-fluency"], True),
    ("harbor-city", LeaProgram.Stage.PLANNING, [], [], False),
]


@dataclass
class SupportsReport:
    coaching: int = 0
    goals: int = 0
    comments: int = 0
    surveys: int = 0
    programs: int = 0

    def __str__(self) -> str:
        return (
            f"{self.coaching} coaching relationships, {self.goals} plan goals, "
            f"{self.comments} coach comments, {self.surveys} surveys answered, "
            f"{self.programs} district programs set"
        )


def _published(slug: str) -> MicroCredentialVersion | None:
    return (
        MicroCredentialVersion.objects.filter(
            micro_credential__slug=slug, status=MicroCredentialVersion.Status.PUBLISHED
        )
        .order_by("-number")
        .first()
    )


def _coaching(world: DemoWorld, report: SupportsReport) -> None:
    maya, coach = world.people[MAYA], world.person(Role.COACH)
    _, changed = coaching.start_coaching(maya, coach, user=maya)
    report.coaching += int(changed)
    version = _published(DRAFT_SLUG)
    if version is None:
        return
    attempt = earning_selectors.open_attempt(maya, version)
    if attempt is None:
        attempt, _ = earning.start_attempt(version, user=maya)
    coaching.share_with_coach(attempt, coach, user=maya)
    if attempt.status in Attempt.EDITABLE and not DraftComment.objects.filter(attempt=attempt):
        part = version.evidence_requirements.order_by("order").first()
        coaching.add_comment(
            attempt,
            user=coach,
            requirement=part,
            body="Start with the question you put to the whiteboards, then say what the answers "
            "told you about tomorrow's lesson.",
        )
        report.comments += 1


def _plan(world: DemoWorld, report: SupportsReport) -> None:
    maya = world.people[MAYA]
    if LearningPlan.objects.filter(earner=maya, goals__isnull=False).exists():
        return
    for slug in (DRAFT_SLUG, "phonics"):
        mc = MicroCredential.objects.filter(slug=slug).first()
        if mc is not None and supports.published_micro_credentials().filter(pk=mc.pk).exists():
            supports.add_goal(maya, micro_credential=mc)
            report.goals += 1
    supports.add_goal(maya, text="Visit a colleague's class twice a term to see whiteboards in use")
    report.goals += 1
    principal = world.person(Role.PRINCIPAL)
    supports.send_for_sign_off(maya, principal.pk)


def _surveys(report: SupportsReport) -> None:
    # invite() leaves out revoked credentials and stacks' credentials itself.
    for credential_id in IssuedCredential.objects.values_list("pk", flat=True):
        surveys.invite_after_award(credential_id)
    for invitation in SurveyInvitation.objects.filter(
        wave=Wave.AFTER_AWARD, responded_at__isnull=True
    ).select_related("educator"):
        ratings = RATINGS.get(invitation.educator.email)
        if ratings is not None:
            surveys.respond(invitation.educator, invitation, ratings, "")
            report.surveys += 1


def _programs(world: DemoWorld, report: SupportsReport) -> None:
    state_admin = world.person(Role.PROGRAM_ADMIN)
    for slug, stage, schools, funded, preapproval in PROGRAMS:
        lea = Organization.objects.get(slug=slug)
        wanted = programs.ProgramSettings(
            stage=stage,
            pilot_school_ids=frozenset(
                Organization.objects.filter(slug__in=schools).values_list("pk", flat=True)
            ),
            funded_ids=frozenset(
                MicroCredential.objects.filter(slug__in=funded).values_list("pk", flat=True)
            ),
            requires_preapproval=preapproval,
        )
        program = programs.program_for(lea)
        report.programs += int(
            programs.save_program(state_admin, lea, wanted, seen=programs.stamp_of(program))
        )


def load_supports(world: DemoWorld) -> SupportsReport:
    report = SupportsReport()
    _coaching(world, report)
    _plan(world, report)
    _surveys(report)
    _programs(world, report)
    return report

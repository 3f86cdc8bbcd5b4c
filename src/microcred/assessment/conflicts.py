"""Who must never score whom (DESIGN.md invariant 1), in one place.

Each rule below names a conflict in a scoring lead's words and says which facts of a
submission it keys on. `ConflictIndex.load` reads every rule's data for a whole pool of
assessors in a fixed number of queries and inverts it (key -> assessors), so assignment can ask
"who is conflicted with this submission?" for thousands of submissions without a query per
candidate; `conflicts_between` asks the same rules for one pair and gets their reasons.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from microcred.earning.models import Attempt, Submission, TeamMember
from microcred.orgs.models import Membership, Organization

from .models import AssessorProfile, CoachingRelationship, DeclaredConflict

LOCAL_KINDS = (Organization.Kind.SCHOOL, Organization.Kind.LEA)

EARNER = "They are the earner or on the earner's team."
WORKPLACE = "They work in the earner's school or district."
PROVIDER = "They work for the provider of this micro-credential."
COACH = "They coach the earner."


@dataclass(frozen=True)
class SubmissionFacts:
    earner_ids: frozenset[int]
    # The schools and districts of every earner, each school's district included.
    local_org_ids: frozenset[int]
    district_ids: frozenset[int]
    provider_id: int


# ---------------------------------------------------------------------------- facts
class OrgTree:
    """Every organization's parent and kind, read once: districts and subtrees without queries
    (state -> LEA -> school is small: ~2,600 rows for a state, ~16,000 for the country)."""

    def __init__(self) -> None:
        self.parent: dict[int, int | None] = {}
        self.kind: dict[int, str] = {}
        for pk, parent_id, kind in Organization.objects.values_list("pk", "parent_id", "kind"):
            self.parent[pk] = parent_id
            self.kind[pk] = kind
        self._children: dict[int, list[int]] = defaultdict(list)
        for pk, parent_id in self.parent.items():
            if parent_id is not None:
                self._children[parent_id].append(pk)

    def district(self, org_id: int) -> int | None:
        """The LEA an organization belongs to (itself if it is one), as `Organization.lea`."""
        kind = self.kind.get(org_id)
        if kind == Organization.Kind.LEA:
            return org_id
        if kind == Organization.Kind.SCHOOL:
            return self.parent.get(org_id)
        return None

    def subtree(self, org_id: int) -> set[int]:
        found, frontier = {org_id}, [org_id]
        while frontier:
            below = [c for pk in frontier for c in self._children.get(pk, ())]
            frontier = [c for c in below if c not in found]
            found.update(frontier)
        return found


def facts_for(
    submissions: Iterable[Submission], tree: OrgTree | None = None
) -> dict[int, SubmissionFacts]:
    """The conflict facts of many submissions in four queries, keyed by submission id."""
    submissions = list(submissions)
    tree = tree or OrgTree()
    attempts = {
        a.pk: a
        for a in Attempt.objects.filter(pk__in={s.attempt_id for s in submissions}).select_related(
            "version__micro_credential", "team"
        )
    }
    team_users: dict[int, set[int]] = defaultdict(set)
    for team_id, user_id in TeamMember.objects.filter(
        team_id__in={a.team_id for a in attempts.values() if a.team_id},
        status=TeamMember.Status.ACTIVE,
    ).values_list("team_id", "user_id"):
        team_users[team_id].add(user_id)
    earners_of = {
        pk: {a.earner_id} | (team_users[a.team_id] if a.team_id else set())
        for pk, a in attempts.items()
    }
    orgs_of_user: dict[int, set[int]] = defaultdict(set)
    # Kinds come from the tree in memory: a join to organizations lets SQLite probe every
    # school for every earner (15 s at 20,000 earners, 0.3 s without it).
    for user_id, org_id in (
        Membership.objects.filter(
            user_id__in=set().union(*earners_of.values()) if earners_of else set(), active=True
        )
        .order_by()  # the model's ordering would join organizations again
        .values_list("user_id", "organization_id")
    ):
        if tree.kind.get(org_id) in LOCAL_KINDS:
            orgs_of_user[user_id].add(org_id)
    facts: dict[int, SubmissionFacts] = {}
    for submission in submissions:
        attempt = attempts[submission.attempt_id]
        earners = earners_of[attempt.pk]
        orgs = set().union(*(orgs_of_user[u] for u in earners))
        orgs |= {
            pk
            for pk in (attempt.school_id, attempt.team.school_id if attempt.team_id else None)
            if pk is not None
        }
        districts = {d for d in map(tree.district, orgs) if d is not None}
        facts[submission.pk] = SubmissionFacts(
            earner_ids=frozenset(earners),
            local_org_ids=frozenset(orgs | districts),
            district_ids=frozenset(districts),
            provider_id=attempt.version.micro_credential.provider_id,
        )
    return facts


def submission_facts(submission: Submission) -> SubmissionFacts:
    return facts_for([submission])[submission.pk]


# ---------------------------------------------------------------------------- the index
@dataclass
class ConflictIndex:
    """For each kind of key a submission has (a person, a district, an organization), the
    assessors conflicted through it and why."""

    by_person: dict[int, dict[int, str]] = field(default_factory=lambda: defaultdict(dict))
    by_district: dict[int, dict[int, str]] = field(default_factory=lambda: defaultdict(dict))
    by_provider: dict[int, dict[int, str]] = field(default_factory=lambda: defaultdict(dict))
    by_org: dict[int, dict[int, str]] = field(default_factory=lambda: defaultdict(dict))

    @classmethod
    def load(
        cls, profiles: Collection[AssessorProfile], tree: OrgTree | None = None
    ) -> ConflictIndex:
        """Every rule's data for these assessors in four queries."""
        tree = tree or OrgTree()
        index = cls()
        profile_of_user = {p.user_id: p.pk for p in profiles}
        workplaces: dict[int, set[int]] = defaultdict(set)
        for p in profiles:
            workplaces[p.pk].add(p.home_organization_id)
            index.by_person[p.user_id][p.pk] = EARNER
        for user_id, org_id in Membership.objects.filter(
            user_id__in=profile_of_user, active=True
        ).values_list("user_id", "organization_id"):
            workplaces[profile_of_user[user_id]].add(org_id)
        for profile_id, orgs in workplaces.items():
            for org_id in orgs:
                index.by_provider[org_id][profile_id] = PROVIDER
                district = tree.district(org_id)
                if district is not None:
                    index.by_district[district][profile_id] = WORKPLACE
        for coach_id, earner_id in CoachingRelationship.objects.filter(
            coach_id__in=profile_of_user, ended__isnull=True
        ).values_list("coach_id", "earner_id"):
            index.by_person[earner_id].setdefault(profile_of_user[coach_id], COACH)
        declared = DeclaredConflict.objects.filter(
            assessor_id__in=[p.pk for p in profiles]
        ).select_related("organization")
        for d in declared:
            if d.user_id is not None:
                index.by_person[d.user_id].setdefault(
                    d.assessor_id, f"They declared a conflict with a person: {d.reason}"
                )
            if d.organization_id is not None:
                reason = f"They declared a conflict with {d.organization}: {d.reason}"
                for org_id in tree.subtree(d.organization_id):
                    index.by_org[org_id].setdefault(d.assessor_id, reason)
        return index

    def _sources(self, facts: SubmissionFacts) -> Iterable[dict[int, str]]:
        yield from (self.by_person.get(u, {}) for u in facts.earner_ids)
        yield from (self.by_district.get(d, {}) for d in facts.district_ids)
        yield self.by_provider.get(facts.provider_id, {})
        yield from (self.by_org.get(o, {}) for o in facts.local_org_ids | {facts.provider_id})

    def conflicted(self, facts: SubmissionFacts) -> set[int]:
        """Ids of every assessor profile that may not score a submission with these facts."""
        found: set[int] = set()
        for source in self._sources(facts):
            found.update(source)
        return found

    def reasons(self, profile_id: int, facts: SubmissionFacts) -> list[str]:
        """Why this assessor may not score it, each reason once, in rule order."""
        found: list[str] = []
        for source in self._sources(facts):
            reason = source.get(profile_id)
            if reason is not None and reason not in found:
                found.append(reason)
        return found


def conflicts_with(profile: AssessorProfile, facts: SubmissionFacts) -> list[str]:
    """The reasons this assessor may not score a submission with these facts (empty: none)."""
    return ConflictIndex.load([profile]).reasons(profile.pk, facts)


def conflicts_between(profile: AssessorProfile, submission: Submission) -> list[str]:
    """Why this assessor may not score this submission; an empty list means they may."""
    return conflicts_with(profile, submission_facts(submission))

"""Reads about people, organizations and roles."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.urls import reverse

from .models import AuditEvent, Membership, Organization, Role

Kind = Organization.Kind

# Providers, issuers and assessment organizations stand beside the state tree; the state
# program admins run the top-level ones (the brief: "everything under the state agency and
# the providers/issuers/assessment orgs beside it").
BESIDE_STATE_KINDS: frozenset[str] = frozenset({Kind.PROVIDER, Kind.ISSUER, Kind.ASSESSMENT_ORG})
# Order in which the management tree lists its top-level organizations.
KIND_ORDER: dict[str, int] = {kind: i for i, kind in enumerate(Kind.values)}


def active_memberships(user: Any) -> QuerySet[Membership]:
    if not getattr(user, "is_authenticated", False):
        return Membership.objects.none()
    return Membership.objects.filter(user=user, active=True).select_related("organization")


def roles_of(user: Any) -> set[str]:
    """The roles a user holds anywhere; cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return set()
    cached = getattr(user, "_microcred_roles", None)
    if cached is None:
        cached = set(active_memberships(user).values_list("role", flat=True))
        user._microcred_roles = cached
    return cached


def has_role(user: Any, role: str) -> bool:
    return role in roles_of(user)


def organizations_where(user: Any, role: str) -> QuerySet[Organization]:
    """Organizations in which the user holds the role."""
    if not getattr(user, "is_authenticated", False):
        return Organization.objects.none()
    return Organization.objects.filter(
        memberships__user=user, memberships__role=role, memberships__active=True
    ).distinct()


def organization_subtree_ids(root_ids: set[int]) -> set[int]:
    """Ids of the given organizations and all below them (state -> LEA -> school: 3 levels)."""
    found = set(root_ids)
    frontier = set(root_ids)
    while frontier:
        frontier = (
            set(Organization.objects.filter(parent_id__in=frontier).values_list("id", flat=True))
            - found
        )
        found |= frontier
    return found


def _memo[T](user: Any, attr: str, compute: Callable[[], T]) -> T:
    """Cache a per-user answer on the user object: it lives as long as the request does, so
    a page that asks the same permission question for 50 rows queries the database once."""
    value = getattr(user, attr, None)
    if value is None:
        value = compute()
        setattr(user, attr, value)
    return value


def forget_cached_access(user: Any) -> None:
    """Drop the cached answers after the user's own memberships changed."""
    for attr in ("_microcred_roles", "_microcred_role_orgs", "_microcred_scope"):
        if hasattr(user, attr):
            delattr(user, attr)


def is_active_superuser(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False) and getattr(user, "is_active", False))


def role_organization_ids(user: Any) -> dict[str, frozenset[int]]:
    """For each role the user holds, the ids of the organizations where they hold it."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return {}

    def compute() -> dict[str, frozenset[int]]:
        by_role: dict[str, set[int]] = defaultdict(set)
        rows = Membership.objects.filter(user=user, active=True).values_list(
            "role", "organization_id"
        )
        for role, org_id in rows:
            by_role[role].add(org_id)
        return {role: frozenset(ids) for role, ids in by_role.items()}

    return _memo(user, "_microcred_role_orgs", compute)


def ancestor_ids(organization: Organization) -> list[int]:
    """Ids of the organizations above this one, nearest first (at most a few levels)."""
    ids: list[int] = []
    parent_id = organization.parent_id
    while parent_id and parent_id not in ids:
        ids.append(parent_id)
        parent_id = (
            Organization.objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()
        )
    return ids


def user_has_role_in(
    user: Any, role: str, organization: Organization | None, *, include_ancestors: bool = True
) -> bool:
    """Whether the user holds the role at this organization or, unless told otherwise, at an
    organization above it: a coach of a district coaches in its schools, a state program admin
    runs every district. Pass include_ancestors=False where the role is strictly local (for
    example, the principal of one school is not principal of its neighbours)."""
    if organization is None or organization.pk is None:
        return False
    held = role_organization_ids(user).get(role, frozenset())
    if not held:
        return False
    if organization.pk in held:
        return True
    return include_ancestors and any(org_id in held for org_id in ancestor_ids(organization))


@dataclass(frozen=True)
class AdminScope:
    """What a program admin runs: their organizations, everything below them and, for a
    state admin, the top-level providers, issuers and assessment organizations."""

    is_state_admin: bool
    managed_ids: frozenset[int]


def admin_scope(user: Any) -> AdminScope:
    def compute() -> AdminScope:
        roots = set(role_organization_ids(user).get(Role.PROGRAM_ADMIN, frozenset()))
        if not roots:
            return AdminScope(False, frozenset())
        is_state = Organization.objects.filter(pk__in=roots, kind=Kind.STATE_AGENCY).exists()
        if is_state:
            roots |= set(
                Organization.objects.filter(
                    parent__isnull=True, kind__in=BESIDE_STATE_KINDS
                ).values_list("id", flat=True)
            )
        return AdminScope(is_state, frozenset(organization_subtree_ids(roots)))

    if not getattr(user, "is_authenticated", False):
        return AdminScope(False, frozenset())
    return _memo(user, "_microcred_scope", compute)


def is_program_admin(user: Any) -> bool:
    return bool(role_organization_ids(user).get(Role.PROGRAM_ADMIN))


def is_state_admin(user: Any) -> bool:
    return admin_scope(user).is_state_admin


def can_manage_organization(user: Any, organization: Organization | None) -> bool:
    if organization is None or organization.pk is None:
        return False
    return is_active_superuser(user) or organization.pk in admin_scope(user).managed_ids


def is_member_of(user: Any, organization: Organization | None) -> bool:
    if organization is None:
        return False
    return any(organization.pk in ids for ids in role_organization_ids(user).values())


def manageable_organizations(user: Any) -> QuerySet[Organization]:
    """The organizations the user may manage (all of them for a superuser)."""
    if is_active_superuser(user):
        return Organization.objects.all()
    ids = admin_scope(user).managed_ids
    if not ids:
        return Organization.objects.none()
    return Organization.objects.filter(pk__in=ids)


def can_place_under(user: Any, kind: str, parent: Organization | None) -> bool:
    """Whether the user may create (or move) an organization of this kind under this parent.
    Only superusers create state agencies; state admins may add top-level providers, issuers
    and assessment organizations, which then fall within their reach."""
    if is_active_superuser(user):
        return True
    if parent is None:
        return kind in BESIDE_STATE_KINDS and is_state_admin(user)
    return can_manage_organization(user, parent)


def parent_choices(user: Any) -> QuerySet[Organization]:
    """Organizations that can hold others, among those the user manages (schools hold none)."""
    parent_kinds = {k for kinds in Organization.ALLOWED_PARENTS.values() for k in kinds if k}
    return manageable_organizations(user).filter(kind__in=parent_kinds).order_by("kind", "name")


def _with_member_counts(qs: QuerySet[Organization]) -> QuerySet[Organization]:
    return qs.annotate(
        member_count=Count("memberships__user", filter=Q(memberships__active=True), distinct=True)
    )


@dataclass
class OrgNode:
    organization: Organization
    member_count: int
    children: list[OrgNode] = field(default_factory=list)

    @property
    def total_members(self) -> int:
        return self.member_count + sum(child.total_members for child in self.children)


def _tree_order(node: OrgNode) -> tuple[int, str]:
    return KIND_ORDER.get(node.organization.kind, 99), node.organization.name.lower()


def organization_tree(user: Any) -> list[OrgNode]:
    """The organizations the user manages as a tree, each with its count of active members:
    one query, the tree is assembled in memory. An organization whose parent lies outside the
    user's reach (a district admin's district) becomes a root."""
    orgs = _with_member_counts(manageable_organizations(user).select_related("parent"))
    nodes = {org.pk: OrgNode(org, org.member_count) for org in orgs.order_by("name")}
    roots: list[OrgNode] = []
    for node in nodes.values():
        parent = nodes.get(node.organization.parent_id)
        (parent.children if parent else roots).append(node)
    roots.sort(key=_tree_order)
    for node in nodes.values():
        node.children.sort(key=_tree_order)
    return roots


def search_manageable(user: Any, query: str) -> QuerySet[Organization]:
    """Organizations the user manages whose name, slug or code matches the query."""
    query = query.strip()
    return _with_member_counts(
        manageable_organizations(user)
        .filter(Q(name__icontains=query) | Q(slug__iexact=query) | Q(code__iexact=query))
        .select_related("parent")
        .order_by("name")
    )


def child_organizations(organization: Organization) -> QuerySet[Organization]:
    """The organizations directly under this one, with their counts of active members."""
    return _with_member_counts(organization.children.all()).order_by("kind", "name")


def memberships_of(organization: Organization, *, search: str = "") -> QuerySet[Membership]:
    """People holding roles at the organization, active ones first."""
    qs = Membership.objects.filter(organization=organization).select_related("user")
    if search.strip():
        term = search.strip()
        qs = qs.filter(
            Q(user__email__icontains=term)
            | Q(user__first_name__icontains=term)
            | Q(user__last_name__icontains=term)
            | Q(user__display_name__icontains=term)
        )
    return qs.order_by("-active", "role", "user__email")


def audit_events_for(user: Any, organization: Organization | None = None) -> QuerySet[AuditEvent]:
    """Audit events the user may read: those of the organizations they manage."""
    qs = AuditEvent.objects.select_related("actor", "organization")
    if not is_active_superuser(user):
        qs = qs.filter(organization_id__in=admin_scope(user).managed_ids)
    if organization is not None:
        qs = qs.filter(organization=organization)
    return qs


# Plain words for the audit log; other apps' actions show as recorded.
AUDIT_ACTIONS = {
    "organization.created": "Added the organization",
    "organization.updated": "Changed the organization's details",
    "user.created": "Created an account",
    "user.invited": "Created an account and sent an invitation",
    "user.names_filled": "Filled in a person's names",
    "membership.added": "Gave a role",
    "membership.restored": "Restored a role",
    "membership.removed": "Removed a role",
    "import.people": "Imported people from a spreadsheet",
    "import.schools": "Imported schools from a spreadsheet",
    "import.oneroster": "Imported a OneRoster roster",
    "admin.added": "Added in the admin site",
    "admin.changed": "Changed in the admin site",
    "admin.deleted": "Deleted in the admin site",
    "api_token.created": "Made an API token",
    "api_token.revoked": "Revoked an API token",
    "program.updated": "Changed the district's program roll-out settings",
    "coaching.started": "Started coaching",
    "coaching.restarted": "Started coaching again",
    "coaching.ended": "Ended coaching",
    "coaching.commented": "Commented on a shared draft",
    "coaching.comment_resolved": "Marked a coach's comment resolved",
    "sso.idp_created": "Set up single sign-on with an identity provider",
    "sso.idp_updated": "Changed a single sign-on identity provider",
    "sso.signed_in": "Signed in through single sign-on (roles refreshed)",
    "lti.platform_registered": "Registered a learning platform (LTI)",
    "lti.platform_changed": "Changed a learning platform (LTI)",
    "lti.account_created": "Created an account at a first launch from a learning platform",
    "lti.account_matched": "Linked an account to a learning platform's user (same email)",
    "lti.account_linked": "Signed in from a learning platform",
    "lti.deep_link_answered": "Placed micro-credentials in a course (LTI deep linking)",
    "webhook.created": "Added a webhook endpoint",
    "webhook.updated": "Changed a webhook endpoint",
    "webhook.deleted": "Deleted a webhook endpoint",
    "webhook.secret_rotated": "Made a new webhook secret",
    "webhook.test_sent": "Sent a test event to a webhook endpoint",
    "webhook.redelivered": "Sent a webhook event again",
}


def describe_action(action: str) -> str:
    return AUDIT_ACTIONS.get(action, action)


def find_organizations(references: set[str]) -> dict[str, list[Organization]]:
    """Map each reference (a slug or a code, case-insensitive) to the organizations it names;
    one query for a whole file. A code is unique only per kind, so it may name several."""
    refs = {ref.strip().lower() for ref in references if ref.strip()}
    found: dict[str, list[Organization]] = defaultdict(list)
    if not refs:
        return found
    # Codes are stored as typed; spreadsheets often change their case, so try the usual ones.
    codes = refs | {ref.upper() for ref in refs} | {ref.strip() for ref in references}
    candidates = Organization.objects.filter(Q(slug__in=refs) | Q(code__in=codes))
    for org in candidates:
        for key in {org.slug.lower(), org.code.lower()} & refs:
            found[key].append(org)
    return found


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str


# Menu entries by role, in the order they appear. One place decides what each role sees.
_NAV_BY_ROLE: list[tuple[str, str, str]] = [
    (Role.EARNER, "My record", "recognition:my_record"),
    (Role.EARNER, "My learning plan", "earning:plan"),
    (Role.EARNER, "My coach", "earning:my_coach"),
    (Role.COACH, "My coachees", "earning:caseload"),
    (Role.PRINCIPAL, "Plans to sign off", "earning:plans_to_sign_off"),
    (Role.PRINCIPAL, "Assign a coach", "earning:assign_coach"),
    (Role.PROVIDER_AUTHOR, "My micro-credentials", "authoring:list"),
    (Role.VETTING_REVIEWER, "Vetting queue", "vetting:queue"),
    (Role.RECOGNIZER_ADMIN, "Recognition policies", "recognition:policies"),
    (Role.RECOGNIZER_ADMIN, "Approvals for use", "vetting:approvals"),
    (Role.RECOGNIZER_ADMIN, "Ledger", "recognition:ledger"),
    (Role.RECOGNIZER_ADMIN, "Credentials from elsewhere", "recognition:external_queue"),
    (Role.RECOGNIZER_ADMIN, "Licenses and renewal", "recognition:licenses"),
    (Role.PRINCIPAL, "Staff progress", "insights:staff"),
    (Role.PROGRAM_ADMIN, "Staff progress", "insights:staff"),
    (Role.PROGRAM_ADMIN, "Organizations and people", "orgs:manage"),
    (Role.PROGRAM_ADMIN, "Program roll-out", "orgs:programs"),
    (Role.PROGRAM_ADMIN, "Learning platforms (LTI)", "lti:platforms"),
    (Role.PROGRAM_ADMIN, "Single sign-on", "orgs:sso"),
    (Role.PROGRAM_ADMIN, "Program reports", "insights:reports"),
    (Role.PROGRAM_ADMIN, "Webhooks", "webhooks:list"),
    (Role.RESEARCHER, "Program reports", "insights:reports"),
    (Role.RESEARCHER, "Research exports", "insights:research"),
    (Role.ISSUER_ADMIN, "Issuer profile", "credentials:issuers"),
    (Role.ISSUER_ADMIN, "Credentials we issued", "credentials:issued"),
    (Role.ISSUER_ADMIN, "Webhooks", "webhooks:list"),
    (Role.ASSESSOR, "My scoring queue", "assessment:queue"),
    (Role.SCORING_LEAD, "Assessors", "assessment:profiles"),
    (Role.SCORING_LEAD, "Scoring policies", "assessment:policies"),
    (Role.SCORING_LEAD, "Calibration sets", "assessment:calibration_sets"),
    (Role.SCORING_LEAD, "Scoring reliability", "assessment:reliability"),
    (Role.SCORING_LEAD, "Assessor pay", "assessment:pay"),
]
# Entries a role sees only where a permission says so: a program admin of the state office
# oversees scoring; one of a district does not.
_NAV_BY_PERMISSION: list[tuple[str, str, str, str]] = [
    (
        Role.PROGRAM_ADMIN,
        "Scoring reliability",
        "assessment:reliability",
        "assessment.view_reliability",
    ),
    (Role.PROGRAM_ADMIN, "Assessor pay", "assessment:pay", "assessment.view_pay"),
]


def navigation_for(user: Any) -> list[NavItem]:
    roles = roles_of(user)
    items: list[NavItem] = []
    for role, label, name in _NAV_BY_ROLE:
        # A principal who is also a program admin sees "Staff progress" once.
        if role in roles and all(item.label != label for item in items):
            items.append(NavItem(label, reverse(name)))
    labels = {item.label for item in items}
    items += [
        NavItem(label, reverse(name))
        for role, label, name, perm in _NAV_BY_PERMISSION
        if role in roles and label not in labels and user.has_perm(perm)
    ]
    if getattr(user, "is_superuser", False) and not any(i.label.startswith("Org") for i in items):
        items.append(NavItem("Organizations and people", reverse("orgs:manage")))
    return items


@dataclass(frozen=True)
class NextStep:
    title: str
    text: str
    action: str
    url: str


def next_steps_for(user: Any) -> list[NextStep]:
    """What each of the user's roles should do next, shown on their dashboard."""
    roles = roles_of(user)
    steps: list[NextStep] = []
    if Role.PROVIDER_AUTHOR in roles:
        steps.append(
            NextStep(
                "Author micro-credentials",
                "Draft a micro-credential, preview it as a teacher will see it, and send it "
                "for vetting.",
                "Open my micro-credentials",
                reverse("authoring:list"),
            )
        )
    if Role.VETTING_REVIEWER in roles:
        steps.append(
            NextStep(
                "Review submitted micro-credentials",
                "Rate each quality criterion and decide: approve, request changes or reject.",
                "Open the vetting queue",
                reverse("vetting:queue"),
            )
        )
    if Role.RECOGNIZER_ADMIN in roles:
        steps.append(
            NextStep(
                "Approve micro-credentials for use",
                "Decide which vetted micro-credentials count for license renewal and other uses.",
                "Open approvals",
                reverse("vetting:approvals"),
            )
        )
    if Role.ISSUER_ADMIN in roles:
        steps.append(
            NextStep(
                "Keep your issuer ready to sign",
                "Check the details your credentials show, and replace the signing key when needed.",
                "Open the issuer profile",
                reverse("credentials:issuers"),
            )
        )
    if Role.PRINCIPAL in roles or Role.PROGRAM_ADMIN in roles:
        steps.append(
            NextStep(
                "See your staff's progress",
                "Who is working on which micro-credential, what waits for an assessor, who "
                "earned what and whose license renewal is near; answer pre-approval requests.",
                "Open staff progress",
                reverse("insights:staff"),
            )
        )
    if Role.COACH in roles:
        steps.append(
            NextStep(
                "Follow your coachees",
                "See each coachee's learning plan and attempts, open the drafts they shared "
                "with you and comment before they submit.",
                "Open my coachees",
                reverse("earning:caseload"),
            )
        )
    if Role.PROGRAM_ADMIN in roles or Role.RESEARCHER in roles:
        steps.append(
            NextStep(
                "Read the program reports",
                "Uptake, pass rates, time to earn and scoring turnaround, by micro-credential, "
                "district, region, rural or urban and low-wealth status, with survey results.",
                "Open the reports",
                reverse("insights:reports"),
            )
        )
    if Role.RESEARCHER in roles:
        steps.append(
            NextStep(
                "Export de-identified data",
                "Download attempts, decisions, credentials and survey answers with "
                "pseudonymous ids and small groups suppressed, with the data dictionary.",
                "Open research exports",
                reverse("insights:research"),
            )
        )
    if Role.PROGRAM_ADMIN in roles:
        steps.append(
            NextStep(
                "Plan the roll-out",
                "Set each district's stage, pilot schools, funded micro-credentials and "
                "whether starting one needs the principal's pre-approval.",
                "Open the program roll-out",
                reverse("orgs:programs"),
            )
        )
    if Role.PROGRAM_ADMIN in roles or getattr(user, "is_superuser", False):
        steps.append(
            NextStep(
                "Run the program",
                "Manage districts, schools and people, or import them from a spreadsheet.",
                "Manage organizations",
                reverse("orgs:manage"),
            )
        )
    if getattr(user, "is_authenticated", False) and user.awards.exists():
        steps.append(
            NextStep(
                "Share your credentials",
                "Each micro-credential you earned is a signed credential: share its page or "
                "download it.",
                "Open my credentials",
                reverse("credentials:mine"),
            )
        )
    if Role.EARNER in roles or not steps:
        steps.append(
            NextStep(
                "Find a micro-credential",
                "Browse the catalog for a skill you want to demonstrate in your classroom.",
                "Browse the catalog",
                reverse("catalog:search"),
            )
        )
    return steps

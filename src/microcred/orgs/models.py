"""Organizations, people and the roles they hold through memberships."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def build(self, email: str, password: str | None = None, **extra: Any) -> User:
        """An unsaved user, as create_user would save it (for bulk_create by imports)."""
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        return user

    def _create(self, email: str, password: str | None, **extra: Any) -> User:
        user = self.build(email, password, **extra)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A person; they log in by email. What they may do comes from their memberships."""

    username = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)
    display_name = models.CharField(max_length=150, blank=True)
    # The earner's own decentralized identifier (did:key or did:web), checked by orgs.earner_did;
    # credentials issued after it is set name it as their subject.
    did = models.CharField("DID", max_length=500, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()  # type: ignore[misc]

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.name

    @property
    def full_name(self) -> str:
        """The person's name as they gave it ("" when they gave none): safe on public pages."""
        return self.display_name or f"{self.first_name} {self.last_name}".strip()

    @property
    def name(self) -> str:
        return self.full_name or self.email


class Organization(models.Model):
    class Kind(models.TextChoices):
        STATE_AGENCY = "state_agency", "State agency"
        LEA = "lea", "District (LEA)"
        SCHOOL = "school", "School"
        PROVIDER = "provider", "Provider"
        ISSUER = "issuer", "Issuer"
        ASSESSMENT_ORG = "assessment_org", "Assessment organization"

    class Locale(models.TextChoices):
        RURAL = "rural", "Rural"
        TOWN = "town", "Town"
        SUBURB = "suburb", "Suburb"
        CITY = "city", "City"

    class Size(models.TextChoices):
        SMALL = "small", "Small (under 5,000 students)"
        MEDIUM = "medium", "Medium (5,000 to 25,000)"
        LARGE = "large", "Large (over 25,000)"

    # Which kinds may sit under which parent: the state tree is state -> LEA -> school;
    # providers, issuers and assessment organizations stand beside it (optionally under the state).
    ALLOWED_PARENTS: dict[str, set[str | None]] = {
        Kind.STATE_AGENCY: {None},
        Kind.LEA: {Kind.STATE_AGENCY},
        Kind.SCHOOL: {Kind.LEA},
        Kind.PROVIDER: {None, Kind.STATE_AGENCY, Kind.LEA},
        Kind.ISSUER: {None, Kind.STATE_AGENCY, Kind.LEA, Kind.PROVIDER},
        Kind.ASSESSMENT_ORG: {None, Kind.STATE_AGENCY},
    }

    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    code = models.CharField(
        max_length=40, blank=True, help_text="State or federal identifier (for example NCES)."
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    region = models.CharField(max_length=80, blank=True)
    locale = models.CharField(max_length=10, choices=Locale.choices, blank=True)
    low_wealth = models.BooleanField(default=False)
    size = models.CharField(max_length=10, choices=Size.choices, blank=True)
    website = models.URLField(blank=True)
    active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["kind", "name"])]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "code"],
                condition=~models.Q(code=""),
                name="org_unique_code_per_kind",
            ),
            # Two schools called the same in one district would confuse every list and CSV
            # that names them; the database refuses it so that a form posted twice, or two
            # admins adding the same school at once, cannot create a twin. Top-level
            # organizations have no parent (NULL is never equal in SQL), hence two constraints.
            models.UniqueConstraint(
                Lower("name"),
                "kind",
                "parent",
                condition=models.Q(parent__isnull=False),
                name="org_unique_name_under_parent",
            ),
            models.UniqueConstraint(
                Lower("name"),
                "kind",
                condition=models.Q(parent__isnull=True),
                name="org_unique_name_at_top",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        parent_kind = self.parent.kind if self.parent_id else None
        allowed = self.ALLOWED_PARENTS.get(self.kind, set())
        if parent_kind not in allowed:
            label = self.get_kind_display()
            fits = " or ".join(
                str(self.Kind(kind).label) for kind in self.Kind.values if kind in allowed
            )
            if not self.parent_id:
                message = f"Choose what this {label} is part of: {fits}."
            else:
                message = (
                    f"{with_article(label, capital=True)} cannot be part of "
                    f"{self.parent} ({with_article(self.parent.get_kind_display())})."
                )
                message += (
                    f" It can be top-level{' or part of: ' + fits if fits else ''}."
                    if None in allowed
                    else f" It can be part of: {fits}."
                )
            raise ValidationError({"parent": message})
        if self.kind != self.Kind.LEA:
            # Name each field that is set, so the form can point at it.
            district_only = {
                name: f"Only districts have a {label}; leave it empty for "
                f"{with_article(self.get_kind_display())}."
                for name, label in (
                    ("locale", "locale"),
                    ("low_wealth", "low-wealth status"),
                    ("size", "size"),
                )
                if getattr(self, name)
            }
            if district_only:
                raise ValidationError(district_only)

    @property
    def lea(self) -> Organization | None:
        """The district this organization belongs to (itself if it is one)."""
        if self.kind == self.Kind.LEA:
            return self
        if self.kind == self.Kind.SCHOOL and self.parent_id:
            return self.parent
        return None


class Role(models.TextChoices):
    EARNER = "earner", "Earner"
    COACH = "coach", "Coach"
    PRINCIPAL = "principal", "Principal"
    PROVIDER_AUTHOR = "provider_author", "Provider author"
    VETTING_REVIEWER = "vetting_reviewer", "Vetting reviewer"
    ASSESSOR = "assessor", "Assessor"
    SCORING_LEAD = "scoring_lead", "Scoring lead"
    ISSUER_ADMIN = "issuer_admin", "Issuer admin"
    RECOGNIZER_ADMIN = "recognizer_admin", "Recognizer admin"
    PROGRAM_ADMIN = "program_admin", "State or district admin"
    RESEARCHER = "researcher", "Researcher"


# The organization kinds in which each role makes sense.
ROLE_ORG_KINDS: dict[str, set[str]] = {
    Role.EARNER: {Organization.Kind.SCHOOL, Organization.Kind.LEA},
    Role.COACH: {Organization.Kind.SCHOOL, Organization.Kind.LEA},
    Role.PRINCIPAL: {Organization.Kind.SCHOOL},
    Role.PROVIDER_AUTHOR: {Organization.Kind.PROVIDER},
    Role.VETTING_REVIEWER: {Organization.Kind.STATE_AGENCY},
    Role.ASSESSOR: {Organization.Kind.ASSESSMENT_ORG, Organization.Kind.STATE_AGENCY},
    Role.SCORING_LEAD: {Organization.Kind.ASSESSMENT_ORG, Organization.Kind.STATE_AGENCY},
    Role.ISSUER_ADMIN: {Organization.Kind.ISSUER},
    Role.RECOGNIZER_ADMIN: {Organization.Kind.STATE_AGENCY, Organization.Kind.LEA},
    Role.PROGRAM_ADMIN: {Organization.Kind.STATE_AGENCY, Organization.Kind.LEA},
    Role.RESEARCHER: {Organization.Kind.STATE_AGENCY},
}


def with_article(label: str, *, capital: bool = False) -> str:
    """'a School', 'an Issuer': messages read as plain sentences."""
    article = "an" if label[:1].lower() in "aeiou" else "a"
    return f"{article.capitalize() if capital else article} {label}"


def role_fit_problem(role: str, organization: Organization) -> str | None:
    """Why the role cannot be held at this organization, or None if it can."""
    kinds = ROLE_ORG_KINDS.get(role, set())
    if organization.kind in kinds:
        return None
    label = Role(role).label if role in Role.values else role
    allowed = " or ".join(sorted(str(Organization.Kind(k).label) for k in kinds)) or "nowhere"
    return (
        f"The role {label} cannot be held at {with_article(organization.get_kind_display())}; "
        f"it can be held at: {allowed}."
    )


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization__name", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization", "role"], name="membership_unique_role"
            )
        ]
        indexes = [models.Index(fields=["user", "role", "active"])]

    def __str__(self) -> str:
        return f"{self.user} - {self.get_role_display()} at {self.organization}"

    def clean(self) -> None:
        problem = role_fit_problem(self.role, self.organization) if self.organization_id else None
        if problem:
            raise ValidationError({"role": problem})


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("Audit events are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit events are append-only.")


class AuditEvent(models.Model):
    """Append-only record of who changed which decision or record, when and why."""

    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    action = models.CharField(max_length=80)
    target_type = models.CharField(max_length=80)
    target_id = models.CharField(max_length=64)
    target_label = models.CharField(max_length=255, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            # The audit page lists the newest events of the organizations an admin manages.
            models.Index(fields=["organization", "-created"], name="audit_org_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M} {self.action} {self.target_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit events are append-only.")


class ApiToken(models.Model):
    """A personal token for the JSON API (scripts, other tools), acting as its user.

    Only the SHA-256 of the token is stored: a leaked database gives no working token, and the
    person sees the token once, when it is made. Revoking keeps the row (when it was used and
    by whom stays known)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class LeaProgram(models.Model):
    """How far a district has rolled the micro-credential program out, and on what terms.

    One per LEA; a district without one has not started. The pilot cohort limits who may start
    only during the pilot stage (orgs.programs.start_refusal); orgs.programs.save_program keeps
    the cohort empty in every other stage so the two can never disagree."""

    class Stage(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        PLANNING = "planning", "Planning"
        PILOT = "pilot", "Pilot"
        EXPANDING = "expanding", "Expanding"
        FULL = "full", "Full program"

    lea = models.OneToOneField(
        Organization,
        on_delete=models.PROTECT,
        related_name="program",
        limit_choices_to={"kind": Organization.Kind.LEA},
    )
    stage = models.CharField(max_length=12, choices=Stage.choices, default=Stage.NOT_STARTED)
    pilot_schools = models.ManyToManyField(
        Organization,
        blank=True,
        related_name="pilot_programs",
        limit_choices_to={"kind": Organization.Kind.SCHOOL},
    )
    # The micro-credential, not a version: funding carries over when a new version is published.
    funded_micro_credentials = models.ManyToManyField(
        "catalog.MicroCredential", blank=True, related_name="funding_programs"
    )
    requires_preapproval = models.BooleanField(
        default=False,
        help_text="Every start by an earner of this district waits for the principal's approval.",
    )
    updated = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["lea__name"]

    def __str__(self) -> str:
        return f"Program of {self.lea}: {self.get_stage_display()}"

    def clean(self) -> None:
        if self.lea_id and self.lea.kind != Organization.Kind.LEA:
            raise ValidationError({"lea": "Program settings belong to a district (LEA)."})


# --- Single sign-on (orgs.sso) ------------------------------------------------------------------
# Roles an identity provider may grant. Admin roles are granted in microcred only, by another
# admin: a wrong attribute at the IdP must never make someone an admin.
SSO_GRANTABLE_ROLES: tuple[str, ...] = (Role.EARNER, Role.COACH, Role.PRINCIPAL)


class IdentityProvider(models.Model):
    """A state's or district's single sign-on service (OpenID Connect or SAML 2.0).

    The protocol settings (server URL, client id and secret, or the IdP's entity id, sign-in URL
    and certificate) live in the linked allauth SocialApp, as allauth expects them; this record
    holds what microcred does with a person who signs in: which attribute names their
    organization (by `Organization.code`, within this IdP's organization and below) and which
    roles their IdP roles become."""

    class Kind(models.TextChoices):
        OIDC = "oidc", "OpenID Connect"
        SAML = "saml", "SAML 2.0"

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="identity_providers"
    )
    kind = models.CharField(max_length=4, choices=Kind.choices)
    name = models.CharField(max_length=80, help_text="Shown on the button: Sign in with <name>.")
    social_app = models.OneToOneField(
        "socialaccount.SocialApp", on_delete=models.PROTECT, related_name="identity_provider"
    )
    # Attribute (SAML) or claim (OIDC) names, comma-separated: the first one sent is used.
    organization_attribute = models.CharField(max_length=200)
    role_attribute = models.CharField(max_length=100, blank=True)
    # IdP role value (lower case) -> Role value, e.g. {"teacher": "earner"}.
    role_map = models.JSONField(default=dict, blank=True)
    default_role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    # Existing accounts are matched by email only within these domains, so an IdP can never
    # take over an account it does not speak for.
    email_domains = models.JSONField(default=list, blank=True)
    counts_as_second_factor = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["organization__name", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.organization})"

    @property
    def button_label(self) -> str:
        return f"Sign in with {self.name}"


class SsoMembershipGrant(models.Model):
    """A membership that single sign-on gave (created or restored), so that a later sign-in
    may take it back when the IdP no longer asserts it. Memberships granted locally have no
    grant and are never touched by single sign-on."""

    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, related_name="sso_grant"
    )
    identity_provider = models.ForeignKey(
        IdentityProvider, on_delete=models.PROTECT, related_name="grants"
    )
    created = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.membership} (from {self.identity_provider.name})"


class RosterRecord(models.Model):
    """The OneRoster record (by its sourcedId in a district's student information system) an
    organization, account or role was imported from (orgs.oneroster). A second import of the
    same roster then updates instead of adding twice, and the export gives the same ids back.

    `values` keeps the row's columns microcred has no field for (roleType, the SIS's own
    status and dates), as last imported; sourcedIds are unique per district, since two
    districts' systems may number their records alike."""

    class Kind(models.TextChoices):
        ORG = "org", "Organization"
        USER = "user", "Person"
        ROLE = "role", "Role"

    district = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="roster_records"
    )
    kind = models.CharField(max_length=4, choices=Kind.choices)
    sourced_id = models.CharField(max_length=255)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="roster_records"
    )
    membership = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    values = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=200, blank=True)  # the manifest's source.systemName
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["district", "kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "kind", "sourced_id"], name="roster_record_unique_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.sourced_id} of {self.district}"

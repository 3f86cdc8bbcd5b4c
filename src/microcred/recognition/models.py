"""What a micro-credential is worth, and what each educator was granted for theirs.

A recognizer (the state, an LEA) owns `RecognitionPolicy` versions, each dated and made of
structured `RecognitionRule`s. When a credential is issued, each applicable rule posts one
`LedgerEntry`; a revocation posts reversing entries. Entries never change their figures: only
their state moves on (pending -> approved -> exported -> paid). `License` and `RenewalCycle`
hold the license each educator renews; `ExternalCredential` a credential from another issuer.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from microcred.catalog.models import ApprovedUse, MicroCredential, MicroCredentialVersion, Stack
from microcred.credentials.models import IssuedCredential
from microcred.orgs.models import Organization

ZERO = Decimal("0")


class RecognitionPolicy(models.Model):
    """One dated version of a recognizer's policy. Versions of one policy share `series`; an
    active version is never edited (a change is a new version), and the active versions of a
    series never overlap in time."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "In force"
        RETIRED = "retired", "Retired"

    recognizer = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="recognition_policies"
    )
    series = models.UUIDField(default=uuid.uuid4, editable=False, db_index=True)
    number = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    effective_from = models.DateField()
    # The last day it applies; open-ended while empty.
    effective_until = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["recognizer__name", "name", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["series", "number"], name="policy_version_unique"),
            models.CheckConstraint(
                condition=models.Q(effective_until__isnull=True)
                | models.Q(effective_until__gte=models.F("effective_from")),
                name="policy_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (version {self.number})"


class RecognitionRule(models.Model):
    """One structured rule of a policy. Which fields matter depends on `kind`
    (`arithmetic.py` computes each kind; `forms` and `clean` require its fields)."""

    class Kind(models.TextChoices):
        CEU = "ceu", "CEUs toward license renewal"
        RENEWAL_COUNT = "renewal_count", "Micro-credentials counted toward license renewal"
        STIPEND = "stipend", "Stipend per micro-credential"
        SALARY = "salary", "Base-salary increase by difficulty"
        MASTERS = "masters", "Master's-equivalency credit"
        CONTACT_UNITS = "contact_units", "Contact units"
        ROLE = "role", "Eligibility for a role"

    class CeuSource(models.TextChoices):
        HOURS = "hours", "From the micro-credential's estimated hours"
        FIXED = "fixed", "A fixed number per micro-credential"

    policy = models.ForeignKey(RecognitionPolicy, on_delete=models.CASCADE, related_name="rules")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # CEU: from hours (hours_per_ceu hours make one CEU: 12 hours -> 1.2 CEU) or fixed.
    ceu_source = models.CharField(max_length=10, choices=CeuSource.choices, blank=True)
    hours_per_ceu = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    fixed_ceus = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    # RENEWAL_COUNT: so many approved MCs satisfy renewal on their own.
    mcs_required = models.PositiveSmallIntegerField(null=True, blank=True)
    # STIPEND: amount per MC, out of a budget from a funding source.
    amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    budget = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    funding_source = models.CharField(max_length=200, blank=True)
    # SALARY: yearly base-salary increase per MC, by the MC's difficulty.
    salary_foundational = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True
    )
    salary_intermediate = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True
    )
    salary_advanced = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    # MASTERS: mcs_per_credit MCs make one credit; CONTACT_UNITS: units_per_hour per hour.
    mcs_per_credit = models.PositiveSmallIntegerField(null=True, blank=True)
    units_per_hour = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    # MASTERS and CONTACT_UNITS: the most one educator gets under the policy (all versions).
    cap = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    # ROLE: eligible once holding every listed stack and `mcs_needed` of the listed MCs.
    role_title = models.CharField(max_length=200, blank=True)
    stacks = models.ManyToManyField(Stack, blank=True, related_name="+")
    micro_credentials = models.ManyToManyField(MicroCredential, blank=True, related_name="+")
    mcs_needed = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["policy", "pk"]

    def __str__(self) -> str:
        return self.describe()

    # The approved use an MC needs for the rule to apply to it.
    USE_OF_KIND: dict[str, str] = {
        Kind.CEU: ApprovedUse.LICENSE_RENEWAL,
        Kind.RENEWAL_COUNT: ApprovedUse.LICENSE_RENEWAL,
        Kind.STIPEND: ApprovedUse.STIPEND,
        Kind.SALARY: ApprovedUse.SALARY,
        Kind.MASTERS: ApprovedUse.MASTERS,
        Kind.CONTACT_UNITS: ApprovedUse.PROFESSIONAL_LEARNING,
        Kind.ROLE: ApprovedUse.ADVANCED_ROLES,
    }

    @property
    def use(self) -> str:
        return self.USE_OF_KIND[self.kind]

    def describe(self) -> str:
        from .arithmetic import describe_rule

        return describe_rule(self)


class LedgerExport(models.Model):
    """One CSV handed to an HR or licensure system: the entries it marked exported."""

    recognizer = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    entry_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"Export {self.pk} of {self.recognizer}: {self.entry_count} entries"


class ExternalCredential(models.Model):
    """An Open Badges credential an educator brought from another issuer: verified when
    uploaded, matched to a catalog MC or kept as external, and counted by a recognizer's
    policies once that recognizer accepts it."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting for a recognizer"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    educator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="external_credentials"
    )
    document = models.JSONField(editable=False)
    # A hash of the document's canonical JSON: the same credential is brought once per person.
    digest = models.CharField(max_length=64, editable=False)
    name = models.CharField(max_length=300)
    issuer_name = models.CharField(max_length=300, blank=True)
    issuer_id = models.CharField(max_length=500, blank=True)
    issued_on = models.DateField(null=True, blank=True)
    hours = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    matched_version = models.ForeignKey(
        MicroCredentialVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recognizer = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="external_credentials"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    # The uses the recognizer accepted it for (ApprovedUse values).
    accepted_uses = models.JSONField(default=list, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)
    uploaded = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded"]
        constraints = [
            models.UniqueConstraint(
                fields=["educator", "digest"], name="external_credential_once_per_educator"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.issuer_name or 'another issuer'})"


class LedgerEntry(models.Model):
    """What one educator was granted, from which credential, under which policy and rule.

    Posted once per (credential, rule); a revocation posts a reversing entry (negative
    figures, `reverses` set, the reason kept) instead of changing this one. Only `status` and
    the dates that go with it move on."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        APPROVED = "approved", "Approved"
        EXPORTED = "exported", "Exported"
        PAID = "paid", "Paid"
        # A stipend posted after its budget was spent: kept, visible, never paid.
        UNFUNDED = "unfunded", "Not funded: budget spent"

    educator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    credential = models.ForeignKey(
        IssuedCredential,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    external = models.ForeignKey(
        ExternalCredential,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    policy = models.ForeignKey(RecognitionPolicy, on_delete=models.PROTECT, related_name="entries")
    rule = models.ForeignKey(RecognitionRule, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=20, choices=RecognitionRule.Kind.choices)
    # CEUs, MCs counted, credits or units; money in `amount`. Negative on a reversal.
    quantity = models.DecimalField(max_digits=8, decimal_places=2, default=ZERO)
    amount = models.DecimalField(max_digits=10, decimal_places=2, default=ZERO)
    title = models.CharField(max_length=300)  # the credential's name, as it was granted for
    earned_on = models.DateField()
    note = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversal"
    )
    reason = models.TextField(blank=True)
    posted_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    export = models.ForeignKey(
        LedgerExport, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    exported_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-posted_at", "-pk"]
        verbose_name_plural = "ledger entries"
        constraints = [
            # Exactly once: one entry per credential and rule, one reversal per entry.
            models.UniqueConstraint(
                fields=["credential", "rule"],
                condition=models.Q(reverses__isnull=True, credential__isnull=False),
                name="ledger_entry_once_per_credential_rule",
            ),
            models.UniqueConstraint(
                fields=["external", "rule"],
                condition=models.Q(reverses__isnull=True, external__isnull=False),
                name="ledger_entry_once_per_external_rule",
            ),
            models.CheckConstraint(
                condition=models.Q(credential__isnull=False, external__isnull=True)
                | models.Q(credential__isnull=True, external__isnull=False),
                name="ledger_entry_of_one_credential",
            ),
        ]
        indexes = [
            models.Index(fields=["educator", "kind"], name="ledger_educator_kind"),
            models.Index(fields=["status", "policy"], name="ledger_status_policy"),
        ]

    def __str__(self) -> str:
        # Without the educator's name: audit labels are built in bulk, without a query each.
        return f"{self.get_kind_display()}: {self.title} (entry {self.pk})"

    @property
    def is_reversal(self) -> bool:
        return self.reverses_id is not None


class Posting(models.Model):
    """Marks that a credential's issue (or revocation) was posted to the ledger, entries or
    none: the sweep that repairs a lost task looks for credentials without one."""

    class Event(models.TextChoices):
        ISSUED = "issued", "Issued"
        REVOKED = "revoked", "Revoked"

    credential = models.ForeignKey(
        IssuedCredential, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    external = models.ForeignKey(
        ExternalCredential, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    event = models.CharField(max_length=10, choices=Event.choices)
    entries = models.PositiveIntegerField(default=0)
    posted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["credential", "event"],
                condition=models.Q(credential__isnull=False),
                name="posting_once_per_credential_event",
            ),
            models.UniqueConstraint(
                fields=["external", "event"],
                condition=models.Q(external__isnull=False),
                name="posting_once_per_external_event",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} posting of {self.credential_id or self.external_id}"


class License(models.Model):
    """An educator's teaching license, as the licensing office keeps it (imported by CSV)."""

    educator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="licenses"
    )
    # The state agency that issues and renews it (and whose renewal policy counts).
    state = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="licenses")
    number = models.CharField(max_length=40)
    area = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["state", "number"], name="license_number_unique")
        ]

    def __str__(self) -> str:
        return f"License {self.number}"


class RenewalCycle(models.Model):
    """One renewal period of a license: renewed with `ceus_required` CEUs, or with
    `mcs_required` approved micro-credentials where the state's policy allows it."""

    license = models.ForeignKey(License, on_delete=models.CASCADE, related_name="cycles")
    starts_on = models.DateField()
    ends_on = models.DateField()
    ceus_required = models.DecimalField(max_digits=5, decimal_places=1, default=Decimal("8.0"))
    mcs_required = models.PositiveSmallIntegerField(null=True, blank=True)
    # Months-before-the-end thresholds already reminded (12, 6, 3, 1): never twice.
    reminders_sent = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["license", "-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gt=models.F("starts_on")),
                name="renewal_cycle_ends_after_it_starts",
            ),
            models.UniqueConstraint(
                fields=["license", "starts_on"], name="renewal_cycle_unique_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.license} {self.starts_on:%Y}-{self.ends_on:%Y}"

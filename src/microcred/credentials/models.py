"""Issuer identities (profile, Ed25519 keys) and W3C Bitstring Status Lists.

Credentials issued from awards build on these: an `IssuerProfile` signs with its active
`IssuerKey`, and each credential takes one index in one of its issuer's `StatusList`s.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models

from microcred.orgs.models import Organization

# The Bitstring Status List minimum (16 KB of single-bit entries): a smaller list would let
# whoever fetches it narrow down whose credential is being checked.
STATUS_LIST_SIZE = 131_072


class IssuerProfile(models.Model):
    """The Open Badges 3.0 `Profile` of an issuer organization, and how it is identified."""

    class Method(models.TextChoices):
        DID_WEB = "did:web", "did:web (served by this site; stays the same when keys rotate)"
        DID_KEY = "did:key", "did:key (the key itself; changes whenever the key rotates)"

    organization = models.OneToOneField(
        Organization,
        on_delete=models.PROTECT,
        related_name="issuer_profile",
        limit_choices_to={"kind": Organization.Kind.ISSUER},
    )
    # Part of the did:web identifier and every public URL: set once, never changed, because
    # credentials already issued name it.
    slug = models.SlugField(max_length=80, unique=True, editable=False)
    name = models.CharField(max_length=200)
    url = models.URLField("website", blank=True)
    email = models.EmailField("contact email", blank=True)
    description = models.TextField(blank=True)
    image_url = models.URLField("logo image address", blank=True)
    identifier_method = models.CharField(
        "identifier", max_length=10, choices=Method.choices, default=Method.DID_WEB
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class IssuerKey(models.Model):
    """An Ed25519 signing key. The seed is stored only encrypted (keystore.py); retired keys
    stay listed in the issuer's DID document so credentials they signed keep verifying."""

    issuer = models.ForeignKey(IssuerProfile, on_delete=models.PROTECT, related_name="keys")
    number = models.PositiveIntegerField()  # key-1, key-2...: the did:web fragment
    public_key_multibase = models.CharField(max_length=64, unique=True)
    encrypted_seed = models.BinaryField(editable=False)
    # Which master key sealed the seed, so a changed MICROCRED_CREDENTIAL_KEY is named
    # plainly instead of failing as a bad ciphertext.
    wrapping_key_id = models.CharField(max_length=16, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["issuer", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "number"], name="issuer_key_number"),
            models.UniqueConstraint(
                fields=["issuer"],
                condition=models.Q(retired_at__isnull=True),
                name="issuer_one_active_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.issuer} {self.fragment}"

    @property
    def fragment(self) -> str:
        return f"key-{self.number}"

    @property
    def active(self) -> bool:
        return self.retired_at is None


class StatusList(models.Model):
    """One W3C Bitstring Status List of an issuer: `size` single-bit entries, 1 = revoked.

    Entries are handed out in order of `next_position`, which only grows (an index is never
    reused); the position is scrambled into the index a credential shows (`index_at`), as the
    specification asks, so that an index tells nothing about when it was issued.
    """

    class Purpose(models.TextChoices):
        REVOCATION = "revocation", "Revocation"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    issuer = models.ForeignKey(IssuerProfile, on_delete=models.PROTECT, related_name="status_lists")
    purpose = models.CharField(max_length=20, choices=Purpose.choices, default=Purpose.REVOCATION)
    size = models.PositiveIntegerField(default=STATUS_LIST_SIZE, editable=False)
    bits = models.BinaryField(editable=False)
    next_position = models.PositiveIntegerField(default=0, editable=False)
    # index = (position * multiplier + offset) mod size; with an odd multiplier and a size that
    # is a power of two this is a one-to-one mapping, so scrambled indexes never collide.
    multiplier = models.PositiveIntegerField(editable=False)
    offset = models.PositiveIntegerField(editable=False)
    # The signed BitstringStatusListCredential, re-signed whenever a bit or the key changes.
    credential = models.JSONField(default=dict, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["issuer", "created"]
        indexes = [models.Index(fields=["issuer", "purpose", "next_position"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(next_position__lte=models.F("size")),
                name="status_list_position_in_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.issuer} {self.purpose} list {self.uuid}"

    @property
    def full(self) -> bool:
        return self.next_position >= self.size

    def index_at(self, position: int) -> int:
        return (position * self.multiplier + self.offset) % self.size

    def allocated(self, index: int) -> bool:
        """Whether `index` has been given to a credential (the scramble, run backwards)."""
        if not 0 <= index < self.size:
            return False
        position = (index - self.offset) * pow(self.multiplier, -1, self.size) % self.size
        return position < self.next_position

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.bits:
            self.bits = bytes(self.size // 8)
        super().save(*args, **kwargs)


class StackAward(models.Model):
    """An earner completed a stack: its required micro-credentials and enough electives, each
    held as a credential that is not revoked. One per earner and stack, exactly once."""

    earner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="stack_awards"
    )
    stack = models.ForeignKey("catalog.Stack", on_delete=models.PROTECT, related_name="awards")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["earner", "stack"], name="stack_award_once_per_earner")
        ]

    def __str__(self) -> str:
        return f"{self.earner} completed {self.stack}"


class IssuedCredential(models.Model):
    """The signed OpenBadgeCredential of one Award, or of one StackAward: exactly one per award
    (invariant 5), and exactly one of the two.

    `document` is the credential exactly as signed; it is never changed afterwards (revocation
    is a bit in the status list, not an edit), so the stored copy always verifies.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    award = models.OneToOneField(
        "assessment.Award",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credential",
    )
    stack_award = models.OneToOneField(
        StackAward, null=True, blank=True, on_delete=models.PROTECT, related_name="credential"
    )
    issuer = models.ForeignKey(
        IssuerProfile, on_delete=models.PROTECT, related_name="issued_credentials"
    )
    key = models.ForeignKey(IssuerKey, on_delete=models.PROTECT, related_name="+")
    document = models.JSONField(editable=False)
    status_list = models.ForeignKey(StatusList, on_delete=models.PROTECT, related_name="+")
    status_index = models.PositiveIntegerField()
    issued_at = models.DateTimeField()
    # The earner decides whether anyone with the link may see the credential's page.
    public = models.BooleanField(default=True)

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["status_list", "status_index"], name="credential_status_entry_unique"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(award__isnull=False, stack_award__isnull=True)
                    | models.Q(award__isnull=True, stack_award__isnull=False)
                ),
                name="credential_of_award_or_stack",
            ),
        ]

    def __str__(self) -> str:
        return f"Credential {self.uuid}"

    @property
    def earner(self) -> Any:
        return self.award.earner if self.award_id else self.stack_award.earner

    @property
    def earner_id(self) -> int:
        return self.award.earner_id if self.award_id else self.stack_award.earner_id


class Revocation(models.Model):
    """Why and by whom a credential was revoked; the credential itself is kept."""

    credential = models.OneToOneField(
        IssuedCredential, on_delete=models.PROTECT, related_name="revocation"
    )
    reason = models.TextField()
    revoked_by = models.ForeignKey(
        "orgs.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Revocation of {self.credential}"

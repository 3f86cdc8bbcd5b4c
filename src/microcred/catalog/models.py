"""The catalog: micro-credentials and their versions, rubrics, evidence requirements,
standards (CASE-shaped), stacks, and the vetting that stands between a draft and the catalog."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from microcred.orgs.models import Organization


class FrozenVersionError(PermissionError):
    """Raised on any attempt to change content of a version that is no longer a draft."""


# ---------------------------------------------------------------------------- standards (CASE)
class StandardFramework(models.Model):
    """A CASE CFDocument."""

    identifier = models.UUIDField(unique=True)
    uri = models.URLField(max_length=500, blank=True)
    title = models.CharField(max_length=255)
    creator = models.CharField(max_length=255, blank=True)
    publisher = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    version = models.CharField(max_length=50, blank=True)
    adoption_status = models.CharField(max_length=50, blank=True)
    language = models.CharField(max_length=10, blank=True)
    last_change = models.DateTimeField(null=True, blank=True)
    imported = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class StandardItem(models.Model):
    """A CASE CFItem; `parent` comes from its isChildOf association."""

    framework = models.ForeignKey(StandardFramework, on_delete=models.CASCADE, related_name="items")
    identifier = models.UUIDField(unique=True)
    uri = models.URLField(max_length=500, blank=True)
    human_coding_scheme = models.CharField(max_length=80, blank=True)
    full_statement = models.TextField()
    abbreviated_statement = models.CharField(max_length=255, blank=True)
    item_type = models.CharField(max_length=80, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    sequence = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["framework", "sequence", "human_coding_scheme"]

    def __str__(self) -> str:
        code = f"{self.human_coding_scheme} " if self.human_coding_scheme else ""
        return f"{code}{self.abbreviated_statement or self.full_statement[:80]}"


class StandardAssociation(models.Model):
    """A CASE CFAssociation other than the tree (exactMatchOf, isRelatedTo, ...), kept as read."""

    framework = models.ForeignKey(
        StandardFramework, on_delete=models.CASCADE, related_name="associations"
    )
    identifier = models.UUIDField(unique=True)
    association_type = models.CharField(max_length=40)
    origin_identifier = models.UUIDField()
    destination_identifier = models.UUIDField()
    sequence = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.origin_identifier} {self.association_type} {self.destination_identifier}"


# ---------------------------------------------------------------------------- vocabularies
class GradeBand(models.Model):
    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=60)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order"]

    def __str__(self) -> str:
        return self.name


class Subject(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# ---------------------------------------------------------------------------- micro-credentials
class MicroCredential(models.Model):
    """The stable identity of a micro-credential; its content lives in versions."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    provider = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="micro_credentials"
    )
    slug = models.SlugField(max_length=120, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class MicroCredentialVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        APPROVED = "approved", "Approved, not yet published"
        REJECTED = "rejected", "Rejected"
        PUBLISHED = "published", "Published"
        SUPERSEDED = "superseded", "Superseded by a newer version"
        RETIRED = "retired", "Retired"

    # The only states in which content may change; every other state is frozen.
    EDITABLE = frozenset({Status.DRAFT, Status.CHANGES_REQUESTED})

    class Difficulty(models.TextChoices):
        FOUNDATIONAL = "foundational", "Foundational"
        INTERMEDIATE = "intermediate", "Intermediate"
        ADVANCED = "advanced", "Advanced"

    class CareerPhase(models.TextChoices):
        ANY = "any", "Any career phase"
        BEGINNING = "beginning", "Beginning teacher"
        EXPERIENCED = "experienced", "Experienced teacher"
        TEACHER_LEADER = "teacher_leader", "Teacher leader"
        SCHOOL_LEADER = "school_leader", "School leader"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    micro_credential = models.ForeignKey(
        MicroCredential, on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)

    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=400, help_text="One or two sentences for search results.")
    competency_statement = models.TextField()
    key_method = models.TextField()
    research_basis = models.TextField()
    estimated_hours = models.DecimalField(max_digits=5, decimal_places=1)
    difficulty = models.CharField(max_length=20, choices=Difficulty.choices)
    career_phase = models.CharField(
        max_length=20, choices=CareerPhase.choices, default=CareerPhase.ANY
    )
    grade_bands = models.ManyToManyField(GradeBand, blank=True, related_name="versions")
    subjects = models.ManyToManyField(Subject, blank=True, related_name="versions")
    standard_items = models.ManyToManyField(
        StandardItem, through="Alignment", blank=True, related_name="versions"
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    # Denormalised text for full-text search (title, competency and key method).
    search_text = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["micro_credential", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["micro_credential", "number"], name="mcversion_unique_number"
            ),
            models.UniqueConstraint(
                fields=["micro_credential"],
                condition=models.Q(status="published"),
                name="mcversion_one_published",
            ),
        ]
        indexes = [models.Index(fields=["status", "title"])]

    def __str__(self) -> str:
        return f"{self.title} (v{self.number})"

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored is not None and stored not in self.EDITABLE:
                changed = _changed_content_fields(self)
                if changed:
                    raise FrozenVersionError(
                        f"Version {self.number} is {stored}; its content cannot change "
                        f"({', '.join(sorted(changed))}). Start a new version instead."
                    )
        self.search_text = " ".join(
            part
            for part in (self.title, self.summary, self.competency_statement, self.key_method)
            if part
        )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.status not in self.EDITABLE:
            raise FrozenVersionError("Only a draft version can be deleted.")
        return super().delete(*args, **kwargs)


# Fields that a frozen version may still change: its lifecycle, not its content.
_LIFECYCLE_FIELDS = {
    "status",
    "submitted_at",
    "published_at",
    "retired_at",
    "updated",
    "search_text",
}


def _changed_content_fields(version: MicroCredentialVersion) -> set[str]:
    stored = MicroCredentialVersion.objects.get(pk=version.pk)
    changed = set()
    for field in MicroCredentialVersion._meta.concrete_fields:
        if field.name in _LIFECYCLE_FIELDS or field.primary_key:
            continue
        if getattr(stored, field.attname) != getattr(version, field.attname):
            changed.add(field.name)
    return changed


class VersionPart(models.Model):
    """Base for everything that belongs to a version's content: frozen with it."""

    class Meta:
        abstract = True

    def owning_version(self) -> MicroCredentialVersion:
        return self.version  # type: ignore[attr-defined,no-any-return]

    def _guard(self) -> None:
        version = MicroCredentialVersion.objects.only("status", "number").get(
            pk=self.owning_version().pk
        )
        if version.status not in MicroCredentialVersion.EDITABLE:
            raise FrozenVersionError(
                f"Version {version.number} is {version.status}; its content cannot change."
            )

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._guard()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        self._guard()
        return super().delete(*args, **kwargs)


class KeyMethodComponent(VersionPart):
    """One component of the key method (the rubric scores evidence of each)."""

    version = models.ForeignKey(
        MicroCredentialVersion, on_delete=models.CASCADE, related_name="components"
    )
    order = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["version", "order"]

    def __str__(self) -> str:
        return self.title


class LearningResource(VersionPart):
    version = models.ForeignKey(
        MicroCredentialVersion, on_delete=models.CASCADE, related_name="resources"
    )
    order = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    url = models.URLField(max_length=500, blank=True)
    file = models.FileField(upload_to="catalog/resources/", blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["version", "order"]

    def __str__(self) -> str:
        return self.title


class EvidenceRequirement(VersionPart):
    class Kind(models.TextChoices):
        WRITTEN = "written", "Written response"
        VIDEO = "video", "Video"
        AUDIO = "audio", "Audio"
        FILE = "file", "Files (such as student work)"
        REFLECTION = "reflection", "Reflection"

    TEXT_KINDS = frozenset({Kind.WRITTEN, Kind.REFLECTION})
    MEDIA_KINDS = frozenset({Kind.VIDEO, Kind.AUDIO})

    version = models.ForeignKey(
        MicroCredentialVersion, on_delete=models.CASCADE, related_name="evidence_requirements"
    )
    order = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=200)
    instructions = models.TextField()
    word_limit = models.PositiveIntegerField(null=True, blank=True)
    min_duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    max_duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    requires_annotations = models.BooleanField(default=False)
    min_annotations = models.PositiveSmallIntegerField(default=0)
    # MIME types accepted for file evidence, checked against the file's content.
    allowed_types = models.JSONField(default=list, blank=True)
    max_file_size_mb = models.PositiveIntegerField(null=True, blank=True)
    max_files = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["version", "order"]

    def __str__(self) -> str:
        return self.title


class Rubric(VersionPart):
    class Scoring(models.TextChoices):
        DETAILS = "details", "One point per detail evident"
        LEVELS = "levels", "One level chosen per component"

    version = models.OneToOneField(
        MicroCredentialVersion, on_delete=models.CASCADE, related_name="rubric"
    )
    scoring = models.CharField(max_length=10, choices=Scoring.choices, default=Scoring.DETAILS)
    instructions = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"Rubric for {self.version}"


class RubricPart(VersionPart):
    class Meta:
        abstract = True

    def owning_version(self) -> MicroCredentialVersion:
        return self.rubric.version  # type: ignore[attr-defined,no-any-return]


class RubricComponent(RubricPart):
    rubric = models.ForeignKey(Rubric, on_delete=models.CASCADE, related_name="components")
    component = models.ForeignKey(
        KeyMethodComponent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    max_points = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["rubric", "order"]

    def __str__(self) -> str:
        return self.title


class RubricCriterion(VersionPart):
    """A detail (checked: earns its points) or a level (chosen: earns its points)."""

    rubric_component = models.ForeignKey(
        RubricComponent, on_delete=models.CASCADE, related_name="criteria"
    )
    order = models.PositiveSmallIntegerField(default=0)
    label = models.CharField(
        max_length=80, blank=True, help_text="Level name, such as 'Proficient'."
    )
    text = models.TextField()
    points = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["rubric_component", "order"]

    def __str__(self) -> str:
        return self.text[:80]

    def owning_version(self) -> MicroCredentialVersion:
        return self.rubric_component.rubric.version


class OutcomeBand(RubricPart):
    rubric = models.ForeignKey(Rubric, on_delete=models.CASCADE, related_name="bands")
    label = models.CharField(max_length=40)
    min_points = models.PositiveSmallIntegerField()
    max_points = models.PositiveSmallIntegerField()
    passing = models.BooleanField(default=False)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["rubric", "-min_points"]

    def __str__(self) -> str:
        return f"{self.label} ({self.min_points}-{self.max_points})"


class Alignment(VersionPart):
    version = models.ForeignKey(
        MicroCredentialVersion, on_delete=models.CASCADE, related_name="alignments"
    )
    standard_item = models.ForeignKey(
        StandardItem, on_delete=models.PROTECT, related_name="alignments"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "standard_item"], name="alignment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.version} -> {self.standard_item}"


# ---------------------------------------------------------------------------- stacks
class Stack(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    class Level(models.TextChoices):
        FOUNDATIONAL = "foundational", "Foundational"
        INTERMEDIATE = "intermediate", "Intermediate"
        ADVANCED = "advanced", "Advanced"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    provider = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="stacks")
    slug = models.SlugField(max_length=120, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField()
    target_role = models.CharField(max_length=120, help_text="Who the pathway is for.")
    level = models.CharField(max_length=20, choices=Level.choices)
    min_electives = models.PositiveSmallIntegerField(default=0)
    achievement_name = models.CharField(
        max_length=200, help_text="Name of the credential earned by completing the stack."
    )
    achievement_description = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    micro_credentials = models.ManyToManyField(
        MicroCredential, through="StackMember", related_name="stacks"
    )
    created = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class StackMember(models.Model):
    stack = models.ForeignKey(Stack, on_delete=models.CASCADE, related_name="members")
    micro_credential = models.ForeignKey(
        MicroCredential, on_delete=models.PROTECT, related_name="stack_memberships"
    )
    order = models.PositiveSmallIntegerField(default=0)
    required = models.BooleanField(default=True)

    class Meta:
        ordering = ["stack", "order"]
        constraints = [
            models.UniqueConstraint(fields=["stack", "micro_credential"], name="stackmember_unique")
        ]

    def __str__(self) -> str:
        return f"{self.stack}: {self.micro_credential}"


# ---------------------------------------------------------------------------- vetting
class QualityCriterion(models.Model):
    code = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=200)
    guidance = models.TextField()
    order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order"]
        verbose_name_plural = "quality criteria"

    def __str__(self) -> str:
        return self.title


class VettingReview(models.Model):
    class Decision(models.TextChoices):
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    version = models.ForeignKey(
        MicroCredentialVersion, on_delete=models.PROTECT, related_name="reviews"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="vetting_reviews"
    )
    decision = models.CharField(max_length=20, choices=Decision.choices)
    comments = models.TextField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.version}: {self.get_decision_display()}"


class CriterionRating(models.Model):
    class Rating(models.TextChoices):
        MEETS = "meets", "Meets the standard"
        PARTIALLY = "partially", "Partially meets"
        DOES_NOT = "does_not", "Does not meet"

    review = models.ForeignKey(VettingReview, on_delete=models.CASCADE, related_name="ratings")
    criterion = models.ForeignKey(QualityCriterion, on_delete=models.PROTECT, related_name="+")
    rating = models.CharField(max_length=20, choices=Rating.choices)
    comment = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "criterion"], name="rating_unique")
        ]

    def __str__(self) -> str:
        return f"{self.criterion}: {self.get_rating_display()}"


class ApprovedUse(models.TextChoices):
    PROFESSIONAL_LEARNING = "professional_learning", "Professional learning"
    LICENSE_RENEWAL = "license_renewal", "License renewal"
    STIPEND = "stipend", "Stipend"
    SALARY = "salary", "Salary increase"
    MASTERS = "masters_equivalency", "Master's-equivalency credit"
    ADVANCED_ROLES = "advanced_roles", "Advanced roles"


class Approval(models.Model):
    """A recognizer's approval of an approved (or published) version for a use. What it is
    worth is not written here: the recognizer's policies in force say it (recognition's
    `selectors_policies.credit_for`), so the figure shown always matches what is posted."""

    version = models.ForeignKey(
        MicroCredentialVersion, on_delete=models.PROTECT, related_name="approvals"
    )
    use = models.CharField(max_length=30, choices=ApprovedUse.choices)
    recognizer = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="approvals_given"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requires_preapproval = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["version", "use"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "use", "recognizer"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="approval_unique_active",
            )
        ]

    def __str__(self) -> str:
        return f"{self.version} for {self.get_use_display()} by {self.recognizer}"


# ---------------------------------------------------------------------------- freezing links
@receiver(m2m_changed, sender=MicroCredentialVersion.grade_bands.through)
@receiver(m2m_changed, sender=MicroCredentialVersion.subjects.through)
def _freeze_vocabulary_links(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any
) -> None:
    """Grade bands and subjects are content too: like the parts, they freeze with the version
    (from either side of the link: version.subjects.add() or subject.versions.add())."""
    if action not in {"pre_add", "pre_remove", "pre_clear"}:
        return
    if not reverse:
        version_ids = {instance.pk}
    elif action == "pre_clear":
        version_ids = set(instance.versions.values_list("pk", flat=True))
    else:
        version_ids = set(pk_set or ())
    frozen = (
        MicroCredentialVersion.objects.filter(pk__in=version_ids)
        .exclude(status__in=MicroCredentialVersion.EDITABLE)
        .values_list("number", "status")
        .first()
    )
    if frozen is not None:
        number, status = frozen
        raise FrozenVersionError(f"Version {number} is {status}; its content cannot change.")

"""Django admin for the catalog, for superusers.

What the admin may change mirrors the model guards: a version and all its parts are read-only
once the version leaves draft (the models would refuse the save anyway; the admin says so up
front instead of failing). Reviews, ratings and approvals are decisions with audit events:
they are made through the vetting pages and only shown here. Standards come from CASE imports
and are shown, not edited.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import (
    Alignment,
    Approval,
    CriterionRating,
    EvidenceRequirement,
    GradeBand,
    KeyMethodComponent,
    LearningResource,
    MicroCredential,
    MicroCredentialVersion,
    OutcomeBand,
    QualityCriterion,
    Rubric,
    RubricComponent,
    RubricCriterion,
    Stack,
    StackMember,
    StandardAssociation,
    StandardFramework,
    StandardItem,
    Subject,
    VettingReview,
)


def _editable(version: MicroCredentialVersion | None) -> bool:
    """Content may change only while the version is a draft (or sent back for changes)."""
    return version is None or version.is_editable


class ViewOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class FrozenWithVersion:
    """For admins and inlines of version parts: writable only while the version is editable.
    `owning_version` finds the version from the object shown (or the parent, for inlines)."""

    def owning_version(self, obj: Any) -> MicroCredentialVersion | None:
        if obj is None:
            return None
        if isinstance(obj, MicroCredentialVersion):
            return obj
        return obj.owning_version()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_add_permission(request, obj) and _editable(  # type: ignore[misc]
            self.owning_version(obj)
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and _editable(  # type: ignore[misc]
            self.owning_version(obj)
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and _editable(  # type: ignore[misc]
            self.owning_version(obj)
        )


class StackedPart(FrozenWithVersion, admin.StackedInline):
    extra = 0


class TabularPart(FrozenWithVersion, admin.TabularInline):
    extra = 0


class ComponentInline(StackedPart):
    model = KeyMethodComponent


class ResourceInline(StackedPart):
    model = LearningResource


class EvidenceInline(StackedPart):
    model = EvidenceRequirement


class AlignmentInline(TabularPart):
    model = Alignment
    autocomplete_fields = ["standard_item"]


@admin.register(MicroCredentialVersion)
class VersionAdmin(FrozenWithVersion, admin.ModelAdmin):
    list_display = ["title", "number", "status", "provider", "updated"]
    list_filter = ["status", "difficulty"]
    search_fields = ["title", "micro_credential__slug"]
    list_select_related = ["micro_credential__provider"]
    # The lifecycle moves through the authoring and vetting pages, which audit every step.
    readonly_fields = [
        "micro_credential",
        "number",
        "status",
        "submitted_at",
        "published_at",
        "retired_at",
        "created_by",
    ]
    filter_horizontal = ["grade_bands", "subjects"]
    inlines = [ComponentInline, ResourceInline, EvidenceInline, AlignmentInline]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # new versions come from the authoring pages (with their rubric)

    @admin.display(ordering="micro_credential__provider__name")
    def provider(self, obj: MicroCredentialVersion) -> str:
        return obj.micro_credential.provider.name


class RubricComponentInline(StackedPart):
    model = RubricComponent
    fields = ["order", "title", "component", "max_points"]
    show_change_link = True


class BandInline(TabularPart):
    model = OutcomeBand


@admin.register(Rubric)
class RubricAdmin(FrozenWithVersion, admin.ModelAdmin):
    list_display = ["__str__", "scoring"]
    list_select_related = ["version"]
    readonly_fields = ["version"]
    inlines = [RubricComponentInline, BandInline]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CriterionInline(TabularPart):
    model = RubricCriterion


@admin.register(RubricComponent)
class RubricComponentAdmin(FrozenWithVersion, admin.ModelAdmin):
    list_display = ["title", "rubric", "max_points"]
    readonly_fields = ["rubric"]
    inlines = [CriterionInline]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MicroCredential)
class MicroCredentialAdmin(ViewOnlyAdmin):
    list_display = ["slug", "provider", "created"]
    list_filter = ["provider"]
    search_fields = ["slug"]


class StackMemberInline(admin.TabularInline):
    model = StackMember
    extra = 0
    autocomplete_fields = ["micro_credential"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.status == Stack.Status.DRAFT

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.status == Stack.Status.DRAFT

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.status == Stack.Status.DRAFT


@admin.register(Stack)
class StackAdmin(admin.ModelAdmin):
    list_display = ["title", "provider", "status", "level"]
    list_filter = ["status", "level"]
    search_fields = ["title"]
    readonly_fields = ["status", "published_at"]
    inlines = [StackMemberInline]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        draft = obj is None or obj.status == Stack.Status.DRAFT
        return draft and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        draft = obj is None or obj.status == Stack.Status.DRAFT
        return draft and super().has_delete_permission(request, obj)


# ---------------------------------------------------------------------------- vocabularies
@admin.register(QualityCriterion)
class QualityCriterionAdmin(admin.ModelAdmin):
    list_display = ["title", "code", "order", "active"]
    list_editable = ["order", "active"]


@admin.register(GradeBand)
class GradeBandAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "order"]
    list_editable = ["order"]


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]


# ---------------------------------------------------------------------------- records
class RatingInline(admin.TabularInline):
    model = CriterionRating
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(VettingReview)
class VettingReviewAdmin(ViewOnlyAdmin):
    list_display = ["version", "decision", "reviewer", "created"]
    list_filter = ["decision"]
    inlines = [RatingInline]


@admin.register(Approval)
class ApprovalAdmin(ViewOnlyAdmin):
    list_display = ["version", "use", "recognizer", "created", "withdrawn_at"]
    list_filter = ["use", "recognizer"]


@admin.register(StandardFramework)
class StandardFrameworkAdmin(ViewOnlyAdmin):
    list_display = ["title", "publisher", "version", "adoption_status", "imported"]
    search_fields = ["title", "publisher"]


@admin.register(StandardItem)
class StandardItemAdmin(ViewOnlyAdmin):
    list_display = ["human_coding_scheme", "abbreviated_statement", "framework"]
    list_filter = ["framework"]
    search_fields = ["human_coding_scheme", "full_statement", "abbreviated_statement"]


@admin.register(StandardAssociation)
class StandardAssociationAdmin(ViewOnlyAdmin):
    list_display = ["association_type", "origin_identifier", "destination_identifier"]
    list_filter = ["association_type"]

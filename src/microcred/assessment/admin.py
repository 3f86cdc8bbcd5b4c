"""Django admin for assessment, for superusers.

Profiles, declared conflicts and coaching relationships may be edited here. Assignments,
scores, decisions and awards are records of what happened (scores and awards never change:
invariants 3 and 5), so the admin shows them and changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import (
    AssessorProfile,
    Assignment,
    Award,
    CoachingRelationship,
    ComponentScore,
    Decision,
    DeclaredConflict,
    Score,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DeclaredConflictInline(admin.TabularInline):
    model = DeclaredConflict
    extra = 0
    raw_id_fields = ["user"]


@admin.register(AssessorProfile)
class AssessorProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "home_organization", "weekly_capacity", "active"]
    list_filter = ["active"]
    search_fields = ["user__email", "user__last_name"]
    raw_id_fields = ["user"]
    filter_horizontal = ["qualified_micro_credentials", "qualified_stacks"]
    inlines = [DeclaredConflictInline]


@admin.register(CoachingRelationship)
class CoachingRelationshipAdmin(admin.ModelAdmin):
    list_display = ["coach", "earner", "created", "ended"]
    raw_id_fields = ["coach", "earner"]
    search_fields = ["coach__email", "earner__email"]


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ["submission", "assessor", "kind", "status", "assigned_at", "due_at"]
    list_filter = ["status", "kind"]


class ComponentScoreInline(admin.TabularInline):
    model = ComponentScore
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Score)
class ScoreAdmin(ReadOnlyAdmin):
    list_display = ["assignment", "total_points", "band", "passed", "submitted_at"]
    inlines = [ComponentScoreInline]


@admin.register(ComponentScore)
class ComponentScoreAdmin(ReadOnlyAdmin):
    list_display = ["score", "rubric_component", "points"]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["submission", "outcome", "total_points", "band", "decided_at"]
    list_filter = ["outcome"]


@admin.register(Award)
class AwardAdmin(ReadOnlyAdmin):
    list_display = ["earner", "attempt", "decision", "created"]
    search_fields = ["earner__email"]

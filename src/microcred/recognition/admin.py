"""Django admin for recognition, for superusers: to look, not to change. Policies change
through their pages (versions, audited); ledger entries never change their figures, and a
correction is a reversing entry, so the admin shows them and changes nothing."""

from __future__ import annotations

from django.contrib import admin

from microcred.assessment.admin import ReadOnlyAdmin

from .models import (
    ExternalCredential,
    LedgerEntry,
    LedgerExport,
    License,
    RecognitionPolicy,
    RecognitionRule,
    RenewalCycle,
)


class RuleInline(admin.TabularInline):
    model = RecognitionRule
    extra = 0
    can_delete = False
    fields = ("kind", "__str__")
    readonly_fields = ("kind", "__str__")

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(RecognitionPolicy)
class PolicyAdmin(ReadOnlyAdmin):
    list_display = ("name", "number", "recognizer", "status", "effective_from", "effective_until")
    list_filter = ("status", "recognizer")
    search_fields = ("name", "recognizer__name")
    inlines = [RuleInline]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("pk", "educator", "kind", "quantity", "amount", "status", "title", "earned_on")
    list_filter = ("status", "kind", "policy__recognizer")
    search_fields = ("educator__email", "title")
    raw_id_fields = ("educator", "credential", "external", "policy", "rule", "reverses", "export")


@admin.register(LedgerExport)
class LedgerExportAdmin(ReadOnlyAdmin):
    list_display = ("pk", "recognizer", "created", "entry_count", "created_by")


class CycleInline(admin.TabularInline):
    model = RenewalCycle
    extra = 0
    can_delete = False
    readonly_fields = ("starts_on", "ends_on", "ceus_required", "mcs_required", "reminders_sent")

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(License)
class LicenseAdmin(ReadOnlyAdmin):
    list_display = ("number", "educator", "area", "state")
    search_fields = ("number", "educator__email")
    inlines = [CycleInline]


@admin.register(ExternalCredential)
class ExternalCredentialAdmin(ReadOnlyAdmin):
    list_display = ("name", "issuer_name", "educator", "recognizer", "status", "uploaded")
    list_filter = ("status",)
    exclude = ("document",)

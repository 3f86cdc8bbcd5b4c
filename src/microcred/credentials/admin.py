"""Django admin for superusers: issuer profiles with their public keys, status lists.

Read-mostly: keys are made and rotated by services (so they are sealed and audited), never
typed in here, and the sealed seeds are never shown.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from microcred.orgs.admin import AuditedAdmin

from .models import IssuerKey, IssuerProfile, StatusList


class IssuerKeyInline(admin.TabularInline):
    model = IssuerKey
    fields = ("number", "public_key_multibase", "created", "retired_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(IssuerProfile)
class IssuerProfileAdmin(AuditedAdmin):
    list_display = ("name", "slug", "organization", "identifier_method", "created")
    search_fields = ("name", "slug", "organization__name")
    readonly_fields = ("slug", "organization", "created", "updated")
    inlines = [IssuerKeyInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # set up from the issuers page, which makes the first key

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # issued credentials name the issuer and its keys


@admin.register(StatusList)
class StatusListAdmin(admin.ModelAdmin):
    list_display = ("uuid", "issuer", "purpose", "next_position", "size", "updated")
    list_filter = ("purpose",)
    fields = ("uuid", "issuer", "purpose", "next_position", "size", "created", "updated")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

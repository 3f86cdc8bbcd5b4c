"""Django admin for superusers: people (by email), organizations, memberships, the audit log.

The management pages (orgs/views.py) are where program admins work; the admin is the
superuser's tool for repairs. The audit log is read-only here as everywhere.
"""

from __future__ import annotations

from typing import Any

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.http import HttpRequest

from . import services
from .models import AuditEvent, Membership, Organization, User


def _organization_of(obj: Any) -> Organization | None:
    if isinstance(obj, Organization):
        return obj
    return getattr(obj, "organization", None)


class AuditedAdmin(admin.ModelAdmin):
    """Superusers' repairs leave audit events too (the admin view's transaction holds both)."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        services.record_audit(
            request.user,
            f"admin.{'changed' if change else 'added'}",
            obj,
            organization=_organization_of(obj),
            data={"fields": list(form.changed_data)},
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.record_audit(
            request.user, "admin.deleted", obj, organization=_organization_of(obj)
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            services.record_audit(
                request.user, "admin.deleted", obj, organization=_organization_of(obj)
            )
            obj.delete()
        for obj in instances:
            added = obj.pk is None
            obj.save()
            services.record_audit(
                request.user,
                f"admin.{'added' if added else 'changed'}",
                obj,
                organization=_organization_of(obj),
            )
        formset.save_m2m()


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    readonly_fields = ["created"]


class UserMembershipInline(MembershipInline):
    autocomplete_fields = ["organization"]
    fields = ["organization", "role", "active", "created"]


class OrganizationMembershipInline(MembershipInline):
    autocomplete_fields = ["user"]
    fields = ["user", "role", "active", "created"]


class EmailUserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class EmailUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
    form = EmailUserChangeForm
    add_form = EmailUserCreationForm
    inlines = [UserMembershipInline]
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_active", "is_staff", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser", "memberships__role"]
    search_fields = ["email", "first_name", "last_name", "display_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Name", {"fields": ("first_name", "last_name", "display_name")}),
        (
            "Access",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
    )

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        # First the account, by email; roles are added on its page once it exists.
        return self.inlines if obj is not None else []


@admin.register(Organization)
class OrganizationAdmin(AuditedAdmin):
    list_display = ["name", "kind", "parent", "code", "region", "active"]
    list_filter = ["kind", "active", "locale", "size", "low_wealth"]
    search_fields = ["name", "slug", "code"]
    autocomplete_fields = ["parent"]
    prepopulated_fields = {"slug": ("name",)}
    inlines = [OrganizationMembershipInline]


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ["user", "role", "organization", "active", "created"]
    list_filter = ["role", "active", "organization__kind"]
    search_fields = ["user__email", "organization__name", "organization__slug"]
    autocomplete_fields = ["user", "organization"]
    list_select_related = ["user", "organization"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: audit events are append-only (the model refuses changes too)."""

    list_display = ["created", "actor", "action", "target_label", "organization"]
    list_filter = ["action", "target_type"]
    search_fields = ["target_label", "actor__email", "target_id", "reason"]
    list_select_related = ["actor", "organization"]
    date_hierarchy = "created"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# The admin's own sign-in form checks a password and nothing else: no second factor, no
# rate limit. Signing in goes through allauth's page instead (lockouts, MFA); a signed-in
# non-staff user is refused, a staff user goes straight on to the admin.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

"""Django admin: superusers manage people by email; the audit log is read-only there."""

from __future__ import annotations

import pytest
from django.urls import reverse

from microcred.orgs import services
from microcred.orgs.models import AuditEvent, Role, User


@pytest.fixture
def event(org_tree, superuser) -> AuditEvent:
    return services.record_audit(
        superuser, "test.thing", org_tree["lea1"], organization=org_tree["lea1"]
    )


@pytest.mark.parametrize("model", ["user", "organization", "membership", "auditevent"])
def test_superuser_sees_every_list_and_record(client, superuser, org_tree, teacher, event, model):
    client.force_login(superuser)
    assert client.get(reverse(f"admin:orgs_{model}_changelist")).status_code == 200
    obj = {
        "user": teacher,
        "organization": org_tree["lea1"],
        "membership": teacher.memberships.get(),
        "auditevent": event,
    }[model]
    assert client.get(reverse(f"admin:orgs_{model}_change", args=[obj.pk])).status_code == 200


def test_program_admins_without_staff_status_are_kept_out(client, lea_admin):
    client.force_login(lea_admin)
    response = client.get(reverse("admin:orgs_user_changelist"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_superuser_adds_a_user_by_email(client, superuser):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:orgs_user_add"),
        {
            "email": "added@example.org",
            "usable_password": "true",
            "password1": "a-long-Pass-phrase-9",
            "password2": "a-long-Pass-phrase-9",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(email="added@example.org")
    assert user.check_password("a-long-Pass-phrase-9")
    assert AuditEvent.objects.filter(
        action="admin.added", target_id=str(user.pk), actor=superuser
    ).exists()


def test_membership_changes_in_the_admin_are_audited(client, superuser, org_tree, teacher):
    membership = teacher.memberships.get()
    client.force_login(superuser)
    response = client.post(
        reverse("admin:orgs_membership_change", args=[membership.pk]),
        {
            "user": teacher.pk,
            "organization": org_tree["school1"].pk,
            "role": Role.COACH,
        },
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert (membership.role, membership.active) == (Role.COACH, False)
    event = AuditEvent.objects.get(action="admin.changed")
    assert event.organization == org_tree["school1"]
    assert set(event.data["fields"]) == {"role", "active"}


def test_audit_events_cannot_be_added_changed_or_deleted(client, superuser, event):
    client.force_login(superuser)
    assert client.get(reverse("admin:orgs_auditevent_add")).status_code == 403
    change_url = reverse("admin:orgs_auditevent_change", args=[event.pk])
    client.post(change_url, {"action": "rewritten", "reason": "rewritten"})
    assert client.get(reverse("admin:orgs_auditevent_delete", args=[event.pk])).status_code == 403
    client.post(
        reverse("admin:orgs_auditevent_changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    event.refresh_from_db()
    assert (event.action, event.reason) == ("test.thing", "")

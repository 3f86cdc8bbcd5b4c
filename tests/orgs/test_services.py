"""Services: organizations and memberships change only through them, each change audited."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from microcred.orgs import services
from microcred.orgs.models import AuditEvent, Membership, Organization, Role, User

K = Organization.Kind


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


class TestCreateOrganization:
    def test_district_admin_adds_a_school_and_it_is_audited(self, org_tree, lea_admin):
        school = services.create_organization(
            lea_admin, kind=K.SCHOOL, name="Pine High", parent=org_tree["lea1"], code="3700099"
        )
        assert school.slug == "pine-high"
        assert school.parent == org_tree["lea1"]
        [event] = events("organization.created")
        assert event.actor == lea_admin
        assert event.organization == school
        assert event.target_id == str(school.pk)

    def test_slug_is_made_unique(self, org_tree, lea_admin, state_admin):
        services.create_organization(
            lea_admin, kind=K.SCHOOL, name="Lincoln Elementary", parent=org_tree["lea1"]
        )
        second = services.create_organization(
            state_admin, kind=K.SCHOOL, name="Lincoln Elementary", parent=org_tree["lea2"]
        )
        assert second.slug == "lincoln-elementary-oak"

    def test_school_outside_reach_is_refused_and_nothing_is_written(self, org_tree, lea_admin):
        with pytest.raises(PermissionDenied):
            services.create_organization(
                lea_admin, kind=K.SCHOOL, name="Oak High", parent=org_tree["lea2"]
            )
        assert not Organization.objects.filter(name="Oak High").exists()
        assert not AuditEvent.objects.exists()

    def test_only_state_admins_add_top_level_providers_and_nobody_a_state(
        self, org_tree, state_admin
    ):
        provider = services.create_organization(state_admin, kind=K.PROVIDER, name="New Lab")
        assert provider.parent is None
        with pytest.raises(ValidationError) as exc:
            services.create_organization(state_admin, kind=K.STATE_AGENCY, name="Shadow DPI")
        assert "parent" in exc.value.message_dict
        assert not Organization.objects.filter(name="Shadow DPI").exists()

    def test_wrong_parent_kind_names_the_field(self, org_tree, state_admin):
        with pytest.raises(ValidationError) as exc:
            services.create_organization(
                state_admin, kind=K.SCHOOL, name="Floating School", parent=org_tree["state"]
            )
        assert exc.value.message_dict["parent"] == [
            "A School cannot be part of State DPI (a State agency). It can be part of: "
            "District (LEA)."
        ]

    def test_district_facts_on_a_school_name_each_field(self, org_tree, state_admin):
        with pytest.raises(ValidationError) as exc:
            services.create_organization(
                state_admin,
                kind=K.SCHOOL,
                name="X",
                locale="rural",
                size="small",
                parent=org_tree["lea1"],
            )
        assert set(exc.value.message_dict) == {"locale", "size"}

    def test_same_name_twice_in_a_district_is_refused_in_plain_words(self, org_tree, lea_admin):
        with pytest.raises(ValidationError) as exc:
            services.create_organization(
                lea_admin, kind=K.SCHOOL, name="pine elementary", parent=org_tree["lea1"]
            )
        assert exc.value.message_dict["name"] == [
            "There is already a School named pine elementary in Pine County Schools."
        ]
        assert Organization.objects.filter(parent=org_tree["lea1"]).count() == 1

    def test_duplicate_code_is_refused(self, org_tree, state_admin):
        services.create_organization(
            state_admin, kind=K.SCHOOL, name="A", code="111", parent=org_tree["lea1"]
        )
        with pytest.raises(ValidationError) as exc:
            services.create_organization(
                state_admin, kind=K.SCHOOL, name="B", code="111", parent=org_tree["lea2"]
            )
        assert exc.value.message_dict["code"] == ["Another School already uses the code 111."]

    def test_database_refuses_twins_even_past_the_checks(self, org_tree):
        from django.db import IntegrityError, transaction

        with pytest.raises(IntegrityError), transaction.atomic():
            Organization.objects.create(
                kind=K.SCHOOL, name="PINE ELEMENTARY", slug="twin", parent=org_tree["lea1"]
            )
        with pytest.raises(IntegrityError), transaction.atomic():
            Organization.objects.create(kind=K.PROVIDER, name="learning forward lab", slug="twin2")

    def test_taken_or_reserved_slug_is_refused(self, org_tree, state_admin):
        for slug in ["pine", "new"]:
            with pytest.raises(ValidationError) as exc:
                services.create_organization(
                    state_admin, kind=K.PROVIDER, name="Some Lab", slug=slug
                )
            assert "slug" in exc.value.message_dict


class TestUpdateOrganization:
    def test_changes_are_saved_and_audited_with_before_and_after(self, org_tree, lea_admin):
        changed = services.update_organization(
            lea_admin, org_tree["lea1"], region="Mountains", size="medium"
        )
        assert sorted(changed) == ["region", "size"]
        org_tree["lea1"].refresh_from_db()
        assert org_tree["lea1"].region == "Mountains"
        [event] = events("organization.updated")
        assert event.data["region"] == {"from": "West", "to": "Mountains"}

    def test_saving_without_changes_writes_nothing(self, org_tree, lea_admin):
        assert services.update_organization(lea_admin, org_tree["lea1"], region="West") == []
        assert not AuditEvent.objects.exists()

    def test_cannot_move_a_school_out_of_reach(self, org_tree, lea_admin):
        with pytest.raises(ValidationError) as exc:
            services.update_organization(lea_admin, org_tree["school1"], parent=org_tree["lea2"])
        assert "parent" in exc.value.message_dict
        org_tree["school1"].refresh_from_db()
        assert org_tree["school1"].parent == org_tree["lea1"]
        assert not AuditEvent.objects.exists()

    def test_other_districts_cannot_be_edited(self, org_tree, lea_admin):
        with pytest.raises(PermissionDenied):
            services.update_organization(lea_admin, org_tree["lea2"], region="Nowhere")
        org_tree["lea2"].refresh_from_db()
        assert org_tree["lea2"].region == "East"


class TestMemberships:
    def test_new_email_gets_an_account_a_role_and_an_invitation(
        self, org_tree, lea_admin, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            result = services.add_membership(
                lea_admin, org_tree["school1"], email=" New.Teacher@Example.org ", role=Role.EARNER
            )
        user = User.objects.get(email="new.teacher@example.org")
        assert result.user_created and result.outcome == "added"
        assert not user.has_usable_password()
        assert [m.role for m in user.memberships.all()] == [Role.EARNER]
        assert {e.action for e in AuditEvent.objects.all()} == {"user.invited", "membership.added"}
        [message] = mail.outbox
        assert message.to == ["new.teacher@example.org"]
        assert "/accounts/password/reset/key/" in message.body

    def test_role_must_fit_the_kind_of_organization(self, org_tree, lea_admin):
        with pytest.raises(ValidationError) as exc:
            services.add_membership(
                lea_admin, org_tree["lea1"], email="p@example.org", role=Role.PRINCIPAL
            )
        assert exc.value.message_dict["role"] == [
            "The role Principal cannot be held at a District (LEA); it can be held at: School."
        ]
        assert not User.objects.filter(email="p@example.org").exists()

    def test_adding_the_same_role_twice_is_refused(self, org_tree, lea_admin, teacher):
        with pytest.raises(ValidationError) as exc:
            services.add_membership(
                lea_admin, org_tree["school1"], email=teacher.email, role=Role.EARNER
            )
        assert "already holds the role Earner" in exc.value.messages[0]
        assert Membership.objects.filter(user=teacher).count() == 1
        assert not AuditEvent.objects.exists()

    def test_removed_role_is_restored_not_duplicated(self, org_tree, lea_admin, teacher):
        membership = teacher.memberships.get()
        assert services.deactivate_membership(lea_admin, membership, reason="left the school")
        membership.refresh_from_db()
        assert not membership.active
        [removed] = events("membership.removed")
        assert removed.reason == "left the school"
        result = services.add_membership(
            lea_admin, org_tree["school1"], email=teacher.email, role=Role.EARNER
        )
        assert result.outcome == "restored"
        assert Membership.objects.filter(user=teacher).count() == 1
        assert len(events("membership.restored")) == 1

    def test_removing_twice_changes_nothing_the_second_time(self, org_tree, lea_admin, teacher):
        membership = teacher.memberships.get()
        assert services.deactivate_membership(lea_admin, membership)
        assert not services.deactivate_membership(lea_admin, membership)
        assert len(events("membership.removed")) == 1

    def test_admins_cannot_remove_their_own_admin_role(self, lea_admin):
        with pytest.raises(ValidationError):
            services.deactivate_membership(lea_admin, lea_admin.memberships.get())
        assert lea_admin.memberships.get().active

    def test_people_outside_reach_cannot_be_changed(self, org_tree, lea_admin, make_user):
        other = make_user(Role.EARNER, org_tree["school2"])
        with pytest.raises(PermissionDenied):
            services.deactivate_membership(lea_admin, other.memberships.get())
        with pytest.raises(PermissionDenied):
            services.add_membership(
                lea_admin, org_tree["school2"], email="x@example.org", role=Role.EARNER
            )
        assert other.memberships.get().active
        assert not User.objects.filter(email="x@example.org").exists()

    def test_bad_email_is_refused(self, org_tree, lea_admin):
        with pytest.raises(ValidationError) as exc:
            services.add_membership(
                lea_admin, org_tree["school1"], email="not-an-email", role=Role.EARNER
            )
        assert exc.value.message_dict["email"] == ["'not-an-email' is not a valid email address."]


class TestAuditEventsAreAppendOnly:
    @pytest.fixture
    def event(self, org_tree, lea_admin) -> AuditEvent:
        return services.record_audit(
            lea_admin, "test.thing", org_tree["lea1"], organization=org_tree["lea1"]
        )

    def test_saving_again_raises(self, event):
        event.reason = "rewritten"
        with pytest.raises(PermissionError):
            event.save()

    def test_deleting_raises(self, event):
        with pytest.raises(PermissionError):
            event.delete()
        with pytest.raises(PermissionError):
            AuditEvent.objects.filter(pk=event.pk).delete()

    def test_bulk_update_raises(self, event):
        with pytest.raises(PermissionError):
            AuditEvent.objects.filter(pk=event.pk).update(reason="rewritten")
        event.refresh_from_db()
        assert event.reason == ""


def test_invitation_is_not_sent_when_the_transaction_rolls_back(
    org_tree, lea_admin, django_capture_on_commit_callbacks
):
    from django.db import transaction

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.add_membership(
            lea_admin, org_tree["school1"], email="gone@example.org", role=Role.EARNER
        )
        raise RuntimeError("crash after the write")
    assert not User.objects.filter(email="gone@example.org").exists()
    assert mail.outbox == []


def test_the_same_email_added_twice_at_once_gets_a_message_not_an_error(
    org_tree, lea_admin, teacher, monkeypatch
):
    # The second request looked before the first committed: it did not see the account.
    monkeypatch.setattr(services, "_find_user", lambda email: None)
    with pytest.raises(ValidationError) as exc:
        services.add_membership(
            lea_admin, org_tree["school1"], email=teacher.email, role=Role.COACH
        )
    assert exc.value.message_dict["email"] == [services.RACE_MESSAGE]
    assert Membership.objects.filter(user=teacher).count() == 1
    assert not AuditEvent.objects.exists()

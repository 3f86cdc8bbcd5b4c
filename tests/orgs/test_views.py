"""The management pages over HTTP: every view with a user who may and one who may not."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from microcred.orgs import views
from microcred.orgs.models import AuditEvent, Membership, Organization, Role, User

K = Organization.Kind


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def snapshot() -> tuple[int, int, int, int]:
    return (
        User.objects.count(),
        Membership.objects.count(),
        Organization.objects.count(),
        AuditEvent.objects.count(),
    )


# --- Anonymous visitors and outsiders --------------------------------------------------------

GET_URLS = [
    ("orgs:manage", []),
    ("orgs:create", []),
    ("orgs:detail", ["pine"]),
    ("orgs:edit", ["pine"]),
    ("orgs:audit", []),
    ("orgs:import", []),
    ("orgs:import_review", ["some-token"]),
    ("orgs:import_template", ["people"]),
]
POST_URLS = [
    ("orgs:create", []),
    ("orgs:edit", ["pine"]),
    ("orgs:membership_add", ["pine"]),
    ("orgs:membership_remove", ["pine", 1]),
    ("orgs:import", []),
    ("orgs:import_review", ["some-token"]),
]


@pytest.mark.parametrize(("name", "args"), GET_URLS)
def test_anonymous_visitors_are_sent_to_sign_in(client, org_tree, name, args):
    url = reverse(name, args=args)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={url}"


@pytest.mark.parametrize(("name", "args"), POST_URLS)
def test_anonymous_posts_change_nothing(client, org_tree, name, args):
    before = snapshot()
    response = client.post(reverse(name, args=args), {"name": "X", "kind": "school"})
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]
    assert snapshot() == before


@pytest.mark.parametrize(("name", "args"), GET_URLS)
def test_teachers_are_refused_the_management_pages(client, org_tree, teacher, name, args):
    client.force_login(teacher)
    assert client.get(reverse(name, args=args)).status_code == 403


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("orgs:detail", ["oak"]),
        ("orgs:edit", ["oak"]),
        ("orgs:detail", ["oak-ms"]),
        ("orgs:edit", ["dpi"]),
    ],
)
def test_district_admins_are_refused_other_organizations(client, org_tree, lea_admin, name, args):
    client.force_login(lea_admin)
    assert client.get(reverse(name, args=args)).status_code == 403


def test_unknown_organization_is_404(client, org_tree, state_admin):
    client.force_login(state_admin)
    assert client.get(reverse("orgs:detail", args=["nope"])).status_code == 404


# --- The organization tree -------------------------------------------------------------------


class TestManage:
    def test_state_admin_sees_the_whole_tree_with_member_counts(
        self, client, org_tree, state_admin, teacher, make_user
    ):
        make_user(Role.COACH, org_tree["school1"])
        client.force_login(state_admin)
        response = client.get(reverse("orgs:manage"))
        assert response.status_code == 200
        roots = response.context["tree"]
        assert [node.organization.slug for node in roots] == ["dpi", "lfl", "other", "guild"]
        state = roots[0]
        assert [n.organization.slug for n in state.children] == ["oak", "pine", "issuer"]
        pine = state.children[1]
        assert [(n.organization.slug, n.member_count) for n in pine.children] == [("pine-es", 2)]
        assert state.member_count == 1  # the state admin
        assert "Pine Elementary" in text_of(response)

    def test_district_admin_sees_only_their_district(self, client, org_tree, lea_admin):
        client.force_login(lea_admin)
        response = client.get(reverse("orgs:manage"))
        [root] = response.context["tree"]
        assert root.organization == org_tree["lea1"]
        assert "Oak City Schools" not in text_of(response)

    def test_query_count_does_not_grow_with_the_number_of_organizations(
        self, client, org_tree, state_admin
    ):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client.force_login(state_admin)
        with CaptureQueriesContext(connection) as small:
            client.get(reverse("orgs:manage"))
        for i in range(30):
            school = Organization.objects.create(
                kind=K.SCHOOL, name=f"School {i}", slug=f"s{i}", parent=org_tree["lea2"]
            )
            Membership.objects.create(
                user=User.objects.create_user(email=f"t{i}@example.org"),
                organization=school,
                role=Role.EARNER,
            )
        with CaptureQueriesContext(connection) as large:
            response = client.get(reverse("orgs:manage"))
        assert "School 29" in text_of(response)
        assert len(large.captured_queries) == len(small.captured_queries)

    def test_search_finds_by_name_or_code_within_reach(self, client, org_tree, lea_admin):
        Organization.objects.filter(pk=org_tree["school2"].pk).update(code="ABC")
        client.force_login(lea_admin)
        found = client.get(reverse("orgs:manage"), {"q": "elementary"}).context["results"]
        assert [org.slug for org in found] == ["pine-es"]
        hidden = client.get(reverse("orgs:manage"), {"q": "ABC"}).context["results"]
        assert list(hidden) == []


# --- Creating and editing organizations ---------------------------------------------------------


class TestCreate:
    def data(self, org_tree, **extra):
        return {
            "name": "Pine High",
            "kind": K.SCHOOL,
            "parent": org_tree["lea1"].pk,
            "code": "",
            "region": "",
            "locale": "",
            "size": "",
            "website": "",
            **extra,
        }

    def test_district_admin_adds_a_school(self, client, org_tree, lea_admin):
        client.force_login(lea_admin)
        response = client.post(reverse("orgs:create"), self.data(org_tree))
        school = Organization.objects.get(name="Pine High")
        assert response.status_code == 302
        assert response["Location"] == reverse("orgs:detail", args=[school.slug])
        assert AuditEvent.objects.filter(
            action="organization.created", target_id=str(school.pk)
        ).exists()

    def test_posting_twice_does_not_create_a_twin(self, client, org_tree, lea_admin):
        client.force_login(lea_admin)
        client.post(reverse("orgs:create"), self.data(org_tree))
        response = client.post(reverse("orgs:create"), self.data(org_tree))
        assert response.status_code == 200
        assert "There is already a School named Pine High in Pine County Schools." in text_of(
            response
        )
        assert Organization.objects.filter(name="Pine High").count() == 1

    def test_parent_outside_reach_is_refused(self, client, org_tree, lea_admin):
        client.force_login(lea_admin)
        before = snapshot()
        response = client.post(
            reverse("orgs:create"), self.data(org_tree, parent=org_tree["lea2"].pk)
        )
        assert response.status_code == 200
        assert response.context["form"].errors["parent"]
        assert snapshot() == before

    def test_top_level_is_refused_to_district_admins(self, client, org_tree, lea_admin):
        client.force_login(lea_admin)
        response = client.post(
            reverse("orgs:create"), self.data(org_tree, kind=K.PROVIDER, parent="")
        )
        assert "Choose what the organization is part of." in text_of(response)
        assert not Organization.objects.filter(name="Pine High").exists()

    def test_top_level_by_state_admin_is_allowed_for_providers_only(
        self, client, org_tree, state_admin
    ):
        client.force_login(state_admin)
        client.post(reverse("orgs:create"), self.data(org_tree, kind=K.PROVIDER, parent=""))
        assert Organization.objects.get(name="Pine High").parent is None
        response = client.post(
            reverse("orgs:create"),
            self.data(org_tree, name="Shadow DPI", kind=K.STATE_AGENCY, parent=""),
        )
        assert response.context["form"].errors["kind"]  # not offered to state admins
        assert not Organization.objects.filter(name="Shadow DPI").exists()

    def test_district_admin_starts_in_their_district(self, client, org_tree, lea_admin):
        client.force_login(lea_admin)
        form = client.get(reverse("orgs:create")).context["form"]
        assert form.initial == {"parent": org_tree["lea1"], "kind": K.SCHOOL}

    def test_model_validation_names_the_field(self, client, org_tree, lea_admin):
        client.force_login(lea_admin)
        response = client.post(reverse("orgs:create"), self.data(org_tree, locale="rural"))
        form = response.context["form"]
        assert form.errors["locale"] == [
            "Only districts have a locale; leave it empty for a School."
        ]
        html = text_of(response)
        assert 'class="error-summary"' in html and 'href="#id_locale"' in html
        assert not Organization.objects.filter(name="Pine High").exists()

    def test_parent_from_the_link_is_preselected(self, client, org_tree, lea_admin):
        client.force_login(lea_admin)
        form = client.get(reverse("orgs:create"), {"parent": "pine"}).context["form"]
        assert form.initial == {"parent": org_tree["lea1"], "kind": K.SCHOOL}


class TestEdit:
    def data(self, org, **extra):
        values = {
            "name": org.name,
            "parent": org.parent_id or "",
            "code": org.code,
            "region": org.region,
            "locale": org.locale,
            "size": org.size,
            "website": org.website,
        }
        if org.low_wealth:
            values["low_wealth"] = "on"
        return {**values, **extra}

    def test_district_admin_edits_their_district(self, client, org_tree, lea_admin):
        client.force_login(lea_admin)
        lea = org_tree["lea1"]
        response = client.post(
            reverse("orgs:edit", args=["pine"]), self.data(lea, region="Mountains")
        )
        assert response.status_code == 302
        lea.refresh_from_db()
        assert lea.region == "Mountains" and lea.low_wealth
        assert AuditEvent.objects.filter(action="organization.updated").count() == 1

    def test_saving_an_unchanged_form_twice_records_nothing(self, client, org_tree, lea_admin):
        client.force_login(lea_admin)
        for _ in range(2):
            client.post(reverse("orgs:edit", args=["pine"]), self.data(org_tree["lea1"]))
        assert not AuditEvent.objects.exists()

    def test_other_district_cannot_be_edited_by_post(self, client, org_tree, lea_admin):
        client.force_login(lea_admin)
        response = client.post(
            reverse("orgs:edit", args=["oak"]), self.data(org_tree["lea2"], region="Hacked")
        )
        assert response.status_code == 403
        org_tree["lea2"].refresh_from_db()
        assert org_tree["lea2"].region == "East"

    def test_kind_cannot_be_changed(self, client, org_tree, state_admin):
        client.force_login(state_admin)
        client.post(
            reverse("orgs:edit", args=["pine"]), self.data(org_tree["lea1"], kind=K.PROVIDER)
        )
        org_tree["lea1"].refresh_from_db()
        assert org_tree["lea1"].kind == K.LEA


# --- People -------------------------------------------------------------------------------


class TestDetailAndMemberships:
    def test_admin_sees_people_and_schools(self, client, org_tree, lea_admin, teacher):
        client.force_login(lea_admin)
        response = client.get(reverse("orgs:detail", args=["pine-es"]))
        assert response.status_code == 200
        assert teacher.email in text_of(response)
        members = client.get(reverse("orgs:detail", args=["pine"])).context
        assert [c.slug for c in members["children"]] == ["pine-es"]

    def test_member_sees_the_organization_but_not_its_people(
        self, client, org_tree, teacher, make_user
    ):
        colleague = make_user(Role.EARNER, org_tree["school1"], email="colleague@example.org")
        client.force_login(teacher)
        response = client.get(reverse("orgs:detail", args=["pine-es"]))
        assert response.status_code == 200
        assert colleague.email not in text_of(response)
        assert not response.context["can_manage"]

    def test_add_a_person_by_email(
        self, client, org_tree, lea_admin, django_capture_on_commit_callbacks, mailoutbox
    ):
        client.force_login(lea_admin)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("orgs:membership_add", args=["pine-es"]),
                {"email": "new@example.org", "role": Role.COACH},
            )
        assert response.status_code == 302
        user = User.objects.get(email="new@example.org")
        assert user.memberships.get().organization == org_tree["school1"]
        assert [m.to for m in mailoutbox] == [["new@example.org"]]

    def test_posting_the_same_person_twice_does_not_duplicate(self, client, org_tree, lea_admin):
        client.force_login(lea_admin)
        data = {"email": "new@example.org", "role": Role.COACH}
        client.post(reverse("orgs:membership_add", args=["pine-es"]), data)
        response = client.post(reverse("orgs:membership_add", args=["pine-es"]), data)
        assert response.status_code == 400
        assert "already holds the role Coach here" in text_of(response)
        assert Membership.objects.filter(user__email="new@example.org").count() == 1

    def test_role_that_does_not_fit_gets_a_clear_message(self, client, org_tree, lea_admin):
        client.force_login(lea_admin)
        before = snapshot()
        response = client.post(
            reverse("orgs:membership_add", args=["pine"]),
            {"email": "new@example.org", "role": Role.PRINCIPAL},
        )
        assert response.status_code == 400
        assert (
            "The role Principal cannot be held at a District (LEA); it can be held at: School."
        ) in text_of(response)
        assert snapshot() == before

    def test_adding_people_outside_reach_is_refused(self, client, org_tree, lea_admin):
        client.force_login(lea_admin)
        before = snapshot()
        response = client.post(
            reverse("orgs:membership_add", args=["oak-ms"]),
            {"email": "new@example.org", "role": Role.EARNER},
        )
        assert response.status_code == 403
        assert snapshot() == before

    def test_members_cannot_add_people(self, client, org_tree, teacher):
        client.force_login(teacher)
        response = client.post(
            reverse("orgs:membership_add", args=["pine-es"]),
            {"email": "new@example.org", "role": Role.EARNER},
        )
        assert response.status_code == 403
        assert not User.objects.filter(email="new@example.org").exists()

    def test_adding_needs_post(self, client, org_tree, lea_admin):
        client.force_login(lea_admin)
        assert client.get(reverse("orgs:membership_add", args=["pine-es"])).status_code == 405

    def test_remove_a_role(self, client, org_tree, lea_admin, teacher):
        client.force_login(lea_admin)
        membership = teacher.memberships.get()
        url = reverse("orgs:membership_remove", args=["pine-es", membership.pk])
        assert client.post(url).status_code == 302
        membership.refresh_from_db()
        assert not membership.active
        client.post(url)  # a second click
        assert AuditEvent.objects.filter(action="membership.removed").count() == 1

    def test_removing_outside_reach_is_refused(self, client, org_tree, lea_admin, make_user):
        other = make_user(Role.EARNER, org_tree["school2"]).memberships.get()
        client.force_login(lea_admin)
        url = reverse("orgs:membership_remove", args=["oak-ms", other.pk])
        assert client.post(url).status_code == 403
        # Naming an organization one manages does not reach a membership of another.
        url = reverse("orgs:membership_remove", args=["pine-es", other.pk])
        assert client.post(url).status_code == 404
        other.refresh_from_db()
        assert other.active
        assert not AuditEvent.objects.exists()


# --- Audit log ----------------------------------------------------------------------------


class TestAudit:
    def test_admin_sees_the_events_of_their_organizations_only(
        self, client, org_tree, lea_admin, state_admin
    ):
        from microcred.orgs import services

        services.update_organization(state_admin, org_tree["lea1"], region="Pine West")
        services.update_organization(state_admin, org_tree["lea2"], region="Oak East")
        client.force_login(lea_admin)
        response = client.get(reverse("orgs:audit"))
        assert [e.organization for e in response.context["page"]] == [org_tree["lea1"]]
        assert "Changed the organization's details" in text_of(response)
        assert client.get(reverse("orgs:audit"), {"org": "oak"}).status_code == 403
        assert client.get(reverse("orgs:audit"), {"org": "pine"}).status_code == 200

    def test_audit_log_is_paginated(self, client, org_tree, state_admin):
        from microcred.orgs import services

        for i in range(views.PAGE_SIZE + 5):
            services.record_audit(
                state_admin,
                "test.thing",
                org_tree["lea1"],
                organization=org_tree["lea1"],
                reason=f"r{i}",
            )
        client.force_login(state_admin)
        first = client.get(reverse("orgs:audit")).context["page"]
        second = client.get(reverse("orgs:audit"), {"page": 2}).context["page"]
        assert len(first) == views.PAGE_SIZE and len(second) == 5
        assert first[0].reason == f"r{views.PAGE_SIZE + 4}"  # newest first


# --- Import pages --------------------------------------------------------------------------


class TestImportPages:
    GOOD = (
        "email,first_name,last_name,role,organization\nana@example.org,Ana,Lopez,earner,pine-es\n"
    )

    def upload(self, client, csv_file, text, kind="people"):
        return client.post(reverse("orgs:import"), {"kind": kind, "file": csv_file(text)})

    def test_upload_check_confirm_and_no_second_import(self, client, org_tree, lea_admin, csv_file):
        client.force_login(lea_admin)
        response = self.upload(client, csv_file, self.GOOD)
        assert response.status_code == 302
        review_url = response["Location"]
        page = client.get(review_url)
        assert "<strong>1</strong> new account<" in text_of(page)
        assert "Import 1 row now" in text_of(page)
        assert not User.objects.filter(email="ana@example.org").exists()  # a dry run
        done = client.post(review_url)
        assert done.status_code == 302 and done["Location"] == reverse("orgs:manage")
        assert User.objects.get(email="ana@example.org").memberships.count() == 1
        before = snapshot()
        again = client.post(review_url)  # the confirmation posted twice
        assert again["Location"] == reverse("orgs:import")
        assert snapshot() == before

    def test_problems_are_listed_by_row_and_column_and_block_the_import(
        self, client, org_tree, lea_admin, csv_file
    ):
        client.force_login(lea_admin)
        response = self.upload(client, csv_file, self.GOOD + "bad,B,B,earner,oak-ms\n")
        page = client.get(response["Location"])
        html = text_of(page)
        assert "<td>3</td><td>email</td>" in html
        assert "'bad' is not a valid email address." in html
        assert "Oak Middle is outside the organizations you manage." in html
        assert "Import 1 row now" not in html
        before = snapshot()
        confirm = client.post(response["Location"])  # a forged confirmation
        assert confirm.status_code == 400
        assert snapshot() == before

    def test_unreadable_files_are_explained_on_the_upload_page(
        self, client, org_tree, lea_admin, csv_file
    ):
        client.force_login(lea_admin)
        response = self.upload(client, csv_file, "café,x\n".encode("latin-1"))
        assert response.status_code == 200
        assert "not saved as UTF-8" in text_of(response)
        assert views.IMPORT_SESSION_KEY not in client.session

    def test_a_file_without_the_columns_is_explained_before_anything_else(
        self, client, org_tree, lea_admin, csv_file
    ):
        client.force_login(lea_admin)
        review = self.upload(client, csv_file, "name,code,lea\nPine High,1,pine\n")["Location"]
        page = text_of(client.get(review))
        assert "Missing columns: email, first_name, last_name, role, organization." in page
        assert "now</button>" not in page

    def test_files_over_2_mb_are_refused(self, client, org_tree, lea_admin, csv_file):
        client.force_login(lea_admin)
        response = self.upload(client, csv_file, b"a" * (2 * 1024 * 1024 + 1))
        assert "The file is larger than 2 MB" in text_of(response)

    def test_the_review_needs_the_token_of_this_session(
        self, client, org_tree, lea_admin, csv_file
    ):
        client.force_login(lea_admin)
        self.upload(client, csv_file, self.GOOD)
        response = client.post(reverse("orgs:import_review", args=["guessed-token"]))
        assert response["Location"] == reverse("orgs:import")
        assert not User.objects.filter(email="ana@example.org").exists()

    def test_teachers_cannot_import(self, client, org_tree, teacher, csv_file):
        client.force_login(teacher)
        assert self.upload(client, csv_file, self.GOOD).status_code == 403
        assert not User.objects.filter(email="ana@example.org").exists()

    def test_rows_outside_reach_of_the_importer_are_refused(
        self, client, org_tree, make_user, csv_file
    ):
        oak_admin = make_user(Role.PROGRAM_ADMIN, org_tree["lea2"])
        client.force_login(oak_admin)
        review = self.upload(client, csv_file, self.GOOD)["Location"]
        assert client.post(review).status_code == 400
        assert not User.objects.filter(email="ana@example.org").exists()

    def test_example_files(self, client, org_tree, lea_admin):
        client.force_login(lea_admin)
        response = client.get(reverse("orgs:import_template", args=["schools"]))
        assert response["Content-Type"].startswith("text/csv")
        assert response.content.decode().startswith("name,code,lea,region\r\n")
        assert client.get(reverse("orgs:import_template", args=["x"])).status_code == 404

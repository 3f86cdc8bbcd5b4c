"""OneRoster 1.2 CSV rosters through the services: the sample roster's dry run, import,
second import (nothing changes) and export (the same rows back); removals; and every kind of
bad file, which gets a message naming the file, row and column and writes nothing."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core import mail

from microcred.orgs import oneroster, oneroster_export, services
from microcred.orgs.models import AuditEvent, Membership, Organization, Role, RosterRecord, User
from microcred.orgs.oneroster import KEPT, ORGS, ROLES, USERS

from .oneroster_helpers import edit_rows, roster_zip, rows_of, sample_files, to_csv

KIND = "oneroster"
# The sample's rows microcred keeps: students (s-*), their roles and the district
# administrator (admin rights are never given by a file) are skipped.
SKIPPED = {"s-1001", "s-1002", "s-1003", "u-brooks", "r-9", "r-10", "r-11", "r-12"}


def text_of(data: bytes) -> str:
    text, problems = oneroster.encode_upload(data)
    assert problems == []
    return text


def preview(actor, data: bytes | None = None) -> oneroster.RosterPlan:
    return services.preview_import(actor, KIND, text_of(data or roster_zip()))


def run(actor, data: bytes | None = None) -> oneroster.RosterPlan:
    return services.run_import(actor, KIND, text_of(data or roster_zip()), filename="pine.zip")


def where(plan) -> list[tuple[str, int | None, str]]:
    return [(p.file, p.row, p.column) for p in plan.problems]


def snapshot() -> tuple[int, ...]:
    return (
        User.objects.count(),
        Membership.objects.count(),
        Organization.objects.count(),
        RosterRecord.objects.count(),
        AuditEvent.objects.count(),
    )


def held(email: str) -> set[tuple[str, str, bool]]:
    return {
        (m.organization.name, m.role, m.active)
        for m in Membership.objects.filter(user__email=email).select_related("organization")
    }


class TestTheSampleRoster:
    def test_the_dry_run_counts_and_writes_nothing(self, lea_admin):
        before = snapshot()
        plan = preview(lea_admin)
        assert plan.is_valid
        assert plan.summary() == [
            ("new school", 1),
            ("school updated", 1),
            ("new accounts", 7),
            ("roles added", 8),
            ("record linked to the roster", 1),
            ("students or family members skipped", 3),
            ("other rows skipped", 2),
        ]
        assert snapshot() == before

    def test_the_import_maps_roles_and_skips_students(
        self, lea_admin, org_tree, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            run(lea_admin)
        ridge = Organization.objects.get(name="Pine Ridge High School")
        assert ridge.parent == org_tree["lea1"] and ridge.code == "370000100025"
        # The school already in microcred is linked (matched by name) and gets its code.
        org_tree["school1"].refresh_from_db()
        assert org_tree["school1"].code == "370000100011"
        assert held("lena.fischer@pine.k12.nc.us") == {
            ("Pine Elementary", Role.EARNER, True),
            ("Pine Ridge High School", Role.EARNER, True),
        }
        assert held("sam.whitley@pine.k12.nc.us") == {("Pine Elementary", Role.EARNER, True)}
        assert held("priya.nair@pine.k12.nc.us") == {("Pine Ridge High School", Role.EARNER, True)}
        assert held("denise.carter@pine.k12.nc.us") == {("Pine Elementary", Role.PRINCIPAL, True)}
        assert held("robert.hughes@pine.k12.nc.us") == {
            ("Pine Ridge High School", Role.PRINCIPAL, True)
        }
        maria = User.objects.get(email="maria.alvarez@pine.k12.nc.us")
        assert (maria.first_name, maria.last_name) == ("Maria", "Alvarez")
        # No account for students, nor for the district administrator.
        assert not User.objects.filter(email="alan.brooks@pine.k12.nc.us").exists()
        assert not User.objects.filter(last_name__in=["Martin", "Diaz", "Chen"]).exists()
        assert not RosterRecord.objects.filter(sourced_id__in=SKIPPED).exists()
        # The new accounts' invitations, sent once the import committed.
        assert len(mail.outbox) == 7
        assert "maria.alvarez@pine.k12.nc.us" in {m.to[0] for m in mail.outbox}

    def test_the_import_is_audited(self, lea_admin, org_tree):
        run(lea_admin)
        summary = AuditEvent.objects.get(action="import.oneroster")
        assert summary.organization == org_tree["lea1"] and summary.actor == lea_admin
        assert summary.data["file"] == "pine.zip" and summary.data["counts"]["roles_added"] == 8
        assert AuditEvent.objects.filter(action="membership.added").count() == 8
        assert AuditEvent.objects.filter(action="user.invited").count() == 7

    def test_importing_it_twice_changes_nothing(self, lea_admin):
        run(lea_admin)
        before = snapshot()
        again = run(lea_admin)
        assert not again.has_changes
        assert again.summary() == [
            ("rows already in place", 18),
            ("students or family members skipped", 3),
            ("other rows skipped", 2),
        ]
        assert snapshot() == before

    def test_an_existing_account_is_linked_and_keeps_its_names(self, lea_admin, make_user):
        make_user(
            Role.EARNER,
            Organization.objects.get(slug="pine-es"),
            email="Maria.Alvarez@pine.k12.nc.us",
            first_name="Mari",
            last_name="Alvarez-Ruiz",
        )
        plan = preview(lea_admin)
        assert ("new accounts", 6) in plan.summary()
        run(lea_admin)
        maria = User.objects.get(email__iexact="maria.alvarez@pine.k12.nc.us")
        assert maria.first_name == "Mari"
        assert RosterRecord.objects.get(sourced_id="u-alvarez").user == maria
        assert RosterRecord.objects.get(sourced_id="r-1").membership.user == maria


class TestTheExport:
    def test_the_sample_round_trips(self, lea_admin, org_tree):
        run(lea_admin)
        archive = zipfile.ZipFile(
            io.BytesIO(oneroster_export.export_zip(lea_admin, org_tree["lea1"]))
        )
        assert sorted(archive.namelist()) == ["manifest.csv", ORGS, ROLES, USERS]
        manifest = {
            r["propertyName"]: r["value"] for r in rows_of(archive.read("manifest.csv").decode())
        }
        assert manifest["oneroster.version"] == "1.2"
        assert manifest["source.systemName"] == "Pine County SIS"
        sample = sample_files()
        for name in (ORGS, USERS, ROLES):
            exported = rows_of(archive.read(name).decode())
            assert list(exported[0]) == list(rows_of(sample[name])[0])  # every 1.2 column
            expected = [
                {column: row[column] for column in KEPT[name]}
                for row in rows_of(sample[name])
                if row["sourcedId"] not in SKIPPED
            ]
            assert [{c: row[c] for c in KEPT[name]} for row in exported] == expected
            # What microcred does not keep is not exported.
            assert all(row.get("password", "") == "" for row in exported)

    def test_the_export_imports_as_unchanged(self, lea_admin, org_tree):
        run(lea_admin)
        exported = oneroster_export.export_zip(lea_admin, org_tree["lea1"])
        assert not preview(lea_admin, exported).has_changes

    def test_a_removed_role_is_exported_as_tobedeleted(self, lea_admin, org_tree):
        run(lea_admin)
        membership = RosterRecord.objects.get(sourced_id="r-2").membership
        # A fresh user object: the import added a school the cached scope does not know yet.
        services.deactivate_membership(User.objects.get(pk=lea_admin.pk), membership)
        archive = zipfile.ZipFile(
            io.BytesIO(oneroster_export.export_zip(lea_admin, org_tree["lea1"]))
        )
        statuses = {r["sourcedId"]: r["status"] for r in rows_of(archive.read(ROLES).decode())}
        assert statuses["r-2"] == "tobedeleted" and statuses["r-1"] == "active"

    def test_another_district_cannot_export(self, org_tree, make_user, lea_admin):
        run(lea_admin)
        oak_admin = make_user(Role.PROGRAM_ADMIN, org_tree["lea2"])
        with pytest.raises(services.PermissionDenied):
            oneroster_export.export_zip(oak_admin, org_tree["lea1"])


def _set(rows, sourced_id, **values):
    for row in rows:
        if row["sourcedId"] == sourced_id:
            row.update(values)


class TestRemovals:
    def test_a_person_tobedeleted_loses_their_roles_not_their_account(self, lea_admin):
        run(lea_admin)
        users = edit_rows(USERS, lambda rows: _set(rows, "u-fischer", status="tobedeleted"))
        plan = run(lea_admin, roster_zip({USERS: users}))
        assert ("roles removed", 2) in plan.summary()
        assert held("lena.fischer@pine.k12.nc.us") == {
            ("Pine Elementary", Role.EARNER, False),
            ("Pine Ridge High School", Role.EARNER, False),
        }
        assert User.objects.filter(email="lena.fischer@pine.k12.nc.us").exists()
        assert AuditEvent.objects.filter(action="membership.removed").count() == 2

    def test_a_role_tobedeleted_is_removed_then_restored(self, lea_admin):
        run(lea_admin)
        roles = edit_rows(ROLES, lambda rows: _set(rows, "r-4", status="tobedeleted"))
        run(lea_admin, roster_zip({ROLES: roles}))
        assert ("Pine Ridge High School", Role.EARNER, False) in held("lena.fischer@pine.k12.nc.us")
        plan = run(lea_admin)
        assert ("role restored", 1) in plan.summary()
        assert ("Pine Ridge High School", Role.EARNER, True) in held("lena.fischer@pine.k12.nc.us")

    def test_a_role_left_out_of_a_bulk_file_is_removed(self, lea_admin):
        run(lea_admin)
        roles = edit_rows(
            ROLES, lambda rows: rows.remove(next(r for r in rows if r["sourcedId"] == "r-2"))
        )
        plan = run(lea_admin, roster_zip({ROLES: roles}))
        assert ("role removed", 1) in plan.summary()
        assert held("james.okafor@pine.k12.nc.us") == {
            ("Pine Ridge High School", Role.EARNER, False)
        }

    def test_a_delta_file_removes_only_what_it_says(self, lea_admin):
        run(lea_admin)
        manifest = sample_files()["manifest.csv"].replace("file.roles,bulk", "file.roles,delta")
        roles = edit_rows(
            ROLES, lambda rows: rows[:] and [rows.pop() for _ in range(len(rows) - 1)]
        )
        plan = run(lea_admin, roster_zip({ROLES: roles, "manifest.csv": manifest}))
        assert not plan.has_changes
        assert held("james.okafor@pine.k12.nc.us") == {
            ("Pine Ridge High School", Role.EARNER, True)
        }


class TestScope:
    def test_another_districts_admin_is_refused(self, org_tree, make_user):
        oak_admin = make_user(Role.PROGRAM_ADMIN, org_tree["lea2"])
        before = snapshot()
        with pytest.raises(services.ImportRejected) as refused:
            run(oak_admin)
        assert (ORGS, 2, "name") in where(refused.value.plan)
        assert "Pine County Schools is outside the organizations you manage." in [
            p.message for p in refused.value.plan.problems
        ]
        assert snapshot() == before

    def test_an_unknown_district_is_named(self, lea_admin):
        orgs = edit_rows(ORGS, lambda rows: _set(rows, "org-pine", name="Elm County Schools"))
        plan = preview(lea_admin, roster_zip({ORGS: orgs}))
        assert plan.problems[0].file == ORGS and plan.problems[0].row == 2
        assert plan.problems[0].message.startswith(
            "No district named Elm County Schools or with the code 3700001 is in microcred."
        )

    def test_a_school_of_another_district_is_refused(self, lea_admin, org_tree):
        Organization.objects.filter(pk=org_tree["school2"].pk).update(code="370000100025")
        plan = preview(lea_admin)
        # Its roles and their people then wait for it: the first problem is the cause.
        assert where(plan)[0] == (ORGS, 4, "identifier")
        assert "is a school of another district" in plan.problems[0].message

    def test_a_teacher_cannot_import(self, teacher):
        with pytest.raises(services.PermissionDenied):
            preview(teacher)


class TestBadFiles:
    def test_not_a_zip(self):
        text, problems = oneroster.encode_upload(b"sourcedId,name\n1,A\n")
        assert text == ""
        assert problems[0].message.startswith("This is not a OneRoster roster: upload the zip")

    def test_over_the_size_limit(self):
        _text, problems = oneroster.encode_upload(b"PK" + b"0" * (oneroster.MAX_BYTES + 1))
        assert problems[0].message == "The file is larger than 2 MB. Split it into smaller files."

    def test_a_small_zip_that_unpacks_huge_is_refused(self, lea_admin):
        huge = "sourcedId\n" + "0" * (oneroster.MAX_BYTES + 10)
        plan = preview(lea_admin, roster_zip({USERS: huge}))
        assert [(p.file, p.message) for p in plan.problems] == [
            (USERS, "The file is larger than 2 MB unpacked.")
        ]

    def test_missing_manifest(self, lea_admin):
        plan = preview(lea_admin, roster_zip({"manifest.csv": None}))
        assert plan.problems[0].message.startswith("The zip has no manifest.csv")

    def test_a_oneroster_1_1_file(self, lea_admin):
        manifest = sample_files()["manifest.csv"].replace(
            "oneroster.version,1.2", "oneroster.version,1.1"
        )
        plan = preview(lea_admin, roster_zip({"manifest.csv": manifest}))
        assert "OneRoster version 1.1" in str(plan.problems[0])

    def test_a_listed_file_missing_from_the_zip(self, lea_admin):
        plan = preview(lea_admin, roster_zip({ROLES: None}))
        assert str(plan.problems[0]) == (
            "roles.csv: The manifest lists roles.csv as bulk, but it is not in the zip."
        )

    def test_missing_required_column(self, lea_admin):
        rows = rows_of(sample_files()[USERS])
        for row in rows:
            del row["email"]
        plan = preview(lea_admin, roster_zip({USERS: to_csv(rows)}))
        assert where(plan) == [(USERS, 1, "email")]
        assert plan.problems[0].message.startswith("Missing column: email.")

    def test_unknown_ids_name_the_row(self, lea_admin):
        roles = edit_rows(
            ROLES,
            lambda rows: (
                _set(rows, "r-1", userSourcedId="u-nobody"),
                _set(rows, "r-2", orgSourcedId="org-nowhere"),
            ),
        )
        orgs = edit_rows(ORGS, lambda rows: _set(rows, "org-prhs", parentSourcedId="org-gone"))
        plan = preview(lea_admin, roster_zip({ROLES: roles, ORGS: orgs}))
        found = {(p.file, p.row, p.column): p.message for p in plan.problems}
        assert found[(ROLES, 2, "userSourcedId")] == "'u-nobody' names no user in users.csv."
        assert found[(ROLES, 3, "orgSourcedId")] == "'org-nowhere' names no org in orgs.csv."
        assert found[(ORGS, 4, "parentSourcedId")] == "'org-gone' names no org in orgs.csv."

    def test_duplicate_sourced_id(self, lea_admin):
        users = edit_rows(USERS, lambda rows: _set(rows, "u-okafor", sourcedId="u-alvarez"))
        plan = preview(lea_admin, roster_zip({USERS: users}))
        assert (USERS, 3, "sourcedId") in where(plan)
        assert "Duplicate: row 2 has the same sourcedId." in [p.message for p in plan.problems]

    def test_bad_email_and_unknown_role(self, lea_admin):
        users = edit_rows(USERS, lambda rows: _set(rows, "u-nair", email="priya at pine"))
        roles = edit_rows(ROLES, lambda rows: _set(rows, "r-1", role="coach"))
        plan = preview(lea_admin, roster_zip({USERS: users, ROLES: roles}))
        found = {(p.file, p.row, p.column): str(p) for p in plan.problems}
        assert found[(USERS, 6, "email")] == (
            "users.csv, row 6, column email: 'priya at pine' is not a valid email address."
        )
        assert found[(ROLES, 2, "role")].startswith(
            "roles.csv, row 2, column role: 'coach' is not a OneRoster 1.2 role: use one of aide,"
        )

    def test_a_principal_at_a_district_is_explained(self, lea_admin):
        roles = edit_rows(ROLES, lambda rows: _set(rows, "r-7", orgSourcedId="org-pine"))
        plan = preview(lea_admin, roster_zip({ROLES: roles}))
        assert where(plan) == [(ROLES, 8, "role")]
        assert "cannot be held at a District (LEA)" in plan.problems[0].message

    def test_an_educator_without_email(self, lea_admin):
        users = edit_rows(USERS, lambda rows: _set(rows, "u-okafor", email=""))
        plan = preview(lea_admin, roster_zip({USERS: users}))
        assert where(plan) == [(USERS, 3, "email"), (ROLES, 3, "userSourcedId")]
        assert plan.problems[0].message == (
            "The email is empty; educators sign in to microcred by email."
        )
        assert plan.problems[1].message == "Depends on row 3 of users.csv, which has problems."

    def test_a_file_with_problems_writes_nothing(self, lea_admin):
        users = edit_rows(USERS, lambda rows: _set(rows, "u-nair", email="bad"))
        before = snapshot()
        with pytest.raises(services.ImportRejected):
            run(lea_admin, roster_zip({USERS: users}))
        assert snapshot() == before and mail.outbox == []

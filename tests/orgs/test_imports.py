"""CSV imports: the dry run names every problem by row and column, and the import is
all-or-nothing, idempotent and audited."""

from __future__ import annotations

import codecs

import pytest
from django.core import mail

from microcred.orgs import imports, services
from microcred.orgs.imports import ImportKind, Problem
from microcred.orgs.models import AuditEvent, Membership, Organization, Role, User

PEOPLE_HEADER = "email,first_name,last_name,role,organization\n"
SCHOOLS_HEADER = "name,code,lea,region\n"


def people(*rows: str) -> str:
    return PEOPLE_HEADER + "".join(row + "\n" for row in rows)


def schools(*rows: str) -> str:
    return SCHOOLS_HEADER + "".join(row + "\n" for row in rows)


def problems(plan: imports.ImportPlan) -> list[tuple[int | None, str, str]]:
    return [(p.row, p.column, p.message) for p in plan.problems]


def snapshot() -> tuple[int, int, int, int]:
    return (
        User.objects.count(),
        Membership.objects.count(),
        Organization.objects.count(),
        AuditEvent.objects.count(),
    )


class TestReadingTheFile:
    def test_too_large(self):
        _text, found = imports.decode_upload(b"a" * (imports.MAX_BYTES + 1))
        assert found == [
            Problem(None, "", "The file is larger than 2 MB. Split it into smaller files.")
        ]

    def test_wrong_encoding_names_the_row(self):
        data = (PEOPLE_HEADER + "ana@example.org,Ana,L\xf3pez,earner,pine-es\n").encode("latin-1")
        text, found = imports.decode_upload(data)
        assert text == ""
        assert found[0].row == 2
        assert "not saved as UTF-8" in found[0].message

    def test_excel_workbook_is_not_a_csv(self):
        _text, found = imports.decode_upload(b"PK\x03\x04\x14\x00rest of a zip")
        assert "not a CSV file: it looks like an Excel workbook" in found[0].message

    def test_binary_data_is_not_a_csv(self):
        assert "binary data" in imports.decode_upload(b"abc\x00def")[1][0].message

    def test_empty_file(self):
        assert imports.decode_upload(b"  \n")[1][0].message == "The file is empty."

    def test_utf8_with_bom_and_utf16_are_read(self):
        bom_text, found = imports.decode_upload(codecs.BOM_UTF8 + PEOPLE_HEADER.encode())
        assert found == [] and bom_text.startswith("email,")
        utf16 = PEOPLE_HEADER.replace(",", "\t").encode("utf-16")
        text16, found16 = imports.decode_upload(utf16)
        assert found16 == [] and text16.startswith("email\t")

    def test_missing_columns_are_named(self):
        rows, found = imports.read_rows("email,role\nana@example.org,earner\n", ImportKind.PEOPLE)
        assert rows == []
        assert found[0].row == 1
        assert found[0].column == "first_name, last_name, organization"
        assert found[0].message.startswith("Missing columns: first_name, last_name, organization.")

    def test_a_schools_file_uploaded_as_people_is_explained(self):
        _rows, found = imports.read_rows(schools("A,1,pine"), ImportKind.PEOPLE)
        assert "Is this a CSV file of people and their roles?" in found[0].message

    def test_header_only(self):
        _rows, found = imports.read_rows(PEOPLE_HEADER, ImportKind.PEOPLE)
        assert found == [Problem(None, "", "The file has column names but no rows.")]

    def test_headers_are_forgiving_and_semicolons_work(self):
        text = "E-mail;First Name;Last Name;Role;Organization\na@example.org;A;B;earner;pine-es\n"
        rows, found = imports.read_rows(text, ImportKind.PEOPLE)
        assert found == []
        assert rows[0].values == {
            "email": "a@example.org",
            "first_name": "A",
            "last_name": "B",
            "role": "earner",
            "organization": "pine-es",
        }
        assert rows[0].number == 2

    def test_duplicate_column(self):
        _rows, found = imports.read_rows(
            "email,email,first_name,last_name,role,organization\n", ImportKind.PEOPLE
        )
        assert found == [Problem(1, "email", "This column name appears twice.")]

    def test_blank_lines_are_skipped_and_row_numbers_stay_those_of_the_sheet(self):
        rows, _ = imports.read_rows(
            people("a@example.org,A,B,earner,pine-es", ",,,,", "b@example.org,C,D,earner,pine-es"),
            ImportKind.PEOPLE,
        )
        assert [row.number for row in rows] == [2, 4]


class TestPeopleDryRun:
    def test_every_kind_of_bad_row_is_named_by_row_and_column(self, org_tree, lea_admin, make_user):
        text = people(
            "good@example.org,Good,Row,earner,pine-es",  # 2: fine
            "not-an-email,Bad,Email,earner,pine-es",  # 3
            "a@example.org,A,A,earner,nowhere",  # 4
            "b@example.org,B,B,earner,oak-ms",  # 5: outside reach
            "c@example.org,C,C,principal,pine",  # 6: role vs kind
            "d@example.org,D,D,teacher,pine-es",  # 7: unknown role
            "GOOD@example.org,Good,Row,earner,pine-es",  # 8: duplicate of 2
            "e@example.org,E,E,earner,pine-es,extra",  # 9: too many values
            "f@example.org,F,F,earner,dpi",  # 10: role vs kind
        )
        before = snapshot()
        plan = services.preview_import(lea_admin, ImportKind.PEOPLE, text)
        assert snapshot() == before
        assert problems(plan) == [
            (3, "email", "'not-an-email' is not a valid email address."),
            (4, "organization", "No organization has the slug or code 'nowhere'."),
            (5, "organization", "Oak Middle is outside the organizations you manage."),
            (
                6,
                "role",
                "The role Principal cannot be held at a District (LEA); it can be held at: School.",
            ),
            (
                7,
                "role",
                "'teacher' is not a role here. Use one of: earner, coach, principal, "
                "provider_author, vetting_reviewer, assessor, scoring_lead, "
                "issuer_admin, recognizer_admin, program_admin, researcher.",
            ),
            (8, "email", "Duplicate: row 2 gives the same person, role and organization."),
            (9, "", "This row has 6 values but the file has only 5 columns."),
            (10, "organization", "State DPI is outside the organizations you manage."),
        ]
        assert not plan.is_valid
        assert plan.counts["rows_with_problems"] == 8

    def test_counts_what_would_be_created_and_updated(
        self, org_tree, lea_admin, teacher, make_user
    ):
        User.objects.filter(pk=teacher.pk).update(first_name="Tess", last_name="Reed")
        nameless = make_user(email="nameless@example.org")
        removed = make_user(
            Role.COACH, org_tree["school1"], email="removed@example.org", first_name="Rita"
        )
        Membership.objects.filter(user=removed).update(active=False)
        plan = imports.build_plan(
            lea_admin,
            ImportKind.PEOPLE,
            people(
                "new@example.org,New,Person,earner,pine-es",
                "new@example.org,New,Person,coach,pine",  # same new person, 2nd role
                f"{teacher.email},T,T,earner,pine-es",  # already in place
                f"{teacher.email},T,T,coach,pine-es",  # new role for existing
                "nameless@example.org,Nora,Name,earner,pine-es",  # names filled in
                "removed@example.org,R,R,coach,pine-es",  # restored
            ),
        )
        assert plan.is_valid, problems(plan)
        assert [row.action for row in plan.rows] == [
            "create_user",
            "add_role",
            "unchanged",
            "add_role",
            "add_role",
            "restore_role",
        ]
        assert dict(plan.counts) == {
            "accounts_created": 1,
            "roles_added": 4,
            "unchanged": 1,
            "accounts_updated": 1,
            "roles_restored": 1,
        }
        nameless.refresh_from_db()
        assert nameless.first_name == ""  # a dry run writes nothing

    def test_organization_by_code_and_ambiguous_codes(self, org_tree, state_admin):
        Organization.objects.filter(pk=org_tree["school1"].pk).update(code="37-001")
        Organization.objects.filter(pk=org_tree["lea2"].pk).update(code="X9")
        Organization.objects.filter(pk=org_tree["provider"].pk).update(code="X9")
        plan = imports.build_plan(
            state_admin,
            ImportKind.PEOPLE,
            people(
                "a@example.org,A,A,earner,37-001",
                "b@example.org,B,B,earner,x9",
            ),
        )
        assert plan.rows[0].organization == org_tree["school1"]
        assert problems(plan) == [
            (3, "organization", "The code 'x9' belongs to several organizations; use the slug.")
        ]


class TestPeopleImport:
    TEXT = people(
        "ana@example.org,Ana,Lopez,earner,pine-es",
        "ben@example.org,Ben,Ng,coach,pine",
        "ana@example.org,Ana,Lopez,coach,pine-es",
    )

    def test_import_creates_accounts_roles_invitations_and_audit(
        self, org_tree, lea_admin, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            plan = services.run_import(
                lea_admin, ImportKind.PEOPLE, self.TEXT, filename="staff.csv"
            )
        assert plan.counts["accounts_created"] == 2
        ana = User.objects.get(email="ana@example.org")
        assert (ana.first_name, ana.last_name) == ("Ana", "Lopez")
        assert not ana.has_usable_password()
        assert set(ana.memberships.values_list("role", flat=True)) == {Role.EARNER, Role.COACH}
        assert sorted(m.to[0] for m in mail.outbox) == ["ana@example.org", "ben@example.org"]
        actions = sorted(AuditEvent.objects.values_list("action", flat=True))
        assert (
            actions
            == ["import.people", "import.people"] + ["membership.added"] * 3 + ["user.invited"] * 2
        )
        summary = AuditEvent.objects.filter(
            action="import.people", organization=org_tree["school1"]
        ).get()
        assert summary.data["file"] == "staff.csv" and summary.actor == lea_admin

    def test_importing_the_same_file_twice_creates_nothing_new(
        self, org_tree, lea_admin, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            services.run_import(lea_admin, ImportKind.PEOPLE, self.TEXT)
        before, sent = snapshot(), len(mail.outbox)
        with django_capture_on_commit_callbacks(execute=True):
            plan = services.run_import(lea_admin, ImportKind.PEOPLE, self.TEXT)
        assert not plan.has_changes
        assert plan.counts["unchanged"] == 3
        assert snapshot() == before
        assert len(mail.outbox) == sent

    def test_one_bad_row_means_nothing_is_imported(self, org_tree, lea_admin):
        before = snapshot()
        with pytest.raises(services.ImportRejected) as exc:
            services.run_import(
                lea_admin, ImportKind.PEOPLE, self.TEXT + "zed@example.org,Z,Z,earner,oak-ms\n"
            )
        assert problems(exc.value.plan) == [
            (5, "organization", "Oak Middle is outside the organizations you manage.")
        ]
        assert snapshot() == before

    def test_a_crash_half_way_leaves_nothing(self, org_tree, lea_admin, monkeypatch):
        real_create = Membership.objects.create
        calls = {"n": 0}

        def failing_create(**kwargs):
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("database went away")
            return real_create(**kwargs)

        monkeypatch.setattr(Membership.objects, "create", failing_create)
        before = snapshot()
        with pytest.raises(RuntimeError):
            services.run_import(lea_admin, ImportKind.PEOPLE, self.TEXT)
        assert snapshot() == before

    def test_names_are_filled_in_but_never_overwritten(self, org_tree, lea_admin, make_user):
        make_user(email="nameless@example.org")
        make_user(email="named@example.org", first_name="Real", last_name="Name")
        services.run_import(
            lea_admin,
            ImportKind.PEOPLE,
            people(
                "nameless@example.org,Nora,Name,earner,pine-es",
                "named@example.org,Fake,Name,earner,pine-es",
            ),
        )
        assert User.objects.get(email="nameless@example.org").first_name == "Nora"
        assert User.objects.get(email="named@example.org").first_name == "Real"


class TestSchoolsImport:
    def test_dry_run_problems(self, org_tree, lea_admin):
        Organization.objects.filter(pk=org_tree["school1"].pk).update(code="100")
        plan = imports.build_plan(
            lea_admin,
            ImportKind.SCHOOLS,
            schools(
                "Pine High,200,pine,West",  # 2: fine
                "Pine Middle,200,pine,",  # 3: duplicate code in file
                ",300,pine,",  # 4: no name
                "Oak High,400,oak,",  # 5: outside reach
                "Odd School,500,pine-es,",  # 6: lea is a school
                "No Code School,,pine,",  # 7: no code
                "Pine High,600,pine,",  # 8: duplicate name in file
                "Pine Elementary,700,pine,",  # 9: name exists with another code
            ),
        )
        assert problems(plan)[:4] == [
            (3, "code", "Duplicate: row 2 has the same code."),
            (4, "name", "The school name is empty."),
            (5, "lea", "Oak City Schools is outside the organizations you manage."),
            (6, "lea", "'pine-es' is a School, not a district."),
        ]
        assert problems(plan)[4][:2] == (7, "code")
        assert problems(plan)[5] == (
            8,
            "name",
            "Duplicate: row 2 adds a school with the same name to this district.",
        )
        assert problems(plan)[6] == (
            9,
            "code",
            "Pine County Schools already has a school named Pine Elementary, with "
            "the code 100. Correct the code in the file, or change it on the "
            "school's page first.",
        )
        assert len(plan.problems) == 7

    def test_import_creates_updates_and_is_idempotent(self, org_tree, state_admin):
        text = schools(
            "Pine High,200,pine,West",
            "Pine Elementary,100,pine,Blue Ridge",  # exists without a code: gets one
            "Oak High,300,oak,",
        )
        plan = services.run_import(state_admin, ImportKind.SCHOOLS, text)
        assert dict(plan.counts) == {"schools_created": 2, "schools_updated": 1}
        high = Organization.objects.get(code="200")
        assert (high.kind, high.parent, high.region) == ("school", org_tree["lea1"], "West")
        org_tree["school1"].refresh_from_db()
        assert (org_tree["school1"].code, org_tree["school1"].region) == ("100", "Blue Ridge")
        assert AuditEvent.objects.filter(action="organization.created").count() == 2
        assert AuditEvent.objects.filter(action="organization.updated").count() == 1
        assert AuditEvent.objects.filter(action="import.schools").count() == 2  # per district
        before = snapshot()
        again = services.run_import(state_admin, ImportKind.SCHOOLS, text)
        assert again.counts["unchanged"] == 3 and not again.has_changes
        assert snapshot() == before

    def test_a_school_is_not_moved_to_another_district(self, org_tree, state_admin):
        Organization.objects.filter(pk=org_tree["school2"].pk).update(code="900")
        plan = imports.build_plan(state_admin, ImportKind.SCHOOLS, schools("Oak Middle,900,pine,"))
        assert problems(plan) == [
            (
                2,
                "code",
                "The code 900 belongs to a school in another "
                "district. Moving a school to another district "
                "is not done by import.",
            )
        ]


def test_an_import_racing_another_admin_is_rolled_back_with_a_message(
    org_tree, lea_admin, make_user, monkeypatch
):
    # The account appears between the check and the write (another admin's import).
    real_plan = imports.plan_people

    def plan_then_race(actor, raw_rows):
        plan = real_plan(actor, raw_rows)
        make_user(email="ana@example.org")
        return plan

    monkeypatch.setattr(imports, "plan_people", plan_then_race)
    with pytest.raises(services.ImportRejected) as exc:
        services.run_import(
            lea_admin, ImportKind.PEOPLE, people("ana@example.org,Ana,Lopez,earner,pine-es")
        )
    assert [str(p) for p in exc.value.plan.problems] == [f"File: {services.RACE_MESSAGE}"]
    assert not Membership.objects.filter(user__email="ana@example.org").exists()
    assert not AuditEvent.objects.exists()

"""OneRoster rosters over HTTP: the import page (upload, dry run, import), the export, and the
API (dry run, import, export), each with someone who may and someone who may not."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from microcred.orgs import oneroster
from microcred.orgs.models import Membership, Role, RosterRecord, User
from microcred.orgs.oneroster import USERS
from microcred.orgs.tokens import create_token

from .oneroster_helpers import edit_rows, roster_zip

API = "/api/v1/rosters"


def zip_upload(data: bytes | None = None, name: str = "pine-roster.zip") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data or roster_zip(), content_type="application/zip")


def bad_roster() -> bytes:
    def spoil(rows):
        rows[1]["email"] = "james at pine"

    return roster_zip({USERS: edit_rows(USERS, spoil)})


def api_client(user: User) -> Client:
    _, secret = create_token(user, name="roster script")
    return Client(headers={"Authorization": f"Bearer {secret}"})


class TestTheImportPage:
    def upload(self, client, data: bytes | None = None):
        return client.post(reverse("orgs:import"), {"kind": "oneroster", "file": zip_upload(data)})

    def test_upload_check_and_import(self, client, lea_admin):
        client.force_login(lea_admin)
        page = client.get(reverse("orgs:import")).content.decode()
        assert "A OneRoster 1.2 roster (zip of CSV files)" in page
        response = self.upload(client)
        assert response.status_code == 302
        review = client.get(response.url).content.decode()
        assert "7</strong> new accounts" in review
        assert "3</strong> students or family members skipped" in review
        assert "Pine Ridge High School" in review and "Create the school" in review
        assert not User.objects.filter(email="maria.alvarez@pine.k12.nc.us").exists()
        done = client.post(response.url)
        assert done.status_code == 302 and done.url == reverse("orgs:manage")
        assert Membership.objects.filter(user__email="maria.alvarez@pine.k12.nc.us").exists()
        # The same roster again: nothing to import.
        again = client.get(self.upload(client).url).content.decode()
        assert "Nothing to import" in again

    def test_a_roster_with_problems_names_file_row_and_column(self, client, lea_admin):
        client.force_login(lea_admin)
        review = client.get(self.upload(client, bad_roster()).url).content.decode()
        assert (
            "users.csv, 3" in review and "&#x27;james at pine&#x27; is not a valid email" in review
        )
        assert "now</button>" not in review  # no import button while problems remain

    def test_a_file_that_is_not_a_zip_is_refused_on_the_form(self, client, lea_admin):
        client.force_login(lea_admin)
        response = client.post(
            reverse("orgs:import"),
            {"kind": "oneroster", "file": SimpleUploadedFile("people.csv", b"email\na@b.org\n")},
        )
        assert response.status_code == 200
        assert "This is not a OneRoster roster" in response.content.decode()

    def test_a_teacher_cannot_import(self, client, teacher):
        client.force_login(teacher)
        response = client.post(reverse("orgs:import"), {"kind": "oneroster", "file": zip_upload()})
        assert response.status_code == 403
        assert not RosterRecord.objects.exists()


class TestTheExportPage:
    def test_the_district_admin_downloads_the_roster(self, client, lea_admin, org_tree):
        client.force_login(lea_admin)
        review = client.post(reverse("orgs:import"), {"kind": "oneroster", "file": zip_upload()})
        client.post(review.url)
        assert (
            reverse("orgs:roster_export", args=["pine"])
            in client.get(reverse("orgs:import")).content.decode()
        )
        response = client.get(reverse("orgs:roster_export", args=["pine"]))
        assert response.status_code == 200 and response["Content-Type"] == "application/zip"
        names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
        assert sorted(names) == ["manifest.csv", "orgs.csv", "roles.csv", "users.csv"]

    def test_another_districts_admin_is_refused(self, client, org_tree, make_user):
        client.force_login(make_user(Role.PROGRAM_ADMIN, org_tree["lea2"]))
        assert client.get(reverse("orgs:roster_export", args=["pine"])).status_code == 403


class TestTheApi:
    def test_dry_run_import_and_import_again(self, lea_admin):
        api = api_client(lea_admin)
        dry = api.post(f"{API}/dry-run", {"file": zip_upload()})
        assert dry.status_code == 200
        body = dry.json()
        assert body["valid"] is True and body["counts"]["accounts_created"] == 7
        assert body["counts"]["students_skipped"] == 3
        assert not User.objects.filter(email="maria.alvarez@pine.k12.nc.us").exists()
        done = api.post(f"{API}/import", {"file": zip_upload()})
        assert done.status_code == 200 and done.json()["counts"]["roles_added"] == 8
        again = api.post(f"{API}/import", {"file": zip_upload()}).json()
        assert again["changes"] == [] and again["counts"]["unchanged"] == 18

    def test_a_roster_with_problems_is_refused_with_each_problem(self, lea_admin):
        response = api_client(lea_admin).post(f"{API}/import", {"file": zip_upload(bad_roster())})
        assert response.status_code == 400
        errors = {e["field"]: e["message"] for e in response.json()["errors"]}
        assert errors["users.csv, row 3, email"] == "'james at pine' is not a valid email address."
        assert (
            not RosterRecord.objects.exists()
            and not Membership.objects.filter(user__email__endswith="pine.k12.nc.us").exists()
        )

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            (b"not a zip", "This is not a OneRoster roster"),
            (roster_zip({"manifest.csv": None}), "The zip has no manifest.csv"),
        ],
    )
    def test_unreadable_files(self, lea_admin, data, message):
        response = api_client(lea_admin).post(f"{API}/dry-run", {"file": zip_upload(data)})
        assert response.status_code == 400
        assert message in response.json()["detail"]

    def test_a_file_over_the_limit(self, lea_admin):
        big = b"PK" + b"0" * (oneroster.MAX_BYTES + 1)
        response = api_client(lea_admin).post(f"{API}/dry-run", {"file": zip_upload(big)})
        assert response.status_code == 413
        assert response.json()["detail"].startswith("The file is larger than 2 MB")

    def test_export_and_its_scope(self, lea_admin, org_tree, make_user):
        api_client(lea_admin).post(f"{API}/import", {"file": zip_upload()})
        response = api_client(lea_admin).get(f"{API}/export/pine")
        assert response.status_code == 200 and response["Content-Type"] == "application/zip"
        oak_admin = make_user(Role.PROGRAM_ADMIN, org_tree["lea2"])
        assert api_client(oak_admin).get(f"{API}/export/pine").status_code == 404

    def test_another_district_and_anonymous(self, org_tree, make_user):
        oak_admin = make_user(Role.PROGRAM_ADMIN, org_tree["lea2"])
        refused = api_client(oak_admin).post(f"{API}/import", {"file": zip_upload()})
        assert refused.status_code == 400
        assert "outside the organizations you manage" in refused.json()["errors"][0]["message"]
        assert Client().post(f"{API}/dry-run", {"file": zip_upload()}).status_code == 401
        teacher = make_user(Role.EARNER, org_tree["school1"])
        assert api_client(teacher).post(f"{API}/dry-run", {"file": zip_upload()}).status_code == 403

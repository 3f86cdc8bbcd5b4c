"""Recognition through the API (invariant 8): an educator's credentials and ledger; an
office's entries, bulk approval, exports and their CSV, with a token as on the pages."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.test import Client
from django.urls import reverse

from microcred.orgs.tokens import create_token
from microcred.recognition.models import LedgerEntry, LedgerExport

pytestmark = pytest.mark.django_db
BASE = "/api/v1/recognition"


def token_client(user) -> Client:
    _token, secret = create_token(user, name="HR system")
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def post(client: Client, url: str, body: object):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_my_credentials_through_a_token(earn, make_earner, version, revoke):
    teacher = make_earner()
    kept, revoked = earn(teacher), earn(teacher)
    revoke(revoked)
    earn(make_earner())  # someone else's
    response = token_client(teacher).get(f"{BASE}/me/credentials")
    assert response.status_code == 200
    rows = {row["uuid"]: row for row in response.json()}
    assert set(rows) == {str(kept.uuid), str(revoked.uuid)}
    row = rows[str(kept.uuid)]
    assert (row["name"], row["kind"], row["revoked"]) == (version.title, "Micro-credential", False)
    assert row["url"].endswith(reverse("credentials:credential", args=[kept.uuid]))
    assert row["json_url"].endswith(reverse("credentials:credential_json", args=[kept.uuid]))
    assert rows[str(revoked.uuid)]["revoked"] is True


def test_my_ledger_lists_only_my_entries(pine_pay, renewal, earn, make_earner):
    teacher = make_earner()
    earn(teacher)
    earn(make_earner())
    response = token_client(teacher).get(f"{BASE}/me/ledger")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert {(i["kind"], i["figure"]) for i in body["items"]} == {
        ("stipend", "$300.00"),
        ("salary", "$600.00 a year"),
        ("ceu", "1.5 CEUs"),
    }
    assert {i["educator_email"] for i in body["items"]} == {teacher.email}


def test_the_session_works_too(pine_pay, earn, make_earner, client):
    teacher = make_earner()
    earn(teacher)
    client.force_login(teacher)
    assert client.get(f"{BASE}/me/ledger").json()["count"] == 2


def test_without_a_token_or_session_nothing_is_listed():
    response = Client().get(f"{BASE}/me/credentials")
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"


def test_an_office_lists_its_entries_with_the_pages_filters(
    pine_pay, renewal, earn, make_earner, hr
):
    earn(make_earner(first_name="Ana", last_name="Diaz"))
    earn(make_earner(first_name="Ben", last_name="Oku"))
    api = token_client(hr)
    every = api.get(f"{BASE}/entries").json()
    assert every["count"] == 4 and {i["policy"] for i in every["items"]} == {"Pine pay (version 1)"}
    stipends = api.get(f"{BASE}/entries", {"kind": "stipend", "q": "diaz"}).json()
    assert [(i["educator"], i["figure"]) for i in stipends["items"]] == [("Ana Diaz", "$300.00")]
    bad = api.get(f"{BASE}/entries", {"status": "lost"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"


def test_an_earner_cannot_use_the_office_endpoints(pine_pay, earn, make_earner, org_tree):
    earn()
    api = token_client(make_earner())
    ids = list(LedgerEntry.objects.values_list("pk", flat=True))
    assert api.get(f"{BASE}/entries").status_code == 403
    assert post(api, f"{BASE}/entries/approve", {"ids": ids}).status_code == 403
    assert post(api, f"{BASE}/exports", {"recognizer": org_tree["lea1"].pk}).status_code == 403
    assert api.get(f"{BASE}/exports").status_code == 403
    assert not LedgerEntry.objects.exclude(status="pending").exists()
    assert not LedgerExport.objects.exists()


def test_bulk_approval_skips_others_and_never_approves_twice(pine_pay, renewal, earn, hr):
    credential = earn()
    ours = list(LedgerEntry.objects.filter(policy=pine_pay).values_list("pk", flat=True))
    theirs = LedgerEntry.objects.get(credential=credential, policy=renewal)
    api = token_client(hr)
    response = post(api, f"{BASE}/entries/approve", {"ids": [*ours, theirs.pk, 999999]})
    assert response.status_code == 200
    assert response.json() == {
        "approved": 2,
        "skipped_not_pending": 0,
        "skipped_not_yours": 2,
        "message": "Approved 2 entries; 2 skipped because they are not your office's to approve.",
    }
    theirs.refresh_from_db()
    assert theirs.status == "pending"
    again = post(api, f"{BASE}/entries/approve", {"ids": ours}).json()
    assert (again["approved"], again["skipped_not_pending"]) == (0, 2)


@pytest.mark.parametrize("body", [{"ids": []}, {"ids": ["one"]}, {}])
def test_a_bad_approval_body_is_refused_and_changes_nothing(pine_pay, earn, hr, body):
    earn()
    response = post(token_client(hr), f"{BASE}/entries/approve", body)
    assert response.status_code == 422 and response.json()["errors"][0]["field"].startswith("ids")
    assert not LedgerEntry.objects.exclude(status="pending").exists()


def test_export_then_nothing_new_then_the_same_csv_again(pine_pay, earn, hr, client, org_tree):
    earn()
    api = token_client(hr)
    ids = list(LedgerEntry.objects.values_list("pk", flat=True))
    post(api, f"{BASE}/entries/approve", {"ids": ids})
    created = post(api, f"{BASE}/exports", {"recognizer": org_tree["lea1"].pk})
    assert created.status_code == 201
    export = created.json()
    assert export["count"] == 2 and export["unpaid"] == 2
    assert set(LedgerEntry.objects.values_list("status", flat=True)) == {"exported"}

    second = post(api, f"{BASE}/exports", {"recognizer": org_tree["lea1"].pk})
    assert second.status_code == 409 and second.json()["code"] == "nothing_to_export"
    assert LedgerExport.objects.count() == 1

    via_api = api.get(export["csv_url"].removeprefix("http://testserver"))
    assert via_api.status_code == 200 and via_api["Content-Type"].startswith("text/csv")
    client.force_login(hr)
    via_page = client.get(reverse("recognition:export_csv", args=[export["id"]]))
    assert via_api.content == via_page.content
    rows = list(csv.DictReader(io.StringIO(via_api.content.decode())))
    assert sorted(r["Entry id"] for r in rows) == sorted(str(i) for i in ids)

    listed = api.get(f"{BASE}/exports").json()
    assert [e["id"] for e in listed] == [export["id"]]
    paid = post(api, f"{BASE}/exports/{export['id']}/paid", {})
    assert paid.json() == {"paid": 2}
    assert set(LedgerEntry.objects.values_list("status", flat=True)) == {"paid"}


def test_exports_of_another_office_are_refused(pine_pay, earn, hr, make_user, org_tree):
    earn()
    api = token_client(hr)
    post(
        api,
        f"{BASE}/entries/approve",
        {"ids": list(LedgerEntry.objects.values_list("pk", flat=True))},
    )
    export = post(api, f"{BASE}/exports", {"recognizer": org_tree["lea1"].pk}).json()
    oak = token_client(make_user("recognizer_admin", org_tree["lea2"]))
    assert oak.get(f"{BASE}/exports/{export['id']}.csv").status_code == 404
    assert post(oak, f"{BASE}/exports/{export['id']}/paid", {}).status_code == 404
    refused = post(oak, f"{BASE}/exports", {"recognizer": org_tree["lea1"].pk})
    assert refused.status_code == 403
    assert post(oak, f"{BASE}/exports", {"recognizer": 999999}).status_code == 404
    assert LedgerExport.objects.count() == 1
    assert not LedgerEntry.objects.filter(status="paid").exists()


def test_the_openapi_document_describes_the_endpoints(client):
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/recognition/me/credentials",
        "/api/v1/recognition/me/ledger",
        "/api/v1/recognition/entries",
        "/api/v1/recognition/entries/approve",
        "/api/v1/recognition/exports",
        "/api/v1/recognition/exports/{pk}.csv",
    ):
        assert path in paths
    assert (
        "409" in paths["/api/v1/recognition/exports"]["post"]["responses"]
        or 409 in (paths["/api/v1/recognition/exports"]["post"]["responses"])
    )

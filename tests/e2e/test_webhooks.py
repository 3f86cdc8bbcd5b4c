"""Webhooks in the browser, axe on every page: a district's program office adds an endpoint,
copies its secret (shown once), presses "Send test event" and finds the delivery in the log;
the receiver got it signed with that secret. The page fits a 360 px phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from microcred.orgs.models import Role
from tests.e2e.helpers import Account, expect_message, expect_page, follow_nav, sign_in_as
from tests.webhooks.receiver import Receiver, start, stop

from .test_phone_layout import PHONE_360, expect_fits_360

pytestmark = pytest.mark.e2e


@pytest.fixture
def receiver():
    running = start(Receiver())
    yield running
    stop(running)


def test_an_admin_adds_an_endpoint_and_sends_a_test_event(
    page: Page, make_user, org_tree, receiver
):
    admin = make_user(Role.PROGRAM_ADMIN, org_tree["lea1"], first_name="Pat")
    sign_in_as(page, Account(admin.email, "pw-for-tests-1"))
    follow_nav(page, "Webhooks")
    expect_page(page, "Webhooks")
    page.get_by_role("link", name="Add an endpoint").click()
    expect_page(page, "Add a webhook endpoint")

    page.get_by_role("button", name="Add the endpoint").click()  # nothing filled in
    expect(page.get_by_role("alert")).to_contain_text("Choose at least one kind of event")
    page.get_by_label("Endpoint address").fill(receiver.url)
    page.get_by_label("A credential was issued (credential.issued)").check()
    page.get_by_role("button", name="Add the endpoint").click()

    expect_page(page, "Webhook endpoint")
    secret = page.get_by_role("textbox", name="Signing secret").input_value()
    assert secret.startswith("whsec_")
    receiver.secret = secret  # pasted into the receiving system

    page.get_by_role("button", name="Send test event").click()
    expect_message(page, "The test event was delivered: the endpoint answered 200.")
    expect(page.get_by_role("textbox", name="Signing secret")).to_have_count(0)  # shown once
    log = page.get_by_role("region", name="Delivery log")
    expect(log.get_by_role("row").nth(1)).to_contain_text("webhook.test")
    expect(log.get_by_role("row").nth(1)).to_contain_text("Delivered")
    assert receiver.accepted_types() == ["webhook.test"]
    assert receiver.requests[0].signature_ok

    page.set_viewport_size(PHONE_360)
    page.reload()
    expect_page(page, "Webhook endpoint")
    expect_fits_360(page)

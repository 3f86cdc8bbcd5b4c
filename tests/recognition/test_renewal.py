"""License renewal progress (reversals, two policies for one credential, what waits for
approval, months left) and the reminders sent once per threshold."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from microcred.notifications.models import Kind as NotificationKind
from microcred.notifications.models import Notification
from microcred.recognition import renewal, services
from microcred.recognition.models import LedgerEntry, License, RenewalCycle

from .conftest import CEU_RULE, COUNT_RULE

pytestmark = pytest.mark.django_db


@pytest.fixture
def state_policy(licensure, org_tree, make_policy, approve):
    approve(org_tree["state"], licensure, "license_renewal")
    return make_policy(licensure, org_tree["state"], CEU_RULE, COUNT_RULE, name="Renewal")


@pytest.fixture
def earner(make_earner):
    return make_earner(first_name="Zoë", last_name="Núñez")


def license_for(educator, state, *, starts=None, ends=None, mcs=4, number="NC-1001"):
    today = timezone.localdate()
    lic = License.objects.create(educator=educator, state=state, number=number, area="K-6")
    return RenewalCycle.objects.create(
        license=lic,
        starts_on=starts or today - timedelta(days=700),
        ends_on=ends or renewal.add_months(today, 14) + timedelta(days=3),
        ceus_required=D("8.0"),
        mcs_required=mcs,
    )


# ---------------------------------------------------------------------------- dates
@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2026, 12, 3), date(2028, 2, 3), 14),
        (date(2026, 12, 3), date(2028, 2, 2), 13),
        (date(2026, 12, 3), date(2026, 12, 31), 0),
        (date(2026, 12, 3), date(2026, 1, 1), 0),  # ended: never negative
    ],
)
def test_months_between_counts_whole_months(start, end, months):
    assert renewal.months_between(start, end) == months


def test_add_months_clamps_to_the_months_last_day():
    assert renewal.add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert renewal.add_months(date(2026, 12, 3), 1) == date(2027, 1, 3)


# ---------------------------------------------------------------------------- progress
def test_without_a_license_there_is_no_progress(earner):
    assert renewal.renewal_progress(earner) is None


def test_an_earned_credential_moves_progress(state_policy, earner, org_tree, earn):
    license_for(earner, org_tree["state"])
    earn(earner)
    progress = renewal.renewal_progress(earner)
    assert (progress.ceus, progress.mcs) == (D("1.50"), 1)
    assert progress.months_left == 14
    assert progress.sentence == "1.5 of 8.0 CEUs, or 1 of 4 MCs; 14 months left"
    # Nothing approved yet: all of it waits.
    assert (progress.banked.ceus_pending, progress.banked.mcs_pending) == (D("1.50"), 1)
    assert "1.5 CEUs and 1 micro-credential still wait" in progress.pending_sentence
    assert not progress.renewed


def test_the_mc_path_shows_only_when_the_cycle_has_one(state_policy, earner, org_tree, earn):
    license_for(earner, org_tree["state"], mcs=None)
    earn(earner)
    assert renewal.renewal_progress(earner).sentence == "1.5 of 8.0 CEUs; 14 months left"


def test_approved_entries_no_longer_wait(state_policy, licensure, earner, org_tree, earn):
    license_for(earner, org_tree["state"])
    credential = earn(earner)
    services.approve_entries(licensure, LedgerEntry.objects.filter(credential=credential))
    progress = renewal.renewal_progress(earner)
    assert progress.ceus == D("1.50")
    assert progress.banked.ceus_pending == 0 and progress.pending_sentence == ""


def test_a_revocation_takes_the_credit_back(
    state_policy, licensure, earner, org_tree, earn, revoke
):
    license_for(earner, org_tree["state"])
    credential = earn(earner)
    services.approve_entries(licensure, LedgerEntry.objects.filter(credential=credential))
    revoke(credential)
    assert LedgerEntry.objects.filter(credential=credential, reverses__isnull=False).count() == 2
    progress = renewal.renewal_progress(earner)
    assert (progress.ceus, progress.mcs) == (0, 0)
    # The reversal waits for approval, but nothing of the credit waits: it is gone.
    assert (progress.banked.ceus_pending, progress.banked.mcs_pending) == (0, 0)


def test_two_policies_for_one_credential_count_the_larger_once(
    state_policy, hr, earner, org_tree, make_policy, approve, earn
):
    approve(org_tree["lea1"], hr, "license_renewal")
    fixed = {"kind": "ceu", "ceu_source": "fixed", "fixed_ceus": D("2")}
    make_policy(hr, org_tree["lea1"], fixed, COUNT_RULE, name="Pine CEUs")
    license_for(earner, org_tree["state"])
    credential = earn(earner)
    assert LedgerEntry.objects.filter(credential=credential, kind="ceu").count() == 2
    progress = renewal.renewal_progress(earner)
    assert (progress.ceus, progress.mcs) == (D("2.00"), 1)  # not 3.5 CEUs, not 2 MCs


def test_unfunded_entries_and_credentials_outside_the_cycle_do_not_count(
    state_policy, licensure, earner, org_tree, earn
):
    today = timezone.localdate()
    cycle = license_for(earner, org_tree["state"])
    credential = earn(earner)
    draft = services.create_policy(licensure, org_tree["state"], name="Draft", effective_from=today)
    rule = services.add_rule(licensure, draft, **CEU_RULE)
    LedgerEntry.objects.create(
        educator=earner,
        credential=credential,
        policy=draft,
        rule=rule,
        kind="ceu",
        quantity=D("9"),
        title="x",
        earned_on=today,
        status=LedgerEntry.Status.UNFUNDED,
    )
    assert renewal.progress_in(cycle).ceus == D("1.50")
    later = RenewalCycle.objects.create(
        license=cycle.license,
        starts_on=cycle.ends_on + timedelta(days=1),
        ends_on=cycle.ends_on + timedelta(days=1800),
    )
    assert renewal.progress_in(later).ceus == 0


def test_the_current_cycle_is_the_one_containing_today_else_the_latest(earner, org_tree):
    today = timezone.localdate()
    old = license_for(earner, org_tree["state"], starts=date(2015, 1, 1), ends=date(2019, 12, 31))
    assert renewal.current_cycle(earner) == old
    current = RenewalCycle.objects.create(
        license=old.license, starts_on=date(2020, 1, 1), ends_on=today + timedelta(days=30)
    )
    RenewalCycle.objects.create(
        license=old.license,
        starts_on=today + timedelta(days=31),
        ends_on=today + timedelta(days=2000),
    )
    assert renewal.current_cycle(earner) == current


def test_progress_takes_two_queries(
    state_policy, earner, org_tree, earn, django_assert_num_queries
):
    license_for(earner, org_tree["state"])
    earn(earner)
    with django_assert_num_queries(2):
        renewal.renewal_progress(earner)


def test_renewed_by_mcs(state_policy, earner, org_tree, earn):
    license_for(earner, org_tree["state"], mcs=1)
    earn(earner)
    progress = renewal.renewal_progress(earner)
    assert progress.renewed_by_mcs and progress.renewed and not progress.renewed_by_ceus


def test_a_credentials_contribution(state_policy, earner, earn):
    credential = earn(earner)
    added = renewal.credential_contribution(credential)
    assert (added.ceus, added.mcs) == (D("1.50"), 1)


# ---------------------------------------------------------------------------- reminders
def reminders_of(user):
    return list(Notification.objects.filter(user=user, kind=NotificationKind.RENEWAL))


def test_reminders_go_once_per_threshold(state_policy, earner, org_tree):
    today = date(2026, 1, 10)
    cycle = license_for(earner, org_tree["state"], starts=date(2021, 7, 1), ends=date(2026, 6, 30))
    assert renewal.send_reminders(today) == 1  # 5 months left: the 6-month reminder only
    cycle.refresh_from_db()
    assert cycle.reminders_sent == [12, 6]
    [note] = reminders_of(earner)
    assert "5 months left" in note.title and note.url == reverse("recognition:my_record")
    assert "0.0 of 8.0 CEUs" in note.body
    assert renewal.send_reminders(today) == 0
    assert renewal.send_reminders(date(2026, 2, 1)) == 0  # still within 6 months only
    assert renewal.send_reminders(date(2026, 4, 1)) == 1  # within 3 months
    assert renewal.send_reminders(date(2026, 6, 1)) == 1  # within 1 month
    assert renewal.send_reminders(date(2026, 6, 2)) == 0
    cycle.refresh_from_db()
    assert cycle.reminders_sent == [12, 6, 3, 1]
    assert len(reminders_of(earner)) == 3
    assert renewal.send_reminders(date(2026, 7, 1)) == 0  # ended


def test_no_reminder_far_from_the_end_or_when_renewed(
    state_policy, earner, make_earner, org_tree, earn
):
    today = timezone.localdate()
    license_for(earner, org_tree["state"], ends=today + timedelta(days=600))
    assert renewal.send_reminders(today) == 0
    done = make_earner(first_name="Ada")
    license_for(done, org_tree["state"], ends=today + timedelta(days=40), mcs=1, number="NC-2")
    earn(done)
    assert renewal.send_reminders(today) == 0
    assert reminders_of(done) == []


def test_the_management_command_sends_them(state_policy, earner, org_tree):
    license_for(earner, org_tree["state"], ends=timezone.localdate() + timedelta(days=20))
    call_command("send_renewal_reminders", stdout=(out := io.StringIO()))
    assert out.getvalue().strip() == "Sent 1 renewal reminder."
    call_command("send_renewal_reminders", stdout=(out := io.StringIO()))
    assert out.getvalue().strip() == "Sent 0 renewal reminders."


def test_a_new_end_date_makes_reminders_due_again(licensure, earner, org_tree):
    today = timezone.localdate()
    cycle = license_for(earner, org_tree["state"], ends=today + timedelta(days=20))
    assert renewal.send_reminders(today) == 1
    later = today + timedelta(days=100)
    text = (
        "email,license_number,area,cycle_start,cycle_end,mcs_required\n"
        f"{earner.email},NC-1001,K-6,{cycle.starts_on:%Y-%m-%d},{later:%Y-%m-%d},4\n"
    )
    renewal.run_license_import(licensure, org_tree["state"], text)
    cycle.refresh_from_db()
    assert (cycle.ends_on, cycle.reminders_sent) == (later, [])
    assert renewal.send_reminders(today) == 1  # the 6-month reminder of the new end
    assert len(reminders_of(earner)) == 2

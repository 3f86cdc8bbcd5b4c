"""Policy pages for recognizer admins (an LEA's HR or PD office, the state's licensure
office): their policies and versions, a version's rules, putting it in force, a new version,
ending one. Views parse and show; services decide and audit, and their refusals come back as
plain messages. Another office's policy is not found (404)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from microcred.catalog.viewhelpers import require

from . import selectors_policies as selectors
from . import services
from .forms_policy import NewVersionForm, PolicyForm, RetireForm, RuleForm, ServiceErrors
from .models import RecognitionPolicy, RecognitionRule

Status = RecognitionPolicy.Status


def _ledger_url() -> str | None:
    """The ledger page, where the entries a policy posted are listed (None until it exists)."""
    try:
        return reverse("recognition:ledger")
    except NoReverseMatch:
        return None


def _submitted[T](form: ServiceErrors, save: Callable[[dict[str, Any]], T]) -> T | None:
    """What the service made of a valid form; None when the form or the service refused it,
    the reasons then on the form."""
    bound: Any = form  # a Django form, with ServiceErrors mixed in
    if not bound.is_valid():
        return None
    try:
        return save(bound.cleaned_data)
    except ValidationError as exc:
        form.attach(exc)
        return None


def _policy(request: HttpRequest, pk: int) -> RecognitionPolicy:
    policy = get_object_or_404(selectors.visible_policies(request.user), pk=pk)
    require(request, "recognition.manage_policy", policy)
    return policy


@login_required
def policies(request: HttpRequest) -> HttpResponse:
    require(request, "recognition.view_recognition")
    rows = list(selectors.visible_policies(request.user))
    counts = selectors.entry_counts(rows)
    for row in rows:
        row.entry_counts = counts[row.pk]  # type: ignore[attr-defined]
    return render(
        request,
        "recognition/policies/list.html",
        {"policies": rows, "ledger_url": _ledger_url()},
    )


@login_required
def policy_new(request: HttpRequest) -> HttpResponse:
    require(request, "recognition.view_recognition")
    offices = selectors.policy_offices(request.user)
    form = PolicyForm(request.POST if request.method == "POST" else None, offices=offices)
    policy = _submitted(
        form,
        lambda data: services.create_policy(
            request.user,
            data["recognizer"],
            name=data["name"],
            description=data["description"],
            effective_from=data["effective_from"],
            effective_until=data["effective_until"],
        ),
    )
    if policy is not None:
        messages.success(request, f"Policy “{policy.name}” created as a draft. Now add its rules.")
        return redirect("recognition:policy", policy.pk)
    return render(request, "recognition/policies/new.html", {"form": form})


def _policy_page(request: HttpRequest, policy: RecognitionPolicy, **forms: Any) -> HttpResponse:
    counts = selectors.entry_counts([policy])
    context = {
        "policy": policy,
        "rules": selectors.with_role_lists(policy.rules.all()),
        "versions": selectors.versions_of(policy),
        "counts": counts[policy.pk],
        "ledger_url": _ledger_url(),
        "ends_previous": (
            selectors.in_force_before(policy) if policy.status == Status.DRAFT else None
        ),
        "rule_form": forms.get("rule_form") or RuleForm(),
        "version_form": forms.get("version_form") or NewVersionForm(),
        "retire_form": forms.get("retire_form") or RetireForm(),
        "activate_errors": forms.get("activate_errors", []),
    }
    return render(request, "recognition/policies/detail.html", context)


@login_required
def policy(request: HttpRequest, pk: int) -> HttpResponse:
    return _policy_page(request, _policy(request, pk))


@require_POST
@login_required
def policy_rule_add(request: HttpRequest, pk: int) -> HttpResponse:
    policy = _policy(request, pk)
    form = RuleForm(request.POST)
    if form.is_valid():
        try:
            rule = services.add_rule(request.user, policy, **form.rule_fields())
        except ValidationError as exc:
            if policy.status != Status.DRAFT:  # its page has no rule form to show this on
                messages.error(request, " ".join(exc.messages))
                return redirect("recognition:policy", policy.pk)
            form.attach(exc)
        else:
            messages.success(request, f"Rule added: {rule.describe()}.")
            return redirect("recognition:policy", policy.pk)
    return _policy_page(request, policy, rule_form=form)


@require_POST
@login_required
def policy_rule_remove(request: HttpRequest, pk: int, rule_pk: int) -> HttpResponse:
    policy = _policy(request, pk)
    rule = get_object_or_404(RecognitionRule, pk=rule_pk, policy=policy)
    try:
        services.remove_rule(request.user, rule)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Rule removed: {rule.describe()}.")
    return redirect("recognition:policy", policy.pk)


@require_POST
@login_required
def policy_activate(request: HttpRequest, pk: int) -> HttpResponse:
    policy = _policy(request, pk)
    previous = selectors.in_force_before(policy)
    try:
        if previous is not None:
            services.activate_version(request.user, policy)
        else:
            services.activate(request.user, policy)
    except ValidationError as exc:
        # Shown beside the button, with the dates, not as a passing message.
        return _policy_page(request, policy, activate_errors=exc.messages)
    text = f"Version {policy.number} of “{policy.name}” is in force."
    if previous is not None:
        previous.refresh_from_db()
        text += f" Version {previous.number} ends on {previous.effective_until:%B %-d, %Y}."
    messages.success(request, text)
    return redirect("recognition:policy", policy.pk)


@require_POST
@login_required
def policy_new_version(request: HttpRequest, pk: int) -> HttpResponse:
    policy = _policy(request, pk)
    return _posted_on_page(
        request,
        policy,
        "version_form",
        NewVersionForm(request.POST),
        save=lambda data: services.new_version(request.user, policy, data["effective_from"]),
        done=lambda draft: (
            f"Version {draft.number} started as a draft with the same rules. Change them, "
            "then put it in force."
        ),
    )


@require_POST
@login_required
def policy_retire(request: HttpRequest, pk: int) -> HttpResponse:
    policy = _policy(request, pk)
    return _posted_on_page(
        request,
        policy,
        "retire_form",
        RetireForm(request.POST),
        save=lambda data: services.retire(request.user, policy, data["last_day"]),
        done=lambda ended: f"Version {ended.number} ends on {ended.effective_until:%B %-d, %Y}.",
    )


def _posted_on_page(
    request: HttpRequest,
    policy: RecognitionPolicy,
    form_name: str,
    form: ServiceErrors,
    *,
    save: Callable[[dict[str, Any]], RecognitionPolicy],
    done: Callable[[RecognitionPolicy], str],
) -> HttpResponse:
    """A form of the policy's page, posted: the version the service returns, with done's
    message; or the page again, the form (its name on the page: form_name) showing what was
    wrong."""
    result = _submitted(form, save)
    if result is None:
        return _policy_page(request, policy, **{form_name: form})
    messages.success(request, done(result))
    return redirect("recognition:policy", result.pk)

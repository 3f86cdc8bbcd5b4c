"""Scoring policy pages: how each micro-credential is scored (second reads, calibration,
drift, funding), for scoring leads and the state program office."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from microcred.catalog.models import MicroCredential

from . import moderation
from .forms_policy import PolicyForm
from .views import _require


@login_required
def policies(request: HttpRequest) -> HttpResponse:
    _require(request, "assessment.manage_calibration")
    rows = moderation.policy_rows()
    return render(request, "assessment/policy/list.html", {"rows": rows})


@login_required
def policy_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "assessment.manage_calibration")
    micro_credential = get_object_or_404(MicroCredential, pk=pk)
    policy = moderation.policy_for(micro_credential.pk)
    form = PolicyForm(request.POST or None, instance=policy)
    if request.method == "POST":
        if form.is_valid():
            moderation.save_policy(micro_credential, data=form.cleaned_data, actor=request.user)
            messages.success(request, "Saved. The new rules apply to what happens from now on.")
            return redirect("assessment:policies")
        status = 400
    else:
        status = 200
    return render(
        request,
        "assessment/policy/edit.html",
        {
            "form": form,
            "title": moderation.policy_rows([micro_credential.pk])[0].title,
            "own": policy.pk is not None,
        },
        status=status,
    )

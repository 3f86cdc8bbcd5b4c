"""The earner's survey pages: the list of open surveys, one survey, the thank-you page."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from . import surveys
from .forms_evaluation import SurveyForm
from .models import SurveyInvitation, Wave


def _invitation(request: HttpRequest, token: UUID) -> SurveyInvitation:
    """404 for a token that is not one of the user's own surveys (never saying whose)."""
    invitation = surveys.invitation_for(request.user, token)
    if invitation is None or not request.user.has_perm("insights.answer_survey", invitation):
        raise Http404("There is no such survey among yours.")
    return invitation


@login_required
def my_surveys(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "insights/surveys/list.html",
        {
            "invitations": list(surveys.open_invitations(request.user)),
            "answered": surveys.answered_count(request.user),
        },
    )


@login_required
def survey(request: HttpRequest, token: UUID) -> HttpResponse:
    invitation = _invitation(request, token)
    closed = surveys.is_closed(invitation)
    answered = invitation.responded_at is not None
    form = SurveyForm(request.POST if request.method == "POST" else None, wave=invitation.wave)
    status = 200
    if request.method == "POST":
        if answered:
            messages.info(
                request,
                "You had already answered this survey; we kept your first answers. Thank you.",
            )
            return redirect("insights:survey_thanks", token=invitation.token)
        if closed:
            status = 409
        elif form.is_valid():
            try:
                surveys.respond(
                    request.user, invitation, form.ratings(), form.cleaned_data["comment"]
                )
            except surveys.AlreadyAnswered:
                messages.info(
                    request,
                    "You had already answered this survey; we kept your first answers. Thank you.",
                )
                return redirect("insights:survey_thanks", token=invitation.token)
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
                status = 400
            else:
                return redirect("insights:survey_thanks", token=invitation.token)
        else:
            status = 400
    return render(
        request,
        "insights/surveys/survey.html",
        {
            "invitation": invitation,
            "form": form,
            "closed": closed,
            "answered": answered,
            "follow_up": invitation.wave == Wave.FOLLOW_UP,
        },
        status=status,
    )


@login_required
def survey_thanks(request: HttpRequest, token: UUID) -> HttpResponse:
    invitation = _invitation(request, token)
    if invitation.responded_at is None:
        return redirect("insights:survey", token=invitation.token)
    return render(
        request,
        "insights/surveys/thanks.html",
        {"invitation": invitation, "open_left": surveys.open_invitations(request.user).count()},
    )

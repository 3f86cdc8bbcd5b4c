"""The roll-out pages: the state's view of which district is at which stage, and one
district's program settings. Thin: orgs.programs reads and writes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from . import programs
from .forms import show_service_errors
from .forms_programs import ProgramFilterForm, ProgramForm, initial_for
from .models import Organization


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "orgs/programs/forbidden.html", {"message": message}, status=403)


@login_required
def program_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.has_perm("orgs.view_programs"):
        return _forbidden(
            request, "The roll-out settings are for the state's and the districts' program staff."
        )
    leas = programs.program_leas(user)
    whole_state = programs.sees_whole_state(user)
    if not whole_state:
        # A district's program staff have one district to look after: go straight to it.
        own = list(leas[:2])
        if len(own) == 1:
            return redirect("orgs:program_edit", slug=own[0].slug)
    form = ProgramFilterForm(request.GET or None, regions=programs.regions_of(leas))
    valid = form.is_bound and form.is_valid()
    filters = form.filters() if valid else programs.ProgramFilters()
    context = {
        "form": form,
        "overview": programs.overview(leas, filters),
        "filtered": filters.any,
        "whole_state": whole_state,
        "any_district": leas.exists(),
    }
    status = 400 if form.is_bound and not valid else 200
    return render(request, "orgs/programs/list.html", context, status=status)


@login_required
def program_edit(request: HttpRequest, slug: str) -> HttpResponse:
    lea = get_object_or_404(Organization, slug=slug, kind=Organization.Kind.LEA)
    if not request.user.has_perm("orgs.manage_program", lea):
        return _forbidden(
            request,
            f"Only the program staff of {lea.name}, or of the state above it, can change its "
            "roll-out settings.",
        )
    program = programs.program_for(lea)
    current = programs.settings_of(program)
    fundable = programs.fundable_micro_credentials(program)
    form = ProgramForm(
        request.POST if request.method == "POST" else None,
        initial=initial_for(current, programs.stamp_of(program)),
        schools=programs.schools_of(lea),
        micro_credentials=fundable,
        titles=programs.titles_of(fundable),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                changed = programs.save_program(
                    request.user, lea, form.settings(), seen=form.cleaned_data["seen"]
                )
            except programs.AlreadyChanged as exc:
                # Show the settings as they are now, with what happened.
                messages.error(request, exc.messages[0])
                return redirect("orgs:program_edit", slug=lea.slug)
            except ValidationError as exc:
                show_service_errors(form, exc)
            else:
                if changed:
                    messages.success(request, f"The program settings of {lea.name} were saved.")
                else:
                    messages.info(request, "Nothing had changed, so nothing was saved.")
                return redirect("orgs:program_edit", slug=lea.slug)
        status = 400
    context = {
        "lea": lea,
        "program": program,
        "form": form,
        "whole_state": programs.sees_whole_state(request.user),
        "contacts": programs.program_contacts(lea),
    }
    return render(request, "orgs/programs/edit.html", context, status=status)

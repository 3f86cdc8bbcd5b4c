"""The staff progress page and its CSV (see staff.py for what the rows say)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone

from microcred.orgs.models import Organization
from microcred.orgs.services import record_audit
from microcred.web.spreadsheets import csv_download, csv_text

from . import staff

PAGE_SIZE = 25


class UnitForm(forms.Form):
    """Which school or district to look at, for someone who oversees several."""

    org = forms.ChoiceField(label="School or district")

    def __init__(self, *args: Any, units: list[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["org"]
        field.choices = [(str(unit.pk), unit.name) for unit in units]  # type: ignore[attr-defined]
        if all(unit.kind == Organization.Kind.LEA for unit in units):
            field.label = "District"
        elif all(unit.kind == Organization.Kind.SCHOOL for unit in units):
            field.label = "School"


class StaffFilterForm(forms.Form):
    school = forms.ChoiceField(label="School", required=False)
    in_progress = forms.BooleanField(
        label="Only educators with a micro-credential in progress", required=False
    )
    ending_soon = forms.BooleanField(
        label="Only educators whose license renewal ends within 12 months without enough yet",
        required=False,
    )

    def __init__(
        self, *args: Any, unit: Organization, schools: list[Organization], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.schools = {str(school.pk): school for school in schools}
        if unit.kind == Organization.Kind.SCHOOL:
            del self.fields["school"]
            return
        field = self.fields["school"]
        field.choices = [("", f"Every school of {unit.name}")] + [  # type: ignore[attr-defined]
            (str(school.pk), school.name) for school in schools
        ]
        field.error_messages["invalid_choice"] = f"Choose one of the schools of {unit.name}."

    def filters(self) -> staff.StaffFilters:
        data = self.cleaned_data
        return staff.StaffFilters(
            school=self.schools.get(data.get("school") or ""),
            in_progress=data["in_progress"],
            ending_soon=data["ending_soon"],
        )


@dataclass
class Chosen:
    """What the request asks to see: the unit (None until someone with several picks one),
    its schools and the filter form."""

    units: list[Organization]
    unit: Organization | None
    schools: list[Organization]
    form: StaffFilterForm | None

    @property
    def filters(self) -> staff.StaffFilters:
        if self.form is not None and self.form.is_valid():
            return self.form.filters()
        return staff.StaffFilters()


def _choose(request: HttpRequest) -> Chosen:
    """403 without the role; 404 for a school or district that is not the viewer's."""
    user = request.user
    if not user.has_perm("insights.view_staff_progress"):
        raise PermissionDenied("Staff progress is for principals and program staff.")
    units = staff.staff_units(user)
    raw = request.GET.get("org", "").strip()
    if raw:
        unit = next((u for u in units if str(u.pk) == raw), None)
        if unit is None or not user.has_perm("insights.view_staff_progress", unit):
            raise Http404("There is no such school or district among yours.")
    else:
        unit = units[0] if len(units) == 1 else None
    if unit is None:
        return Chosen(units, None, [], None)
    schools = staff.schools_of(unit)
    form = StaffFilterForm(request.GET, unit=unit, schools=schools)
    return Chosen(units, unit, schools, form)


def _page_context(request: HttpRequest, chosen: Chosen) -> dict[str, Any]:
    context: dict[str, Any] = {
        "units": chosen.units,
        "unit": chosen.unit,
        "several_units": len(chosen.units) > 1,
        "unit_form": UnitForm(
            initial={"org": str(chosen.unit.pk) if chosen.unit else ""}, units=chosen.units
        ),
        "form": chosen.form,
    }
    if chosen.unit is None:
        return context
    today = timezone.localdate()
    filters = chosen.filters
    listing = staff.staff_list(chosen.unit, chosen.schools, filters, today)
    page = Paginator(listing.educators, PAGE_SIZE).get_page(request.GET.get("page"))
    org_ids = staff.unit_organization_ids(chosen.unit, chosen.schools)
    standings = listing.standings if filters.ending_soon else None
    query = request.GET.copy()
    query.pop("page", None)
    if chosen.form is not None and not chosen.form.is_valid():
        # The filters were ignored: the pages and the CSV link follow the unfiltered list.
        query = QueryDict(mutable=True)
        if len(chosen.units) > 1:
            query["org"] = str(chosen.unit.pk)
    context.update(
        page=page,
        rows=staff.staff_rows(list(page.object_list), org_ids, today, standings),
        caption=filters.describe(chosen.unit),
        filtered=filters != staff.StaffFilters(),
        querystring=query.urlencode(),
        preapprovals_waiting=staff.preapprovals_waiting(chosen.unit, chosen.schools, request.user),
        is_school=chosen.unit.kind == Organization.Kind.SCHOOL,
    )
    return context


@login_required
def staff_progress(request: HttpRequest) -> HttpResponse:
    chosen = _choose(request)
    status = 400 if chosen.form is not None and not chosen.form.is_valid() else 200
    return render(
        request, "insights/staff/progress.html", _page_context(request, chosen), status=status
    )


@login_required
def staff_progress_csv(request: HttpRequest) -> HttpResponse:
    chosen = _choose(request)
    if chosen.unit is None or chosen.form is None or not chosen.form.is_valid():
        # Nothing to export yet (no school or district chosen) or a filter to correct.
        context = _page_context(request, chosen)
        if chosen.unit is None:
            context["problem"] = "Choose a school or district first, then download its CSV."
        return render(request, "insights/staff/progress.html", context, status=400)
    filters = chosen.filters
    today = timezone.localdate()
    rows = list(staff.csv_rows(chosen.unit, chosen.schools, filters, today))
    record_audit(
        request.user,
        "insights.staff_progress_exported",
        chosen.unit,
        data={
            "rows": len(rows),
            "school": filters.school.pk if filters.school else None,
            "in_progress": filters.in_progress,
            "ending_soon": filters.ending_soon,
        },
        organization=chosen.unit,
    )
    filename = f"staff-progress-{chosen.unit.slug}-{today:%Y-%m-%d}.csv"
    return csv_download(filename, csv_text(staff.CSV_HEADER, rows))

"""The micro-credential editor: one page of plain forms and formsets for a VersionContent.

It works without JavaScript: "add another" buttons re-post the page with one more blank row.
The forms only parse what was typed (numbers are numbers, a link is a link); whether the result
is a sound micro-credential is decided by content.check_content, whose problems are keyed by
field paths ("title", "evidence[2]", "rubric.bands") and placed by the editor next to the
section or row they concern, and listed in a summary at the top of the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.forms.formsets import BaseFormSet
from django.http import QueryDict

from . import display, selectors
from .content import VersionContent
from .forms import (
    MAX_ROWS,
    OpenMultipleChoiceField,
    RowFormSet,
    row_formset,
    textarea,
    with_extra_row,
)
from .models import (
    EvidenceRequirement,
    GradeBand,
    MicroCredentialVersion,
    Rubric,
    StandardFramework,
    StandardItem,
    Subject,
)

Kind = EvidenceRequirement.Kind


# ---------------------------------------------------------------------------- editor sections
class BasicsForm(forms.Form):
    title = forms.CharField(
        max_length=200,
        required=False,
        help_text="The skill in a few words, as teachers will search for it.",
    )
    summary = forms.CharField(
        max_length=400,
        required=False,
        widget=textarea(2),
        help_text="One or two sentences shown in search results.",
    )
    competency_statement = forms.CharField(
        required=False,
        widget=textarea(4),
        help_text="What the educator will be able to do, in one statement.",
    )
    key_method = forms.CharField(
        required=False,
        widget=textarea(5),
        help_text="The method the educator uses to show the skill; describe its parts below.",
    )
    research_basis = forms.CharField(
        required=False,
        widget=textarea(5),
        help_text="The research the method rests on, with citations.",
    )
    estimated_hours = forms.CharField(
        max_length=12,
        required=False,
        label="Estimated hours",
        help_text="How long earning it usually takes, for example 12 or 7.5.",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    difficulty = forms.ChoiceField(
        required=False,
        choices=[("", "Choose a difficulty"), *MicroCredentialVersion.Difficulty.choices],
    )
    career_phase = forms.ChoiceField(
        required=False,
        choices=MicroCredentialVersion.CareerPhase.choices,
        initial=MicroCredentialVersion.CareerPhase.ANY,
    )
    grade_bands = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Grade bands"
    )
    subjects = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["grade_bands"].choices = list(GradeBand.objects.values_list("code", "name"))
        self.fields["subjects"].choices = list(Subject.objects.values_list("code", "name"))


class ComponentForm(forms.Form):
    title = forms.CharField(max_length=200, required=False)
    description = forms.CharField(
        required=False, widget=textarea(3), help_text="What this part looks like in practice."
    )


class ResourceForm(forms.Form):
    title = forms.CharField(max_length=200, required=False)
    url = forms.URLField(max_length=500, required=False, label="Web address", assume_scheme="https")
    description = forms.CharField(required=False, widget=textarea(2))


class EvidenceForm(forms.Form):
    kind = forms.ChoiceField(
        required=False, choices=[("", "Choose the kind of evidence"), *Kind.choices]
    )
    title = forms.CharField(max_length=200, required=False)
    instructions = forms.CharField(
        required=False, widget=textarea(5), help_text="Tell the earner exactly what to submit."
    )
    word_limit = forms.IntegerField(required=False, min_value=0, label="Word limit")
    min_minutes = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=6,
        decimal_places=2,
        label="Shortest length (minutes)",
        help_text="Optional.",
    )
    max_minutes = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=6,
        decimal_places=2,
        label="Longest length (minutes)",
    )
    requires_annotations = forms.BooleanField(
        required=False,
        label="The earner must add time-stamped notes",
        help_text="For example: 3:15 - here I open the conversation. Video only.",
    )
    min_annotations = forms.IntegerField(
        required=False, min_value=0, label="Fewest notes", help_text="1 if left blank."
    )
    allowed_types = OpenMultipleChoiceField(
        required=False,
        choices=display.FILE_TYPE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        label="Accepted file types",
        help_text="Leave all unticked to accept the usual types for this kind of evidence.",
    )
    max_file_size_mb = forms.IntegerField(required=False, min_value=0, label="Largest file (MB)")
    max_files = forms.IntegerField(
        required=False, min_value=1, label="Most files", help_text="1 if left blank."
    )

    # Fields grouped by the kinds of evidence they apply to, as the editor shows them.
    KIND_GROUPS: ClassVar[list[tuple[str, list[str]]]] = [
        ("Written responses and reflections", ["word_limit"]),
        ("Video and audio", ["min_minutes", "max_minutes"]),
        ("Video only", ["requires_annotations", "min_annotations"]),
        ("Video, audio and files", ["allowed_types", "max_file_size_mb"]),
        ("Files only", ["max_files"]),
    ]

    def kind_groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(label, [self[name] for name in names]) for label, names in self.KIND_GROUPS]

    def to_spec(self) -> dict[str, Any]:
        """The evidence part as content, keeping only the fields its kind uses; notes stay
        whatever the kind so that check_content can say they need a video."""
        data = self.cleaned_data
        kind = data["kind"]
        spec: dict[str, Any] = {
            "kind": kind,
            "title": data["title"].strip(),
            "instructions": data["instructions"].strip(),
            "requires_annotations": data["requires_annotations"],
        }
        if kind in EvidenceRequirement.TEXT_KINDS:
            spec["word_limit"] = data["word_limit"]
        if kind in EvidenceRequirement.MEDIA_KINDS:
            spec["min_duration_seconds"] = display.seconds_from_minutes(data["min_minutes"])
            spec["max_duration_seconds"] = display.seconds_from_minutes(data["max_minutes"])
        if data["requires_annotations"]:
            spec["min_annotations"] = (
                1 if data["min_annotations"] is None else data["min_annotations"]
            )
        if kind in {*EvidenceRequirement.MEDIA_KINDS, Kind.FILE}:
            spec["allowed_types"] = list(data["allowed_types"])
            spec["max_file_size_mb"] = data["max_file_size_mb"]
        if kind == Kind.FILE:
            spec["max_files"] = data["max_files"] or 1
        return spec

    @staticmethod
    def initial_from(spec: dict[str, Any]) -> dict[str, Any]:
        return {
            **spec,
            "min_minutes": display.minutes_from_seconds(spec.get("min_duration_seconds")),
            "max_minutes": display.minutes_from_seconds(spec.get("max_duration_seconds")),
        }


class RubricForm(forms.Form):
    scoring = forms.ChoiceField(
        required=False,
        choices=Rubric.Scoring.choices,
        widget=forms.RadioSelect,
        initial=Rubric.Scoring.DETAILS,
        label="How the assessor scores",
    )
    instructions = forms.CharField(
        required=False,
        widget=textarea(3),
        label="Scoring instructions",
        help_text="Shown to earners and assessors above the rubric.",
    )


class RubricComponentForm(forms.Form):
    title = forms.CharField(max_length=200, required=False)
    key_component = forms.ChoiceField(
        required=False,
        label="Key method component it scores",
        help_text="New components appear here after you save or add a row.",
    )
    max_points = forms.IntegerField(
        required=False,
        min_value=0,
        label="Points",
        help_text="Leave blank to use the total of its details (or its highest level).",
    )


class CriterionForm(forms.Form):
    label = forms.CharField(
        max_length=80, required=False, label="Level name", help_text="Levels only."
    )
    text = forms.CharField(required=False, widget=textarea(2), label="What the assessor looks for")
    points = forms.IntegerField(required=False, min_value=0, help_text="1 if left blank.")


class BandForm(forms.Form):
    label = forms.CharField(max_length=40, required=False, label="Outcome name")
    min_points = forms.IntegerField(
        min_value=0,
        label="From (points)",
        error_messages={"required": "Enter the lowest score of this band."},
    )
    max_points = forms.IntegerField(
        min_value=0,
        label="To (points)",
        error_messages={"required": "Enter the highest score of this band."},
    )
    passing = forms.BooleanField(required=False, label="This outcome earns the credential")
    description = forms.CharField(required=False, widget=textarea(2))


class AlignmentForm(forms.Form):
    alignments = OpenMultipleChoiceField(required=False, label="Standards")


ComponentFormSet = row_formset(ComponentForm, "Component")
ResourceFormSet = row_formset(ResourceForm, "Resource")
EvidenceFormSet = row_formset(EvidenceForm, "Evidence part")
CriterionFormSet = row_formset(CriterionForm, "Detail or level")


class BaseBandFormSet(RowFormSet):
    """Outcome bands. A rubric without bands yet offers the usual three as suggestions: they
    count only once the author gives them points (an untouched suggestion is a blank row)."""

    noun = "Outcome band"

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        kwargs = super().get_form_kwargs(index)
        if index is not None and self.initial_form_count() == 0 and index < len(STARTER_BANDS):
            kwargs["initial"] = STARTER_BANDS[index]
        return kwargs


BandFormSet = forms.formset_factory(
    BandForm,
    formset=BaseBandFormSet,
    extra=1,
    can_delete=True,
    can_delete_extra=False,
    max_num=MAX_ROWS,
    absolute_max=MAX_ROWS,
)


class BaseRubricComponentFormSet(RowFormSet):
    """Rubric components, each with its own nested formset of details or levels (prefix
    '<component prefix>-criteria'), and a choice among the key method components."""

    noun = "Rubric component"

    def __init__(self, *args: Any, key_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        self.key_choices = key_choices
        super().__init__(*args, **kwargs)

    def _construct_form(self, i: int, **kwargs: Any) -> forms.Form:
        form = super()._construct_form(i, **kwargs)
        form.fields["key_component"].choices = self.key_choices
        criteria = form.initial.get("criteria") or []
        nested = CriterionFormSet(
            self.data if self.is_bound else None,
            prefix=f"{form.prefix}-criteria",
            initial=criteria or None,
        )
        nested.extra = 1 if criteria else 3
        form.criteria = nested  # type: ignore[attr-defined]
        return form


RubricComponentFormSet = forms.formset_factory(
    RubricComponentForm,
    formset=BaseRubricComponentFormSet,
    extra=1,
    can_delete=True,
    can_delete_extra=False,
    max_num=MAX_ROWS,
    absolute_max=MAX_ROWS,
)


# ---------------------------------------------------------------------------- the editor
@dataclass(frozen=True)
class Problem:
    """One line of the error summary: where, what, and the anchor that leads there."""

    where: str
    message: str
    anchor: str


@dataclass(frozen=True)
class AlignmentGroup:
    framework: StandardFramework
    options: list[tuple[StandardItem, bool]]  # (item, chosen)
    any_chosen: bool


# Section anchors, in page order, and the words the summary uses for them.
SECTIONS = {
    "basics": "Basics",
    "components": "Key method components",
    "resources": "Learning resources",
    "evidence": "Evidence",
    "rubric": "Rubric",
    "bands": "Outcome bands",
    "alignments": "Standards",
}
# Where a content problem goes: its path's head names the section (and, with [n], the row).
_PATH_SECTION = {
    "components": "components",
    "resources": "resources",
    "evidence": "evidence",
    "rubric": "rubric",
    "rubric.scoring": "rubric",
    "rubric.components": "rubric",
    "rubric.bands": "bands",
    "alignments": "alignments",
}
_ROW_PATH = re.compile(r"^(components|resources|evidence|rubric\.components)\[(\d+)\]$")
# Row formsets the "add another" buttons may grow.
_GROWABLE = re.compile(r"^(components|resources|evidence|rubric-components|bands)$")
_GROWABLE_NESTED = re.compile(r"^rubric-components-(\d+)-criteria$")
_NEW_COMPONENT_CRITERIA = 3


class ContentEditor:
    """All the forms of the micro-credential editor, and the translation between them and a
    VersionContent dict."""

    def __init__(
        self, data: QueryDict | None = None, initial: VersionContent | None = None
    ) -> None:
        self.data = data
        content: dict[str, Any] = dict(initial or {})
        rubric: dict[str, Any] = dict(content.get("rubric") or {})
        self.basics = BasicsForm(data, initial=_basics_initial(content) if initial else None)
        self.components = ComponentFormSet(
            data, prefix="components", initial=content.get("components") or None
        )
        self.resources = ResourceFormSet(
            data, prefix="resources", initial=content.get("resources") or None
        )
        self.evidence = EvidenceFormSet(
            data,
            prefix="evidence",
            initial=[EvidenceForm.initial_from(e) for e in content.get("evidence", [])] or None,
        )
        # An empty section offers two blank rows, a filled one a single spare row.
        for formset in (self.components, self.resources, self.evidence):
            if not formset.initial:
                formset.extra = 2
        self.rubric = RubricForm(data, prefix="rubric", initial=_rubric_initial(rubric))
        self.rubric_components = RubricComponentFormSet(
            data,
            prefix="rubric-components",
            initial=[_rubric_component_initial(rc) for rc in rubric.get("components", [])] or None,
            key_choices=self._key_choices(),
        )
        if not self.rubric_components.initial:
            self.rubric_components.extra = 2
        self.bands = BandFormSet(data, prefix="bands", initial=rubric.get("bands") or None)
        if not self.bands.initial:
            self.bands.extra = len(STARTER_BANDS)
        self.alignments = AlignmentForm(data, initial={"alignments": content.get("alignments", [])})
        self.alignment_groups = selectors.standard_item_groups()
        self.alignments.fields["alignments"].choices = [
            (str(item.identifier), str(item))
            for _framework, items in self.alignment_groups
            for item in items
        ]
        self.section_errors: dict[str, list[str]] = {key: [] for key in SECTIONS}
        self.general_errors: list[str] = []
        self._row_forms: dict[str, list[forms.Form]] = {}

    # --- rendering helpers
    def _key_choices(self) -> list[tuple[str, str]]:
        """Key method components to link a rubric component to, by their row position."""
        if self.data is not None:
            titles = [
                (str(i), form.data.get(f"{form.prefix}-title", "").strip())
                for i, form in enumerate(self.components.forms)
            ]
        else:
            titles = [(str(i), f.initial.get("title", "")) for i, f in enumerate(self.components)]
        choices = [("", "Not linked")]
        for value, title in titles:
            if title:
                short = title if len(title) <= 60 else f"{title[:57]}..."
                choices.append((value, f"{int(value) + 1}. {short}"))
        return choices

    def alignment_options(self) -> list[AlignmentGroup]:
        """The imported standards by framework, each item marked if chosen."""
        if self.data is not None:
            chosen = set(self.data.getlist("alignments"))
        else:
            chosen = set(self.alignments.initial.get("alignments", []))
        groups = []
        for framework, items in self.alignment_groups:
            options = [(item, str(item.identifier) in chosen) for item in items]
            groups.append(AlignmentGroup(framework, options, any(c for _, c in options)))
        return groups

    # --- "add another" without JavaScript
    @staticmethod
    def with_added_row(data: QueryDict, target: str) -> QueryDict | None:
        """A copy of the posted data with one more blank row in `target`, or None when the
        target is not a formset of this page. A new rubric component comes with blank rows
        for its details."""
        if not (_GROWABLE.match(target) or _GROWABLE_NESTED.match(target)):
            return None
        grown = with_extra_row(data, target)
        if grown is not None and target == "rubric-components":
            nested = f"rubric-components-{int(data['rubric-components-TOTAL_FORMS'])}-criteria"
            grown[f"{nested}-TOTAL_FORMS"] = str(_NEW_COMPONENT_CRITERIA)
            grown[f"{nested}-INITIAL_FORMS"] = "0"
        return grown

    # --- validation and conversion
    def all_forms(self) -> Iterator[tuple[str, str, forms.Form]]:
        """(where, anchor, form) for every form of the page, in page order; a row's anchor is
        '<its prefix>-row', the id the template gives the row."""
        yield SECTIONS["basics"], "section-basics", self.basics
        for formset in (self.components, self.resources, self.evidence):
            for i, form in enumerate(formset.forms, start=1):
                yield f"{formset.noun} {i}", f"{form.prefix}-row", form
        yield SECTIONS["rubric"], "section-rubric", self.rubric
        for i, form in enumerate(self.rubric_components.forms, start=1):
            yield f"Rubric component {i}", f"{form.prefix}-row", form
            for j, criterion in enumerate(form.criteria.forms, start=1):
                where = f"Rubric component {i}, detail or level {j}"
                yield where, f"{criterion.prefix}-row", criterion
        for i, form in enumerate(self.bands.forms, start=1):
            yield f"Outcome band {i}", f"{form.prefix}-row", form
        yield SECTIONS["alignments"], "section-alignments", self.alignments

    def _formsets(self) -> list[BaseFormSet]:
        nested = [form.criteria for form in self.rubric_components.forms]
        return [
            self.components,
            self.resources,
            self.evidence,
            self.rubric_components,
            self.bands,
            *nested,
        ]

    def is_valid(self) -> bool:
        """Whether everything parses (not whether the content is sound: check_content says)."""
        valid = all(
            [
                self.basics.is_valid(),
                self.rubric.is_valid(),
                self.alignments.is_valid(),
                *[formset.is_valid() for formset in self._formsets()],
            ]
        )
        if valid:
            kept = {i for i, _ in self.components.kept_forms()}
            for _i, form in self.rubric_components.kept_forms():
                link = form.cleaned_data.get("key_component")
                if link and int(link) not in kept:
                    form.add_error(
                        "key_component",
                        "This key method component is being removed: choose another one.",
                    )
                    valid = False
        return valid

    def to_content(self) -> VersionContent:
        """The posted page as content (call after is_valid). Remembers which form each row of
        the content came from, so that problems found later land next to it."""
        basics = self.basics.cleaned_data
        component_rows = list(self.components.kept_forms())
        position = {i: n for n, (i, _form) in enumerate(component_rows)}
        resources = list(self.resources.kept_forms())
        evidence = list(self.evidence.kept_forms())
        rubric_components = list(self.rubric_components.kept_forms())
        self._row_forms = {
            "components": [form for _, form in component_rows],
            "resources": [form for _, form in resources],
            "evidence": [form for _, form in evidence],
            "rubric.components": [form for _, form in rubric_components],
        }
        return {
            "title": basics["title"].strip(),
            "summary": basics["summary"].strip(),
            "competency_statement": basics["competency_statement"].strip(),
            "key_method": basics["key_method"].strip(),
            "research_basis": basics["research_basis"].strip(),
            "estimated_hours": basics["estimated_hours"].strip(),
            "difficulty": basics["difficulty"],
            "career_phase": basics["career_phase"] or MicroCredentialVersion.CareerPhase.ANY,
            "grade_bands": list(basics["grade_bands"]),
            "subjects": list(basics["subjects"]),
            "components": [
                {
                    "title": form.cleaned_data["title"].strip(),
                    "description": form.cleaned_data["description"].strip(),
                }
                for _, form in component_rows
            ],
            "resources": [
                {
                    "title": form.cleaned_data["title"].strip(),
                    "url": form.cleaned_data["url"],
                    "description": form.cleaned_data["description"].strip(),
                }
                for _, form in resources
            ],
            "evidence": [form.to_spec() for _, form in evidence],  # type: ignore[attr-defined]
            "rubric": {
                "scoring": self.rubric.cleaned_data["scoring"],
                "instructions": self.rubric.cleaned_data["instructions"].strip(),
                "components": [
                    _rubric_component_spec(form, self.rubric.cleaned_data["scoring"], position)
                    for _, form in rubric_components
                ],
                "bands": [
                    {
                        "label": form.cleaned_data["label"].strip(),
                        "min_points": form.cleaned_data["min_points"],
                        "max_points": form.cleaned_data["max_points"],
                        "passing": form.cleaned_data["passing"],
                        "description": form.cleaned_data["description"].strip(),
                    }
                    for _, form in self.bands.kept_forms()
                ],
            },
            "alignments": list(self.alignments.cleaned_data["alignments"]),
        }

    def attach(self, error: ValidationError) -> None:
        """Place the problems of a ValidationError (from check_content or a service) next to
        the field, row or section their path names."""
        if not hasattr(error, "error_dict"):
            self.general_errors.extend(error.messages)
            return
        for path, messages in error.message_dict.items():
            for message in messages:
                self._place(path, message)

    def _place(self, path: str, message: str) -> None:
        if path in self.basics.fields:
            self.basics.add_error(path, message)
            return
        if path == "rubric.scoring":
            self.rubric.add_error("scoring", message)
            return
        row = _ROW_PATH.match(path)
        if row:
            forms_of_section = self._row_forms.get(row.group(1), [])
            index = int(row.group(2)) - 1
            if 0 <= index < len(forms_of_section):
                form = forms_of_section[index]
                form.content_errors = [*getattr(form, "content_errors", []), message]
                return
            path = row.group(1)
        section = _PATH_SECTION.get(path)
        if section:
            self.section_errors[section].append(message)
        else:
            self.general_errors.append(message)

    # --- the summary at the top of the page
    @property
    def problems(self) -> list[Problem]:
        found = [Problem("", message, "editor-errors") for message in self.general_errors]
        for where, row_anchor, form in self.all_forms():
            for message in getattr(form, "content_errors", []):
                found.append(Problem(where, message, row_anchor))
            if not form.is_bound or _marked_for_removal(form):
                continue
            for name, errors in form.errors.items():
                if name == "__all__":
                    found.extend(Problem(where, str(e), row_anchor) for e in errors)
                    continue
                label = form[name].label
                found.extend(
                    Problem(f"{where}: {label}", str(e), form[name].auto_id or row_anchor)
                    for e in errors
                )
        for section, messages in self.section_errors.items():
            found.extend(Problem(SECTIONS[section], m, f"section-{section}") for m in messages)
        if self.data is not None:
            for formset in self._formsets():
                found.extend(
                    Problem("Form", str(e), "editor-errors") for e in formset.non_form_errors()
                )
        return found


def _marked_for_removal(form: forms.Form) -> bool:
    """A row whose "Remove" box is ticked: its problems no longer matter."""
    return "DELETE" in form.fields and form["DELETE"].value() is True


# New micro-credentials start with the usual three outcomes, to be given their points.
STARTER_BANDS = [
    {"label": "Yes", "passing": True},
    {"label": "Almost", "passing": False},
    {"label": "Not yet", "passing": False},
]


def _basics_initial(content: dict[str, Any]) -> dict[str, Any]:
    hours = content.get("estimated_hours")
    return {
        **content,
        # Decimal("15.0") reads as 15 in the form.
        "estimated_hours": format(hours.normalize(), "f") if hasattr(hours, "normalize") else hours,
    }


def _rubric_initial(rubric: dict[str, Any]) -> dict[str, Any]:
    return {
        "scoring": rubric.get("scoring", Rubric.Scoring.DETAILS),
        "instructions": rubric.get("instructions", ""),
    }


def _rubric_component_initial(spec: dict[str, Any]) -> dict[str, Any]:
    link = spec.get("component")
    return {
        "title": spec.get("title", ""),
        "max_points": spec.get("max_points"),
        "key_component": "" if link is None else str(link),
        "criteria": spec.get("criteria", []),
    }


def _rubric_component_spec(
    form: forms.Form, scoring: str, position: dict[int, int]
) -> dict[str, Any]:
    criteria = []
    for _, row in form.criteria.kept_forms():  # type: ignore[attr-defined]
        points = row.cleaned_data["points"]
        criteria.append(
            {
                "text": row.cleaned_data["text"].strip(),
                "label": row.cleaned_data["label"].strip(),
                "points": 1 if points is None else points,
            }
        )
    max_points = form.cleaned_data["max_points"]
    if max_points is None:
        points = [c["points"] for c in criteria] or [0]
        max_points = max(points) if scoring == Rubric.Scoring.LEVELS else sum(points)
    link = form.cleaned_data["key_component"]
    return {
        "title": form.cleaned_data["title"].strip(),
        "max_points": max_points,
        "component": position.get(int(link)) if link else None,
        "criteria": criteria,
    }

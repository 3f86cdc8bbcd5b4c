"""Forms of the earning pages: they parse and label input; services decide what is allowed."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from microcred.catalog.models import ApprovedUse

_TIME = re.compile(r"^\s*(?:(\d+):)?(\d{1,2}):(\d{2})\s*$|^\s*(\d+)\s*$")


def parse_timestamp(value: str) -> int | None:
    """ "3:15" -> 195, "1:02:03" -> 3723, "75" -> 75; None when it is not a time."""
    match = _TIME.match(value or "")
    if match is None:
        return None
    hours, minutes, seconds, plain = match.groups()
    if plain is not None:
        return int(plain)
    if int(seconds) >= 60:
        return None
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)


def format_timestamp(seconds: int) -> str:
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}:{secs:02d}"


class TextForm(forms.Form):
    text = forms.CharField(label="Your answer", required=False, widget=forms.Textarea)


class StartForm(forms.Form):
    """Asked only where the earner's district wants a pre-approval first."""

    use = forms.ChoiceField(label="What should it count for?", choices=())
    rationale = forms.CharField(
        label="Why do you want to earn it?",
        help_text="A few sentences for your principal or district: what you will work on and why.",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=3000,
    )

    def __init__(self, *args: Any, uses: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(ApprovedUse.choices)
        self.fields["use"].choices = [(u, labels.get(u, u)) for u in uses]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Decision",
        choices=[("approve", "Approve"), ("decline", "Decline")],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label="Comment for the teacher",
        help_text="Required when you decline: say what would make it possible.",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


class TeamForm(forms.Form):
    name = forms.CharField(label="Team name", max_length=120)


class InviteForm(forms.Form):
    """Two ways to invite, shown as two forms posting to one address: any email address (in or
    outside the school and district), or a colleague of the team's school from a list."""

    email = forms.EmailField(
        label="Their email address",
        help_text="The address they use for work, such as name@school.org.",
        required=False,
        max_length=254,
        error_messages={"invalid": "Type the whole email address, such as name@school.org."},
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    invitee = forms.TypedChoiceField(
        label="Or choose a colleague to invite from your school",
        coerce=int,
        choices=(),
        required=False,
        empty_value=None,
        error_messages={
            "invalid_choice": "That colleague cannot be invited from the list; invite them by "
            "email instead."
        },
    )

    def __init__(self, *args: Any, colleagues: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["invitee"].choices = [("", "Choose a colleague")] + [
            (u.pk, f"{u} ({u.email})") for u in colleagues
        ]

    @property
    def has_colleagues(self) -> bool:
        return len(self.fields["invitee"].choices) > 1


class AttachForm(forms.Form):
    upload = forms.UUIDField()


class AnnotationForm(forms.Form):
    """The player fills `seconds` with its current time (JS); without JS `time` is typed."""

    time = forms.CharField(
        label="Time in the video (minutes:seconds)",
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "3:15"}),
    )
    component = forms.TypedChoiceField(
        label="Component of the method", coerce=int, choices=(), required=False, empty_value=None
    )
    note = forms.CharField(
        label="What happens here", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )

    def __init__(self, *args: Any, components: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["component"].choices = [("", "No particular component")] + [
            (c.pk, c.title) for c in components
        ]

    def clean_time(self) -> int:
        seconds = parse_timestamp(self.cleaned_data["time"])
        if seconds is None:
            raise forms.ValidationError("Give the time as minutes:seconds, such as 3:15.")
        return seconds

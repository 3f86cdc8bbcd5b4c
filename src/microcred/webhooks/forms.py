"""Forms of the webhook pages: they parse; webhooks.services checks and writes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from microcred.orgs.models import Organization

from .models import SUBSCRIBABLE, EventType

EVENT_CHOICES = [(t, f"{EventType(t).label} ({t})") for t in SUBSCRIBABLE]


class EndpointForm(forms.Form):
    # A text field, not a URLField: webhooks.services.url_problem says what is wrong in words.
    url = forms.CharField(
        label="Endpoint address",
        max_length=500,
        help_text="Where we POST the events, such as https://hr.example.org/microcred-hooks.",
        error_messages={"required": "Enter the address that should receive the events."},
        widget=forms.TextInput(attrs={"inputmode": "url", "autocomplete": "url"}),
    )
    description = forms.CharField(
        label="Description (optional)",
        max_length=200,
        required=False,
        help_text="What receives the events, so that colleagues know (for example “HR system”).",
    )
    event_types = forms.MultipleChoiceField(
        label="Events to send",
        choices=EVENT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one kind of event to send."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["url"].widget.attrs["spellcheck"] = "false"


class NewEndpointForm(EndpointForm):
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        label="Organization",
        empty_label=None,
        help_text="Whose events the endpoint receives.",
    )
    field_order = ["organization", "url", "description", "event_types"]

    def __init__(self, *args: Any, organizations: QuerySet[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations


class EditEndpointForm(EndpointForm):
    active = forms.BooleanField(
        label="Send events to this endpoint",
        required=False,
        help_text="Turn it off to pause: events wait and go out, in order, when you turn it on.",
    )

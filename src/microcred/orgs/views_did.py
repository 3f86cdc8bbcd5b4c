"""The earner's own DID: see it, set it, remove it. Checks and the audited write live in
earner_did; this view only translates HTTP."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from . import earner_did
from .forms import show_service_errors


class DidForm(forms.Form):
    did = forms.CharField(
        label="Your DID",
        max_length=earner_did.MAX_LENGTH,
        error_messages={
            "required": f"Enter your DID ({earner_did.EXAMPLES}), or use “Remove my DID”.",
            "max_length": f"A DID here is at most {earner_did.MAX_LENGTH} characters.",
        },
        help_text=f"It starts with did:key: or did:web:, for example {earner_did.EXAMPLES}.",
        widget=forms.TextInput(attrs={"size": 60, "spellcheck": "false", "autocomplete": "off"}),
    )


@login_required
@require_http_methods(["GET", "POST"])
def my_did(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = DidForm(initial={"did": user.did})
    if request.method == "POST":
        removing = "remove" in request.POST
        form = DidForm(None if removing else request.POST, initial={"did": user.did})
        if removing or form.is_valid():
            value = "" if removing else form.cleaned_data["did"]
            try:
                changed = earner_did.set_did(user, value, actor=user)
            except ValidationError as exc:
                show_service_errors(form, ValidationError({"did": exc.messages}))
            else:
                if not changed:
                    messages.info(request, "Nothing changed: that is already your DID.")
                elif user.did:
                    messages.success(
                        request, "Saved. Credentials issued from now on name this DID."
                    )
                else:
                    messages.success(request, "Your DID is removed from new credentials.")
                return redirect("orgs:my_did")
    status = 400 if form.errors else 200
    return render(request, "orgs/my_did.html", {"form": form, "did": user.did}, status=status)

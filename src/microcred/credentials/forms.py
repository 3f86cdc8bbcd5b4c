"""Forms of the issuer pages and the verifier. They parse what was typed or uploaded; the
services decide (and place their errors next to the fields they name)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from .baking import MAX_BAKED_BYTES, BakingError, is_badge_image, unbake
from .models import IssuerProfile

# The verifier reads credentials, not archives: 1 MB is many times the largest we know.
MAX_CREDENTIAL_BYTES = 1024 * 1024


class IssuerProfileForm(forms.ModelForm):
    class Meta:
        model = IssuerProfile
        fields = ["name", "url", "email", "description", "image_url", "identifier_method"]
        labels = {"name": "Name shown on credentials"}
        help_texts = {
            "url": "The issuer's public website, for example https://www.dpi.nc.gov/.",
            "email": "Where someone checking a credential can write with questions.",
            "image_url": "Optional: the address of a square logo image (PNG or SVG).",
            "identifier_method": "How verifiers find your keys. Keep did:web unless a wallet "
            "you work with asks for did:key.",
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "identifier_method": forms.RadioSelect,
        }
        error_messages = {"name": {"required": "Enter the name shown on credentials."}}


class RotateKeyForm(forms.Form):
    reason = forms.CharField(
        label="Why replace the key",
        max_length=500,
        help_text="For example: yearly rotation, or a staff member with access left. "
        "It is kept in the audit log.",
        error_messages={"required": "Say why the key is being replaced (it is recorded)."},
    )


class VerifyForm(forms.Form):
    credential = forms.CharField(
        label="Paste the credential (JSON)",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
    )
    file = forms.FileField(
        label="Or upload a credential file (.json, up to 1 MB) or a badge image with the "
        "credential baked in (.png or .svg, up to 5 MB)",
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": ".json,application/json,.jsonld,.png,image/png,.svg,image/svg+xml"}
        ),
    )

    def clean_credential(self) -> str:
        text: str = self.cleaned_data["credential"]
        if len(text.encode("utf-8")) > MAX_CREDENTIAL_BYTES:
            raise forms.ValidationError(
                "This text is longer than 1 MB; a credential is much smaller. Check that you "
                "copied only the credential."
            )
        return text

    def clean_file(self) -> bytes | str | None:
        """The credential in the uploaded file: its bytes, or the text baked into an image."""
        upload: UploadedFile | None = self.cleaned_data.get("file")
        if upload is None:
            return None
        too_big = forms.ValidationError(
            f"This file is {(upload.size or 0) / 1024 / 1024:.1f} MB; the verifier reads files "
            f"up to 1 MB (badge images up to {MAX_BAKED_BYTES // 1024 // 1024} MB)."
        )
        if upload.size is not None and upload.size > MAX_BAKED_BYTES:
            raise too_big
        data = upload.read(MAX_BAKED_BYTES + 1)
        if is_badge_image(data):
            try:
                return unbake(data)
            except BakingError as error:
                raise forms.ValidationError(str(error)) from error
        if len(data) > MAX_CREDENTIAL_BYTES:
            raise too_big
        return data

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors and not data.get("credential", "").strip() and not data.get("file"):
            raise forms.ValidationError(
                "Paste a credential into the box, or choose a credential file to upload."
            )
        return data

    def raw(self) -> bytes | str:
        """What to verify: the uploaded file's credential, else the pasted text."""
        from_file = self.cleaned_data.get("file")
        return from_file if from_file is not None else self.cleaned_data["credential"]


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label="Why revoke this credential",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The earner and anyone who views the credential's page will see this reason. "
        "It is also kept in the audit log.",
        error_messages={"required": "Say why the credential is revoked (the earner sees it)."},
    )

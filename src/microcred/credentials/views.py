"""Public credential pages (issuers, DID documents, status lists, the verifier) and the issuer
admin's pages (set up, edit the profile, rotate the key).

Views parse and show; selectors read, services decide, write and audit. Machine-readable
documents are served as JSON with CORS open, since wallets and verifiers fetch them from
other sites.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_POST

from microcred.orgs.forms import show_service_errors
from microcred.orgs.models import Organization

# selectors, services, issuing, did, sharing and status_list are imported inside the views that
# use them: between them they load the signing and verifying stack (pyld, lxml, requests,
# jsonschema, cryptography), and Django imports this module in every web process when it builds
# the URL table, including processes that never show a credential (issue 8). baking imports
# Pillow only when it bakes.
from . import baking
from .forms import IssuerProfileForm, RevokeForm, RotateKeyForm, VerifyForm
from .models import IssuedCredential, IssuerProfile


def _require(request: HttpRequest, obj: Any) -> None:
    if not request.user.has_perm("credentials.manage_issuer", obj):
        raise PermissionDenied


def _issuer(slug: str) -> IssuerProfile:
    from . import selectors

    profile = selectors.issuer_with_keys(slug)
    if profile is None:
        raise Http404("No issuer has this address.")
    return profile


def _json(document: dict, content_type: str = "application/json") -> JsonResponse:
    response = JsonResponse(document, content_type=content_type, json_dumps_params={"indent": 2})
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _cacheable(response: JsonResponse) -> JsonResponse:
    """Public documents verifiers may cache as long as a status list (what
    @cache_control(public=True, max_age=TTL_SECONDS) did, without importing status_list, and
    the verifier behind it, with this module)."""
    from .status_list import TTL_SECONDS

    patch_cache_control(response, public=True, max_age=TTL_SECONDS)
    return response


# ---------------------------------------------------------------------------- issuers


def issuer_list(request: HttpRequest) -> HttpResponse:
    from . import selectors

    managed = selectors.issuers_managed_by(request.user)
    return render(
        request,
        "credentials/issuer_list.html",
        {"issuers": selectors.public_issuers(), "managed": managed},
    )


@login_required
@require_POST
def issuer_setup(request: HttpRequest, slug: str) -> HttpResponse:
    from . import services

    organization = get_object_or_404(Organization, slug=slug, kind=Organization.Kind.ISSUER)
    _require(request, organization)
    try:
        profile = services.create_issuer_profile(request.user, organization)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("credentials:issuers")
    messages.success(
        request,
        f"{profile.name} can now sign credentials. Check the details credentials will show.",
    )
    return redirect("credentials:issuer_edit", profile.slug)


def issuer_detail(request: HttpRequest, slug: str) -> HttpResponse:
    from . import did, selectors

    profile = _issuer(slug)
    return render(
        request,
        "credentials/issuer_detail.html",
        {
            "profile": profile,
            "keys": list(profile.keys.all()),
            "identifier": selectors.identifier(profile),
            "did_web": did.did_web_for(profile.slug),
            "can_manage": request.user.has_perm("credentials.manage_issuer", profile),
        },
    )


@login_required
def issuer_edit(request: HttpRequest, slug: str) -> HttpResponse:
    from . import services

    profile = _issuer(slug)
    _require(request, profile)
    form = IssuerProfileForm(
        request.POST or None, instance=IssuerProfile.objects.get(pk=profile.pk)
    )
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            services.update_issuer_profile(request.user, profile, **changes)
        except ValidationError as error:
            show_service_errors(form, error)
        else:
            messages.success(request, "Saved. Credentials issued from now on show these details.")
            return redirect("credentials:issuer", profile.slug)
    return render(request, "credentials/issuer_form.html", {"profile": profile, "form": form})


@login_required
def key_rotate(request: HttpRequest, slug: str) -> HttpResponse:
    from . import selectors, services

    profile = _issuer(slug)
    _require(request, profile)
    form = RotateKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            key = services.rotate_key(profile, request.user, form.cleaned_data["reason"])
        except ValidationError as error:
            show_service_errors(form, error)
        else:
            messages.success(
                request,
                f"New key {key.fragment} is now used to sign. Credentials signed with earlier "
                "keys keep verifying.",
            )
            return redirect("credentials:issuer", profile.slug)
    return render(
        request,
        "credentials/key_rotate.html",
        {"profile": profile, "form": form, "current": selectors.active_key(profile)},
    )


# ---------------------------------------------------------------------------- documents


def did_document(request: HttpRequest, slug: str) -> JsonResponse:
    from . import selectors

    return _cacheable(_json(selectors.did_document(_issuer(slug)), "application/did+ld+json"))


def issuer_profile_json(request: HttpRequest, slug: str) -> JsonResponse:
    from . import selectors

    return _cacheable(_json(selectors.profile_document(_issuer(slug)), "application/ld+json"))


def status_list(request: HttpRequest, list_uuid: UUID) -> JsonResponse:
    from . import selectors

    found = selectors.status_list(list_uuid)
    if found is None:
        raise Http404("No status list has this address.")
    return _cacheable(_json(found.credential, "application/vc+ld+json"))


# ---------------------------------------------------------------------------- verifier


def verify(request: HttpRequest) -> HttpResponse:
    from . import selectors

    form = VerifyForm(request.POST or None, request.FILES or None)
    summary = None
    if request.method == "POST" and form.is_valid():
        summary = selectors.verify_text(form.raw())
    return render(request, "credentials/verify.html", {"form": form, "summary": summary})


# ---------------------------------------------------------------------------- issued credentials


def _visible_credential(request: HttpRequest, credential_uuid: UUID) -> IssuedCredential:
    """The credential, or 404 for anyone it is hidden from: a private credential's existence
    is not revealed."""
    from . import selectors

    credential = selectors.issued_credential(credential_uuid)
    if credential is None or not request.user.has_perm("credentials.view_credential", credential):
        raise Http404("No credential is shared at this address.")
    return credential


def credential_detail(request: HttpRequest, credential_uuid: UUID) -> HttpResponse:
    from . import issuing, selectors, sharing

    credential = _visible_credential(request, credential_uuid)
    state = selectors.credential_state(credential)
    # The Verify button is a GET, so a verified page can be shared as a link.
    summary = (
        selectors.summarize(selectors.verify(credential.document), credential.document)
        if "verify" in request.GET
        else None
    )
    return render(
        request,
        "credentials/credential.html",
        {
            "credential": credential,
            "about": selectors.summary_of(credential),
            "state": state,
            "summary": summary,
            # Shared only where a recruiter could follow the link: public and still valid.
            "linkedin_url": (
                sharing.linkedin_url(credential)
                if credential.public and state.state == "valid"
                else ""
            ),
            "is_earner": request.user.has_perm(
                "credentials.change_credential_visibility", credential
            ),
            "can_revoke": request.user.has_perm("credentials.revoke_credential", credential),
            "page_url": issuing.credential_url(credential.uuid),
        },
    )


def credential_certificate(request: HttpRequest, credential_uuid: UUID) -> HttpResponse:
    from . import selectors, sharing

    credential = _visible_credential(request, credential_uuid)
    about = selectors.summary_of(credential)
    context = {
        "credential": credential,
        "certificate": sharing.certificate(credential, about),
        "state": selectors.credential_state(credential),
    }
    return render(request, "credentials/certificate.html", context)


BAKED = {"png": ("image/png", baking.bake_png), "svg": ("image/svg+xml", baking.bake_svg)}


def credential_image(request: HttpRequest, credential_uuid: UUID, kind: str) -> HttpResponse:
    """The badge image with the signed credential baked in (Open Badges 3.0 baking)."""
    credential = _visible_credential(request, credential_uuid)
    content_type, bake = BAKED[kind]
    response = HttpResponse(bake(credential.document), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{credential.uuid}.{kind}"'
    return response


def credential_json(request: HttpRequest, credential_uuid: UUID) -> JsonResponse:
    # application/vc is the media type IANA registered for VC Data Model 2.0 credentials.
    credential = _visible_credential(request, credential_uuid)
    response = _json(credential.document, "application/vc")
    response["Content-Disposition"] = f'inline; filename="{credential.uuid}.json"'
    return response


@login_required
@require_POST
def credential_visibility(request: HttpRequest, credential_uuid: UUID) -> HttpResponse:
    from . import services

    credential = _visible_credential(request, credential_uuid)
    if not request.user.has_perm("credentials.change_credential_visibility", credential):
        raise PermissionDenied
    public = request.POST.get("public") == "1"
    services.set_public(request.user, credential, public)
    messages.success(
        request,
        "Anyone with the link can now see this credential."
        if public
        else "Only you can see this credential now (and its issuer).",
    )
    return redirect("credentials:credential", credential.uuid)


@login_required
def credential_revoke(request: HttpRequest, credential_uuid: UUID) -> HttpResponse:
    from . import selectors, services

    credential = _visible_credential(request, credential_uuid)
    if not request.user.has_perm("credentials.revoke_credential", credential):
        raise PermissionDenied
    form = RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.revoke(request.user, credential, form.cleaned_data["reason"])
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                show_service_errors(form, error)
            else:
                messages.error(request, " ".join(error.messages))
                return redirect("credentials:credential", credential.uuid)
        else:
            messages.success(
                request, "Revoked. Verifiers now see it as revoked, and so does its page."
            )
            return redirect("credentials:credential", credential.uuid)
    state = selectors.credential_state(credential)
    also_revoked = (
        []
        if state.state == "revoked"
        else [selectors.summary_of(c) for c in selectors.stack_credentials_resting_on(credential)]
    )
    return render(
        request,
        "credentials/credential_revoke.html",
        {
            "credential": credential,
            "about": selectors.summary_of(credential),
            "form": form,
            "state": state,
            "also_revoked": also_revoked,
        },
    )


@login_required
def my_record(request: HttpRequest) -> HttpResponse:
    """The signed CLR 2.0 of the signed-in earner's whole record, as a download."""
    from . import services

    record = services.whole_record(request.user)
    if record is None:
        messages.info(
            request,
            "Your record has no credentials yet: it can be downloaded once you hold one.",
        )
        return redirect("credentials:mine")
    response = _json(record, "application/vc")
    filename = f"microcred-record-{record['validFrom'][:10]}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def my_credentials(request: HttpRequest) -> HttpResponse:
    from . import selectors

    credentials = [
        (credential, selectors.summary_of(credential), selectors.credential_state(credential))
        for credential in selectors.credentials_of(request.user)
    ]
    return render(request, "credentials/credential_list.html", {"credentials": credentials})

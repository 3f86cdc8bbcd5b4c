"""Single sign-on pages: the set-up of a state's or district's identity providers under
/manage/sso/, and microcred's OpenID Connect callback. Thin: orgs.sso reads and writes."""

from __future__ import annotations

from allauth.socialaccount.models import SocialApp
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from . import sso
from .forms import show_service_errors
from .forms_sso import IdentityProviderForm, initial_for
from .models import IdentityProvider

FORBIDDEN = (
    "Single sign-on is set up by the program staff of the state agency or of a district. "
    "If your work needs it, ask them for access."
)


def _forbidden(request: HttpRequest) -> HttpResponse:
    context = {"message": FORBIDDEN}
    return render(request, "orgs/sso/forbidden.html", context, status=403)


@login_required
def idp_list(request: HttpRequest) -> HttpResponse:
    organizations = sso.idp_organizations(request.user)
    if not organizations.exists():
        return _forbidden(request)
    context = {"idps": sso.manageable_identity_providers(request.user)}
    return render(request, "orgs/sso/list.html", context)


def _form_page(
    request: HttpRequest, idp: IdentityProvider | None, organizations: object
) -> HttpResponse:
    initial = initial_for(idp) if idp else {"active": True, "kind": IdentityProvider.Kind.OIDC}
    form = IdentityProviderForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        organizations=organizations,
        editing=idp is not None,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = sso.save_identity_provider(request.user, form.settings(), existing=idp)
            except ValidationError as exc:
                show_service_errors(form, exc)
            else:
                messages.success(request, f"“{saved.button_label}” was saved.")
                return redirect("orgs:sso_edit", pk=saved.pk)
        status = 400
    details = sso.service_provider_details(idp, request.build_absolute_uri) if idp else []
    context = {"form": form, "idp": idp, "details": details}
    return render(request, "orgs/sso/form.html", context, status=status)


@login_required
def idp_create(request: HttpRequest) -> HttpResponse:
    organizations = sso.idp_organizations(request.user)
    if not organizations.exists():
        return _forbidden(request)
    return _form_page(request, None, organizations)


@login_required
def idp_edit(request: HttpRequest, pk: int) -> HttpResponse:
    # Another organization's IdP is not found at all (404), like anything outside one's reach.
    idp = sso.manageable_identity_providers(request.user).filter(pk=pk).first()
    if idp is None:
        raise Http404("There is no such identity provider among those you run.")
    return _form_page(request, idp, sso.idp_organizations(request.user))


def oidc_callback(request: HttpRequest, provider_id: str) -> HttpResponse:
    """allauth's OpenID Connect callback with microcred's adapter (signature always checked)."""
    # Here, not at the top: the OAuth2 client (requests) stays out of processes serving pages.
    from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView

    from .sso_adapter import SsoOIDCAdapter

    try:
        view = OAuth2CallbackView.adapter_view(SsoOIDCAdapter(request, provider_id))
        return view(request)
    except SocialApp.DoesNotExist as exc:
        raise Http404("No such sign-in service.") from exc

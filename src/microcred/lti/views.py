"""LTI pages. The protocol endpoints (/lti/login/, /lti/launch/, /lti/jwks/) are called by
platforms; the management pages (/lti/platforms/...) by the program staff who connect them.

Launch endpoints are exempt from CSRF: the platform posts them cross-site, and what protects
them is the signed id_token plus the one-time state we issued (lti.launch). Framing stays
refused site-wide; only LTI responses that an LMS shows in its frame allow that one platform.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.csp import CSP
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from microcred.orgs.forms import show_service_errors
from microcred.orgs.selectors import manageable_organizations

from . import claims, keys, launch, registration, selectors, services
from .forms import PlatformForm, RegistrationForm
from .launch import LaunchRefused
from .models import LtiPlatform
from .platform_http import PlatformError

STATE_COOKIE_AGE = int(launch.LOGIN_LIFETIME.total_seconds())


# ---------------------------------------------------------------------------- helpers
def _origin(url: str) -> str | None:
    parts = urlparse(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else None


def _frame_for(response: HttpResponse, request: HttpRequest, platform: LtiPlatform | None):
    """Let this one response show inside the platform's frame (its issuer's origin and the
    origin that posted the launch), keeping every other CSP rule."""
    if platform is None:
        return response
    origins = {_origin(platform.issuer), _origin(request.headers.get("Origin", ""))} - {None}
    base = getattr(response, "_csp_config", None) or settings.SECURE_CSP
    response._csp_config = {**base, "frame-ancestors": sorted(origins)}  # type: ignore[attr-defined]
    response.xframe_options_exempt = True  # type: ignore[attr-defined]
    return response


def _refused(request: HttpRequest, exc: LaunchRefused) -> HttpResponse:
    response = render(request, "lti/refused.html", {"message": exc.message}, status=exc.status)
    return _frame_for(response, request, exc.platform)


def _framed(request: HttpRequest) -> bool:
    return request.headers.get("Sec-Fetch-Dest") == "iframe"


def _tool_urls(request: HttpRequest) -> registration.ToolUrls:
    return registration.ToolUrls(
        login=request.build_absolute_uri(reverse("lti:login")),
        launch=request.build_absolute_uri(reverse("lti:launch")),
        jwks=request.build_absolute_uri(reverse("lti:jwks")),
    )


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "lti/forbidden.html", {"message": message}, status=403)


def _platform_or_404(request: HttpRequest, pk: int) -> LtiPlatform:
    platform = get_object_or_404(LtiPlatform.objects.select_related("organization"), pk=pk)
    if not services.may_manage_platform(request.user, platform):
        raise Http404("There is no such platform among those you run.")
    return platform


# ---------------------------------------------------------------------------- protocol
@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(keys.jwks())
    response["Cache-Control"] = "public, max-age=3600"
    return response


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def oidc_login(request: HttpRequest) -> HttpResponse:
    params = {k: v for k, v in (request.POST or request.GET).items()}
    try:
        start = launch.start_login(params, request.build_absolute_uri(reverse("lti:launch")))
    except LaunchRefused as exc:
        return _refused(request, exc)
    response = redirect(start.url)
    # SameSite=None: the launch comes back as a cross-site POST, which must carry it.
    response.set_cookie(
        launch.STATE_COOKIE,
        start.state,
        max_age=STATE_COOKIE_AGE,
        secure=True,
        httponly=True,
        samesite="None",
        path=reverse("lti:launch"),
    )
    return response


@csrf_exempt
@never_cache
@require_POST
def launch_view(request: HttpRequest) -> HttpResponse:
    try:
        checked = launch.validate(
            request.POST.get("id_token", ""),
            request.POST.get("state", ""),
            request.COOKIES.get(launch.STATE_COOKIE),
        )
        if checked.message_type == claims.DEEP_LINKING_REQUEST:
            with transaction.atomic():
                token = services.start_deep_linking(checked)
            return _frame_for(redirect("lti:deep_link", token=token), request, checked.platform)
        with transaction.atomic():
            user, _how = services.link_account(checked)
            record = services.record_resource_launch(checked, user)
            destination = services.destination_for(user, record.micro_credential)
            handoff = services.create_handoff(user, destination) if _framed(request) else None
    except LaunchRefused as exc:
        return _refused(request, exc)
    if handoff is not None:
        # A frame gets no session cookie in today's browsers: offer a full tab instead.
        url = request.build_absolute_uri(reverse("lti:continue", args=[handoff]))
        page = render(request, "lti/open_in_tab.html", {"url": url, "user": user})
        return _frame_for(page, request, checked.platform)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    response = redirect(destination)
    response.delete_cookie(launch.STATE_COOKIE, path=reverse("lti:launch"))
    return response


@never_cache
@require_GET
def continue_in_tab(request: HttpRequest, token: str) -> HttpResponse:
    try:
        handoff = services.use_handoff(token)
    except LaunchRefused as exc:
        return _refused(request, exc)
    login(request, handoff.user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect(handoff.destination)


@csrf_exempt  # shown in the LMS frame, where no CSRF cookie arrives; the token guards it
@never_cache
@require_http_methods(["GET", "POST"])
def deep_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        pending = services.open_deep_linking(token)
    except LaunchRefused as exc:
        return _refused(request, exc)
    query = request.GET.get("q", "").strip()[:100]
    error = ""
    if request.method == "POST":
        chosen = selectors.chosen_micro_credentials(request.POST.getlist("mc"))
        try:
            answer = services.answer_deep_linking(
                token, chosen, request.build_absolute_uri(reverse("lti:launch"))
            )
        except ValidationError as exc:
            error = exc.message_dict["mc"][0]
        except LaunchRefused as exc:
            return _refused(request, exc)
        else:
            page = render(request, "lti/deep_link_return.html", {"answer": answer})
            page._csp_config = {  # type: ignore[attr-defined]
                **settings.SECURE_CSP,
                "form-action": [CSP.SELF, _origin(answer.return_url) or CSP.SELF],
            }
            return _frame_for(page, request, answer.platform)
    context = {
        "token": token,
        "query": query,
        "choices": selectors.deep_link_choices(query),
        "multiple": pending.accept_multiple,
        "error": error,
        "platform": pending.platform,
    }
    page = render(request, "lti/deep_link.html", context, status=400 if error else 200)
    return _frame_for(page, request, pending.platform)


# ---------------------------------------------------------------------------- management
@login_required
def platform_list(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("lti.view_platforms"):
        return _forbidden(request, "Learning platforms are connected by program staff.")
    context = {
        "platforms": selectors.platforms_for(request.user),
        "tool": _tool_urls(request),
    }
    return render(request, "lti/platforms.html", context)


def _platform_form(request: HttpRequest, platform: LtiPlatform | None) -> HttpResponse:
    initial: dict[str, Any] = {}
    if platform is not None:
        initial = {name: getattr(platform, name) for name in services.PLATFORM_FIELDS}
        initial["deployment_ids"] = "\n".join(
            platform.deployments.values_list("deployment_id", flat=True)
        )
    form = PlatformForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        organizations=manageable_organizations(request.user),
        editing=platform is not None,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            organization = form.cleaned_data.get("organization") or platform.organization  # type: ignore[union-attr]
            try:
                saved = services.save_platform(
                    request.user, organization, form.fields_data(), platform=platform
                )
            except ValidationError as exc:
                show_service_errors(form, exc)
            except PermissionDenied as exc:
                return _forbidden(request, str(exc))
            else:
                return redirect("lti:platform", pk=saved.pk)
        status = 400
    return render(
        request, "lti/platform_form.html", {"form": form, "platform": platform}, status=status
    )


@login_required
def platform_new(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("lti.view_platforms"):
        return _forbidden(request, "Learning platforms are connected by program staff.")
    return _platform_form(request, None)


@login_required
def platform_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _platform_form(request, _platform_or_404(request, pk))


@login_required
def platform_detail(request: HttpRequest, pk: int) -> HttpResponse:
    platform = _platform_or_404(request, pk)
    context = {
        "platform": platform,
        "tool": _tool_urls(request),
        "courses": selectors.courses_of(platform),
        "passbacks": selectors.passbacks_of(platform)[:20],
    }
    return render(request, "lti/platform.html", context)


@login_required
def course(request: HttpRequest, pk: int, context_id: str) -> HttpResponse:
    platform = _platform_or_404(request, pk)
    try:
        title, members = selectors.course_members(platform, context_id)
    except LookupError as exc:
        raise Http404("No launch from this course offered its list of members.") from exc
    except PlatformError as exc:
        context = {"platform": platform, "message": str(exc)}
        return render(request, "lti/course_unavailable.html", context, status=502)
    context = {"platform": platform, "title": title, "members": members}
    return render(request, "lti/course.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("lti.view_platforms"):
        return _forbidden(request, "Learning platforms are connected by program staff.")
    data = request.POST if request.method == "POST" else None
    initial = {
        "openid_configuration": request.GET.get("openid_configuration", ""),
        "registration_token": request.GET.get("registration_token", ""),
    }
    form = RegistrationForm(
        data, initial=initial, organizations=manageable_organizations(request.user)
    )
    if data is None and not initial["openid_configuration"]:
        message = (
            "This page is opened by a learning platform during dynamic registration; it "
            "needs the platform's “openid_configuration” address."
        )
        return render(request, "lti/refused.html", {"message": message}, status=400)
    status = 200
    if form.is_bound:
        if form.is_valid():
            try:
                platform = registration.register(
                    request.user,
                    form.cleaned_data["organization"],
                    form.cleaned_data["openid_configuration"],
                    form.cleaned_data["registration_token"],
                    _tool_urls(request),
                )
            except ValidationError as exc:
                show_service_errors(form, exc)
            except PermissionDenied as exc:
                return _forbidden(request, str(exc))
            else:
                return render(request, "lti/registered.html", {"platform": platform})
        status = 400
    return render(request, "lti/register.html", {"form": form}, status=status)

"""Pages for provider authors: their micro-credentials and stacks, the editor, the preview,
and the steps of a version's life (send for vetting, publish, new version, retire).

Views stay thin: forms parse, services decide and write, selectors read. Every step is a POST
that redirects, so a reload never repeats it; a step that no longer applies (a double click,
a stale page) comes back as a message, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from microcred.orgs.models import Organization

from . import selectors, services
from .content import VersionContent
from .editor import ContentEditor
from .forms import RetireForm, StackEditor, new_form_key, posted_form_key, with_extra_row
from .models import MicroCredential, MicroCredentialVersion, Stack
from .viewhelpers import refuse, report_refusal, require, safe_next

Status = MicroCredentialVersion.Status


def _version(pk: int) -> MicroCredentialVersion:
    return get_object_or_404(
        MicroCredentialVersion.objects.select_related("micro_credential__provider"), pk=pk
    )


def _provider(pk: int) -> Organization:
    return get_object_or_404(Organization, pk=pk, kind=Organization.Kind.PROVIDER)


def _version_url(version: MicroCredentialVersion) -> str:
    return reverse("authoring:version", args=[version.pk])


def _frozen_message(version: MicroCredentialVersion, doing: str) -> str:
    return (
        f"Version {version.number} is {version.get_status_display().lower()}, so it cannot be "
        f"{doing}."
    )


# ---------------------------------------------------------------------------- the list
@login_required
def work_list(request: HttpRequest) -> HttpResponse:
    require(request, "catalog.access_authoring")
    providers = selectors.authored_providers(request.user)
    return render(
        request,
        "catalog/authoring/list.html",
        {"work": selectors.authoring_overview(providers)},
    )


# ---------------------------------------------------------------------------- the editor
def _run_editor(
    request: HttpRequest,
    *,
    initial: VersionContent | None,
    save: Callable[[VersionContent], MicroCredentialVersion],
    context: dict[str, Any],
) -> HttpResponse:
    """Show the editor; on POST either grow a section by one row ("add another"), or parse,
    save through the service and go to the version's page. Problems from check_content come
    back next to their sections and nothing is saved."""
    saving = request.method == "POST" and not request.POST.get("add_row")
    if request.method != "POST":
        editor = ContentEditor(initial=initial)
    elif not saving:
        grown = ContentEditor.with_added_row(request.POST, request.POST["add_row"])
        editor = ContentEditor(grown or request.POST)
    else:
        editor = ContentEditor(request.POST)
        if editor.is_valid():
            try:
                version = save(editor.to_content())
            except services.AlreadySavedError as exc:
                messages.info(request, " ".join(exc.messages))
                latest = exc.existing.versions.order_by("-number").first()
                return redirect(_version_url(latest) if latest else reverse("authoring:list"))
            except services.TransitionError as exc:
                report_refusal(request, exc)
                return redirect(context.get("back") or reverse("authoring:list"))
            except ValidationError as exc:
                editor.attach(exc)
            else:
                messages.success(
                    request,
                    "Draft saved. Preview it as teachers will see it, then send it for vetting.",
                )
                return redirect(_version_url(version))
    return render(
        request,
        "catalog/authoring/edit.html",
        {
            **context,
            "editor": editor,
            "problems": editor.problems if saving else [],
            "form_key": new_form_key(request.POST if request.method == "POST" else None),
        },
    )


@login_required
def create(request: HttpRequest, provider_pk: int) -> HttpResponse:
    provider = _provider(provider_pk)
    require(request, "catalog.author_in_provider", provider)

    def save(content: VersionContent) -> MicroCredentialVersion:
        return services.create_micro_credential(
            provider=provider,
            author=request.user,
            content=content,
            key=posted_form_key(request.POST),
        )

    return _run_editor(
        request,
        initial=None,
        save=save,
        context={"provider": provider, "creating": True, "back": reverse("authoring:list")},
    )


@login_required
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version(pk)
    back = _version_url(version)
    # The state is checked on its own too: superusers pass every permission, yet a frozen
    # version has no editor for anyone.
    if not (request.user.has_perm("catalog.edit_version", version) and version.is_editable):
        return refuse(
            request,
            "catalog.edit_version",
            version,
            explain=_frozen_message(version, "edited")
            + " To change it, start a new version from its page.",
            back=back,
        )

    def save(content: VersionContent) -> MicroCredentialVersion:
        return services.update_draft(version, author=request.user, content=content)

    return _run_editor(
        request,
        initial=selectors.content_of(version) if request.method != "POST" else None,
        save=save,
        context={
            "provider": version.micro_credential.provider,
            "version": version,
            "creating": False,
            "back": back,
        },
    )


# ---------------------------------------------------------------------------- a version
@login_required
def version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version(pk)
    require(request, "catalog.author_in_provider", version.micro_credential.provider)
    user = request.user
    return render(
        request,
        "catalog/authoring/version.html",
        {
            "version": version,
            "versions": selectors.versions_of(version.micro_credential),
            "reviews": selectors.reviews_of(version),
            "approvals": selectors.active_approvals(version),
            "retire_form": RetireForm(),
            "can": {
                "edit": user.has_perm("catalog.edit_version", version),
                "submit": user.has_perm("catalog.submit_version", version),
                "publish": user.has_perm("catalog.publish_version", version),
                "retire": user.has_perm("catalog.retire_version", version),
                "start_new_version": version.status in selectors.FINISHED_STATUSES
                and version == selectors.versions_of(version.micro_credential).first(),
            },
        },
    )


@login_required
def preview(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version(pk)
    require(request, "catalog.view_draft", version)
    return render(
        request,
        "catalog/authoring/preview.html",
        {
            "version": selectors.version_with_parts(version.pk),
            "is_author": request.user.has_perm(
                "catalog.author_in_provider", version.micro_credential.provider
            ),
        },
    )


def _step(
    request: HttpRequest,
    version: MicroCredentialVersion,
    *,
    perm: str,
    doing: str,
    act: Callable[[], Any],
    done: str,
) -> HttpResponse:
    """Take one step of a version's life, then go back where the button was."""
    back = safe_next(request, _version_url(version))
    if not request.user.has_perm(perm, version):
        return refuse(request, perm, version, explain=_frozen_message(version, doing), back=back)
    try:
        act()
    except ValidationError as exc:
        report_refusal(request, exc)
    else:
        messages.success(request, done)
    return redirect(back)


@require_POST
@login_required
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version(pk)
    return _step(
        request,
        version,
        perm="catalog.submit_version",
        doing="sent for vetting",
        act=lambda: services.submit_for_vetting(version, author=request.user),
        done="Sent for vetting. You will see the reviewers' ratings and comments on this page.",
    )


@require_POST
@login_required
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version(pk)
    return _step(
        request,
        version,
        perm="catalog.publish_version",
        doing="published",
        act=lambda: services.publish_version(version, actor=request.user),
        done="Published: teachers can now find it in the catalog and start it.",
    )


@require_POST
@login_required
def retire(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version(pk)
    form = RetireForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _step(
        request,
        version,
        perm="catalog.retire_version",
        doing="retired",
        act=lambda: services.retire_version(version, actor=request.user, reason=reason),
        done="Retired: it no longer takes new earners. Credentials already earned stay valid.",
    )


@require_POST
@login_required
def new_version(request: HttpRequest, pk: int) -> HttpResponse:
    mc = get_object_or_404(MicroCredential.objects.select_related("provider"), pk=pk)
    require(request, "catalog.start_new_version", mc)
    try:
        version = services.start_new_version(mc, author=request.user)
    except ValidationError as exc:
        report_refusal(request, exc)
        latest = selectors.versions_of(mc).first()
        return redirect(_version_url(latest) if latest else reverse("authoring:list"))
    messages.success(
        request,
        f"Version {version.number} is a draft copy of the last one: change what needs "
        "changing, then send it for vetting. The earlier version stays as it was.",
    )
    return redirect("authoring:edit", pk=version.pk)


# ---------------------------------------------------------------------------- stacks
def _run_stack_editor(
    request: HttpRequest, provider: Organization, stack: Stack | None
) -> HttpResponse:
    provider_mcs = list(selectors.provider_micro_credentials(provider))
    if request.method != "POST":
        editor = StackEditor.build(provider_mcs, stack=stack)
    elif request.POST.get("add_row") == "members":
        grown = with_extra_row(request.POST, "members")
        editor = StackEditor.build(provider_mcs, grown or request.POST, stack=stack)
    else:
        editor = StackEditor.build(provider_mcs, request.POST, stack=stack)
        if editor.is_valid():
            data, members = editor.data_and_members(provider_mcs)
            try:
                saved = services.save_stack(
                    provider=provider,
                    author=request.user,
                    data=data,
                    members=members,
                    stack=stack,
                    key=posted_form_key(request.POST) if stack is None else None,
                )
            except services.AlreadySavedError as exc:
                messages.info(request, " ".join(exc.messages))
                return redirect("authoring:stack_edit", pk=exc.existing.pk)
            except ValidationError as exc:
                editor.attach(exc)
            else:
                messages.success(
                    request,
                    "Stack saved. Publish it once every micro-credential in it is published.",
                )
                return redirect(reverse("authoring:list") + f"#stack-{saved.pk}")
    return render(
        request,
        "catalog/authoring/stack_edit.html",
        {
            "provider": provider,
            "stack": stack,
            "editor": editor,
            "has_mcs": bool(provider_mcs),
            "form_key": new_form_key(request.POST if request.method == "POST" else None),
        },
    )


@login_required
def stack_create(request: HttpRequest, provider_pk: int) -> HttpResponse:
    provider = _provider(provider_pk)
    require(request, "catalog.author_in_provider", provider)
    return _run_stack_editor(request, provider, None)


def _stack_or_refusal(
    request: HttpRequest, pk: int, doing: str
) -> tuple[Stack, HttpResponse | None]:
    stack = get_object_or_404(Stack.objects.select_related("provider"), pk=pk)
    if request.user.has_perm("catalog.manage_stack", stack) and stack.status == Stack.Status.DRAFT:
        return stack, None
    explain = f"This stack is {stack.get_status_display().lower()}, so it cannot be {doing}."
    back = reverse("authoring:list") + f"#stack-{stack.pk}"
    return stack, refuse(request, "catalog.manage_stack", stack, explain=explain, back=back)


@login_required
def stack_edit(request: HttpRequest, pk: int) -> HttpResponse:
    stack, refusal = _stack_or_refusal(request, pk, "changed")
    return refusal or _run_stack_editor(request, stack.provider, stack)


@require_POST
@login_required
def stack_publish(request: HttpRequest, pk: int) -> HttpResponse:
    stack, refusal = _stack_or_refusal(request, pk, "published")
    if refusal:
        return refusal
    try:
        services.publish_stack(stack, actor=request.user)
    except ValidationError as exc:
        report_refusal(request, exc)
    else:
        messages.success(request, "Stack published: teachers can now follow the pathway.")
    return redirect(reverse("authoring:list") + f"#stack-{stack.pk}")

"""The two steps every CSV import page shares: the upload, whose text waits in the session
behind a random token, and the review, which shows the dry run and applies it on confirmation.

The confirmation carries only the token, nothing to tamper with; the text never leaves the
server. Each import names its own session key, pages, services and wording in an ImportFlow,
and shares the review page orgs/import_review.html.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from . import imports

PREVIEW_ROWS = 500


class Plan(Protocol):
    """What the review page needs of a dry run (imports.ImportPlan, renewal.LicensePlan)."""

    @property
    def has_changes(self) -> bool: ...

    @property
    def rows_to_change(self) -> list[Any]: ...

    def changes_summary(self) -> str: ...


@dataclass(frozen=True)
class ImportFlow:
    session_key: str
    upload_url: str  # URL names: the upload page, and where a finished import goes
    done_url: str
    done_label: str  # the link to done_url when there is nothing to import
    title: str  # of the review page
    preview_template: str  # the head and rows of its table of rows that would change
    rejected: type[Exception]  # raised by the run with the plan that has problems, as .plan
    nothing_to_import: str

    def stash(
        self,
        request: HttpRequest,
        form: forms.Form,
        *,
        read: Callable[[bytes], tuple[str, list[imports.Problem]]] = imports.decode_upload,
        **specifics: Any,
    ) -> str | None:
        """The token under which the valid form's upload waits, or None with the reasons it
        cannot be read added to the form's file field. `read` turns the upload into the text
        kept in the session (a zipped roster: oneroster.encode_upload)."""
        upload = form.cleaned_data["file"]
        text, problems = read(upload.read())
        for problem in problems:
            form.add_error("file", str(problem))
        if problems:
            return None
        token = secrets.token_urlsafe(16)
        request.session[self.session_key] = {
            **specifics,
            "token": token,
            "text": text,
            "filename": upload.name[:200],
        }
        return token

    def pending(self, request: HttpRequest, token: str) -> dict[str, Any] | None:
        """The upload waiting under `token`, or None once imported, replaced or expired."""
        pending = request.session.get(self.session_key)
        if not pending or not secrets.compare_digest(pending.get("token", ""), token):
            return None
        return pending

    def expired(self, request: HttpRequest) -> HttpResponse:
        messages.info(
            request,
            "This upload was already imported, or has expired. Upload the file again to check it.",
        )
        return redirect(self.upload_url)

    def review(
        self,
        request: HttpRequest,
        token: str,
        pending: dict[str, Any],
        *,
        preview: Callable[[str], Plan],
        run: Callable[[str, str], Plan],
        context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The dry run of the pending upload; on POST, the import itself (preview(text) and
        run(text, filename) call the services) of the upload `pending` found."""
        text, filename = pending["text"], pending["filename"]
        status = 200
        if request.method == "POST":
            try:
                plan = run(text, filename)
            except self.rejected as exc:
                plan, status = exc.plan, 400  # type: ignore[attr-defined]
                messages.error(
                    request,
                    "Nothing was imported: the file has problems now (the records changed "
                    "since you checked). See below.",
                )
            else:
                del request.session[self.session_key]
                if plan.has_changes:
                    messages.success(request, f"Imported {filename}: {plan.changes_summary()}.")
                else:
                    messages.info(request, self.nothing_to_import)
                return redirect(self.done_url)
        else:
            plan = preview(text)
        return render(
            request,
            "orgs/import_review.html",
            {
                **(context or {}),
                "plan": plan,
                "filename": filename,
                "token": token,
                "preview_rows": plan.rows_to_change[:PREVIEW_ROWS],
                "import_flow": self,
                "upload_url": reverse(self.upload_url),
                "done_url": reverse(self.done_url),
            },
            status=status,
        )

"""One shape for every error the API returns, and the handlers that give it.

Every refusal, whatever raised it (an endpoint's HttpError, ninja's own request validation,
a failed token or CSRF check, a missing object, a service's ValidationError or
PermissionDenied), answers with an `ApiError` body:

    {"detail": "<what went wrong and what to do, in plain words>",
     "code": "<machine-readable>",
     "errors": [{"field": "<dotted path>", "message": "<plain words>"}, ...]}

`declare_error_responses` writes the same schema into the OpenAPI document for every
operation, so clients can rely on it.
"""

# No `from __future__ import annotations`: django-ninja reads these annotations at run time.
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError

# The machine-readable code of each status; an ApiHttpError may name a finer one.
CODES = {
    400: "invalid",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "validation_error",
    429: "too_many_requests",
}
SCHEMA_NAME = "ApiError"


class FieldError(Schema):
    field: str
    message: str


class ApiError(Schema):
    detail: str
    code: str
    errors: list[FieldError] = []


class ApiHttpError(HttpError):
    """An HttpError with its own machine-readable code (e.g. "upload_quota")."""

    def __init__(self, status_code: int, message: str, *, code: str) -> None:
        super().__init__(status_code, message)
        self.code = code


def error_body(
    status: int, detail: str, *, code: str = "", errors: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    return {"detail": detail, "code": code or CODES.get(status, "error"), "errors": errors or []}


def refusal_body(status: int, exc: DjangoValidationError, *, code: str = "") -> dict[str, Any]:
    """A service's ValidationError as an ApiError body, each message under its field."""
    errors = []
    if hasattr(exc, "error_dict"):
        errors = [
            {"field": name, "message": str(message)}
            for name, messages in exc.message_dict.items()
            for message in messages
        ]
    return error_body(status, " ".join(exc.messages), code=code, errors=errors)


def _field(loc: Any) -> str:
    """ninja's location ("query", "filters", "page") as a client names it: "page". The
    source and the schema's own parameter name say nothing to the client."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"query", "path", "body", "header", "cookie", "form", "file"}:
        parts = parts[1:]
    # A Query[Schema] or a body schema adds its parameter name: drop it when more follows.
    if len(parts) > 1 and not parts[1].isdigit():
        parts = parts[1:]
    return ".".join(parts) or "request"


def _validation_error(request: HttpRequest, exc: NinjaValidationError, api: NinjaAPI) -> Any:
    errors = [
        {"field": _field(e.get("loc", ())), "message": str(e.get("msg", ""))} for e in exc.errors
    ]
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
    detail = f"Check {fields}: " + "; ".join(e["message"] for e in errors) if errors else ""
    body = error_body(422, detail or "The request is not valid.", errors=errors)
    return api.create_response(request, body, status=422)


# ninja's own terse messages, in words a person can act on.
PLAIN = {
    "Unauthorized": "Sign in, or send a valid API token as “Authorization: Bearer mct_...”.",
    "CSRF check Failed": "The CSRF token is missing or out of date: send the csrftoken cookie's "
    "value as the X-CSRFToken header, or use an API token instead of the session.",
}


def _http_error(request: HttpRequest, exc: HttpError, api: NinjaAPI) -> HttpResponse:
    code = getattr(exc, "code", "")
    message = str(exc.message)
    body = error_body(exc.status_code, PLAIN.get(message, message), code=code)
    return api.create_response(request, body, status=exc.status_code)


def _not_found(request: HttpRequest, exc: Http404, api: NinjaAPI) -> HttpResponse:
    detail = str(exc) or "There is nothing at this address."
    return api.create_response(request, error_body(404, detail), status=404)


def _forbidden(request: HttpRequest, exc: PermissionDenied, api: NinjaAPI) -> HttpResponse:
    detail = str(exc) or "You may not do this."
    return api.create_response(request, error_body(403, detail), status=403)


def _refused(request: HttpRequest, exc: DjangoValidationError, api: NinjaAPI) -> HttpResponse:
    """A service's refusal that an endpoint did not translate: 400 with its fields."""
    return api.create_response(request, refusal_body(400, exc), status=400)


# ---------------------------------------------------------------------------- OpenAPI
DESCRIPTIONS = {
    400: "Refused: the request cannot be carried out as it stands.",
    401: "No valid API token or session.",
    403: "Not allowed, or the session's CSRF token is missing.",
    404: "Not found, or not yours.",
    409: "The thing is not in a state that allows this.",
    413: "Too large.",
    422: "A parameter or the body does not match what the operation takes.",
    429: "Too many at once: finish or discard some first.",
}


def error_statuses(method: str, operation: dict[str, Any]) -> set[int]:
    """What an operation can refuse with: every one may 404 or 422 (a bad parameter); one
    that needs sign-in may 401 or 403; one that changes something may 400."""
    statuses = {404, 422}
    if operation.get("security"):
        statuses |= {401, 403}
    if method in {"post", "put", "patch", "delete"}:
        statuses.add(400)
    statuses |= {
        int(s) for s in operation.get("responses", {}) if str(s).isdigit() and int(s) >= 400
    }
    return statuses


def declare_error_responses(schema: dict[str, Any]) -> dict[str, Any]:
    """Add ApiError, and every operation's error responses, to an OpenAPI document."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ApiError.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error_schema.pop("$defs", {}))
    components[SCHEMA_NAME] = error_schema
    ref = {"$ref": f"#/components/schemas/{SCHEMA_NAME}"}
    for path in schema.get("paths", {}).values():
        for method, operation in path.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status in sorted(error_statuses(method, operation)):
                # One schema for every error, also where an endpoint declared its own.
                responses[status] = {
                    "description": responses.get(status, {}).get("description")
                    or DESCRIPTIONS.get(status, "Refused."),
                    "content": {"application/json": {"schema": ref}},
                }
                responses.pop(str(status), None)
    return schema


class ErrorDocumentingAPI(NinjaAPI):
    """A NinjaAPI whose every error answers, and is documented, as an ApiError."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        handlers = {
            NinjaValidationError: _validation_error,
            HttpError: _http_error,
            Http404: _not_found,
            PermissionDenied: _forbidden,
            DjangoValidationError: _refused,
        }
        for exc_class, handler in handlers.items():
            self.add_exception_handler(exc_class, partial(handler, api=self))

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        return declare_error_responses(super().get_openapi_schema(**kwargs))

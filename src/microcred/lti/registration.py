"""LTI Dynamic Registration (1EdTech LTI-DR 1.0): the platform opens /lti/register/ with its
OpenID configuration URL and a registration token; we read the configuration, post our tool
configuration to its registration endpoint and keep what it answers (our client ID, and the
deployment it made)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import requests
from django.core.exceptions import ValidationError

from . import claims, services
from .models import LtiPlatform
from .platform_http import TIMEOUT

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"


@dataclass(frozen=True)
class ToolUrls:
    """Our side of the flow, as absolute addresses."""

    login: str
    launch: str
    jwks: str
    logo: str = ""


def _problem(message: str) -> ValidationError:
    return ValidationError({"openid_configuration": [message]})


def _get_json(url: str, token: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = requests.get(url, headers=headers, timeout=TIMEOUT)
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise _problem(f"microcred could not read the platform's configuration at {url}.") from exc
    if not isinstance(data, dict):
        raise _problem("The platform's configuration is not a JSON object.")
    return data


def read_configuration(url: str, token: str) -> dict[str, Any]:
    config = _get_json(url, token)
    missing = [
        key
        for key in (
            "issuer",
            "authorization_endpoint",
            "token_endpoint",
            "jwks_uri",
            "registration_endpoint",
        )
        if not isinstance(config.get(key), str) or not config.get(key)
    ]
    if missing:
        raise _problem(f"The platform's configuration lacks: {', '.join(missing)}.")
    # LTI-DR 3.5.1: the issuer must be the configuration's own origin, so a configuration
    # served elsewhere cannot speak for another platform.
    if urlparse(config["issuer"]).netloc != urlparse(url).netloc:
        raise _problem(
            "The platform's configuration names an issuer on another host than its own address."
        )
    return config


def tool_configuration(urls: ToolUrls) -> dict[str, Any]:
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": urls.login,
        "redirect_uris": [urls.launch],
        "client_name": "microcred",
        "jwks_uri": urls.jwks,
        "logo_uri": urls.logo,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(
            [claims.SCOPE_SCORE, claims.SCOPE_LINEITEM, claims.SCOPE_RESULT, claims.SCOPE_NRPS]
        ),
        TOOL_CONFIGURATION: {
            "domain": urlparse(urls.launch).netloc,
            "target_link_uri": urls.launch,
            "claims": ["iss", "sub", "name", "given_name", "family_name", "email"],
            "messages": [
                {"type": claims.DEEP_LINKING_REQUEST, "label": "Add a micro-credential"},
                {"type": claims.RESOURCE_LINK_REQUEST},
            ],
            "description": "Micro-credentials for educators: earn, assess and share.",
        },
    }


def register(
    actor: Any, organization: Any, config_url: str, token: str, urls: ToolUrls
) -> LtiPlatform:
    """Register microcred with the platform and keep the registration, or ValidationError."""
    services.check_owner(actor, organization)
    config = read_configuration(config_url, token)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = requests.post(
            config["registration_endpoint"],
            json=tool_configuration(urls),
            headers=headers,
            timeout=TIMEOUT,
        )
    except requests.RequestException as exc:
        raise _problem("The platform did not answer the registration.") from exc
    if response.status_code not in (200, 201):
        raise _problem(f"The platform refused the registration (HTTP {response.status_code}).")
    try:
        answer = response.json()
        client_id = str(answer["client_id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise _problem("The platform's answer has no client ID.") from exc
    tool = (
        answer.get(TOOL_CONFIGURATION) if isinstance(answer.get(TOOL_CONFIGURATION), dict) else {}
    )
    deployment = str(tool.get("deployment_id") or "")
    product = config.get(PLATFORM_CONFIGURATION) or {}
    family = product.get("product_family_code", "") if isinstance(product, dict) else ""
    name = f"{family or urlparse(config['issuer']).netloc} ({organization.name})"
    fields = services.PlatformFields(
        name=name[:200],
        issuer=config["issuer"],
        client_id=client_id,
        auth_login_url=config["authorization_endpoint"],
        auth_token_url=config["token_endpoint"],
        key_set_url=config["jwks_uri"],
        auth_audience=str(config.get("authorization_server") or ""),
        deployment_ids=[deployment] if deployment else [],
    )
    return services.save_platform(actor, organization, fields, dynamic=True)

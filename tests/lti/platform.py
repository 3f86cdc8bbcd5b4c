"""A test LTI 1.3 platform: its RSA key, and a real HTTP server on 127.0.0.1 serving what
microcred calls (key set, token endpoint, AGS scores, NRPS members, OpenID configuration and
dynamic registration), recording every request it receives. It builds and signs id_tokens
the way Canvas does."""

from __future__ import annotations

import html
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from microcred.lti import claims

CLIENT_ID = "10000000000042"
DEPLOYMENT_ID = "1:deployment-pine"
ACCESS_TOKEN = "platform-issued-token-123"
REGISTRATION_TOKEN = "reg-token-xyz"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class SimulatedPlatform:
    base: str
    key: rsa.RSAPrivateKey
    kid: str = "platform-key-1"
    received: list[Received] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    score_status: int = 200
    next_launch: dict[str, Any] = field(default_factory=dict)

    @property
    def issuer(self) -> str:
        return self.base

    def jwks(self) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        jwk.update(kid=self.kid, alg="RS256", use="sig")
        return {"keys": [jwk]}

    def requests_to(self, path: str) -> list[Received]:
        return [r for r in self.received if urlparse(r.path).path == path]

    def id_token(
        self,
        nonce: str,
        *,
        message_type: str = claims.RESOURCE_LINK_REQUEST,
        sub: str = "canvas-user-1",
        email: str | None = "teacher@example.org",
        roles: tuple[str, ...] = ("http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",),
        custom: dict[str, str] | None = None,
        deployment_id: str = DEPLOYMENT_ID,
        key: rsa.RSAPrivateKey | None = None,
        issued: int | None = None,
        lifetime: int = 300,
        aud: str = CLIENT_ID,
        **extra: Any,
    ) -> str:
        now = issued if issued is not None else int(time.time())
        body: dict[str, Any] = {
            "iss": self.issuer,
            "aud": aud,
            "sub": sub,
            "iat": now,
            "exp": now + lifetime,
            "nonce": nonce,
            "name": "Tess Teacher",
            "given_name": "Tess",
            "family_name": "Teacher",
            claims.MESSAGE_TYPE: message_type,
            claims.VERSION: "1.3.0",
            claims.DEPLOYMENT_ID: deployment_id,
            claims.TARGET_LINK_URI: "https://microcred.test/lti/launch/",
            claims.ROLES: list(roles),
            claims.CONTEXT: {"id": "course-7", "label": "PD-7", "title": "Coaching PLC, Fall"},
        }
        if email:
            body["email"] = email
        if message_type == claims.RESOURCE_LINK_REQUEST:
            body[claims.RESOURCE_LINK] = {"id": "link-1", "title": "Coaching MC"}
            body[claims.CUSTOM] = custom or {}
            body[claims.AGS_ENDPOINT] = {
                "scope": [claims.SCOPE_LINEITEM, claims.SCOPE_SCORE],
                "lineitems": f"{self.base}/courses/7/line_items",
                "lineitem": f"{self.base}/courses/7/line_items/31",
            }
            body[claims.NRPS] = {
                "context_memberships_url": f"{self.base}/courses/7/names_and_roles",
                "service_versions": ["2.0"],
            }
        else:
            body[claims.DL_SETTINGS] = {
                "deep_link_return_url": f"{self.base}/courses/7/deep_linking_response",
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
                "accept_multiple": True,
                "data": "opaque-dl-data",
            }
        body.update(extra)
        return jwt.encode(body, key or self.key, algorithm="RS256", headers={"kid": self.kid})


def _handler(platform: SimulatedPlatform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet test output
            pass

        def _record(self) -> Received:
            length = int(self.headers.get("Content-Length") or 0)
            got = Received(self.command, self.path, dict(self.headers), self.rfile.read(length))
            platform.received.append(got)
            return got

        def _send(self, status: int, payload: Any, content_type: str = "application/json"):
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._record()
            path = urlparse(self.path).path
            if path == "/jwks":
                self._send(200, platform.jwks())
            elif path == "/.well-known/openid-configuration":
                self._send(
                    200,
                    {
                        "issuer": platform.base,
                        "authorization_endpoint": f"{platform.base}/auth",
                        "token_endpoint": f"{platform.base}/token",
                        "jwks_uri": f"{platform.base}/jwks",
                        "registration_endpoint": f"{platform.base}/register",
                        "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                            "product_family_code": "moodle"
                        },
                    },
                )
            elif path == "/auth":
                self._auth_page()
            elif path == "/courses/7/names_and_roles":
                ok = self.headers.get("Authorization") == f"Bearer {ACCESS_TOKEN}"
                self._send(200 if ok else 401, {"id": "x", "members": platform.members})
            else:
                self._send(404, {})

        def _auth_page(self) -> None:
            """The platform's answer to the authentication request: a page that posts the
            signed id_token and the state back to the tool, as Canvas's does."""
            query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
            token = platform.id_token(query["nonce"], **platform.next_launch)
            page = (
                '<!doctype html><html lang="en"><head><title>Test LMS</title></head><body>'
                "<main><h1>Test LMS</h1>"
                f'<form method="post" action="{html.escape(query["redirect_uri"])}">'
                f'<input type="hidden" name="id_token" value="{token}">'
                f'<input type="hidden" name="state" value="{html.escape(query["state"])}">'
                '<button type="submit">Continue</button></form></main>'
                "<script>document.forms[0].submit()</script></body></html>"
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def do_POST(self) -> None:
            got = self._record()
            path = urlparse(self.path).path
            if path == "/token":
                self._send(200, {"access_token": ACCESS_TOKEN, "token_type": "Bearer"})
            elif path == "/courses/7/line_items/31/scores":
                ok = got.headers.get("Authorization") == f"Bearer {ACCESS_TOKEN}"
                self._send(platform.score_status if ok else 401, {})
            elif path == "/register":
                self._send(
                    200,
                    {
                        "client_id": "dyn-client-9",
                        "https://purl.imsglobal.org/spec/lti-tool-configuration": {
                            "deployment_id": "dyn-deployment-1"
                        },
                    },
                )
            else:
                self._send(404, {})

    return Handler


class PlatformServer:
    """Starts the platform on a free port; `stop()` shuts it down."""

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(None))  # type: ignore[arg-type]
        host, port = self.server.server_address[:2]
        self.platform = SimulatedPlatform(base=f"http://{host}:{port}", key=key)
        self.server.RequestHandlerClass = _handler(self.platform)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def fresh_sub() -> str:
    return uuid.uuid4().hex

"""Our issuers' identifiers (did:web from the site's address, or did:key), their DID documents,
and the key resolver our verifier uses.

did:web (W3C CCG did:web method): the identifier is the site's host, with a port written as
%3A, then each path segment after a colon; `did:web:example.org%3A8443:issuers:dpi` is
resolved by fetching `https://example.org:8443/issuers/dpi/did.json`. Our issuers' documents are
served at `/issuers/<slug>/did.json` (urls.py), so their identifiers are
`<site DID>:issuers:<slug>`; both directions go through the URL configuration.
(did:web requires https; the embedded setup's http://127.0.0.1:8000 gives identifiers that only
this site's own verifier resolves, which is all a development database needs.)

The resolver never goes to the network: did:web identifiers of this site are read from the
database (so retired keys keep verifying old credentials), did:key is decoded offline, and
anything else gets a clear "cannot resolve".
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

from django.conf import settings
from django.urls import Resolver404, resolve, reverse

from .keys import (
    KeyFormatError,
    KeyResolutionError,
    ResolvedKey,
    did_key_verification_method,
    public_key_from_multibase,
    resolve_offline,
)
from .models import IssuerKey, IssuerProfile

DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
DOCUMENT_URL_NAME = "credentials:did_document"
DOCUMENT_NAME = "/did.json"
_FRAGMENT = re.compile(r"^key-([1-9][0-9]{0,8})$")


def site_did() -> str:
    """did:web of the site itself: host (port as %3A) and any path of SITE_URL."""
    parts = urlsplit(settings.SITE_URL)
    segments = [quote(parts.netloc, safe="")]
    segments += [quote(unquote(s), safe="") for s in parts.path.split("/") if s]
    return "did:web:" + ":".join(segments)


def did_web_for(slug: str) -> str:
    """The issuer's did:web: the site's, then the path its document is served under."""
    path = reverse(DOCUMENT_URL_NAME, args=[slug]).removesuffix(DOCUMENT_NAME)
    return site_did() + "".join(f":{quote(s, safe='')}" for s in path.split("/") if s)


def document_url(did: str) -> str:
    """Where a did:web resolver fetches the document (https, per the method)."""
    host, *path = did.removeprefix("did:web:").split(":")
    location = "/".join([unquote(host), *(unquote(p) for p in path)])
    return f"https://{location}/did.json" if path else f"https://{location}/.well-known/did.json"


def our_issuer_slug(did: str) -> str | None:
    """The slug of the issuer of this site a did:web names, or None if it is not ours."""
    prefix = site_did() + ":"
    if not did.startswith(prefix):
        return None
    path = "".join(f"/{unquote(s)}" for s in did.removeprefix(prefix).split(":")) + DOCUMENT_NAME
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.kwargs["slug"] if match.view_name == DOCUMENT_URL_NAME else None


def issuer_did(profile: IssuerProfile, active: IssuerKey | None) -> str:
    """The issuer's identifier: its did:web, or the did:key of its active key."""
    if profile.identifier_method == IssuerProfile.Method.DID_KEY and active is not None:
        return verification_method(profile, active).partition("#")[0]
    return did_web_for(profile.slug)


def verification_method(profile: IssuerProfile, key: IssuerKey) -> str:
    """The id a proof names for this key, in the issuer's identifier scheme."""
    if profile.identifier_method == IssuerProfile.Method.DID_KEY:
        return did_key_verification_method(public_key_from_multibase(key.public_key_multibase))
    return f"{did_web_for(profile.slug)}#{key.fragment}"


def did_document(profile: IssuerProfile, keys: list[IssuerKey]) -> dict:
    """The did:web document: every key, active and retired, may assert credentials, because
    credentials signed before a rotation must keep verifying."""
    did = did_web_for(profile.slug)
    methods = [
        {
            "id": f"{did}#{key.fragment}",
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": key.public_key_multibase,
        }
        for key in sorted(keys, key=lambda key: key.number)
    ]
    return {
        "@context": list(DID_CONTEXTS),
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }


def _resolve_our_did_web(did: str, slug: str, fragment: str) -> ResolvedKey:
    profile = IssuerProfile.objects.filter(slug=slug).first()
    if profile is None:
        raise KeyResolutionError(f"{did} names no issuer of this site.")
    match = _FRAGMENT.match(fragment)
    key = profile.keys.filter(number=int(match.group(1))).first() if match is not None else None
    if key is None:
        listed = ", ".join(k.fragment for k in profile.keys.order_by("number")) or "none"
        raise KeyResolutionError(
            f"{did}#{fragment} is not one of {profile.name}'s keys (its DID document lists: "
            f"{listed})."
        )
    state = (
        "its current key"
        if key.active
        else f"a key retired on {key.retired_at:%Y-%m-%d}, still valid for what it signed"
    )
    return ResolvedKey(
        public_key_from_multibase(key.public_key_multibase),
        did,
        f"{profile.name}'s {key.fragment} ({state}), read from its DID document on this site.",
    )


def resolve_key(verification_method: str) -> ResolvedKey:
    """The verifier's key resolver (see the module docstring); raises KeyResolutionError."""
    base, _, fragment = verification_method.partition("#")
    if base.startswith("did:web:"):
        slug = our_issuer_slug(base)
        if slug is None:
            raise KeyResolutionError(
                f"Cannot resolve {base}: this verifier reads did:web documents only for this "
                "site's issuers and never fetches them from other sites."
            )
        try:
            return _resolve_our_did_web(base, slug, fragment)
        except KeyFormatError as error:
            raise KeyResolutionError(f"{verification_method}: {error}") from error
    if base.startswith("did:key:") or fragment.startswith("z6Mk"):
        return resolve_offline(verification_method)
    raise KeyResolutionError(
        f"Cannot resolve {verification_method}: this verifier resolves did:key, this site's "
        "did:web issuers and keys written in the id itself (#z6Mk...), and fetches nothing "
        "from other sites."
    )

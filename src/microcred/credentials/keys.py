"""Ed25519 keys as Multikey (W3C Controlled Identifiers), did:key, and offline key resolution.

A Multikey public key is multibase base58btc ("z") of the multicodec prefix 0xed 0x01 followed by
the 32 key bytes (so it always starts "z6Mk"); the secret key uses prefix 0x80 0x26 and the 32-byte
seed. A did:key identifier is "did:key:" + that public key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {char: index for index, char in enumerate(_ALPHABET)}
ED25519_PUB_PREFIX = b"\xed\x01"
ED25519_PRIV_PREFIX = b"\x80\x26"


class KeyFormatError(ValueError):
    """Not a usable Ed25519 key encoding."""


class KeyResolutionError(ValueError):
    """A verification method could not be turned into a public key."""


_CHUNK_DIGITS = 10
_CHUNK = 58**_CHUNK_DIGITS


def base58_encode(data: bytes) -> str:
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    chars = []
    # Peel ten digits per big-integer division: a signature takes 9 of them instead of 88.
    while number:
        number, chunk = divmod(number, _CHUNK)
        for _ in range(_CHUNK_DIGITS):
            chunk, remainder = divmod(chunk, 58)
            chars.append(_ALPHABET[remainder])
    encoded = "".join(reversed(chars)).lstrip("1")
    return "1" * zeros + encoded


def base58_decode(text: str) -> bytes:
    number = 0
    for char in text:
        try:
            number = number * 58 + _INDEX[char]
        except KeyError as error:
            raise KeyFormatError(f"{char!r} is not a base58btc character") from error
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def multibase_encode(data: bytes) -> str:
    return "z" + base58_encode(data)


def multibase_decode(text: str) -> bytes:
    if not text.startswith("z"):
        raise KeyFormatError("only base58btc multibase values (starting with 'z') are supported")
    return base58_decode(text[1:])


def _public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key_multibase(key: Ed25519PublicKey) -> str:
    return multibase_encode(ED25519_PUB_PREFIX + _public_bytes(key))


def public_key_from_multibase(value: str) -> Ed25519PublicKey:
    data = multibase_decode(value)
    if len(data) != 34 or not data.startswith(ED25519_PUB_PREFIX):
        raise KeyFormatError(f"{value!r} is not an Ed25519 Multikey public key (z6Mk...)")
    return Ed25519PublicKey.from_public_bytes(data[2:])


@dataclass(frozen=True)
class Ed25519Key:
    """An Ed25519 signing key (keep `seed` secret)."""

    seed: bytes

    def __post_init__(self) -> None:
        if len(self.seed) != 32:
            raise KeyFormatError("an Ed25519 seed is 32 bytes")

    @cached_property
    def private_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    @cached_property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def public_key_multibase(self) -> str:
        return public_key_multibase(self.public_key)

    @property
    def secret_key_multibase(self) -> str:
        """Multikey secret key: 0x8026, seed, public key (as Digital Bazaar writes it)."""
        return multibase_encode(ED25519_PRIV_PREFIX + self.seed + _public_bytes(self.public_key))

    @classmethod
    def from_secret_key_multibase(cls, value: str) -> Ed25519Key:
        """Read a Multikey secret key: the 32-byte seed, optionally followed by the public key."""
        data = multibase_decode(value)
        if len(data) not in (34, 66) or not data.startswith(ED25519_PRIV_PREFIX):
            raise KeyFormatError("not an Ed25519 Multikey secret key")
        key = cls(data[2:34])
        if len(data) == 66 and data[34:] != _public_bytes(key.public_key):
            raise KeyFormatError("the secret key's public half does not match its seed")
        return key

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)

    def __repr__(self) -> str:  # never print the seed
        return f"Ed25519Key({self.public_key_multibase})"


def generate_key() -> Ed25519Key:
    private = Ed25519PrivateKey.generate()
    return Ed25519Key(private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))


def did_key_for(public_key: Ed25519PublicKey | Ed25519Key) -> str:
    if isinstance(public_key, Ed25519Key):
        public_key = public_key.public_key
    return "did:key:" + public_key_multibase(public_key)


def did_key_verification_method(key: Ed25519PublicKey | Ed25519Key) -> str:
    """The did:key verification method id: did:key:z6Mk...#z6Mk..."""
    did = did_key_for(key)
    return f"{did}#{did.removeprefix('did:key:')}"


def verify_signature(public_key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class ResolvedKey:
    """The public key a verification method names, and who controls it."""

    public_key: Ed25519PublicKey
    controller: str
    how: str  # a sentence for the verification report
    # True when the controller itself vouches for the key (did:key is its key; a fetched DID or
    # issuer document lists it); False when the key only comes from the method id's text.
    confirmed: bool = True


KeyResolver = Callable[[str], ResolvedKey]


def resolve_offline(verification_method: str) -> ResolvedKey:
    """Resolve did:key methods, and `<controller>#<Multikey>` ids, without any network access.

    The second form (used by 1EdTech's Open Badges examples) carries the key in its fragment; the
    key is then only as trustworthy as the controller's own listing of it, which a resolver with
    access to issuer profiles (did:web, our own issuers) should check instead.
    """
    base, _, fragment = verification_method.partition("#")
    if base.startswith("did:key:"):
        key_part = base.removeprefix("did:key:")
        if fragment and fragment != key_part:
            raise KeyResolutionError(
                f"did:key verification method {verification_method!r}: fragment and key differ"
            )
        try:
            key = public_key_from_multibase(key_part)
        except (KeyFormatError, ValueError) as error:
            raise KeyResolutionError(f"{verification_method!r}: {error}") from error
        return ResolvedKey(key, base, "did:key: the key is the identifier itself")
    if fragment.startswith("z6Mk"):
        try:
            key = public_key_from_multibase(fragment)
        except (KeyFormatError, ValueError) as error:
            raise KeyResolutionError(f"{verification_method!r}: {error}") from error
        return ResolvedKey(
            key,
            base,
            f"The key is written in the verification method id itself; {base} was not asked "
            "whether it is one of its keys (that needs its published key list).",
            confirmed=False,
        )
    raise KeyResolutionError(
        f"Cannot resolve verification method {verification_method!r} offline "
        "(supported: did:key, and ids ending in #z6Mk... Multikey fragments)"
    )


__all__ = [
    "Ed25519Key",
    "KeyFormatError",
    "KeyResolutionError",
    "KeyResolver",
    "ResolvedKey",
    "did_key_for",
    "did_key_verification_method",
    "generate_key",
    "public_key_from_multibase",
    "resolve_offline",
]

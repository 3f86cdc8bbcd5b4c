"""Ed25519 Multikey encodings, did:key, and offline resolution of verification methods."""

from __future__ import annotations

import pytest

from microcred.credentials import (
    Ed25519Key,
    KeyResolutionError,
    did_key_for,
    did_key_verification_method,
    generate_key,
    public_key_from_multibase,
    resolve_offline,
)
from microcred.credentials.keys import base58_decode, base58_encode


@pytest.mark.parametrize("data", [b"", b"\0", b"\0\0\x01", b"hello world", bytes(range(256))])
def test_base58_round_trips(data):
    assert base58_decode(base58_encode(data)) == data


def test_base58_matches_the_bitcoin_alphabet_encoding():
    assert base58_encode(b"hello world") == "StV1DL6CwTryKyV"
    assert base58_encode(b"\0\0\x01") == "112"


def test_known_multikey_from_the_1edtech_vector(vector):
    key = Ed25519Key(bytes.fromhex(vector["ed25519_private_key_seed_hex"]))
    assert key.public_key_multibase == "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"


def test_secret_key_multibase_matches_digital_bazaar_and_round_trips():
    # @digitalbazaar/ed25519-multikey's export of the all-zero seed.
    zero = Ed25519Key(bytes(32))
    assert zero.secret_key_multibase == (
        "zruzdu1ot9nb4GJvVvUbeYynyRzDgp6tvyXbMYGBrMU3EZsZieAoXxGGrJBSiD5hFLFRVLYEXLUfcvuAxpu89W3tdLL"
    )
    key = generate_key()
    assert Ed25519Key.from_secret_key_multibase(key.secret_key_multibase) == key
    assert key.seed.hex() not in repr(key)


def test_did_key_resolves_to_the_same_public_key():
    key = generate_key()
    method = did_key_verification_method(key)
    assert method == f"{did_key_for(key)}#{key.public_key_multibase}"
    for reference in (method, did_key_for(key)):
        resolved = resolve_offline(reference)
        assert resolved.confirmed
        assert resolved.public_key == key.public_key
        assert resolved.controller == did_key_for(key)


def test_a_multikey_fragment_names_its_key_and_controller():
    key = generate_key()
    resolved = resolve_offline(f"https://issuer.example.org/keys#{key.public_key_multibase}")
    assert resolved.public_key == key.public_key
    assert resolved.controller == "https://issuer.example.org/keys"
    assert not resolved.confirmed  # nothing but the id's own text vouches for it


@pytest.mark.parametrize(
    "method",
    [
        "https://issuer.example.org/keys/1",
        "did:web:issuer.example.org#key-1",
        "did:key:z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi#z6Mkother",
        "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",
        "https://x.org/#z6Mk0OIl",
    ],
)
def test_unresolvable_methods_raise_a_clear_error(method):
    with pytest.raises(KeyResolutionError):
        resolve_offline(method)


def test_public_key_from_multibase_rejects_other_key_types():
    with pytest.raises(ValueError, match="Ed25519"):
        public_key_from_multibase("zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme")

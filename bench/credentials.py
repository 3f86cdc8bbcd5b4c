"""Issue and verify N Open Badges 3.0 credentials with our code and with Digital Bazaar's.

    .venv/bin/python bench/credentials.py [-n 1000] [--minimal] [--no-reference] [--profile]

Both sides sign the same unsigned credentials (realistic educator micro-credentials, see
microcred/credentials/samples.py) with the same key and `created` time, and verify the same
signed credentials (--minimal: 1EdTech's small example credential instead); the reference's
time is measured inside node, without its start-up. Prints
both rates, their ratios, and where our time goes (--profile adds a cProfile listing).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from microcred.credentials import (
    Ed25519Key,
    canonicalize_quads,
    did_key_for,
    did_key_verification_method,
    interop,
    sign_credential,
    to_dataset,
    verify_credential,
)
from microcred.credentials.samples import minimal_credential, sample_credential

CREATED = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
DURING = datetime(2026, 6, 1, tzinfo=UTC)
KEY = Ed25519Key(bytes(range(32)))


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds else float("inf")


def _line(label: str, count: int, seconds: float) -> None:
    print(f"  {label:<28} {count} in {seconds:6.2f} s  = {_rate(count, seconds):8.1f}/s")


def _time(label: str, function, items: list) -> tuple[list, float]:
    started = time.perf_counter()
    results = [function(item) for item in items]
    seconds = time.perf_counter() - started
    _line(label, len(items), seconds)
    return results, seconds


def breakdown(unsigned: list[dict], method: str) -> None:
    """Where one issue's time goes: JSON-LD to RDF, canonicalization, hashing and signing."""
    configs = [
        {
            "@context": c["@context"],
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2026-05-01T12:00:00Z",
            "verificationMethod": method,
            "proofPurpose": "assertionMethod",
        }
        for c in unsigned
    ]
    started = time.perf_counter()
    datasets = [(to_dataset(c), to_dataset(p)) for c, p in zip(unsigned, configs, strict=True)]
    rdf = time.perf_counter() - started
    started = time.perf_counter()
    canon = [(canonicalize_quads(d.quads), canonicalize_quads(p.quads)) for d, p in datasets]
    canonical = time.perf_counter() - started
    started = time.perf_counter()
    for document, config in canon:
        KEY.sign(sha256(config.encode()).digest() + sha256(document.encode()).digest())
    signing = time.perf_counter() - started
    total = rdf + canonical + signing
    count = len(unsigned)
    quads = sum(len(d.quads) for d, _ in datasets) / count
    print(f"\nWhere an issue's time goes ({quads:.0f} quads per credential + proof config):")
    for label, seconds in (
        ("JSON-LD -> RDF", rdf),
        ("RDFC-1.0 canonicalization", canonical),
        ("SHA-256 + Ed25519 sign", signing),
    ):
        print(f"  {label:<28} {seconds / count * 1e6:8.0f} us  {seconds / total:6.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="credentials (default 1000)")
    parser.add_argument("--minimal", action="store_true", help="small example credentials")
    parser.add_argument("--no-reference", action="store_true", help="skip Digital Bazaar's run")
    parser.add_argument("--profile", action="store_true", help="cProfile our issue loop")
    args = parser.parse_args()

    method = did_key_verification_method(KEY)
    build = minimal_credential if args.minimal else sample_credential
    unsigned = [build(i, did_key_for(KEY)) for i in range(args.n)]
    shape = "minimal" if args.minimal else "educator micro-credential"
    print(f"{args.n} Open Badges 3.0 credentials ({shape}), eddsa-rdfc-2022")
    print(f"Python {sys.version.split()[0]}")
    print(f"{os.cpu_count()} CPU(s)\n\nmicrocred:")
    signed, our_issue = _time(
        "issue (sign)", lambda c: sign_credential(c, KEY, method, CREATED), unsigned
    )
    reports, our_verify = _time("verify", lambda c: verify_credential(c, now=DURING), signed)
    assert all(report.verified for report in reports), "our own credentials must verify"
    breakdown(unsigned[: min(args.n, 300)], method)

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for credential in unsigned[:300]:
            sign_credential(credential, KEY, method, CREATED)
        profiler.disable()
        print("\nProfile of 300 issues (tottime):")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)

    if args.no_reference:
        return
    reason = interop.unavailable_reason()
    if reason:
        print(f"\nReference skipped: {reason}.")
        return
    print("\nDigital Bazaar (@digitalbazaar/vc + eddsa-rdfc-2022-cryptosuite, node):")
    issued = interop.sign(unsigned, KEY.seed, method, "2026-05-01T12:00:00Z")
    _line("issue (sign)", issued.count, issued.seconds)
    checked = interop.verify(signed)
    _line("verify (our credentials)", checked.count, checked.seconds)
    accepted = sum(1 for result in checked.results if result["verified"])
    same = sum(
        1
        for theirs, ours in zip(issued.results, signed, strict=True)
        if _proof_value(theirs) == ours["proof"][0]["proofValue"]
    )
    print(f"  reference accepted {accepted}/{checked.count} of our credentials;")
    print(f"  identical proofValues for {same}/{issued.count} credentials signed by both")

    issue_ratio = _rate(args.n, our_issue) / issued.per_second
    verify_ratio = _rate(args.n, our_verify) / checked.per_second
    print(f"\nRatio ours / reference: issue {issue_ratio:.1f}x, verify {verify_ratio:.1f}x")
    print("(goal: at least 5x for both)")


def _proof_value(credential: dict) -> str:
    proof = credential["proof"]
    return (proof[0] if isinstance(proof, list) else proof)["proofValue"]


if __name__ == "__main__":
    main()

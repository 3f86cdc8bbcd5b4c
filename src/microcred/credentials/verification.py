"""Verify a credential and say, check by check, what holds: the report a verifier page shows.

`verify_credential` never raises on bad input: a credential that is not JSON-LD, names an unknown
context, has no proof or a broken one gets a report whose failed check says so in plain words.
This core needs no database and does no I/O, so it reports "schema" and "status" as skipped;
`selectors.verify` (behind the verifier page and the verify API) replaces those two with the
real checks: the JSON Schema (schema.py) and each credentialStatus entry (status_list.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from .json_numbers import describe as describe_numbers
from .json_numbers import unsafe_numbers
from .keys import KeyResolver, resolve_offline
from .loader import ContextError
from .proofs import unsigned_dataset, verify_proof
from .rdf import JsonLdProcessingError


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    WARNING = "warning"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Check:
    name: str  # "json", "json-ld", "signature", "key", "proof purpose", "dates", "schema", "status"
    status: Status
    message: str


@dataclass
class VerificationReport:
    checks: list[Check] = field(default_factory=list)

    def add(self, name: str, status: Status, message: str) -> None:
        self.checks.append(Check(name, status, message))

    @property
    def verified(self) -> bool:
        """True when a signature passed and no check failed."""
        signed = any(c.name == "signature" and c.status is Status.PASSED for c in self.checks)
        return signed and not any(c.status is Status.FAILED for c in self.checks)

    def check(self, name: str) -> list[Check]:
        return [c for c in self.checks if c.name == name]


def _parse_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _check_dates(credential: dict, now: datetime, report: VerificationReport) -> None:
    starts_name = "validFrom" if "validFrom" in credential else "issuanceDate"
    ends_name = "validUntil" if "validUntil" in credential else "expirationDate"
    problems = []
    starts = credential.get(starts_name)
    if starts is not None:
        moment = _parse_datetime(starts)
        if moment is None:
            problems.append(f"{starts_name} {starts!r} is not a date and time")
        elif moment > now:
            problems.append(f"it is not valid until {starts}")
    ends = credential.get(ends_name)
    if ends is not None:
        moment = _parse_datetime(ends)
        if moment is None:
            problems.append(f"{ends_name} {ends!r} is not a date and time")
        elif moment < now:
            problems.append(f"it expired on {ends}")
    if problems:
        report.add("dates", Status.FAILED, "The credential " + "; ".join(problems) + ".")
    else:
        window = f"valid from {starts}" if starts else "no start date"
        window += f" until {ends}" if ends else ", no expiry"
        report.add("dates", Status.PASSED, f"In its validity period ({window}).")


def verify_credential(
    credential: Any, resolver: KeyResolver = resolve_offline, now: datetime | None = None
) -> VerificationReport:
    """Check a credential's JSON-LD, every proof, its signing keys and its dates."""
    report = VerificationReport()
    if not isinstance(credential, dict) or "@context" not in credential:
        report.add(
            "json-ld", Status.FAILED, "This is not a credential: a JSON object with @context."
        )
        return report
    problems = unsafe_numbers(credential)
    if problems:
        # Our signature check could pass (Python reads such numbers exactly) where every
        # JavaScript verifier fails it: a verdict that depends on the verifier is no verdict.
        report.add(
            "json",
            Status.FAILED,
            "This credential cannot be verified the same way everywhere: it holds numbers that "
            "JavaScript verifiers read differently. " + describe_numbers(problems) + ".",
        )
        return report
    try:
        dataset = unsigned_dataset(credential)
    except (ContextError, JsonLdProcessingError) as error:
        report.add("json-ld", Status.FAILED, str(error))
        return report
    if dataset.issues:
        report.add(
            "json-ld",
            Status.WARNING,
            "Parts of this credential are not covered by its signature, because its @context "
            "does not define them: " + "; ".join(dataset.issues),
        )
    else:
        report.add("json-ld", Status.PASSED, "Every term is defined by the credential's @context.")

    proofs = credential.get("proof")
    if not proofs:
        report.add("signature", Status.FAILED, "The credential has no proof (it is not signed).")
    for proof in proofs if isinstance(proofs, list) else [proofs] if proofs else []:
        try:
            result = verify_proof(credential, proof, resolver, dataset)
        except (ContextError, JsonLdProcessingError) as error:
            report.add("signature", Status.FAILED, f"The proof could not be processed: {error}")
            continue
        report.add("signature", Status.PASSED if result.valid else Status.FAILED, result.message)
        if result.key is not None:
            report.add(
                "key", Status.PASSED if result.key.confirmed else Status.WARNING, result.key.how
            )
            issuer = credential.get("issuer")
            issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
            if issuer_id and result.key.controller != issuer_id:
                report.add(
                    "key",
                    Status.WARNING,
                    f"The signing key belongs to {result.key.controller}, not to the issuer "
                    f"{issuer_id}.",
                )
        if result.proof_purpose is not None and result.proof_purpose != "assertionMethod":
            report.add(
                "proof purpose",
                Status.FAILED,
                f"The proof's purpose is {result.proof_purpose!r}, not assertionMethod.",
            )

    _check_dates(credential, now or datetime.now(UTC), report)
    report.add("schema", Status.SKIPPED, "JSON Schema validation is not part of this check yet.")
    if "credentialStatus" in credential:
        report.add("status", Status.SKIPPED, "Revocation status lists are not checked yet.")
    return report

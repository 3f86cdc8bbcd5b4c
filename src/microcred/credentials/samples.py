"""Realistic unsigned Open Badges 3.0 credentials for an educator micro-credential.

Shaped like what issuing an award will produce (achievement with criteria, image, CASE alignments,
a rubric result description, credits; the earner's hashed email, rubric result and evidence), so
the benchmark and tests measure the documents we will really sign. Until the earning work lands
these are built from plain arguments rather than from an Award.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

OB_CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
]
OB_SCHEMA = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)

_COMPONENTS = [
    ("Coaching conversation plan", "Plans a coaching cycle with a colleague around one goal."),
    ("Observation and feedback", "Observes practice and gives specific, evidence-based feedback."),
    ("Reflection on impact", "Reflects on the colleague's growth and on student outcomes."),
]
_BANDS = [("Yes", 3), ("Almost", 2), ("Not Yet", 1)]
_STANDARDS = [
    ("NCPTS.1a", "Teachers lead in their classrooms."),
    ("NCPTS.1b", "Teachers demonstrate leadership in the school."),
    ("InTASC.10", "Leadership and Collaboration"),
]


def hashed_email_identity(email: str, salt: str) -> dict:
    digest = hashlib.sha256((email.strip().lower() + salt).encode("utf-8")).hexdigest()
    return {
        "type": "IdentityObject",
        "identityType": "emailAddress",
        "hashed": True,
        "identityHash": f"sha256${digest}",
        "salt": salt,
    }


def _level_id(achievement_id: str, component: int, band: str) -> str:
    return f"{achievement_id}/rubric/{component}/{band.lower().replace(' ', '-')}"


def sample_credential(index: int, issuer_id: str, issued: datetime | None = None) -> dict:
    """The `index`-th earner's credential for 'Collaborative Leadership Coaching'."""
    issued = issued or datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    base = "https://microcred.example.org"
    achievement_id = f"{base}/achievements/collaborative-leadership-coaching/v2"
    band_names = [name for name, _ in _BANDS]
    achieved = _BANDS[index % 2][0]
    return {
        "@context": list(OB_CONTEXTS),
        "id": f"urn:uuid:{uuid.UUID(int=index + 1)}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": issuer_id,
            "type": ["Profile"],
            "name": "North Carolina Department of Public Instruction",
            "url": "https://www.dpi.nc.gov/",
            "email": "microcredentials@dpi.nc.gov",
        },
        "validFrom": issued.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "validUntil": (issued + timedelta(days=5 * 365)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "name": "Collaborative Leadership Coaching",
        "description": "Awarded for demonstrated proficiency in coaching a colleague.",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [hashed_email_identity(f"teacher{index}@schools.nc.gov", f"s{index}")],
            "achievement": {
                "id": achievement_id,
                "type": ["Achievement"],
                "achievementType": "MicroCredential",
                "name": "Collaborative Leadership Coaching",
                "description": (
                    "The educator plans and leads a coaching cycle with a colleague, grounded in "
                    "classroom evidence, and reflects on its impact on student learning."
                ),
                "criteria": {
                    "id": f"{achievement_id}/criteria",
                    "narrative": (
                        "Submit a coaching plan, a video of a feedback conversation with "
                        "time-stamped annotations, and a reflection; an independent assessor "
                        "scores them against the rubric. 'Yes' on every component earns it."
                    ),
                },
                "image": {"id": f"{achievement_id}/image.png", "type": "Image"},
                "creditsAvailable": 1.5,
                "fieldOfStudy": "Teacher Leadership",
                "tag": ["coaching", "leadership", "collaboration"],
                "alignment": [
                    {
                        "type": ["Alignment"],
                        "targetType": "CFItem",
                        "targetCode": code,
                        "targetName": name,
                        "targetFramework": "North Carolina Professional Teaching Standards",
                        "targetUrl": f"https://case.example.org/ims/case/v1p0/CFItems/{code}",
                    }
                    for code, name in _STANDARDS
                ],
                "resultDescription": [
                    {
                        "id": f"{achievement_id}/rubric/{c}",
                        "type": ["ResultDescription"],
                        "name": component,
                        "resultType": "RubricCriterionLevel",
                        "allowedValue": band_names,
                        "requiredLevel": _level_id(achievement_id, c, "Yes"),
                        "rubricCriterionLevel": [
                            {
                                "id": _level_id(achievement_id, c, band),
                                "type": ["RubricCriterionLevel"],
                                "name": band,
                                "description": description if band == "Yes" else band,
                                "points": str(points),
                            }
                            for band, points in _BANDS
                        ],
                    }
                    for c, (component, description) in enumerate(_COMPONENTS)
                ],
            },
            "result": [
                {
                    "type": ["Result"],
                    "resultDescription": f"{achievement_id}/rubric/{c}",
                    "achievedLevel": _level_id(achievement_id, c, achieved),
                }
                for c in range(len(_COMPONENTS))
            ],
            "creditsEarned": 1.5,
        },
        "evidence": [
            {
                "type": ["Evidence"],
                "name": "Coaching plan and annotated feedback video",
                "description": "Submitted portfolio: plan, 12-minute video, reflection.",
                "genre": "Portfolio",
                "narrative": f"Submission {index}: a coaching cycle with a grade 4 colleague.",
            }
        ],
        "credentialSchema": [{"id": OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
    }


def minimal_credential(index: int, issuer_id: str) -> dict:
    """The smallest useful credential (1EdTech's 'Teamwork Badge' example), for comparisons."""
    return {
        "@context": OB_CONTEXTS[:2],
        "id": f"urn:uuid:{uuid.UUID(int=index + 1)}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_id, "type": ["Profile"], "name": "Example Corp"},
        "validFrom": "2010-01-01T00:00:00Z",
        "name": "Teamwork Badge",
        "credentialSubject": {
            "id": f"did:example:earner{index}",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://example.com/achievements/21st-century-skills/teamwork",
                "type": ["Achievement"],
                "criteria": {"narrative": "Team members are nominated for this badge by peers."},
                "description": "Recognizes the capacity to collaborate within a group.",
                "name": "Teamwork",
            },
        },
    }

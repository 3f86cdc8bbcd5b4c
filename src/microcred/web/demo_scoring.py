"""The demo's scoring program: a calibration set the scoring lead wrote for "Using Ask, Ask,
Ask", five anchors of differing quality with master scores, so the demo assessor can calibrate
from "My calibration" and a scoring lead sees a working set. Written through the same services
a scoring lead uses; run inside the caller's transaction, after the credentials."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from microcred.assessment import anchors
from microcred.assessment.models import CalibrationSet
from microcred.catalog.models import MicroCredentialVersion
from microcred.earning import services as earning
from microcred.earning.models import Attempt
from microcred.earning.sample_media import write_video
from microcred.orgs.demo import DemoWorld
from microcred.orgs.models import Role

from .demo_credentials import VIDEO_SECONDS, fill_portfolio

ANCHORS = Path(__file__).parent / "data" / "demo_anchors.json"
SLUG = "using-ask-ask-ask"
TITLE = "Ask, Ask, Ask: pilot anchors"


def load_scoring(world: DemoWorld) -> str:
    """The calibration set, once; returns what was done, for the loader's report."""
    version = MicroCredentialVersion.objects.get(
        micro_credential__slug=SLUG, status=MicroCredentialVersion.Status.PUBLISHED
    )
    if CalibrationSet.objects.filter(version=version, title=TITLE).exists():
        return "calibration set already present"
    lead = world.person(Role.SCORING_LEAD)
    calibration_set = anchors.create_set(actor=lead, title=TITLE, version=version)
    components = list(version.rubric.components.order_by("order"))
    specs = json.loads(ANCHORS.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as folder:
        video = Path(folder) / "lesson.mp4"
        write_video(video, seconds=VIDEO_SECONDS, fps=1, audio=None)
        for spec in specs:
            attempt, _ = earning.start_attempt(
                version, user=lead, purpose=Attempt.Purpose.CALIBRATION
            )
            fill_portfolio(attempt, lead, spec, video)
            submission = earning.submit(attempt, user=lead)
            anchors.add_anchor(
                calibration_set,
                actor=lead,
                submission=submission,
                points={c.pk: p for c, p in zip(components, spec["points"], strict=True)},
                rationale=spec["rationale"],
            )
    return f"calibration set “{TITLE}” with {len(specs)} anchors"

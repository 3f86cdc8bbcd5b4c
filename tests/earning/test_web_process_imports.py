"""Web processes stay small: serving pages, evidence uploads included, never loads PyAV and
FFmpeg (about 18 MB per worker); only the task worker's media checks do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

PROBE = """
import sys
from microcred.wsgi import application
from django.urls import get_resolver
get_resolver().url_patterns  # every view module, as the first request loads them
print("av" in sys.modules)
"""


def test_loading_every_view_does_not_load_pyav():
    env = {**os.environ, "PYTHONPATH": str(SRC), "DJANGO_SETTINGS_MODULE": "microcred.settings"}
    env.setdefault("DJANGO_SECRET_KEY", "probe")
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False", result.stderr

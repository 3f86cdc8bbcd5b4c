"""The part size a browser picks (uploader.js partSizeFor), as the server and bench/upload.py
know it (policy.browser_part_size)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from microcred.earning.uploads import policy
from microcred.earning.uploads.policy import GiB, MiB, browser_part_size, check_part_plan

UPLOADER = Path(policy.__file__).parent.parent / "static" / "earning" / "uploader.js"


@pytest.mark.parametrize(
    ("size", "part_size"),
    [
        (1, 16 * MiB),
        (33 * MiB, 16 * MiB),
        (256 * MiB, 16 * MiB),  # small files keep small parts: a drop loses little
        (256 * MiB + 1, 17 * MiB),
        (512 * MiB, 32 * MiB),
        (GiB, 64 * MiB),
        (8 * GiB, 64 * MiB),  # the largest files take the largest default parts
        (700 * GiB, 72 * MiB),  # and more only to stay within 10,000 parts
    ],
)
def test_parts_are_a_sixteenth_of_the_file_from_16_to_64_mib(size, part_size):
    assert browser_part_size(size) == part_size
    check_part_plan(size, part_size)  # a plan the server accepts


def test_the_browser_follows_the_same_rule():
    script = UPLOADER.read_text()

    def constant(name: str) -> str:
        return re.search(rf"^const {name} = (.+)$", script, re.MULTILINE).group(1)

    assert constant("DEFAULT_PART_SIZE") == f"{policy.BROWSER_PART_SIZE // MiB} * MiB"
    assert constant("LARGE_PART_SIZE") == f"{policy.BROWSER_LARGE_PART_SIZE // MiB} * MiB"
    assert constant("PARTS_PER_FILE") == str(policy.BROWSER_PARTS_PER_FILE)
    assert constant("MAX_PARTS") == str(policy.MAX_PARTS)

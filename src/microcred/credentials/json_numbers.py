"""Numbers every JSON reader reads alike: what a signed credential may hold.

JavaScript (and so every browser wallet and Digital Bazaar's verifier) parses a JSON number into
a 64-bit float. An integer beyond 2^53 - 1 comes out as a neighbouring value, so the canonical form
a JavaScript verifier hashes differs from the one we signed and the signature fails there, though
it passes here (Python keeps integers exact). NaN and Infinity are not JSON at all (Python's json
module writes and reads them; no other parser does). A document holding either is refused before
it is signed, and reported as not verifiable when someone brings one to the verifier.
"""

from __future__ import annotations

import math
import re
from typing import Any

# Number.MAX_SAFE_INTEGER: the largest integer a JavaScript number holds exactly, with its
# neighbours.
MAX_SAFE_INTEGER = 2**53 - 1

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _child(path: str, key: str) -> str:
    if _NAME.match(key):
        return f"{path}.{key}"
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{path}['{escaped}']"


def _shown(value: int) -> str:
    if abs(value) < 10**30:
        return str(value)
    # Not str(): Python refuses to write integers of more than 4300 digits.
    return f"an integer of about {round(value.bit_length() * math.log10(2))} digits"


def _unsafe(value: Any) -> bool:
    if isinstance(value, bool):
        return False  # a bool is an int in Python, never a number in JSON
    if isinstance(value, int):
        return value > MAX_SAFE_INTEGER or value < -MAX_SAFE_INTEGER
    return isinstance(value, float) and not math.isfinite(value)


def _all_safe(document: Any) -> bool:
    # The common case, on every signature and verification: a quick pass that builds no paths.
    stack = [document]
    pop, extend = stack.pop, stack.extend
    while stack:
        value = pop()
        if isinstance(value, str):
            continue
        if isinstance(value, dict):
            extend(value.values())
        elif isinstance(value, list):
            extend(value)
        elif _unsafe(value):
            return False
    return True


def unsafe_numbers(document: Any) -> list[str]:
    """Each number JavaScript cannot read exactly, as '<JSON path> is <what>', in document order.

    Paths are JSONPath, as the schema check writes them ($.credentialSubject.result[0].value).
    """
    if _all_safe(document):
        return []
    problems: list[str] = []
    # An explicit stack, not recursion: the document may be nested deeper than Python recurses.
    stack: list[tuple[str, Any]] = [("$", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack.extend(
                (_child(path, str(key)), item) for key, item in reversed(list(value.items()))
            )
        elif isinstance(value, list):
            stack.extend(
                (f"{path}[{index}]", item) for index, item in reversed(list(enumerate(value)))
            )
        elif not _unsafe(value):
            continue
        elif isinstance(value, int):
            problems.append(
                f"{path} is {_shown(value)}, beyond ±{MAX_SAFE_INTEGER} (2^53 - 1), the "
                "largest integer JavaScript reads exactly; write it as a string"
            )
        else:
            problems.append(f"{path} is {value!r}, which is not a number JSON can hold")
    return problems


def describe(problems: list[str]) -> str:
    """One sentence naming every problem (the first few, when there are many)."""
    shown = problems[:5]
    more = len(problems) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")

"""Run 1EdTech's Open Badges 2.0 validator (`openbadges.verify`) on one hosted assertion URL
and print its report as JSON.

    .venv/bin/python validate.py URL [EMAIL]

With EMAIL, the validator also checks that the assertion's hashed recipient is that address.

The validator fetches the assertion, badge class and issuer over HTTP as a backpack would. Its
JSON-LD loader would also fetch the OB 2.0 context from w3id.org; this workplace has no network,
so the copy the package itself ships (openbadges_context.py) answers for that one URL.
"""

from __future__ import annotations

import json
import sys

from openbadges import verify
from openbadges.verifier import utils
from openbadges.verifier.openbadges_context import (
    OPENBADGES_CONTEXT_V2_DICT,
    OPENBADGES_CONTEXT_V2_URI,
)

_fetch = utils.CachableDocumentLoader.__call__


def _load(self, url):
    if url.rstrip("/") == OPENBADGES_CONTEXT_V2_URI:
        document = json.dumps(OPENBADGES_CONTEXT_V2_DICT)
        return {"contextUrl": None, "documentUrl": url, "document": document}
    return _fetch(self, url)


utils.CachableDocumentLoader.__call__ = _load

if __name__ == "__main__":
    recipient = {"email": sys.argv[2]} if len(sys.argv) > 2 else None
    report = verify(sys.argv[1], recipient_profile=recipient, use_cache=False)
    print(json.dumps(report.get("report", report), default=str))

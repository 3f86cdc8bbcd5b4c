"""A static files finder that exposes, of a folder in STATICFILES_DIRS, only the files listed
for its prefix in settings.STATICFILES_ONLY (folders not listed there are exposed whole).

npm packages and wheels ship whole build folders (every variant, source maps, extensions);
pages load one or two files of each. Listing them keeps collectstatic (which hashes and
compresses every file it finds) and the development server's file table to what is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.finders import FileSystemFinder
from django.core.checks import Error
from django.core.files.storage import Storage


def _listed(prefix: str) -> frozenset[str] | None:
    names = getattr(settings, "STATICFILES_ONLY", {}).get(prefix)
    return None if names is None else frozenset(names)


class ListedFilesFinder(FileSystemFinder):
    def find_location(self, root: str, path: str, prefix: str | None = None) -> str | None:
        names = _listed(prefix) if prefix else None
        if names is not None and path.removeprefix(f"{prefix}/") not in names:
            return None
        return super().find_location(root, path, prefix)

    def list(self, ignore_patterns: list[str] | None) -> Iterator[tuple[str, Storage]]:
        for path, storage in super().list(ignore_patterns):
            names = _listed(getattr(storage, "prefix", None) or "")
            if names is None or path in names:
                yield path, storage

    def check(self, **kwargs: Any) -> list[Error]:
        errors = super().check(**kwargs)
        for prefix, root in self.locations:
            for name in sorted(_listed(prefix) or ()):
                if not self.storages[root].exists(name):
                    errors.append(
                        Error(
                            f"STATICFILES_ONLY lists {prefix}/{name}, which is not in {root}.",
                            hint="Install the browser libraries (npm ci) or correct the list.",
                            id="microcred.E101",
                        )
                    )
        return errors

"""An in-memory SourceTree for consolidation tests."""

from __future__ import annotations

from collections.abc import Mapping


class MemTree:
    """Files given as text or as lines, addressed by repository-relative path."""

    def __init__(self, files: Mapping[str, str | list[str]]) -> None:
        self.files = dict(files)

    def read_lines(self, path: str) -> list[str] | None:
        content = self.files.get(path)
        if content is None:
            return None
        return content.split("\n") if isinstance(content, str) else content

    def paths(self) -> list[str]:
        return sorted(self.files)

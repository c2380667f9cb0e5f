"""The read-only view of the head tree that grounding checks claims against."""

from __future__ import annotations

from typing import Protocol


class SourceTree(Protocol):
    """Files of the reviewed head state, addressed by repository-relative path."""

    def read_lines(self, path: str) -> list[str] | None:
        """The file's lines without line terminators; None when it is absent or binary."""
        ...

    def paths(self) -> list[str]:
        """Every file of the tree, repository-relative."""
        ...

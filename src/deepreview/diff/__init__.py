"""The diff model (files, hunks and line maps of a git unified diff) and its parser.

`model.py` holds the public types, `store.py` the two ways hunks are held (`HunkStore`: in
memory, or as byte ranges of the diff file), `names.py` header-name unquoting and `parser.py`
the parser.
"""

from deepreview.diff.hunk import DiffLine, Hunk, LineKind
from deepreview.diff.model import Diff, DiffSource, FileDiff, FileStatus
from deepreview.diff.parser import parse_diff, parse_diff_file
from deepreview.diff.store import FileHunks, HunkStore, MemoryHunks

__all__ = [
    "Diff",
    "DiffLine",
    "DiffSource",
    "FileDiff",
    "FileHunks",
    "FileStatus",
    "Hunk",
    "HunkStore",
    "LineKind",
    "MemoryHunks",
    "parse_diff",
    "parse_diff_file",
]

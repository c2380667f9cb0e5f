"""Mutations of a change's added lines: Python's on its syntax tree, other languages'
(except Go, read by `go_sites`) by deleting a line.

Operators: negate a condition, flip a comparison (its boundary included: `<` ↔ `<=`), swap
`and`/`or`, replace a return value, delete an added statement.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass

_FLIP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
#: Statements whose deletion is a mutation (definitions, imports and docstrings are not).
_DELETABLE = (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Raise, ast.Delete)
_SHOWN = 60


@dataclass(frozen=True)
class Mutant:
    """One mutated version of a file."""

    line: int
    description: str
    text: str
    function: str | None
    trivial: bool


def _short(code: str) -> str:
    one = " ".join(code.split())
    return one if len(one) <= _SHOWN else one[: _SHOWN - 1] + "…"


class _Source:
    """A file's text addressable by the syntax tree's (line, UTF-8 column) positions."""

    def __init__(self, text: str) -> None:
        self.data = text.encode("utf-8")
        self.starts = [0]
        for line in self.data.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))

    def span(self, node: ast.AST) -> tuple[int, int]:
        start = self.starts[node.lineno - 1] + node.col_offset  # type: ignore[attr-defined]
        end = self.starts[node.end_lineno - 1] + node.end_col_offset  # type: ignore[attr-defined]
        return start, end

    def segment(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.data[start:end].decode("utf-8")

    def replace(self, node: ast.AST, new: str) -> str:
        start, end = self.span(node)
        return (self.data[:start] + new.encode("utf-8") + self.data[end:]).decode("utf-8")


def _owners(tree: ast.Module) -> dict[int, tuple[str, bool]]:
    """For each line inside a function: the function's name, and whether it is trivial code
    (`__repr__`/`__str__`)."""
    out: dict[int, tuple[str, bool]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            trivial = node.name in ("__repr__", "__str__")
            for line in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                out[line] = (node.name, trivial)
    return out


def _is_output_call(node: ast.AST) -> bool:
    """A call to print, warnings or a logger: changing it changes no result."""
    if not isinstance(node, ast.Expr) or not isinstance(node.value, ast.Call):
        return False
    func = node.value.func
    name = func.id if isinstance(func, ast.Name) else ""
    if isinstance(func, ast.Attribute):
        base = func.value
        owner = base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
        name = f"{owner}.{func.attr}"
    head = name.split(".")[0].lower()
    return name == "print" or head in ("log", "logger", "logging", "warnings", "_log", "_logger")


def _nodes_on(tree: ast.Module, lines: frozenset[int]) -> Iterator[ast.AST]:
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in lines:
            yield node


def python_mutants(text: str, lines: frozenset[int]) -> list[Mutant]:
    """Mutants of the Python source `text` at the added `lines` (none if it does not parse)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    src = _Source(text)
    owners = _owners(tree)
    docstrings = {
        id(body[0])
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and (body := node.body)
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
    }
    out: list[Mutant] = []
    seen: set[tuple[int, str]] = set()

    def add(node: ast.AST, description: str, mutated: str, trivial: bool = False) -> None:
        line = node.lineno  # type: ignore[attr-defined]
        if (line, description) in seen:
            return
        seen.add((line, description))
        function, in_trivial = owners.get(line, (None, False))
        out.append(Mutant(line, description, mutated, function, trivial or in_trivial))

    for node in _nodes_on(tree, lines):
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _FLIP:
            flipped = ast.Compare(node.left, [_FLIP[type(node.ops[0])]()], node.comparators)
            new = ast.unparse(flipped)
            add(
                node,
                f"`{_short(src.segment(node))}` → `{_short(new)}`",
                src.replace(node, f"({new})"),
            )
        elif isinstance(node, ast.BoolOp):
            swapped = ast.BoolOp(
                ast.Or() if isinstance(node.op, ast.And) else ast.And(), node.values
            )
            new = ast.unparse(swapped)
            add(
                node,
                f"`{_short(src.segment(node))}` → `{_short(new)}`",
                src.replace(node, f"({new})"),
            )
        if isinstance(node, ast.If | ast.While | ast.IfExp) and node.test.lineno in lines:
            cond = src.segment(node.test)
            keyword = "while" if isinstance(node, ast.While) else "if"
            add(
                node.test,
                f"`{keyword} {_short(cond)}` → `{keyword} not ({_short(cond)})`",
                src.replace(node.test, f"(not ({cond}))"),
            )
        if isinstance(node, ast.Return) and node.value is not None:
            value = node.value
            if isinstance(value, ast.Constant) and isinstance(value.value, bool):
                new = str(not value.value)
            elif isinstance(value, ast.Constant) and value.value is None:
                continue
            else:
                new = "None"
            add(
                node,
                f"`return {_short(src.segment(value))}` → `return {new}`",
                src.replace(value, new),
            )
        if isinstance(node, _DELETABLE) and id(node) not in docstrings:
            add(
                node,
                f"delete `{_short(src.segment(node))}`",
                src.replace(node, "pass"),
                trivial=_is_output_call(node),
            )
    return sorted(out, key=lambda m: m.line)


def spread(mutants: list[Mutant]) -> list[Mutant]:
    """Mutants ordered so that every line gets one before any line gets a second: a budget
    that runs out still probes as many lines as it can."""
    by_line: dict[int, list[Mutant]] = {}
    for m in mutants:
        by_line.setdefault(m.line, []).append(m)
    out: list[Mutant] = []
    rank = 0
    while len(out) < len(mutants):
        out += [group[rank] for group in by_line.values() if rank < len(group)]
        rank += 1
    return out


#: Languages whose statements end with `;`, where deleting one such line still parses.
LINE_LANGUAGES = (
    ".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".rs", ".java", ".kt", ".scala",
    ".c", ".h", ".cc", ".cpp", ".hpp", ".cs", ".swift", ".php",
)  # fmt: skip
#: Lines not worth deleting: declarations (deleting one breaks the build, not a test), imports,
#: returns (a value then missing) and comments.
_KEPT = re.compile(
    r"(//|/\*|\*|#|(let|const|var|val|use|import|export|static|pub|fn|type|return|package)\b)"
)
_OUTPUT = re.compile(r"(console|log|logger|System\.out|System\.err)\.|(println|printf|print)!?\(")


def line_mutants(text: str, lines: frozenset[int]) -> list[Mutant]:
    """Deletions of the added `lines` of `text` that are one whole simple statement (ending
    with `;`, no braces), for languages without a syntax-aware reader."""
    out: list[Mutant] = []
    rows = text.splitlines(keepends=True)
    for n in sorted(lines):
        if not 1 <= n <= len(rows):
            continue
        code = rows[n - 1].strip()
        if not code.endswith(";") or "{" in code or "}" in code or _KEPT.match(code):
            continue
        ending = rows[n - 1][len(rows[n - 1].rstrip("\r\n")) :]
        mutated = "".join([*rows[: n - 1], ending, *rows[n:]])
        trivial = _OUTPUT.match(code) is not None
        out.append(Mutant(n, f"delete `{_short(code)}`", mutated, None, trivial))
    return out


def file_mutants(path: str, text: str, lines: frozenset[int]) -> list[Mutant]:
    """Mutants of a file probed without a coverage measurement: Python's syntax-aware ones,
    else deletions of statement lines in the languages of LINE_LANGUAGES (none otherwise)."""
    if path.endswith(".py"):
        return python_mutants(text, lines)
    if path.endswith(LINE_LANGUAGES):
        return line_mutants(text, lines)
    return []

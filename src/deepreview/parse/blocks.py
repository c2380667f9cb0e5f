"""The block structure of a Markdown text: top-level headings, paragraphs, lists, fences."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token

BlockKind = Literal["heading", "paragraph", "list", "fence", "table", "hr", "quote", "html"]

_KINDS: dict[str, BlockKind] = {
    "heading_open": "heading",
    "paragraph_open": "paragraph",
    "bullet_list_open": "list",
    "ordered_list_open": "list",
    "fence": "fence",
    "table_open": "table",
    "hr": "hr",
    "blockquote_open": "quote",
    "html_block": "html",
}

# Setext headings and indented code are off: in agents' answers `text` + `---` is a paragraph
# and a rule, and indented lines are prose.
_MD = MarkdownIt("commonmark").enable("table").disable(["lheading", "code"])

_FENCE_OPEN = re.compile(r"^\s{0,3}(?P<fence>`{3,}|~{3,})\s*(?P<info>[\w+#.-]*)\s*$")


@dataclass(frozen=True, slots=True)
class Item:
    """One list item: its lines [start, end) and, for ordered lists, its number."""

    start: int
    end: int
    number: int | None


@dataclass(frozen=True, slots=True)
class Block:
    """A top-level block over lines [start, end) of the parsed text."""

    kind: BlockKind
    start: int
    end: int
    level: int = 0
    text: str = ""
    items: tuple[Item, ...] = ()


def parse_blocks(text: str) -> list[Block]:
    """The top-level blocks of `text`; `text` of a heading is its title, of a fence its info."""
    tokens = _MD.parse(text)
    blocks: list[Block] = []
    for i, tok in enumerate(tokens):
        if tok.level != 0 or tok.map is None or tok.type not in _KINDS:
            continue
        kind = _KINDS[tok.type]
        start, end = tok.map
        if kind == "heading":
            blocks.append(Block(kind, start, end, int(tok.tag[1]), tokens[i + 1].content))
        elif kind == "list":
            items = _items(tokens, i)
            blocks.append(Block(kind, start, end, items=items))
        elif kind == "fence":
            blocks.append(Block(kind, start, end, text=tok.info.strip()))
        else:
            blocks.append(Block(kind, start, end))
    return blocks


def _items(tokens: list[Token], open_index: int) -> tuple[Item, ...]:
    items: list[Item] = []
    depth = 0
    for tok in tokens[open_index:]:
        if tok.type in ("bullet_list_open", "ordered_list_open"):
            depth += 1
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
            if depth == 0:
                break
        elif tok.type == "list_item_open" and depth == 1 and tok.map is not None:
            number = int(tok.info) if tok.info.isdigit() else None
            items.append(Item(tok.map[0], tok.map[1], number))
    return tuple(items)


def unwrap_fence(text: str) -> str:
    """`text` without an outer code fence when the whole text is one fenced Markdown block
    (some agents wrap their answer in ```` ```markdown ````)."""
    lines = text.strip().split("\n")
    if len(lines) < 2:
        return text
    m = _FENCE_OPEN.match(lines[0])
    if m is None or m.group("info").lower() not in ("", "markdown", "md"):
        return text
    fence = m.group("fence")
    last = lines[-1].rstrip()
    if not last.endswith(fence):
        return text
    body = lines[1:-1] + ([last[: -len(fence)]] if last.strip() != fence else [])
    return "\n".join(body)

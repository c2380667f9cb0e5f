"""Text that holds undecodable bytes, made safe to serialize.

Paths and file content are decoded with surrogate escapes, so a byte that is not UTF-8 survives
as a lone surrogate (``caf\\udce9.py``) and the file can still be opened. Where text leaves the
process (reports, the history, the cache, the terminal) each such byte is written as ``\\xNN``
(``caf\\xe9.py``), as git quotes it; other lone surrogates as ``\\uXXXX``.
"""

from __future__ import annotations

import codecs
from typing import Any, TypeVar

from pydantic import BaseModel

#: The codec error handler that writes undecodable bytes as `\\xNN`.
ERRORS = "deepreview-escape"

M = TypeVar("M", bound=BaseModel)


def _escape(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    chunk = error.object[error.start : error.end]
    text = "".join(
        f"\\x{ord(c) - 0xDC00:02x}" if 0xDC80 <= ord(c) <= 0xDCFF else f"\\u{ord(c):04x}"
        for c in chunk
    )
    return text, error.end


codecs.register_error(ERRORS, _escape)


def escape_surrogates(text: str) -> str:
    """`text` with every undecodable byte written as `\\xNN`; unchanged when it has none."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", ERRORS).decode("utf-8")
    return text


def _walk(value: Any) -> Any:
    if isinstance(value, str):
        return escape_surrogates(value)
    if isinstance(value, dict):
        return {_walk(k): _walk(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_walk(v) for v in value)
    return value


def escaped_model(obj: M) -> M:
    """A copy of a pydantic model with every string escaped (the same model when none needs
    it, which one JSON encoding tells)."""
    try:
        obj.model_dump_json()
    except ValueError:  # pydantic's serialization error on a lone surrogate
        return type(obj).model_validate(_walk(obj.model_dump(mode="python")))
    return obj

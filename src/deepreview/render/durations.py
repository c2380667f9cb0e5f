"""Durations as the report writes them: `14 min 42 s` for the run, `6m 57s` per agent."""

from __future__ import annotations


def _split(seconds: float) -> tuple[int, int, int]:
    hours, rest = divmod(max(0, round(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return hours, minutes, secs


def wall_clock(seconds: float) -> str:
    """The header's wall-clock form: `42 s`, `14 min 42 s`, `1 h 3 min 0 s`."""
    hours, minutes, secs = _split(seconds)
    parts = [f"{hours} h"] if hours else []
    if hours or minutes:
        parts.append(f"{minutes} min")
    parts.append(f"{secs} s")
    return " ".join(parts)


def compact(seconds: float) -> str:
    """The retro table's form: `0.4s`, `42s`, `3m 02s`, `1h 04m 09s`."""
    if seconds < 9.95:
        return f"{max(0.0, seconds):.1f}s"
    hours, minutes, secs = _split(seconds)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"

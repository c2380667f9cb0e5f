"""Ruff rule codes mapped to our severities by their linter, not by a first letter."""

from __future__ import annotations

import pytest

from deepreview.agents.ruff import rule_severity


@pytest.mark.parametrize(
    ("code", "severity"),
    [
        ("F821", "important"),  # pyflakes: undefined name
        ("F401", "suggestion"),  # pyflakes: unused import
        ("FA100", "suggestion"),  # flake8-future-annotations, not pyflakes
        ("FURB101", "suggestion"),
        ("S602", "important"),  # flake8-bandit
        ("SIM102", "suggestion"),  # flake8-simplify, not bandit
        ("PLE1142", "important"),
        ("E902", "important"),
        ("UP006", "suggestion"),
    ],
)
def test_severity_follows_the_rules_linter(code: str, severity: str) -> None:
    assert rule_severity(code)[0] == severity

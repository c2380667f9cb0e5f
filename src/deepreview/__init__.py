"""deepreview: run several code reviewers, verify their claims, write one consolidated report."""

__version__ = "0.1.0"

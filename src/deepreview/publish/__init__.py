"""Publishing a report to where the change lives: a GitHub pull-request review."""

"""Verification by execution: run the change's tests at the head and the merge base, measure
which added lines they execute and whether they notice mutations of those lines."""

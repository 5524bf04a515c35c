"""Writes: models (issue 4)."""

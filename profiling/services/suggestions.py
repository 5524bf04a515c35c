"""Writes: suggestions (issue 4)."""

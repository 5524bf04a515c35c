"""Writes: segments (issue 4)."""

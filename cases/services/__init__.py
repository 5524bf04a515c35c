"""Writes of the cases app, one module per capability. Every write goes through a function here."""

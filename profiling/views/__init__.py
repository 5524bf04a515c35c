"""HTML views of the profiling app: one module per subject (urls.py names them)."""

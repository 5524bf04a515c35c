"""API views of the profiling app: one module per subject (jobcenter/api_urls.py names them)."""

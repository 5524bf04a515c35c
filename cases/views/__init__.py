"""HTML views of the cases app, one module per capability."""

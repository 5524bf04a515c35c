"""REST API of the cases app, one module per capability."""

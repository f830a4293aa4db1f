"""API views, one module per area; each only translates between HTTP and a service."""

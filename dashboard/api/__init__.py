"""The storefront REST API (``/api/v1/``): token auth, one error shape, every served list logged."""

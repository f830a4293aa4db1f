"""Fixtures of the service tests."""
from tests.dashboard.services.pictures import picture_server  # noqa: F401  (the image tests' picture server)

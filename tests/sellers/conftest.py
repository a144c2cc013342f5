from tests.notifications.conftest import member, pushes  # noqa: F401 - devices and the in-memory push backend

import pytest

from tests.notifications.conftest import member, pushes  # noqa: F401 - devices and the in-memory push backend


@pytest.fixture
def staff(make_user):
    """A staff member with a bearer token (`staff.token`)."""
    user, token = make_user("community")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.token = token
    return user

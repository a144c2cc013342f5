import pytest

from tests.notifications.conftest import member, pushes  # noqa: F401 - devices and the in-memory push backend


@pytest.fixture
def api(gql, django_capture_on_commit_callbacks):
    """`gql` as a committed request: its on-commit work (notification fan-out, tasks) runs."""

    def call(query, variables=None, token=None):
        with django_capture_on_commit_callbacks(execute=True):
            return gql(query, variables, token=token)

    return call

from datetime import timedelta

import graphene
import pytest
from django.utils import timezone

from accounts.models import User
from accounts.schema import UserType
from config.errors import ServiceError
from config.graphql.pagination import keyset_page, offset_page

pytestmark = pytest.mark.django_db


class UserConnection(graphene.relay.Connection):
    class Meta:
        node = UserType


@pytest.fixture
def users():
    joined = timezone.now()
    # Pairs share a timestamp so the unique tie-breaker matters.
    return [
        User.objects.create(
            username=f"user{i:02d}",
            email=f"u{i}@example.com",
            date_joined=joined - timedelta(microseconds=(i // 2) * 7),
        )
        for i in range(11)
    ]


def walk(page_fn, **kwargs):
    seen, after = [], None
    while True:
        page = page_fn(User.objects.all(), UserConnection, first=3, after=after, **kwargs)
        seen += [edge.node.username for edge in page.edges]
        if not page.page_info.has_next_page:
            return seen
        after = page.page_info.end_cursor


def test_keyset_pages_cover_every_row_once_in_order(users):
    seen = walk(keyset_page, ordering=("-date_joined", "-pk"))
    expected = [u.username for u in sorted(users, key=lambda u: (u.date_joined, u.pk), reverse=True)]
    assert seen == expected


def test_keyset_cursor_survives_rows_added_at_the_top(users):
    first = keyset_page(User.objects.all(), UserConnection, first=4, after=None, ordering=("-date_joined", "-pk"))
    User.objects.create(username="newcomer", email="new@example.com")
    second = keyset_page(
        User.objects.all(), UserConnection, first=4, after=first.page_info.end_cursor, ordering=("-date_joined", "-pk")
    )
    names = [e.node.username for e in first.edges + second.edges]
    assert len(set(names)) == 8 and "newcomer" not in names


def test_offset_pages(users):
    assert walk(offset_page) == [u.username for u in User.objects.all()]


@pytest.mark.parametrize("first", [0, -1, 101])
def test_page_size_is_bounded(users, first):
    with pytest.raises(ServiceError) as error:
        keyset_page(User.objects.all(), UserConnection, first=first, after=None, ordering=("pk",))
    assert error.value.errors[0].field == "first"


@pytest.mark.parametrize("cursor", ["nonsense", "W10=", "WyJvIiwgLTFd", "WyJrIiwiYmFkLWRhdGUiLDFd"])
def test_bad_cursors_are_typed_errors(users, cursor):
    with pytest.raises(ServiceError) as error:
        keyset_page(User.objects.all(), UserConnection, first=2, after=cursor, ordering=("-date_joined", "-pk"))
    assert error.value.errors[0].field == "after"
    with pytest.raises(ServiceError):
        offset_page(User.objects.all(), UserConnection, first=2, after=cursor)

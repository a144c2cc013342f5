"""Closet visits: recorded once per visitor, closet and hour."""

from datetime import UTC, datetime, timedelta

import pytest

from social import services
from social.models import ClosetVisit
from tests.helpers import gid

pytestmark = pytest.mark.django_db

VISIT = "mutation($input: UserIdInput!) { recordClosetVisit(input: $input) { recorded errors { field code } } }"


def test_visits_are_recorded_once_an_hour(gql, make_user):
    ava, _ = make_user("ava")
    _, token = make_user("marco")
    results = [gql(VISIT, {"input": {"userId": gid(ava)}}, token=token)["data"]["recordClosetVisit"] for _ in range(2)]
    assert results == [{"recorded": True, "errors": []}, {"recorded": False, "errors": []}]
    assert ClosetVisit.objects.count() == 1


def test_hour_buckets(make_user):
    ava, _ = make_user("ava")
    marco, _ = make_user("marco")
    start = datetime(2025, 3, 1, 10, 5, tzinfo=UTC)
    recorded = [
        services.record_closet_visit(visitor=marco, closet_owner=ava, at=start + timedelta(minutes=minutes))
        for minutes in (0, 50, 56, 130)
    ]
    assert recorded == [True, False, True, True]  # 10:05 and 10:55 share 10h; 11:01 -> 11h; 12:15 -> 12h
    assert list(ClosetVisit.objects.order_by("hour").values_list("hour__hour", flat=True)) == [10, 11, 12]


def test_own_closet_and_blocked_closets_record_nothing(gql, make_user):
    ava, ava_token = make_user("ava")
    marco, marco_token = make_user("marco")
    services.block_user(blocker=ava, blocked=marco)
    assert (
        gql(VISIT, {"input": {"userId": gid(ava)}}, token=ava_token)["data"]["recordClosetVisit"]["recorded"] is False
    )
    assert (
        gql(VISIT, {"input": {"userId": gid(ava)}}, token=marco_token)["data"]["recordClosetVisit"]["recorded"] is False
    )
    assert gql(VISIT, {"input": {"userId": gid(ava)}})["data"]["recordClosetVisit"]["errors"] == [
        {"field": None, "code": "UNAUTHENTICATED"}
    ]
    assert not ClosetVisit.objects.exists()

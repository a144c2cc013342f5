"""The notifications API as a mobile client uses it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Device, Notification, NotificationSettings

pytestmark = pytest.mark.django_db

INBOX = """query Inbox($first: Int, $after: String, $unreadOnly: Boolean) {
  notifications(first: $first, after: $after, unreadOnly: $unreadOnly) {
    edges { node { id kind category title body readAt createdAt data } }
    pageInfo { hasNextPage endCursor }
  }
  unreadNotificationCount
}"""
MARK_READ = """mutation Mark($input: MarkNotificationsReadInput!) {
  markNotificationsRead(input: $input) { markedCount unreadCount errors { field code message } }
}"""
REGISTER_DEVICE = """mutation Register($input: RegisterDeviceInput!) {
  registerDevice(input: $input) { device { id platform name isActive } errors { field code } }
}"""
UNREGISTER_DEVICE = """mutation Unregister($input: UnregisterDeviceInput!) {
  unregisterDevice(input: $input) { unregistered errors { field code } }
}"""
PREFERENCES = """{ notificationPreferences {
  categories { category push } quietHours { start end } timeZone dailyCap dailyCapOverride
  segmentDailyCap dailyCapMin dailyCapMax } }"""
UPDATE_PREFERENCES = """mutation Update($input: UpdateNotificationPreferencesInput!) {
  updateNotificationPreferences(input: $input) {
    preferences { categories { category push } quietHours { start end } dailyCap dailyCapOverride }
    errors { field code message }
  }
}"""


def inbox_of(user, count):
    for number in range(count):
        Notification.objects.create(
            recipient=user,
            kind="comment",
            title=f"Comment {number}",
            body="Nice!",
            dedupe_key=f"comment:{number}",
            data={"listingId": number},
        )


def test_the_inbox_pages_newest_first_with_unread_count(gql, member):
    ava, marco = member("ava"), member("marco")
    inbox_of(ava, 5)
    inbox_of(marco, 2)
    first = gql(INBOX, {"first": 3}, token=ava.token)["data"]
    assert [edge["node"]["title"] for edge in first["notifications"]["edges"]] == [
        "Comment 4",
        "Comment 3",
        "Comment 2",
    ]
    node = first["notifications"]["edges"][0]["node"]
    assert node["kind"] == "COMMENT" and node["category"] == "SOCIAL" and node["readAt"] is None
    assert node["data"] == '{"listingId": 4}'
    assert first["unreadNotificationCount"] == 5
    rest = gql(INBOX, {"first": 3, "after": first["notifications"]["pageInfo"]["endCursor"]}, token=ava.token)
    assert [edge["node"]["title"] for edge in rest["data"]["notifications"]["edges"]] == ["Comment 1", "Comment 0"]
    assert rest["data"]["notifications"]["pageInfo"]["hasNextPage"] is False


def test_the_inbox_runs_the_same_queries_whatever_the_page_size(gql, member):
    ava = member("ava")
    inbox_of(ava, 50)
    gql(INBOX, token=ava.token)  # stamps the token's last use, once
    counts = []
    for size in (5, 50):
        with CaptureQueriesContext(connection) as queries:
            result = gql(INBOX, {"first": size}, token=ava.token)
        assert len(result["data"]["notifications"]["edges"]) == size
        counts.append(len(queries))
    assert counts == [3, 3]  # the token, the page, the unread count


def test_the_inbox_needs_a_login(gql):
    result = gql(INBOX)
    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_mark_some_or_all_read(gql, member):
    ava, marco = member("ava"), member("marco")
    inbox_of(ava, 3)
    inbox_of(marco, 1)
    edges = gql(INBOX, token=ava.token)["data"]["notifications"]["edges"]
    theirs = gql(INBOX, token=marco.token)["data"]["notifications"]["edges"][0]["node"]["id"]

    result = gql(MARK_READ, {"input": {"ids": [edges[0]["node"]["id"], theirs]}}, token=ava.token)
    assert result["data"]["markNotificationsRead"] == {"markedCount": 1, "unreadCount": 2, "errors": []}
    assert Notification.objects.filter(recipient=marco, read_at__isnull=True).count() == 1  # untouched
    unread = gql(INBOX, {"unreadOnly": True}, token=ava.token)["data"]["notifications"]["edges"]
    assert len(unread) == 2

    result = gql(MARK_READ, {"input": {"all": True}}, token=ava.token)
    assert result["data"]["markNotificationsRead"] == {"markedCount": 2, "unreadCount": 0, "errors": []}


@pytest.mark.parametrize(
    "payload, field", [({}, "ids"), ({"ids": ["bm90OjE="]}, "ids"), ({"ids": [], "all": True}, "ids")]
)
def test_mark_read_refuses_unclear_input(gql, member, payload, field):
    ava = member("ava")
    errors = gql(MARK_READ, {"input": payload}, token=ava.token)["data"]["markNotificationsRead"]["errors"]
    assert errors[0]["code"] == "INVALID" and errors[0]["field"] == field


def test_register_device_and_a_token_moves_once_its_session_signs_out(gql, member):
    ava, marco = member("ava", devices=0), member("marco", devices=0)
    payload = {"input": {"platform": "APNS", "token": "shared-phone", "name": "Family iPad"}}
    result = gql(REGISTER_DEVICE, payload, token=ava.token)["data"]["registerDevice"]
    assert result["errors"] == [] and result["device"]["platform"] == "APNS" and result["device"]["isActive"]
    # While Ava is signed in there, the token is hers (tests/notifications/test_device_takeover.py) ...
    refused = gql(REGISTER_DEVICE, payload, token=marco.token)["data"]["registerDevice"]
    assert refused == {"device": None, "errors": [{"field": "token", "code": "DEVICE_TOKEN_IN_USE"}]}
    # ... and once she signs out, whoever signs in on the iPad next has it.
    gql("mutation { logout { errors { code } } }", token=ava.token)
    assert gql(REGISTER_DEVICE, payload, token=marco.token)["data"]["registerDevice"]["errors"] == []
    device = Device.objects.get()
    assert device.user == marco and device.platform == "apns"

    result = gql(UNREGISTER_DEVICE, {"input": {"token": "shared-phone"}}, token=ava.token)
    assert result.get("data") is None or result["data"]["unregisterDevice"]["errors"]
    result = gql(UNREGISTER_DEVICE, {"input": {"token": "shared-phone"}}, token=marco.token)
    assert result["data"]["unregisterDevice"] == {"unregistered": True, "errors": []}
    assert not Device.objects.exists()


def test_re_registering_revives_a_deactivated_token(gql, member):
    ava = member("ava", devices=1)
    Device.objects.update(is_active=False, deactivation_reason="token rejected by the provider")
    gql(REGISTER_DEVICE, {"input": {"platform": "FCM", "token": "ava-device-0"}}, token=ava.token)
    assert Device.objects.get().is_active


def test_only_the_latest_devices_stay_active(gql, member, settings):
    settings.NOTIFICATIONS_MAX_DEVICES_PER_USER = 2
    ava = member("ava", devices=0)
    for number in range(3):
        gql(REGISTER_DEVICE, {"input": {"platform": "FCM", "token": f"phone-{number}"}}, token=ava.token)
    assert set(Device.objects.filter(is_active=True).values_list("token", flat=True)) == {"phone-1", "phone-2"}


def test_register_device_refuses_blank_tokens_and_anonymous_clients(gql, member):
    ava = member("ava", devices=0)
    result = gql(REGISTER_DEVICE, {"input": {"platform": "FCM", "token": "  "}}, token=ava.token)
    assert result["data"]["registerDevice"]["errors"] == [{"field": "token", "code": "INVALID_DEVICE_TOKEN"}]
    result = gql(REGISTER_DEVICE, {"input": {"platform": "FCM", "token": "x"}})
    assert result["data"]["registerDevice"]["errors"][0]["code"] == "UNAUTHENTICATED"
    assert not Device.objects.exists()


def test_preferences_start_with_everything_on(gql, member):
    ava = member("ava", time_zone="Europe/Rome")
    preferences = gql(PREFERENCES, token=ava.token)["data"]["notificationPreferences"]
    assert all(category["push"] for category in preferences["categories"])
    assert preferences["quietHours"] is None and preferences["timeZone"] == "Europe/Rome"
    assert preferences["dailyCap"] == 8 and preferences["dailyCapOverride"] is None
    assert (preferences["dailyCapMin"], preferences["dailyCapMax"]) == (1, 16)
    assert not NotificationSettings.objects.exists()  # reading creates nothing


def test_update_preferences(gql, member):
    ava = member("ava")
    change = {
        "categories": [{"category": "PRICE_DROPS", "push": False}, {"category": "SHOWS", "push": False}],
        "quietHours": {"start": "22:00", "end": "07:30"},
        "dailyCap": 5,
    }
    result = gql(UPDATE_PREFERENCES, {"input": change}, token=ava.token)["data"]["updateNotificationPreferences"]
    assert result["errors"] == []
    preferences = result["preferences"]
    assert {c["category"] for c in preferences["categories"] if not c["push"]} == {"PRICE_DROPS", "SHOWS"}
    assert preferences["quietHours"] == {"start": "22:00:00", "end": "07:30:00"}
    assert preferences["dailyCap"] == 5

    # Left-out fields stay; null clears.
    change = {"categories": [{"category": "SHOWS", "push": True}], "quietHours": None}
    preferences = gql(UPDATE_PREFERENCES, {"input": change}, token=ava.token)["data"]["updateNotificationPreferences"][
        "preferences"
    ]
    assert {c["category"] for c in preferences["categories"] if not c["push"]} == {"PRICE_DROPS"}
    assert preferences["quietHours"] is None and preferences["dailyCapOverride"] == 5
    preferences = gql(UPDATE_PREFERENCES, {"input": {"dailyCap": None}}, token=ava.token)["data"][
        "updateNotificationPreferences"
    ]["preferences"]
    assert preferences["dailyCapOverride"] is None and preferences["dailyCap"] == 8


@pytest.mark.parametrize(
    "change, code, field",
    [
        ({"dailyCap": 17}, "DAILY_CAP_OUT_OF_RANGE", "dailyCap"),
        ({"dailyCap": 0}, "DAILY_CAP_OUT_OF_RANGE", "dailyCap"),
        ({"quietHours": {"start": "22:00", "end": "22:00"}}, "INVALID_QUIET_HOURS", "quietHours"),
    ],
)
def test_update_preferences_refuses_what_is_not_allowed(gql, member, change, code, field):
    ava = member("ava")
    result = gql(UPDATE_PREFERENCES, {"input": {"dailyCap": 3, **change}}, token=ava.token)
    errors = result["data"]["updateNotificationPreferences"]["errors"]
    assert [(error["code"], error["field"]) for error in errors] == [(code, field)]
    assert not NotificationSettings.objects.filter(daily_cap_override=3).exists()  # nothing changed


INBOX_WITH_LISTINGS = """{ notifications(first: 50) { edges { node { title listing {
  title likeCount viewerHasLiked seller { username } coverImage { url } } } } } }"""


@pytest.fixture
def listings_in_the_inbox(member, notify, make_listing):
    ava, marco = member("ava"), member("marco")

    def fill(count):
        for index in range(count):
            listing = make_listing(marco, title=f"Dress {index}", price="30")
            notify(ava, dedupe_key=f"price_drop:{listing.pk}", target=listing, title=f"Drop {index}")
        return ava, marco

    return fill


def test_notifications_carry_the_listing_they_are_about_while_it_is_visible(gql, listings_in_the_inbox):
    from marketplace.models import Listing

    ava, marco = listings_in_the_inbox(2)
    Listing.objects.filter(title="Dress 0").update(status=Listing.Status.REMOVED)
    edges = gql(INBOX_WITH_LISTINGS, token=ava.token)["data"]["notifications"]["edges"]
    assert [(e["node"]["title"], e["node"]["listing"] and e["node"]["listing"]["title"]) for e in edges] == [
        ("Drop 1", "Dress 1"),
        ("Drop 0", None),
    ]
    assert edges[0]["node"]["listing"]["seller"] == {"username": "marco"}


def test_the_inbox_with_listings_runs_the_same_queries_whatever_the_page_size(gql, listings_in_the_inbox):
    ava, _ = listings_in_the_inbox(50)
    gql(INBOX_WITH_LISTINGS, token=ava.token)
    counts = []
    for size in (5, 50):
        query = INBOX_WITH_LISTINGS.replace("first: 50", f"first: {size}")
        with CaptureQueriesContext(connection) as queries:
            edges = gql(query, token=ava.token)["data"]["notifications"]["edges"]
        assert len(edges) == size and all(edge["node"]["listing"] for edge in edges)
        counts.append(len(queries))
    assert counts[0] == counts[1]

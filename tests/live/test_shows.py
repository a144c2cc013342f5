"""Shows through the API: schedule, go live (reminders), end, save, lists and visibility."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from live import services
from live.models import Show
from notifications.models import Notification
from social import services as social_services
from tests.helpers import assert_constant_queries, gid, photo

CREATE = """mutation($input: CreateShowInput!) { createShow(input: $input) {
  show { id title state isPrivate scheduledStart coverUrl host { username } viewerRole lastSeq }
  errors { field code message } } }"""
UPDATE = """mutation($input: UpdateShowInput!) { updateShow(input: $input) {
  show { title description isPrivate scheduledStart } errors { field code } } }"""
SHOW_ACTION = """mutation($input: ShowIdInput!) {
  startShow(input: $input) { show { state startedAt } errors { code } } }"""
END = """mutation($input: ShowIdInput!) { endShow(input: $input) { show { state endedAt } errors { code } } }"""
SAVE = """mutation($input: ShowIdInput!) {
  saveShow(input: $input) { show { saveCount viewerHasSaved } errors { code } } }"""
UNSAVE = """mutation($input: ShowIdInput!) {
  unsaveShow(input: $input) { show { saveCount viewerHasSaved } errors { code } } }"""
SHOW = """query($id: ID!) { show(id: $id) {
  title state viewerCount saveCount viewerHasSaved viewerRole mutedWords
  host { username followerCount } coHosts { username }
  lineUp { position listing { title status viewerHasLiked seller { username } } addedBy { username } }
  featuredListing { title } currentAuction { id } } }"""
CARD = (
    "id title state viewerCount saveCount viewerHasSaved host { username followerCount } coHosts { username } "
    "lineUp { listing { title likeCount seller { username } } addedBy { username } } featuredListing { title } "
    "currentAuction { listing { title } leader { username } }"
)
UPCOMING = (
    f"query($after: String) {{ upcomingShows(first: 100, after: $after) {{ edges {{ node {{ {CARD} }} }} "
    "pageInfo { hasNextPage endCursor } } }"
)
LIVE = f"{{ liveShows(first: 100) {{ edges {{ node {{ {CARD} }} }} }} }}"
SAVED = f"{{ savedShows(first: 100) {{ edges {{ node {{ {CARD} }} }} }} }}"

pytestmark = pytest.mark.django_db


def soon(hours=1):
    return (timezone.now() + timedelta(hours=hours)).isoformat()


def create(gql, token, **fields):
    body = gql(CREATE, {"input": {"title": "Vintage night", "scheduledStart": soon()} | fields}, token=token)
    return body["data"]["createShow"]


def test_a_member_schedules_a_show(gql, member):
    priya = member("priya")
    payload = create(gql, priya.token, title="  Vintage   night ", isPrivate=True)
    assert payload["errors"] == []
    show = payload["show"]
    assert (show["title"], show["state"], show["isPrivate"]) == ("Vintage night", "SCHEDULED", True)
    assert show["host"] == {"username": "priya"} and show["viewerRole"] == "HOST" and show["lastSeq"] == 0


@pytest.mark.parametrize(
    "fields, field, code",
    [
        ({"title": "  "}, "title", "REQUIRED"),
        ({"title": "x" * 81}, "title", "INVALID"),
        ({"scheduledStart": "2001-01-01T00:00:00+00:00"}, "scheduledStart", "INVALID"),
        ({"description": "x" * 1001}, "description", "INVALID"),
    ],
)
def test_invalid_shows_are_refused(gql, member, fields, field, code):
    payload = create(gql, member("priya").token, **fields)
    assert payload["show"] is None
    assert payload["errors"][0]["field"] == field and payload["errors"][0]["code"] == code
    assert not Show.objects.exists()


def test_the_cover_is_an_uploaded_image_without_metadata(gql, member):
    priya = member("priya")
    operations = {"query": CREATE, "variables": {"input": {"title": "Bags", "scheduledStart": soon(), "cover": None}}}
    response = gql.http.post(
        "/graphql/",
        {
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.cover"]}),
            "0": SimpleUploadedFile("c.png", photo("PNG")),
        },
        HTTP_AUTHORIZATION=f"Bearer {priya.token}",
    )
    show = response.json()["data"]["createShow"]["show"]
    assert show["coverUrl"].endswith(".jpg")
    response = gql.http.post(
        "/graphql/",
        {
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.cover"]}),
            "0": SimpleUploadedFile("c.txt", b"not an image"),
        },
        HTTP_AUTHORIZATION=f"Bearer {priya.token}",
    )
    assert response.json()["data"]["createShow"]["errors"][0]["code"] == "UNSUPPORTED_IMAGE"


def test_only_the_host_edits_and_the_start_is_fixed_once_live(gql, member, show_of):
    priya, ava = member("priya"), member("ava")
    show = show_of(priya, live=False)
    body = gql(UPDATE, {"input": {"showId": gid(show), "title": "Bags & belts"}}, token=ava.token)
    assert body["data"]["updateShow"]["errors"] == [{"field": "showId", "code": "FORBIDDEN"}]
    body = gql(
        UPDATE,
        {"input": {"showId": gid(show), "description": "Designer bags", "isPrivate": True, "scheduledStart": soon(2)}},
        token=priya.token,
    )
    assert body["data"]["updateShow"]["show"]["description"] == "Designer bags"
    assert body["data"]["updateShow"]["show"]["isPrivate"] is True
    services.start_show(show=show, user=priya)
    body = gql(UPDATE, {"input": {"showId": gid(show), "scheduledStart": soon(3)}}, token=priya.token)
    assert body["data"]["updateShow"]["errors"] == [{"field": "scheduledStart", "code": "SHOW_NOT_SCHEDULED"}]


def test_going_live_reminds_followers_and_savers_once(gql, member, show_of, django_capture_on_commit_callbacks):
    priya, follower, saver, both, stranger = (member(name) for name in ("priya", "ava", "marco", "sam", "lee"))
    for person in (follower, both):
        social_services.follow_user(follower=person, followee=priya)
    show = show_of(priya, live=False)
    for person in (saver, both):
        services.save_show(user=person, show=show)
    with django_capture_on_commit_callbacks(execute=True):
        body = gql(SHOW_ACTION, {"input": {"showId": gid(show)}}, token=priya.token)
    assert body["data"]["startShow"]["show"]["state"] == "LIVE"
    reminded = Notification.objects.filter(kind="show_live")
    assert sorted(reminded.values_list("recipient__username", flat=True)) == ["ava", "marco", "sam"]
    assert reminded.first().title == "@priya is live"
    body = gql(SHOW_ACTION, {"input": {"showId": gid(show)}}, token=priya.token)
    assert body["data"]["startShow"]["errors"] == [{"code": "SHOW_NOT_SCHEDULED"}]
    assert reminded.count() == 3


def test_a_private_show_reminds_only_its_savers(gql, member, show_of, django_capture_on_commit_callbacks):
    priya, follower, saver = member("priya"), member("ava"), member("marco")
    social_services.follow_user(follower=follower, followee=priya)
    show = show_of(priya, live=False, is_private=True)
    services.save_show(user=saver, show=show)
    with django_capture_on_commit_callbacks(execute=True):
        gql(SHOW_ACTION, {"input": {"showId": gid(show)}}, token=priya.token)
    assert list(Notification.objects.filter(kind="show_live").values_list("recipient__username", flat=True)) == [
        "marco"
    ]


def test_only_the_host_starts_and_ends(gql, member, show_of):
    priya, ava = member("priya"), member("ava")
    show = show_of(priya, live=False)
    assert gql(SHOW_ACTION, {"input": {"showId": gid(show)}}, token=ava.token)["data"]["startShow"]["errors"] == [
        {"code": "FORBIDDEN"}
    ]
    assert gql(END, {"input": {"showId": gid(show)}}, token=ava.token)["data"]["endShow"]["errors"] == [
        {"code": "FORBIDDEN"}
    ]
    ended = gql(END, {"input": {"showId": gid(show)}}, token=priya.token)["data"]["endShow"]
    assert ended["show"]["state"] == "ENDED" and ended["show"]["endedAt"]
    assert gql(END, {"input": {"showId": gid(show)}}, token=priya.token)["data"]["endShow"]["errors"] == [
        {"code": "SHOW_ENDED"}
    ]


def test_saving_is_idempotent_and_counted(gql, member, show_of):
    priya, ava, marco = member("priya"), member("ava"), member("marco")
    show = show_of(priya, live=False)
    for _ in range(2):
        payload = gql(SAVE, {"input": {"showId": gid(show)}}, token=ava.token)["data"]["saveShow"]
        assert payload["show"] == {"saveCount": 1, "viewerHasSaved": True}
    gql(SAVE, {"input": {"showId": gid(show)}}, token=marco.token)
    payload = gql(UNSAVE, {"input": {"showId": gid(show)}}, token=ava.token)["data"]["unsaveShow"]
    assert payload["show"] == {"saveCount": 1, "viewerHasSaved": False}
    services.end_show(show=show, user=priya)
    assert gql(SAVE, {"input": {"showId": gid(show)}}, token=ava.token)["data"]["saveShow"]["errors"] == [
        {"code": "SHOW_ENDED"}
    ]


def test_a_show_shows_its_room(gql, member, show_of, make_listing):
    priya, ava = member("priya"), member("ava")
    show = show_of(priya)
    sold, removed, on_sale = [entry.listing for entry in show.line_up.order_by("position")] + [
        make_listing(ava, title="Ava's scarf")
    ]
    services.add_show_listing(show=show, user=priya, listing=on_sale)
    sold.status = "sold"
    sold.save()
    removed.status = "removed"
    removed.save()
    services.feature_listing(show=show, user=priya, listing=on_sale)
    data = gql(SHOW, {"id": gid(show)}, token=ava.token)["data"]["show"]
    assert data["lineUp"] == [
        {
            "position": 2,
            "listing": {
                "title": "Ava's scarf",
                "status": "AVAILABLE",
                "viewerHasLiked": False,
                "seller": {"username": "ava"},
            },
            "addedBy": {"username": "priya"},
        }
    ]
    assert data["featuredListing"] == {"title": "Ava's scarf"}
    assert (data["viewerRole"], data["mutedWords"], data["viewerCount"]) == ("VIEWER", None, 0)
    assert gql(SHOW, {"id": gid(show)}, token=priya.token)["data"]["show"]["mutedWords"] == []


def test_blocked_members_do_not_see_the_host_s_shows(gql, member, show_of):
    priya, ava = member("priya"), member("ava")
    show = show_of(priya, live=False)
    social_services.block_user(blocker=priya, blocked=ava)
    assert gql(SHOW, {"id": gid(show)}, token=ava.token)["data"]["show"] is None
    assert gql(UPCOMING, token=ava.token)["data"]["upcomingShows"]["edges"] == []
    assert gql(SAVE, {"input": {"showId": gid(show)}}, token=ava.token)["data"]["saveShow"]["errors"] == [
        {"code": "NOT_FOUND"}
    ]


def test_upcoming_lists_public_shows_soonest_first_and_private_ones_to_their_people(gql, member, show_of):
    priya, ava, marco = member("priya"), member("ava"), member("marco")
    later = show_of(priya, live=False, title="Later")
    Show.objects.filter(pk=later.pk).update(scheduled_start=timezone.now() + timedelta(hours=5))
    show_of(priya, live=False, title="Soon")
    secret = show_of(priya, live=False, title="Secret", is_private=True)
    show_of(priya, title="Live now")

    def titles(token):
        return [edge["node"]["title"] for edge in gql(UPCOMING, token=token)["data"]["upcomingShows"]["edges"]]

    assert titles(ava.token) == ["Soon", "Later"]
    assert titles(priya.token) == ["Soon", "Secret", "Later"]
    services.save_show(user=marco, show=secret)
    assert titles(marco.token) == ["Soon", "Secret", "Later"]
    assert titles(None) == ["Soon", "Later"]
    live = gql(LIVE)["data"]["liveShows"]["edges"]
    assert [edge["node"]["title"] for edge in live] == ["Live now"]


def test_saved_shows_leave_out_those_that_are_over(gql, member, show_of):
    priya, ava = member("priya"), member("ava")
    kept, over = show_of(priya, live=False, title="Kept"), show_of(priya, title="Over")
    for show in (over, kept):
        services.save_show(user=ava, show=show)
    services.end_show(show=over, user=priya)
    assert [edge["node"]["title"] for edge in gql(SAVED, token=ava.token)["data"]["savedShows"]["edges"]] == ["Kept"]


@pytest.mark.parametrize(
    "query, key, live, saved",
    [(UPCOMING, "upcomingShows", False, False), (LIVE, "liveShows", True, False), (SAVED, "savedShows", False, True)],
)
def test_show_lists_run_a_fixed_number_of_queries(
    gql, member, show_of, make_listing, make_buyer, query, key, live, saved
):
    viewer = member("viewer")
    hosts = [member(f"host{number}") for number in range(3)]
    cohost = member("cohost")
    bidder, _ = make_buyer("bidder")

    def grow(count):
        for number in range(count):
            host = hosts[number % 3]
            show = show_of(host, listings=1, live=live)
            services.invite_cohost(show=show, host=host, invitee=cohost)
            services.respond_to_cohost_invite(show=show, user=cohost, accept=True)
            services.add_show_listing(show=show, user=cohost, listing=make_listing(cohost))
            if live:
                listing = show.line_up.first().listing
                auction = services.start_auction(
                    show=show, user=host, listing=listing, start_price=Decimal("10.00"), duration_seconds=60
                )
                services.place_bid(auction=auction, bidder=bidder, amount=Decimal("10.00"))
            if saved:
                services.save_show(user=viewer, show=show)

    queries = assert_constant_queries(gql, query, {}, viewer.token, grow, path=[key])
    assert queries <= 20  # cards with host, co-hosts, line-up, featured listing and auction leader

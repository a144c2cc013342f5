"""Co-hosts (invite, accept or decline, remove) and curation of line-ups from any closet."""

import pytest

from live import services
from live.models import CoHost
from notifications.models import Notification
from tests.helpers import gid

pytestmark = pytest.mark.django_db

MEMBER = """mutation($input: ShowMemberInput!) {
  %s(input: $input) { show { coHosts { username } } errors { code } } }"""
RESPOND = """mutation($input: RespondToCoHostInviteInput!) {
  respondToCoHostInvite(input: $input) { show { coHosts { username } viewerRole } errors { code } } }"""
INVITATIONS = "{ coHostInvitations { title host { username } } }"
INVITED = """query($id: ID!) { show(id: $id) { coHostInvitations { user { username } status } } }"""
ADD = """mutation($input: ShowListingInput!) { addShowListing(input: $input) {
  show { lineUp { position listing { title } addedBy { username } } } errors { field code } } }"""
REMOVE = """mutation($input: ShowListingInput!) {
  removeShowListing(input: $input) {
    show { lineUp { listing { title } } featuredListing { title } } errors { code } } }"""
REORDER = """mutation($input: ReorderShowListingsInput!) {
  reorderShowListings(input: $input) { show { lineUp { position listing { title } } } errors { code } } }"""
FEATURE = """mutation($input: FeatureShowListingInput!) {
  featureShowListing(input: $input) { show { featuredListing { title } } errors { field code } } }"""


def invite(gql, host, show, person):
    return gql(MEMBER % "addCoHost", {"input": {"showId": gid(show), "userId": gid(person)}}, token=host.token)


def test_an_invited_co_host_accepts_and_shares_the_room(
    gql, member, show_of, make_listing, django_capture_on_commit_callbacks
):
    priya, ava = member("priya"), member("ava")
    show = show_of(priya)
    with django_capture_on_commit_callbacks(execute=True):
        assert invite(gql, priya, show, ava)["data"]["addCoHost"]["errors"] == []
    assert Notification.objects.get(recipient=ava).title == "@priya invites you to co-host"
    assert gql(INVITATIONS, token=ava.token)["data"]["coHostInvitations"] == [
        {"title": "Vintage night", "host": {"username": "priya"}}
    ]
    assert gql(INVITED, {"id": gid(show)}, token=priya.token)["data"]["show"]["coHostInvitations"] == [
        {"user": {"username": "ava"}, "status": "INVITED"}
    ]
    assert gql(INVITED, {"id": gid(show)}, token=ava.token)["data"]["show"]["coHostInvitations"] is None

    scarf = make_listing(ava, title="Ava's scarf")
    refused = gql(ADD, {"input": {"showId": gid(show), "listingId": gid(scarf)}}, token=ava.token)
    assert refused["data"]["addShowListing"]["errors"] == [{"field": "showId", "code": "FORBIDDEN"}]

    accepted = gql(RESPOND, {"input": {"showId": gid(show), "accept": True}}, token=ava.token)
    assert accepted["data"]["respondToCoHostInvite"]["show"] == {
        "coHosts": [{"username": "ava"}],
        "viewerRole": "COHOST",
    }
    added = gql(ADD, {"input": {"showId": gid(show), "listingId": gid(scarf)}}, token=ava.token)["data"]
    assert added["addShowListing"]["show"]["lineUp"][-1] == {
        "position": 2,
        "listing": {"title": "Ava's scarf"},
        "addedBy": {"username": "ava"},
    }
    featured = gql(FEATURE, {"input": {"showId": gid(show), "listingId": gid(scarf)}}, token=ava.token)
    assert featured["data"]["featureShowListing"]["show"]["featuredListing"] == {"title": "Ava's scarf"}
    assert gql(INVITATIONS, token=ava.token)["data"]["coHostInvitations"] == []


def test_a_declined_invitation_gives_no_powers_and_the_host_removes_co_hosts(gql, member, show_of):
    priya, ava, marco = member("priya"), member("ava"), member("marco")
    show = show_of(priya)
    invite(gql, priya, show, ava)
    declined = gql(RESPOND, {"input": {"showId": gid(show), "accept": False}}, token=ava.token)
    assert declined["data"]["respondToCoHostInvite"]["show"]["coHosts"] == []
    again = gql(RESPOND, {"input": {"showId": gid(show), "accept": True}}, token=ava.token)
    assert again["data"]["respondToCoHostInvite"]["errors"] == [{"code": "NOT_FOUND"}]

    invite(gql, priya, show, ava)  # invited again after declining
    services.respond_to_cohost_invite(show=show, user=ava, accept=True)
    refused = gql(MEMBER % "removeCoHost", {"input": {"showId": gid(show), "userId": gid(ava)}}, token=marco.token)
    assert refused["data"]["removeCoHost"]["errors"] == [{"code": "FORBIDDEN"}]
    removed = gql(MEMBER % "removeCoHost", {"input": {"showId": gid(show), "userId": gid(ava)}}, token=priya.token)
    assert removed["data"]["removeCoHost"]["show"]["coHosts"] == []
    assert CoHost.objects.get(user=ava).status == CoHost.Status.REMOVED


def test_a_co_host_may_step_down(gql, member, show_of):
    priya, ava = member("priya"), member("ava")
    show = show_of(priya)
    services.invite_cohost(show=show, host=priya, invitee=ava)
    services.respond_to_cohost_invite(show=show, user=ava, accept=True)
    body = gql(MEMBER % "removeCoHost", {"input": {"showId": gid(show), "userId": gid(ava)}}, token=ava.token)
    assert body["data"]["removeCoHost"]["show"]["coHosts"] == []


def test_co_hosts_are_limited_and_cannot_invite(gql, member, show_of, settings):
    settings.LIVE_MAX_COHOSTS = 1
    priya, ava, marco = member("priya"), member("ava"), member("marco")
    show = show_of(priya)
    invite(gql, priya, show, ava)
    assert invite(gql, priya, show, ava)["data"]["addCoHost"]["errors"] == []  # idempotent
    assert invite(gql, priya, show, marco)["data"]["addCoHost"]["errors"] == [{"code": "COHOST_LIMIT_REACHED"}]
    services.respond_to_cohost_invite(show=show, user=ava, accept=True)
    assert invite(gql, ava, show, marco)["data"]["addCoHost"]["errors"] == [{"code": "FORBIDDEN"}]
    assert invite(gql, priya, show, priya)["data"]["addCoHost"]["errors"] == [{"code": "CANNOT_TARGET_SELF"}]


def test_curating_a_listing_of_another_closet_tells_its_seller_once(
    gql, member, show_of, make_listing, django_capture_on_commit_callbacks
):
    priya, ava = member("priya"), member("ava")
    show = show_of(priya, listings=0)
    scarf = make_listing(ava, title="Silk scarf")
    with django_capture_on_commit_callbacks(execute=True):
        gql(ADD, {"input": {"showId": gid(show), "listingId": gid(scarf)}}, token=priya.token)
        services.remove_show_listing(show=show, user=priya, listing=scarf)
        gql(ADD, {"input": {"showId": gid(show), "listingId": gid(scarf)}}, token=priya.token)
    notice = Notification.objects.get(recipient=ava)
    assert (notice.kind, notice.title, notice.target) == ("show_item", "Your Silk scarf is in @priya's show", scarf)
    assert not Notification.objects.filter(recipient=priya).exists()  # her own listings: no news


def test_only_available_listings_join_once_up_to_the_limit(gql, member, show_of, make_listing, settings):
    settings.LIVE_LINE_UP_MAX = 3
    priya = member("priya")
    show = show_of(priya)
    in_line_up = show.line_up.first().listing
    draft = make_listing(priya, publish=False)
    for listing, code in ((in_line_up, "LISTING_ALREADY_IN_SHOW"), (draft, "LISTING_NOT_AVAILABLE")):
        body = gql(ADD, {"input": {"showId": gid(show), "listingId": gid(listing)}}, token=priya.token)
        assert body["data"]["addShowListing"]["errors"] == [{"field": "listingId", "code": code}]
    gql(ADD, {"input": {"showId": gid(show), "listingId": gid(make_listing(priya))}}, token=priya.token)
    body = gql(ADD, {"input": {"showId": gid(show), "listingId": gid(make_listing(priya))}}, token=priya.token)
    assert body["data"]["addShowListing"]["errors"] == [{"field": "listingId", "code": "LINE_UP_FULL"}]


def test_the_line_up_is_reordered_and_a_removed_featured_listing_is_unfeatured(gql, member, show_of, make_listing):
    priya = member("priya")
    show = show_of(priya, listings=3)
    first, second, third = [entry.listing for entry in show.line_up.order_by("position")]
    body = gql(REORDER, {"input": {"showId": gid(show), "listingIds": [gid(third), gid(first)]}}, token=priya.token)
    assert [entry["listing"]["title"] for entry in body["data"]["reorderShowListings"]["show"]["lineUp"]] == [
        "Item 2",
        "Item 0",
        "Item 1",
    ]
    outsider = make_listing(priya)
    body = gql(REORDER, {"input": {"showId": gid(show), "listingIds": [gid(outsider)]}}, token=priya.token)
    assert body["data"]["reorderShowListings"]["errors"] == [{"code": "LISTING_NOT_IN_SHOW"}]

    services.feature_listing(show=show, user=priya, listing=second)
    body = gql(REMOVE, {"input": {"showId": gid(show), "listingId": gid(second)}}, token=priya.token)
    assert body["data"]["removeShowListing"]["show"] == {
        "lineUp": [{"listing": {"title": "Item 2"}}, {"listing": {"title": "Item 0"}}],
        "featuredListing": None,
    }
    body = gql(REMOVE, {"input": {"showId": gid(show), "listingId": gid(second)}}, token=priya.token)
    assert body["data"]["removeShowListing"]["errors"] == [{"code": "LISTING_NOT_IN_SHOW"}]


def test_featuring_needs_a_live_show_and_an_available_listing_of_the_line_up(gql, member, show_of, make_listing):
    priya = member("priya")
    show = show_of(priya, live=False)
    first, second = [entry.listing for entry in show.line_up.order_by("position")]

    def feature(listing):
        body = gql(
            FEATURE, {"input": {"showId": gid(show), "listingId": gid(listing) if listing else None}}, token=priya.token
        )
        return body["data"]["featureShowListing"]

    assert feature(first)["errors"] == [{"field": "showId", "code": "SHOW_NOT_LIVE"}]
    services.start_show(show=show, user=priya)
    assert feature(make_listing(priya))["errors"] == [{"field": "listingId", "code": "LISTING_NOT_IN_SHOW"}]
    second.status = "sold"
    second.save()
    assert feature(second)["errors"] == [{"field": "listingId", "code": "LISTING_NOT_AVAILABLE"}]
    assert feature(first)["show"]["featuredListing"] == {"title": "Item 0"}
    assert feature(None)["show"]["featuredListing"] is None

"""Finding 4 of the attacker's review, as they sent it: a private show was readable by counting
Relay IDs. Private means unguessable: its link carries a random token; its ID alone opens nothing,
not through node, show, the line-up's auctions and chat, nor the showEvents subscription."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone
from graphql_relay import to_global_id

from live import services
from live.models import Show
from tests.helpers import gid
from tests.live.helpers import EVENTS, Viewer

NODE = """query($id: ID!) { node(id: $id) { ... on Show { title description } } }"""
SHOW = """query($id: ID!, $token: String) {
  show(id: $id, linkToken: $token) { title linkToken viewerRole } }"""
OPEN = """mutation($input: OpenShowLinkInput!) { openShowLink(input: $input) {
  show { title } errors { code } } }"""
ROTATE = """mutation($input: ShowIdInput!) { rotateShowLink(input: $input) {
  show { linkToken } errors { code } } }"""
SAVE = """mutation($input: ShowIdInput!) { saveShow(input: $input) { errors { code } } }"""
SUBSCRIBE_WITH_TOKEN = EVENTS.replace("$afterSeq: Int)", "$afterSeq: Int, $token: String)").replace(
    "afterSeq: $afterSeq)", "afterSeq: $afterSeq, linkToken: $token)"
)


def secret_show(host, **fields):
    return services.create_show(
        host=host,
        title="Secret sample sale",
        description="Members only",
        scheduled_start=timezone.now() + timedelta(hours=1),
        is_private=True,
        **fields,
    )


@pytest.mark.django_db
def test_counting_ids_reveals_no_private_show(gql, member):
    priya, stranger = member("priya"), member("mallory")
    shows = [secret_show(priya) for _ in range(3)]
    for number in range(1, shows[-1].pk + 2):  # the attack: every Show:N in turn
        for token in (None, stranger.token):
            assert gql(NODE, {"id": to_global_id("Show", number)}, token=token)["data"]["node"] is None
            assert gql(SHOW, {"id": to_global_id("Show", number)}, token=token)["data"]["show"] is None
    # A wrong token opens nothing either, and the link's secret is not the ID.
    assert gql(SHOW, {"id": gid(shows[0]), "token": shows[1].link_token})["data"]["show"] is None
    assert len({show.link_token for show in shows}) == 3 and all(len(show.link_token) >= 32 for show in shows)


@pytest.mark.django_db
def test_the_link_opens_it_and_who_opened_it_keeps_access_after_a_rotation(gql, member):
    priya, ava, late = member("priya"), member("ava"), member("late")
    show = secret_show(priya)
    host_view = gql(SHOW, {"id": gid(show)}, token=priya.token)["data"]["show"]
    assert host_view == {"title": "Secret sample sale", "linkToken": show.link_token, "viewerRole": "HOST"}
    anonymous = gql(SHOW, {"id": gid(show), "token": show.link_token})["data"]["show"]
    assert anonymous == {"title": "Secret sample sale", "linkToken": None, "viewerRole": None}
    assert (
        gql(OPEN, {"input": {"showId": gid(show), "linkToken": show.link_token}}, token=ava.token)["data"][
            "openShowLink"
        ]["errors"]
        == []
    )
    old_token = show.link_token
    rotated = gql(ROTATE, {"input": {"showId": gid(show)}}, token=priya.token)["data"]["rotateShowLink"]
    assert rotated["errors"] == [] and rotated["show"]["linkToken"] != old_token
    by_ava = gql(ROTATE, {"input": {"showId": gid(show)}}, token=ava.token)["data"]["rotateShowLink"]
    assert by_ava["errors"] == [{"code": "FORBIDDEN"}]
    assert Show.objects.get().link_token == rotated["show"]["linkToken"]  # only the host rotates
    # Ava opened it by the link: she keeps it, saves it; the old link opens nothing for anyone else.
    assert gql(NODE, {"id": gid(show)}, token=ava.token)["data"]["node"]["title"] == "Secret sample sale"
    assert gql(SAVE, {"input": {"showId": gid(show)}}, token=ava.token)["data"]["saveShow"]["errors"] == []
    assert gql(OPEN, {"input": {"showId": gid(show), "linkToken": old_token}}, token=late.token)["data"][
        "openShowLink"
    ]["errors"] == [{"code": "NOT_FOUND"}]
    assert gql(SAVE, {"input": {"showId": gid(show)}}, token=late.token)["data"]["saveShow"]["errors"] == [
        {"code": "NOT_FOUND"}
    ]


@pytest.mark.django_db
def test_the_owner_of_a_curated_listing_sees_the_private_show_it_is_in(gql, member, make_listing):
    priya, ava = member("priya"), member("ava")
    show = secret_show(priya)
    services.add_show_listing(show=show, user=priya, listing=make_listing(ava))
    assert gql(SHOW, {"id": gid(show)}, token=ava.token)["data"]["show"]["title"] == "Secret sample sale"


@pytest.mark.django_db
def test_a_private_shows_auction_and_chat_are_not_read_by_their_ids(gql, member, make_listing):
    priya, stranger = member("priya"), member("mallory")
    show = secret_show(priya)
    listing = make_listing(priya)
    services.add_show_listing(show=show, user=priya, listing=listing)
    services.start_show(show=show, user=priya)
    message = services.send_message(show=show, author=priya, body="Welcome in")
    auction = services.start_auction(
        show=show, user=priya, listing=listing, start_price=listing.price, duration_seconds=30
    )
    for obj in (message, auction):
        body = gql("""query($id: ID!) { node(id: $id) { id } }""", {"id": gid(obj)}, token=stranger.token)
        assert body["data"]["node"] is None


@pytest.mark.django_db(transaction=True)
async def test_the_subscription_follows_the_same_rule(member):
    priya = await database_sync_to_async(member)("priya")
    stranger = await database_sync_to_async(member)("mallory")
    show = await database_sync_to_async(secret_show)(priya)
    await database_sync_to_async(services.start_show)(show=show, user=priya)
    refused = await Viewer.watch(stranger.token, show)
    message = await refused.message()
    assert message["type"] == "error" and message["payload"][0]["extensions"]["code"] == "NOT_FOUND", message
    await refused.close()
    watcher = await Viewer.watch(stranger.token, show, query=SUBSCRIBE_WITH_TOKEN)
    await watcher.communicator.send_json_to(
        {
            "id": "show2",
            "type": "subscribe",
            "payload": {"query": SUBSCRIBE_WITH_TOKEN, "variables": {"showId": gid(show), "token": show.link_token}},
        }
    )
    events = []
    while len(events) < 2:
        message = await watcher.message()
        events.append(message)
    assert any(
        event["type"] == "next"
        and event["id"] == "show2"
        and event["payload"]["data"]["showEvents"]["type"] == "SNAPSHOT"
        for event in events
    ), events
    await watcher.close()

"""End to end with a real client library: the Python `gql` client against a running daphne on
127.0.0.1, over HTTP (aiohttp) and graphql-transport-ws (websockets), as a mobile app would: log
in, browse, follow, like, and watch a live show while its host features an item."""

import asyncio

import pytest
from gql import Client, GraphQLRequest, gql
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.websockets import WebsocketsTransport

from tests.helpers import gid
from tests.live.conftest import _live_settings, member, show_of  # noqa: F401  (the live tests' fixtures)
from tests.live.helpers import line_up_of
from tests.mailbox import mailed_token

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery staple"
DEADLINE = 60  # seconds for the whole conversation

REGISTER = gql("""mutation($input: RegisterInput!) { register(input: $input) { checkEmail errors { code } } }""")
VERIFY = gql("""mutation($input: VerifyEmailInput!) { verifyEmail(input: $input) { token errors { code } } }""")
LOGIN = gql("""mutation($input: LoginInput!) { login(input: $input) { token user { username } errors { code } } }""")
LISTINGS = gql("""query($sellerId: ID) { listings(sellerId: $sellerId, first: 10) {
  edges { node { id title price { amount currency } likeCount viewerHasLiked seller { username } } } } }""")
FOLLOW = gql("""mutation($input: UserIdInput!) { followUser(input: $input) { errors { code } } }""")
FEED = gql("""query { feed(first: 10) { edges { node { id seller { username } } } } }""")
LIKE = gql("""mutation($input: ListingIdInput!) {
  likeListing(input: $input) { listing { id likeCount viewerHasLiked } errors { code message } } }""")
LISTING = gql("""query($id: ID!) { listing(id: $id) { likeCount viewerHasLiked } }""")
FEATURE = gql(
    """mutation($input: FeatureShowListingInput!) { featureShowListing(input: $input) { errors { code } } }"""
)
SHOW_EVENTS = gql("""subscription($showId: ID!) { showEvents(showId: $showId) {
  seq type item { listingId title price { amount } } snapshot { state lineUp { listingId } } } }""")


def http(port, token=None) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else None
    return Client(transport=AIOHTTPTransport(url=f"http://127.0.0.1:{port}/graphql/", headers=headers))


async def run(session, request, **variables) -> dict:
    return await session.execute(GraphQLRequest(request, variable_values=variables))


async def sign_up_and_log_in(port, username, smtp_server) -> str:
    """Register (the app's first start), follow the link the server mailed (over SMTP to the test's
    server), then log in as on a second device: the login's token."""
    async with http(port) as session:
        registered = await run(
            session, REGISTER, input={"username": username, "email": f"{username}@example.com", "password": PASSWORD}
        )
        assert registered["register"] == {"checkEmail": True, "errors": []}
        await asyncio.to_thread(smtp_server.wait_for, 1, 30)
        link_token = mailed_token(smtp_server.messages, f"{username}@example.com", "verify-email")
        verified = await run(session, VERIFY, input={"token": link_token})
        assert verified["verifyEmail"]["errors"] == [] and verified["verifyEmail"]["token"]
        result = await run(session, LOGIN, input={"username": username, "password": PASSWORD, "deviceName": "phone"})
    assert result["login"]["errors"] == [] and result["login"]["user"]["username"] == username
    return result["login"]["token"]


@pytest.fixture
def world(member, show_of):  # noqa: F811
    """Priya is live with two listings."""
    priya = member("priya")
    show = show_of(priya)
    return priya, show, [gid(listing) for listing in line_up_of(show)]


async def test_log_in_browse_like_and_watch_a_show_with_the_gql_client(world, processes, smtp_server):
    priya, show, (first, second) = world
    port = await asyncio.to_thread(
        processes.daphne,
        DB_CONN_MAX_AGE="0",
        CELERY_TASK_ALWAYS_EAGER="true",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_server.port),
    )
    async with asyncio.timeout(DEADLINE):
        token = await sign_up_and_log_in(port, "ava", smtp_server)
        async with http(port, token) as ava:
            listings = (await run(ava, LISTINGS, sellerId=gid(priya)))["listings"]
            cards = {edge["node"]["id"]: edge["node"] for edge in listings["edges"]}
            assert set(cards) == {first, second}
            assert cards[first] | {"id": None} == {
                "id": None,
                "title": "Item 0",
                "likeCount": 0,
                "viewerHasLiked": False,
                "seller": {"username": "priya"},
                "price": {"amount": "40.00", "currency": "USD"},
            }

            followed = await run(ava, FOLLOW, input={"userId": gid(priya)})
            assert followed["followUser"]["errors"] == []
            feed = (await run(ava, FEED))["feed"]["edges"]
            assert {edge["node"]["id"] for edge in feed} == {first, second}

            for _ in range(2):  # liking is idempotent
                liked = (await run(ava, LIKE, input={"listingId": first}))["likeListing"]
                assert liked == {"listing": {"id": first, "likeCount": 1, "viewerHasLiked": True}, "errors": []}
            assert (await run(ava, LISTING, id=first))["listing"] == {"likeCount": 1, "viewerHasLiked": True}

        events = WebsocketsTransport(
            url=f"ws://127.0.0.1:{port}/graphql/",
            init_payload={"token": token},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        async with Client(transport=events) as watcher, http(port, priya.token) as host:
            stream = watcher.subscribe(GraphQLRequest(SHOW_EVENTS, variable_values={"showId": gid(show)}))
            snapshot = (await anext(stream))["showEvents"]
            assert snapshot["type"] == "SNAPSHOT" and snapshot["snapshot"]["state"] == "LIVE"
            assert [item["listingId"] for item in snapshot["snapshot"]["lineUp"]] == [first, second]

            featured = await run(host, FEATURE, input={"showId": gid(show), "listingId": second})
            assert featured["featureShowListing"]["errors"] == []
            async for result in stream:
                event = result["showEvents"]
                if event["type"] != "VIEWER_COUNT":
                    break
            assert event == {
                "seq": snapshot["seq"] + 1,
                "type": "FEATURED",
                "snapshot": None,
                "item": {"listingId": second, "title": "Item 1", "price": {"amount": "40.00"}},
            }
            await stream.aclose()

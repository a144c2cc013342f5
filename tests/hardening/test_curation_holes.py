"""Finding 1 of the attacker's review, as they sent it: a member hosts a show, curates another
member's 95.00 listing, auctions it from 1.00 and bids 1.00 themself. Curated items are sold only
on their owner's terms (marketplace.models.CurationTerms)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from live import services as live_services
from live.models import Auction, Show
from marketplace import services
from marketplace.models import Order
from tests.helpers import gid

pytestmark = pytest.mark.django_db

CREATE = """mutation($input: CreateShowInput!) { createShow(input: $input) {
  show { id linkToken } errors { code } } }"""
OPEN = """mutation($input: OpenShowLinkInput!) { openShowLink(input: $input) { errors { code } } }"""
START_SHOW = """mutation($input: ShowIdInput!) { startShow(input: $input) { errors { code } } }"""
ADD = """mutation($input: ShowListingInput!) { addShowListing(input: $input) { errors { field code } } }"""
AUCTION = """mutation($input: StartShowAuctionInput!) { startShowAuction(input: $input) {
  auction { id } errors { field code } } }"""
BID = """mutation($input: PlaceBidInput!) { placeBid(input: $input) {
  bid { amount { amount } } errors { field code } } }"""
TERMS = """mutation($input: UpdateCurationTermsInput!) { updateCurationTerms(input: $input) {
  curationTerms { allowCuration allowAuctions auctionFloorPercent } errors { field code } } }"""
TERMS_OF = """query($id: ID!) {
  curationTerms(sellerId: $id) { allowCuration allowAuctions auctionFloorPercent } }"""
INBOX = "{ notifications(first: 20) { edges { node { title body } } } }"


def call(gql, token, document, **input_values):
    body = gql(document, {"input": input_values}, token=token)
    return next(iter(body["data"].values()))


@pytest.fixture
def victim(make_user, make_listing):
    user, token = make_user("priya")
    return user, token, make_listing(user, title="Silk coat", price="95.00")


@pytest.fixture
def attacker(make_buyer):
    return make_buyer("mallory")


def attackers_show(gql, token):
    show = call(
        gql,
        token,
        CREATE,
        title="Private sale",
        isPrivate=True,
        scheduledStart=(timezone.now() + timedelta(hours=1)).isoformat(),
    )["show"]
    assert call(gql, token, START_SHOW, showId=show["id"])["errors"] == []
    return show["id"]


def open_by_link(gql, token, show_id):
    """A viewer comes by the private show's link (its token from the host)."""
    link_token = Show.objects.get().link_token
    assert call(gql, token, OPEN, showId=show_id, linkToken=link_token)["errors"] == []


def test_the_attack_as_sent_sells_nothing(gql, victim, attacker):
    show_id = attackers_show(gql, attacker[1])
    curated = call(gql, attacker[1], ADD, showId=show_id, listingId=gid(victim[2]))
    assert curated["errors"] == []  # curation is allowed by default
    refused = call(
        gql, attacker[1], AUCTION, showId=show_id, listingId=gid(victim[2]), startPrice="1.00", durationSeconds=30
    )
    assert refused == {"auction": None, "errors": [{"field": "listingId", "code": "AUCTION_NOT_ALLOWED"}]}
    assert not Auction.objects.exists() and not Order.objects.exists()


def test_with_consent_the_start_price_respects_the_owners_floor(gql, victim, attacker):
    assert call(gql, victim[1], TERMS, allowAuctions=True, auctionFloorPercent=80)["curationTerms"] == {
        "allowCuration": True,
        "allowAuctions": True,
        "auctionFloorPercent": 80,
    }
    assert gql(TERMS_OF, {"id": gid(victim[0])})["data"]["curationTerms"]["auctionFloorPercent"] == 80
    show_id = attackers_show(gql, attacker[1])
    call(gql, attacker[1], ADD, showId=show_id, listingId=gid(victim[2]))
    low = call(
        gql, attacker[1], AUCTION, showId=show_id, listingId=gid(victim[2]), startPrice="75.99", durationSeconds=30
    )
    assert low["errors"] == [{"field": "startPrice", "code": "BELOW_AUCTION_FLOOR"}]
    at_floor = call(
        gql, attacker[1], AUCTION, showId=show_id, listingId=gid(victim[2]), startPrice="76.00", durationSeconds=30
    )
    assert at_floor["errors"] == []
    # The host does not bid in their own show's auction.
    own_bid = call(gql, attacker[1], BID, auctionId=at_floor["auction"]["id"], amount="76.00")
    assert own_bid["errors"] == [{"field": "auctionId", "code": "SHOW_STAFF_CANNOT_BID"}]


def test_an_auction_closing_below_a_raised_floor_makes_no_sale_and_the_bidders_are_told(
    api, gql, victim, attacker, make_buyer, django_capture_on_commit_callbacks
):
    services.update_curation_terms(seller=victim[0], allow_auctions=True, auction_floor_percent=50)
    show_id = attackers_show(gql, attacker[1])
    call(gql, attacker[1], ADD, showId=show_id, listingId=gid(victim[2]))
    auction_id = call(
        gql, attacker[1], AUCTION, showId=show_id, listingId=gid(victim[2]), startPrice="47.50", durationSeconds=30
    )["auction"]["id"]
    _, bidder_token = make_buyer("marco")
    open_by_link(gql, bidder_token, show_id)
    assert call(gql, bidder_token, BID, auctionId=auction_id, amount="47.50")["errors"] == []
    call(gql, victim[1], TERMS, auctionFloorPercent=90)  # the owner raises the floor while it runs
    auction = Auction.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        live_services.close_auction_if_due(auction_id=auction.pk, now=auction.ends_at + timedelta(seconds=1))
    auction.refresh_from_db()
    assert auction.state == Auction.State.NOT_MET and not Order.objects.exists()
    assert auction.listing.status == "available"
    notes = gql(INBOX, token=bidder_token)["data"]["notifications"]["edges"]
    assert [note["node"]["title"] for note in notes] == ["No sale: Silk coat"]


def test_a_co_host_auctioning_the_hosts_listing_needs_the_hosts_consent(gql, victim, make_buyer):
    host, host_token, listing = victim
    cohost, cohost_token = make_buyer("mallory")
    show = live_services.create_show(host=host, title="Coats", scheduled_start=timezone.now() + timedelta(hours=1))
    live_services.add_show_listing(show=show, user=host, listing=listing)
    live_services.invite_cohost(show=show, host=host, invitee=cohost)
    live_services.respond_to_cohost_invite(show=show, user=cohost, accept=True)
    live_services.start_show(show=show, user=host)
    refused = call(
        gql, cohost_token, AUCTION, showId=gid(show), listingId=gid(listing), startPrice="1.00", durationSeconds=30
    )
    assert refused["errors"] == [{"field": "listingId", "code": "AUCTION_NOT_ALLOWED"}]
    # The host auctions their own listing freely; the co-host, who runs the room, cannot bid.
    auction_id = call(
        gql, host_token, AUCTION, showId=gid(show), listingId=gid(listing), startPrice="1.00", durationSeconds=30
    )["auction"]["id"]
    assert call(gql, cohost_token, BID, auctionId=auction_id, amount="1.00")["errors"] == [
        {"field": "auctionId", "code": "SHOW_STAFF_CANNOT_BID"}
    ]


def test_a_member_who_refuses_curation_stays_out_of_others_shows(gql, victim, attacker):
    call(gql, victim[1], TERMS, allowCuration=False)
    show_id = attackers_show(gql, attacker[1])
    assert call(gql, attacker[1], ADD, showId=show_id, listingId=gid(victim[2]))["errors"] == [
        {"field": "listingId", "code": "CURATION_NOT_ALLOWED"}
    ]


def test_buy_now_of_a_curated_item_is_at_its_current_price(gql, victim, attacker, make_buyer):
    show_id = attackers_show(gql, attacker[1])
    call(gql, attacker[1], ADD, showId=show_id, listingId=gid(victim[2]))
    live_services.feature_listing(show=Show.objects.get(), user=attacker[0], listing=victim[2])
    _, buyer_token = make_buyer("marco")
    open_by_link(gql, buyer_token, show_id)
    bought = gql(
        """mutation($input: BuyShowListingInput!) { buyShowListing(input: $input) {
      order { total { amount } lines { price { amount } } } errors { code } } }""",
        {"input": {"showId": show_id, "listingId": gid(victim[2]), "idempotencyKey": "buy-now-curated"}},
        token=buyer_token,
    )["data"]["buyShowListing"]
    assert bought["errors"] == [] and bought["order"]["lines"][0]["price"]["amount"] == "95.00"
    assert Order.objects.get().seller_id == victim[0].pk and Decimal(bought["order"]["total"]["amount"]) > 95

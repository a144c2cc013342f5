"""Who may call each mutation and read each private query field, and how to build a minimal valid
call: the data of tests/hardening/test_permission_matrix.py.

Every world has four callers: `anonymous`, `other` (a member with no tie to the target),
`owner` (the member the target belongs to) and `staff`. A rule's `build(world)` makes the target
through the services, owned by `world.owner`, and returns the mutation's `input` (or a query and
its variables). Targets of rules any member may use belong to a fourth member, `world.seller`, so
that every caller is a stranger to them.
"""

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time, timedelta
from decimal import Decimal
from functools import cached_property

from django.utils import timezone

from accounts import exports as account_exports
from accounts import recovery
from accounts import services as account_services
from cases import services as case_services
from earnings import services as earnings_services
from earnings.models import LedgerEntry
from live import services as live_services
from live.models import ShowRestriction
from marketplace import services as marketplace_services
from marketplace.models import Category
from notifications import services as notification_services
from notifications.models import Kind
from reviews import services as review_services
from sellers import services as seller_services
from sellers.models import Ambassador, AmbassadorProgram, MentoringProgram, ProgramChange
from social import services as social_services
from tests.helpers import add_photo, gid, photo
from tests.sellers.programs import run_program

ANONYMOUS, OTHER, OWNER, STAFF = "anonymous", "other", "owner", "staff"
ROLES = (ANONYMOUS, OTHER, OWNER, STAFF)


class Who(enum.Enum):
    PUBLIC = "anyone, logged in or not"
    AUTHENTICATED = "any member"
    OWNER = "the owner of the target only"
    OWNER_OR_STAFF = "the owner of the target, and staff (moderation)"
    STAFF = "staff only"

    def allows(self, role: str) -> bool:
        return {
            Who.PUBLIC: True,
            Who.AUTHENTICATED: role != ANONYMOUS,
            Who.OWNER: role == OWNER,
            Who.OWNER_OR_STAFF: role in (OWNER, STAFF),
            Who.STAFF: role == STAFF,
        }[self]


# What a member who may not act on the target gets: a typed error with one of these codes (a
# target they may not see is NOT_FOUND, whether it exists or not), or, for the calls that only
# ever touch the caller's own data (NO_EFFECT), an answer without error that changed nothing.
HIDDEN_OR_FORBIDDEN = frozenset({"FORBIDDEN", "NOT_FOUND"})
FORBIDDEN, NOT_FOUND = frozenset({"FORBIDDEN"}), frozenset({"NOT_FOUND"})
UNAUTHENTICATED = frozenset({"UNAUTHENTICATED"})
NO_EFFECT = frozenset()


@dataclass(frozen=True)
class File:
    """An upload in a mutation's input, sent as a multipart part (GraphQL multipart request spec)."""

    content: bytes
    name: str = "photo.jpg"


@dataclass(frozen=True)
class Rule:
    who: Who
    build: Callable[["World"], dict]
    refusal: frozenset = HIDDEN_OR_FORBIDDEN


class World:
    """The callers and the targets of one matrix cell, made through the services."""

    def __init__(self, on_commit, settings):
        self.on_commit = on_commit  # pytest-django's django_capture_on_commit_callbacks: fan-outs run on commit
        self.settings = settings  # pytest-django's settings: what a cell changes is undone after it
        self.owner = self.member("owner")
        self.category = Category.objects.get(path="women/dresses")

    # The other callers are made when a cell needs them (its caller's token, or a rule's target).
    @cached_property
    def other(self):
        return self.member("other")

    @cached_property
    def staff(self):
        return self.member("staff", is_staff=True)

    def token(self, role: str) -> str | None:
        return None if role == ANONYMOUS else getattr(self, role).token

    @staticmethod
    def member(username: str, is_staff: bool = False):
        """A member with a bearer token (`.token`) and a default shipping address."""
        user, token = account_services.register(
            username=username, email=f"{username}@example.com", password="a-long-enough-passphrase"
        )
        if is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        marketplace_services.add_shipping_address(
            user=user,
            recipient_name=username.title(),
            line1="1 Main St",
            city="Portland",
            region="OR",
            postal_code="97201",
            country="US",
        )
        user.token = token
        return user

    @cached_property
    def seller(self):
        """A fourth member whose things every caller is a stranger to."""
        return self.member("seller")

    def listing(self, seller=None, **fields):
        fields = {"title": "Wrap dress", "price": Decimal("40.00")} | fields
        return marketplace_services.create_listing(seller=seller or self.owner, category_id=self.category.pk, **fields)

    def order(self, *, buyer, seller):
        listing = self.listing(seller)
        return marketplace_services.purchase_listing(buyer=buyer, listing=listing, idempotency_key="matrix-order-1")

    def shipped_order(self, *, buyer, seller):
        order = self.order(buyer=buyer, seller=seller)
        return marketplace_services.ship_order(order=order, actor=seller, tracking_number="1Z999AA10123456784")

    def delivered_order(self, *, buyer, seller):
        order = self.shipped_order(buyer=buyer, seller=seller)
        return marketplace_services.mark_order_delivered(order=order, actor=buyer)

    def offer(self, *, buyer, seller):
        return marketplace_services.create_offer(buyer=buyer, listing=self.listing(seller), amount=Decimal("30.00"))

    def bundle(self, *, buyer, seller):
        listing = self.listing(seller)
        return marketplace_services.add_to_bundle(buyer=buyer, listing=listing), listing

    def show(self, host=None, *, live=True, listings=1):
        host = host or self.owner
        show = live_services.create_show(
            host=host, title="Vintage night", scheduled_start=timezone.now() + timedelta(hours=1)
        )
        for number in range(listings):
            live_services.add_show_listing(show=show, user=host, listing=self.listing(host, title=f"Item {number}"))
        if live:
            live_services.start_show(show=show, user=host)
        show.refresh_from_db()
        return show

    def line_up(self, show):
        return [entry.listing for entry in show.line_up.order_by("position")]

    def invited_cohost(self, show):
        live_services.invite_cohost(show=show, host=show.host, invitee=self.seller)
        return self.seller

    def comment(self, *, author):
        listing = self.listing(self.seller)
        return social_services.add_comment(author=author, listing=listing, body="Is it lined?")

    def conversation(self, *, between):
        message = social_services.send_message(sender=self.seller, recipient=between, body="Hello there")
        return message.conversation

    def template(self, seller=None, body="Thanks for stopping by!"):
        return seller_services.save_greeting_template(seller=seller or self.owner, name="Thanks", body=body)

    def notification(self, recipient, title="A note for you"):
        with self.on_commit(execute=True):
            notification_services.notify(
                recipient_ids=[recipient.pk],
                kind=Kind.SYSTEM,
                title=title,
                body="Hello",
                dedupe_key=f"matrix:{recipient.pk}:{title}",
            )
        return recipient.notifications.get(title=title)

    def ambassadors(self, count: int):
        for number in range(count):
            Ambassador.objects.create(user=self.member(f"mentor{number}"), mentoring_opt_in=True)


def ids(*objects) -> list[str]:
    return [gid(obj) for obj in objects]


# Builders of the calls that need more than one line ---------------------------------------------


def _reorder_images(w):
    listing = w.listing()
    first, second = add_photo(listing), add_photo(listing)
    return {"listingId": gid(listing), "imageIds": ids(second, first)}


def _remove_image(w):
    return {"imageId": gid(add_photo(w.listing()))}


def _add_to_order(w):
    order = w.order(buyer=w.owner, seller=w.seller)
    return {
        "orderId": gid(order),
        "listingId": gid(w.listing(w.seller, title="Belt")),
        "idempotencyKey": "matrix-add-on-1",
    }


def _leave_review(w):
    order = w.delivered_order(buyer=w.owner, seller=w.seller)
    marketplace_services.accept_order(order=order, actor=w.owner)
    return {"orderId": gid(order), "rating": 5, "note": "Lovely"}


def _answer_review(w):
    order = w.delivered_order(buyer=w.seller, seller=w.owner)
    marketplace_services.accept_order(order=order, actor=w.seller)
    review = review_services.leave_review(order=order, buyer=w.seller, rating=4)
    return {"reviewId": gid(review), "answer": "Thank you"}


def _case_of(w, *, buyer, seller):
    order = w.delivered_order(buyer=buyer, seller=seller)
    return case_services.open_case(order=order, buyer=buyer, reason="damaged", description="The zip is torn.")


def _owners_earnings(w):
    """A sale of the owner's accepted (its proceeds available) and a payout account connected."""
    with w.on_commit(execute=True):
        order = w.delivered_order(buyer=w.seller, seller=w.owner)
        marketplace_services.accept_order(order=order, actor=w.seller)
    earnings_services.connect_payout_account(seller=w.owner, country="US")
    return LedgerEntry.objects.filter(seller=w.owner).first()


def _owners_payout(w):
    _owners_earnings(w)
    return earnings_services.request_payout(seller=w.owner, currency="USD")


def _mark_notifications_read(w):
    return {"ids": [gid(w.notification(w.owner))]}


def _send_upsell(w):
    order = w.order(buyer=w.seller, seller=w.owner)
    return {"orderId": gid(order), "listingIds": ids(w.listing(title="Belt"))}


def _send_greeting(w):
    social_services.record_closet_visit(visitor=w.seller, closet_owner=w.owner)
    return {"visitorId": gid(w.seller), "text": "Thanks for stopping by!"}


def _offer_to_likers(w):
    listing = w.listing()
    social_services.like_listing(user=w.seller, listing=listing)
    return {"listingId": gid(listing), "price": "30.00"}


def _join_mentoring(w):
    run_program(
        MentoringProgram,
        w.staff,
        mentors_per_group_min=1,
        mentors_per_group_max=1,
        max_groups_per_mentor=5,
        grace_days=14,
    )
    w.ambassadors(3)  # every member of the matrix may join once
    return {"question": "How do I price?"}


def _set_ambassador_opt_in(w):
    Ambassador.objects.create(user=w.owner, mentoring_opt_in=False)
    return {"optIn": True}


def _buy_show_listing(w):
    show = w.show(w.seller)
    featured = w.line_up(show)[0]
    live_services.feature_listing(show=show, user=w.seller, listing=featured)
    return {"showId": gid(show), "listingId": gid(featured), "idempotencyKey": "matrix-show-buy-1"}


def _place_bid(w):
    show = w.show(w.seller)
    auction = live_services.start_auction(
        show=show, user=w.seller, listing=w.line_up(show)[0], start_price=Decimal("10.00"), duration_seconds=60
    )
    return {"auctionId": gid(auction), "amount": "10.00"}


def _delete_show_message(w):
    show = w.show(w.seller)
    message = live_services.send_message(show=show, author=w.owner, body="Love it")
    return {"messageId": gid(message)}


def _unmute_show_viewer(w):
    show = w.show()
    live_services.restrict_viewer(show=show, moderator=w.owner, viewer=w.seller, kind=ShowRestriction.Kind.MUTED)
    return {"showId": gid(show), "userId": gid(w.seller)}


def _show_and(build_rest):
    """A live show of the owner's, and the rest of the input from `build_rest(world, show)`."""

    def build(w):
        show = w.show()
        return {"showId": gid(show)} | build_rest(w, show)

    return build


def _fail_over_show_stream(w):
    # A show fails over only when a second provider is configured: a real-time test double.
    w.settings.LIVE_VIDEO_FAILOVER_PROVIDER = "tests.live.video.test_providers.TokenProvider"
    return {"showId": gid(w.show())}


def _reorder_show_listings(w):
    show = w.show(listings=2)
    return {"showId": gid(show), "listingIds": ids(*reversed(w.line_up(show)))}


def _respond_to_co_host_invite(w):
    show = w.show(w.seller, live=False)
    live_services.invite_cohost(show=show, host=w.seller, invitee=w.owner)
    return {"showId": gid(show), "accept": True}


def _group_message(w):
    group = social_services.start_group_conversation(title="Mentoring", member_ids=[w.owner.pk, w.seller.pk])
    return {"conversationId": gid(group), "body": "Any tips?"}


def _greeting_with_template(w):
    return _send_greeting(w) | {"text": None, "templateId": gid(w.template())}


def _delete_comment_on_own_listing(w):
    comment = social_services.add_comment(author=w.seller, listing=w.listing(), body="Would you take 20?")
    return {"commentId": gid(comment)}


def _step_down_as_co_host(w):
    show = w.show(w.seller, live=False)
    live_services.invite_cohost(show=show, host=w.seller, invitee=w.owner)
    live_services.respond_to_cohost_invite(show=show, user=w.owner, accept=True)
    return {"showId": gid(show), "userId": gid(w.owner)}


# Keyed by mutation; "mutation:variant" adds a cell row for another way in (another argument, or
# another party's right) with its own rule.
MUTATION_RULES: dict[str, Rule] = {
    # Accounts
    "register": Rule(
        Who.PUBLIC,
        lambda w: {"username": "newcomer", "email": "newcomer@example.com", "password": "a-long-enough-passphrase"},
    ),
    "login": Rule(Who.PUBLIC, lambda w: {"username": "owner", "password": "a-long-enough-passphrase"}),
    "logout": Rule(Who.AUTHENTICATED, lambda w: {}),
    "updateProfile": Rule(Who.AUTHENTICATED, lambda w: {"bio": "Vintage lover"}),
    # Account basics: the mailed-token ones are anyone's who holds the token; the others act on the
    # caller's own account only, with its password.
    "requestEmailVerification": Rule(Who.PUBLIC, lambda w: {"email": "owner@example.com"}),
    "verifyEmail": Rule(Who.PUBLIC, lambda w: {"token": recovery.issue(w.owner, "verify_email", w.owner.email)}),
    "requestPasswordReset": Rule(Who.PUBLIC, lambda w: {"email": "owner@example.com"}),
    "resetPassword": Rule(
        Who.PUBLIC,
        lambda w: {
            "token": recovery.issue(w.owner, "reset_password", w.owner.email),
            "newPassword": "another-long-passphrase",
        },
    ),
    "changePassword": Rule(
        Who.AUTHENTICATED,
        lambda w: {"currentPassword": "a-long-enough-passphrase", "newPassword": "another-long-passphrase"},
    ),
    "changeEmail": Rule(
        Who.AUTHENTICATED, lambda w: {"password": "a-long-enough-passphrase", "newEmail": "moved@example.com"}
    ),
    "confirmEmailChange": Rule(
        Who.PUBLIC, lambda w: {"token": recovery.issue(w.owner, "change_email", "moved@example.com")}
    ),
    "deleteAccount": Rule(Who.AUTHENTICATED, lambda w: {"password": "a-long-enough-passphrase"}),
    "requestDataExport": Rule(Who.AUTHENTICATED, lambda w: {"mailLink": False}),
    # Listings
    "createListing": Rule(
        Who.AUTHENTICATED, lambda w: {"title": "Skirt", "categoryId": gid(w.category), "price": "20.00"}
    ),
    "updateListing": Rule(Who.OWNER_OR_STAFF, lambda w: {"listingId": gid(w.listing()), "title": "Silk dress"}),
    "removeListing": Rule(Who.OWNER_OR_STAFF, lambda w: {"listingId": gid(w.listing())}),
    "uploadListingImage": Rule(Who.OWNER_OR_STAFF, lambda w: {"listingId": gid(w.listing()), "image": File(photo())}),
    "reorderListingImages": Rule(Who.OWNER_OR_STAFF, _reorder_images),
    "removeListingImage": Rule(Who.OWNER_OR_STAFF, _remove_image),
    # Addresses, orders, offers, bundles, seller discounts
    "addShippingAddress": Rule(
        Who.AUTHENTICATED,
        lambda w: {
            "recipientName": "Ann",
            "line1": "2 Oak St",
            "city": "Salem",
            "postalCode": "97301",
            "country": "US",
        },
    ),
    "updateShippingAddress": Rule(
        Who.OWNER, lambda w: {"shippingAddressId": gid(w.owner.shipping_addresses.get()), "city": "Eugene"}
    ),
    "removeShippingAddress": Rule(Who.OWNER, lambda w: {"shippingAddressId": gid(w.owner.shipping_addresses.get())}),
    # Earnings: a member pays out only their own balance, to their own account.
    "requestPayout": Rule(
        Who.OWNER,
        lambda w: _owners_earnings(w) and {"currency": "USD"},
        refusal=frozenset({"NO_PAYOUT_ACCOUNT", "NOTHING_TO_PAY_OUT"}),
    ),
    "connectPayoutAccount": Rule(Who.AUTHENTICATED, lambda w: {"country": "US"}),
    # The payment sheet of the caller's own provider customer.
    "preparePaymentSheet": Rule(Who.AUTHENTICATED, lambda w: {}),
    "purchaseListing": Rule(
        Who.AUTHENTICATED, lambda w: {"listingId": gid(w.listing(w.seller)), "idempotencyKey": "matrix-purchase-1"}
    ),
    "checkoutBundle": Rule(
        Who.OWNER,
        lambda w: {"bundleId": gid(w.bundle(buyer=w.owner, seller=w.seller)[0]), "idempotencyKey": "matrix-bundle-1"},
    ),
    "addToOrder": Rule(Who.OWNER, _add_to_order),
    "shipOrder": Rule(
        Who.OWNER,
        lambda w: {"orderId": gid(w.order(buyer=w.seller, seller=w.owner)), "trackingNumber": "1Z999AA10123456784"},
    ),
    "markOrderDelivered": Rule(Who.OWNER, lambda w: {"orderId": gid(w.shipped_order(buyer=w.owner, seller=w.seller))}),
    "acceptOrder": Rule(Who.OWNER, lambda w: {"orderId": gid(w.delivered_order(buyer=w.owner, seller=w.seller))}),
    "cancelOrder": Rule(Who.OWNER, lambda w: {"orderId": gid(w.order(buyer=w.owner, seller=w.seller))}),
    "leaveReview": Rule(Who.OWNER, _leave_review),
    # A review anyone may read: another member than its seller is told they are not the seller.
    "answerReview": Rule(Who.OWNER, _answer_review, frozenset({"NOT_THE_SELLER"})),
    "openCase": Rule(
        Who.OWNER,
        lambda w: {
            "orderId": gid(w.delivered_order(buyer=w.owner, seller=w.seller)),
            "reason": "DAMAGED",
            "description": "The zip is torn.",
        },
    ),
    "answerCase": Rule(
        Who.OWNER, lambda w: {"caseId": gid(_case_of(w, buyer=w.seller, seller=w.owner)), "body": "It left intact."}
    ),
    "addCaseMessage": Rule(
        Who.OWNER, lambda w: {"caseId": gid(_case_of(w, buyer=w.owner, seller=w.seller)), "body": "See photo 2."}
    ),
    "makeOffer": Rule(Who.AUTHENTICATED, lambda w: {"listingId": gid(w.listing(w.seller)), "amount": "30.00"}),
    "respondToOffer": Rule(
        Who.OWNER, lambda w: {"offerId": gid(w.offer(buyer=w.seller, seller=w.owner)), "action": "DECLINE"}
    ),
    "withdrawOffer": Rule(Who.OWNER, lambda w: {"offerId": gid(w.offer(buyer=w.owner, seller=w.seller))}),
    "addToBundle": Rule(Who.AUTHENTICATED, lambda w: {"listingId": gid(w.listing(w.seller))}),
    # Another member has no bundle of this closet: removing from "theirs" leaves the owner's as it is.
    "removeFromBundle": Rule(
        Who.OWNER, lambda w: {"listingId": gid(w.bundle(buyer=w.owner, seller=w.seller)[1])}, refusal=NO_EFFECT
    ),
    "updateBundleDiscount": Rule(Who.AUTHENTICATED, lambda w: {"bundlePercent": 15, "bundleMinItems": 3}),
    "updateShippingDiscount": Rule(Who.AUTHENTICATED, lambda w: {"shippingPercent": 50}),
    "updateCurationTerms": Rule(Who.AUTHENTICATED, lambda w: {"allowAuctions": True, "auctionFloorPercent": 80}),
    # Social
    "likeListing": Rule(Who.AUTHENTICATED, lambda w: {"listingId": gid(w.listing(w.seller))}),
    "unlikeListing": Rule(Who.AUTHENTICATED, lambda w: {"listingId": gid(w.listing(w.seller))}),
    "followUser": Rule(Who.AUTHENTICATED, lambda w: {"userId": gid(w.seller)}),
    "unfollowUser": Rule(Who.AUTHENTICATED, lambda w: {"userId": gid(w.seller)}),
    "blockUser": Rule(Who.AUTHENTICATED, lambda w: {"userId": gid(w.seller)}),
    "unblockUser": Rule(Who.AUTHENTICATED, lambda w: {"userId": gid(w.seller)}),
    "muteUser": Rule(Who.AUTHENTICATED, lambda w: {"userId": gid(w.seller)}),
    "unmuteUser": Rule(Who.AUTHENTICATED, lambda w: {"userId": gid(w.seller)}),
    "shareListing": Rule(Who.AUTHENTICATED, lambda w: {"listingId": gid(w.listing(w.seller))}),
    "addComment": Rule(Who.AUTHENTICATED, lambda w: {"listingId": gid(w.listing(w.seller)), "body": "Size?"}),
    "editComment": Rule(Who.OWNER, lambda w: {"commentId": gid(w.comment(author=w.owner)), "body": "Length?"}),
    "deleteComment": Rule(Who.OWNER_OR_STAFF, lambda w: {"commentId": gid(w.comment(author=w.owner))}),
    "recordClosetVisit": Rule(Who.AUTHENTICATED, lambda w: {"userId": gid(w.seller)}),
    "sendMessage": Rule(Who.AUTHENTICATED, lambda w: {"recipientId": gid(w.seller), "body": "Hi!"}),
    "markConversationRead": Rule(Who.OWNER, lambda w: {"conversationId": gid(w.conversation(between=w.owner))}),
    # Notifications
    # Ids of someone else's notifications match nothing of the caller's inbox.
    "markNotificationsRead": Rule(Who.OWNER, _mark_notifications_read, refusal=NO_EFFECT),
    "registerDevice": Rule(Who.AUTHENTICATED, lambda w: {"platform": "FCM", "token": "fcm-matrix-token"}),
    "unregisterDevice": Rule(
        Who.OWNER,
        lambda w: {
            "token": notification_services.register_device(user=w.owner, platform="fcm", token="fcm-owner-token").token
        },
    ),
    "updateNotificationPreferences": Rule(Who.AUTHENTICATED, lambda w: {"dailyCap": 8}),
    # Seller tools
    "offerToLikers": Rule(Who.OWNER, _offer_to_likers),
    "sendUpsell": Rule(Who.OWNER, _send_upsell),
    # The visit was to the owner's closet: anyone else is refused as the visitor's stranger.
    "sendGreeting": Rule(Who.OWNER, _send_greeting, refusal=frozenset({"NOT_A_RECENT_VISITOR"})),
    "saveGreetingTemplate": Rule(Who.AUTHENTICATED, lambda w: {"name": "Hello", "body": "Welcome!"}),
    "deleteGreetingTemplate": Rule(Who.OWNER, lambda w: {"templateId": gid(w.template())}),
    "setAutoGreeting": Rule(Who.OWNER, lambda w: {"enabled": True, "templateId": gid(w.template())}),
    "setGreetingsEnabled": Rule(Who.AUTHENTICATED, lambda w: {"enabled": False}),
    # Community programs
    "updateFirstSaleShippingProgram": Rule(Who.STAFF, lambda w: {"amount": "3.00"}),
    "updateFirstSaleNudgeProgram": Rule(Who.STAFF, lambda w: {"daysBetweenNudges": 9}),
    "updateAmbassadorProgram": Rule(Who.STAFF, lambda w: {"minSales": 10}),
    "updateMentoringProgram": Rule(Who.STAFF, lambda w: {"graceDays": 10}),
    "setAmbassadorOptIn": Rule(Who.OWNER, _set_ambassador_opt_in, refusal=frozenset({"NOT_AN_AMBASSADOR"})),
    "joinMentoring": Rule(Who.AUTHENTICATED, _join_mentoring),
    # Live shows: the owner hosts; running a show is its host's (co-hosts' too for the line-up and the
    # chat), not staff's, but staff may take chat messages down
    "createShow": Rule(
        Who.AUTHENTICATED,
        lambda w: {"title": "Denim day", "scheduledStart": (timezone.now() + timedelta(days=1)).isoformat()},
    ),
    "updateShow": Rule(Who.OWNER, _show_and(lambda w, show: {"title": "Denim night"})),
    "startShow": Rule(Who.OWNER, lambda w: {"showId": gid(w.show(live=False))}),
    "endShow": Rule(Who.OWNER, _show_and(lambda w, show: {})),
    "rotateShowLink": Rule(Who.OWNER, _show_and(lambda w, show: {})),
    # The host's video: publish credentials are the host's (and accepted co-hosts'), not staff's.
    "publishCredentials": Rule(Who.OWNER, _show_and(lambda w, show: {})),
    "rotateStreamKey": Rule(Who.OWNER, _show_and(lambda w, show: {})),
    "setShowGoesLiveWithStream": Rule(Who.OWNER, lambda w: {"showId": gid(w.show(live=False)), "enabled": True}),
    "failOverShowStream": Rule(Who.OWNER, _fail_over_show_stream),
    # Whoever has the link opens the show; a wrong token opens nothing (tests/live/test_private_links.py).
    "openShowLink": Rule(
        Who.AUTHENTICATED, lambda w: {"showId": gid(show := w.show(w.seller, live=False)), "linkToken": show.link_token}
    ),
    "saveShow": Rule(Who.AUTHENTICATED, lambda w: {"showId": gid(w.show(w.seller, live=False))}),
    "unsaveShow": Rule(Who.AUTHENTICATED, lambda w: {"showId": gid(w.show(w.seller, live=False))}),
    "addCoHost": Rule(Who.OWNER, _show_and(lambda w, show: {"userId": gid(w.seller)})),
    "respondToCoHostInvite": Rule(Who.OWNER, _respond_to_co_host_invite),
    "removeCoHost": Rule(Who.OWNER, _show_and(lambda w, show: {"userId": gid(w.invited_cohost(show))})),
    "addShowListing": Rule(Who.OWNER, _show_and(lambda w, show: {"listingId": gid(w.listing(w.seller))})),
    "removeShowListing": Rule(Who.OWNER, _show_and(lambda w, show: {"listingId": gid(w.line_up(show)[0])})),
    "reorderShowListings": Rule(Who.OWNER, _reorder_show_listings),
    "featureShowListing": Rule(Who.OWNER, _show_and(lambda w, show: {"listingId": gid(w.line_up(show)[0])})),
    "sendShowMessage": Rule(Who.AUTHENTICATED, lambda w: {"showId": gid(w.show(w.seller)), "body": "Hi all"}),
    "deleteShowMessage": Rule(Who.OWNER_OR_STAFF, _delete_show_message),
    "setShowSlowMode": Rule(Who.OWNER, _show_and(lambda w, show: {"seconds": 10})),
    "setShowMutedWords": Rule(Who.OWNER, _show_and(lambda w, show: {"words": ["spam"]})),
    "muteShowViewer": Rule(Who.OWNER, _show_and(lambda w, show: {"userId": gid(w.seller)})),
    "unmuteShowViewer": Rule(Who.OWNER, _unmute_show_viewer),
    "removeShowViewer": Rule(Who.OWNER, _show_and(lambda w, show: {"userId": gid(w.seller)})),
    "buyShowListing": Rule(Who.AUTHENTICATED, _buy_show_listing),
    "startShowAuction": Rule(
        Who.OWNER,
        _show_and(lambda w, show: {"listingId": gid(w.line_up(show)[0]), "startPrice": "10.00", "durationSeconds": 60}),
    ),
    "placeBid": Rule(Who.AUTHENTICATED, _place_bid),
    # Other ways in
    "sendMessage:group": Rule(Who.OWNER, _group_message, refusal=NOT_FOUND),
    "makeOffer:bundle": Rule(
        Who.OWNER,
        lambda w: {"bundleId": gid(w.bundle(buyer=w.owner, seller=w.seller)[0]), "amount": "30.00"},
        refusal=NOT_FOUND,
    ),
    "sendGreeting:template": Rule(
        Who.OWNER, _greeting_with_template, refusal=frozenset({"NOT_FOUND", "NOT_A_RECENT_VISITOR"})
    ),
    "saveGreetingTemplate:edit": Rule(
        Who.OWNER,
        lambda w: {"templateId": gid(w.template()), "name": "Hello", "body": "Welcome back!"},
        refusal=NOT_FOUND,
    ),
    # The seller of a listing moderates its comments.
    "deleteComment:on-own-listing": Rule(Who.OWNER_OR_STAFF, _delete_comment_on_own_listing),
    "removeCoHost:step-down": Rule(Who.OWNER, _step_down_as_co_host),
}


# Reads ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    document: str
    variables: dict = field(default_factory=dict)
    # Text of the owner's private data: in the answer of whoever may read it, in nobody else's.
    secret: str | None = None


@dataclass(frozen=True)
class ReadRule:
    """Who may read a private query field (or a private object through `node`, or a private field
    of a shared type). A caller who may not gets a top-level error with one of `refusal`'s codes
    (`anonymous`'s when logged out), or, when empty, an answer without error showing only their
    own data (null, nothing, or what is theirs)."""

    who: Who
    build: Callable[["World"], Query]
    refusal: frozenset = NO_EFFECT
    anonymous: frozenset = UNAUTHENTICATED


# Root query fields anyone may read: listings, shows, comments and sellers' terms are public.
PUBLIC_QUERY_FIELDS = frozenset(
    {
        "listing",
        "listings",
        "categories",
        "comments",
        "sellerDiscounts",
        "curationTerms",
        "show",
        "upcomingShows",
        "liveShows",
        "sellerReviews",
        # Replays are watched by whoever could watch the show (a private one by its link).
        "showReplay",
        "hostReplays",
    }
)
# Objects anyone may open by id (the node field), within what blocks and drafts hide.
PUBLIC_NODE_TYPES = frozenset(
    {"User", "Listing", "ListingImage", "Category", "Comment", "Show", "ShowMessage", "Auction", "Review", "Replay"}
)


def connection_of(field_name: str, node: str = "id", arguments: str = "") -> str:
    """A page of a connection; `arguments` may use the variable $id."""
    variables = "($id: ID!)" if "$id" in arguments else ""
    arguments = f"{arguments}, " if arguments else ""
    return f"query{variables} {{ {field_name}({arguments}first: 10) {{ edges {{ node {{ {node} }} }} }} }}"


def by_id(field_name: str, argument: str = "id") -> str:
    return f"query($id: ID!) {{ {field_name}({argument}: $id) {{ id }} }}"


def _its_id(w, obj) -> dict:
    return {"id": gid(obj)}


def _reading(document: str, make, variables=lambda w, obj: {}):
    """A read of what `make(world)` returns, an object of the owner's: its global ID is the secret."""

    def build(w):
        obj = make(w)
        return Query(document, variables(w, obj), gid(obj))

    return build


def _node(make):
    return _reading("query($id: ID!) { node(id: $id) { id } }", make, _its_id)


def _owners_order(w):
    return w.order(buyer=w.owner, seller=w.seller)


def _owners_case(w):
    return _case_of(w, buyer=w.owner, seller=w.seller)


def _owners_offer(w):
    return w.offer(buyer=w.owner, seller=w.seller)


def _owners_bundle(w):
    return w.bundle(buyer=w.owner, seller=w.seller)[0]


def _owners_conversation(w):
    return w.conversation(between=w.owner)


def _upsell(w):
    order = w.order(buyer=w.seller, seller=w.owner)
    return seller_services.send_upsell(order=order, listings=[w.listing(title="Belt")])


def _greeting(w):
    social_services.record_closet_visit(visitor=w.seller, closet_owner=w.owner)
    return seller_services.send_greeting(seller=w.owner, visitor=w.seller, text="Thanks for stopping by!")


def _offer_to_likers_campaign(w):
    listing = w.listing()
    social_services.like_listing(user=w.seller, listing=listing)
    return seller_services.offer_to_likers(seller=w.owner, listing=listing, amount=Decimal("30.00"))


def _price_drop(w):
    listing = w.listing()
    social_services.like_listing(user=w.seller, listing=listing)
    with w.on_commit(execute=True):
        marketplace_services.update_listing(listing=listing, price=Decimal("30.00"))
    return listing.price_drop_notices.get()


def _mentoring_group(w):
    _join_mentoring(w)
    return seller_services.join_mentoring(mentee=w.owner)


def _program_change(w):
    run_program(AmbassadorProgram, w.staff, min_sales=12)
    return ProgramChange.objects.get()


def _liked_listing(w):
    listing = w.listing(w.seller, title="Secret wish")
    social_services.like_listing(user=w.owner, listing=listing)
    return listing


def _saved_show(w):
    show = w.show(w.seller, live=False)
    live_services.save_show(user=w.owner, show=show)
    return show


def _invited_show(w):
    show = w.show(w.seller, live=False)
    live_services.invite_cohost(show=show, host=w.seller, invitee=w.owner)
    return show


def _closet_visitor(w):
    social_services.record_closet_visit(visitor=w.seller, closet_owner=w.owner)
    return w.seller


def _address(w):
    return marketplace_services.add_shipping_address(
        user=w.owner, recipient_name="Owner", line1="7 Secret Lane", city="Portland", postal_code="97201", country="US"
    )


def _my_likes(w):
    _liked_listing(w)
    return Query(connection_of("myLikes", "title"), secret="Secret wish")


def _feed(w):
    social_services.follow_user(follower=w.owner, followee=w.seller)
    w.listing(w.seller, title="Secret feed find")
    return Query(connection_of("feed", "title"), secret="Secret feed find")


def _notifications(w):
    w.notification(w.owner, "Secret note")
    return Query(connection_of("notifications", "title"), secret="Secret note")


def _quiet_hours(w):
    notification_services.update_preferences(user=w.owner, quiet_hours=(time(1, 23), time(5, 7)))
    return Query("{ notificationPreferences { quietHours { start end } } }", secret="01:23:00")


def _my_addresses(w):
    _address(w)
    return Query("{ myShippingAddresses { line1 } }", secret="7 Secret Lane")


def _listing_likes(w):
    listing = w.listing()
    social_services.like_listing(user=w.seller, listing=listing)
    return Query(connection_of("listingLikes", "user { username }", "listingId: $id"), {"id": gid(listing)}, "seller")


def _messages(w):
    return Query(
        connection_of("messages", "body", "conversationId: $id"), {"id": gid(_owners_conversation(w))}, "Hello there"
    )


def _unread_notifications(w):
    w.notification(w.owner)
    return Query("{ unreadNotificationCount }", secret='"unreadNotificationCount": 1')


def _unread_messages(w):
    _owners_conversation(w)
    return Query("{ unreadMessageCount }", secret='"unreadMessageCount": 1')


def _greetings_off(w):
    seller_services.set_greetings_enabled(user=w.owner, enabled=False)
    return Query("{ greetingsEnabled }", secret='"greetingsEnabled": false')


def _seller_results(w):
    _greeting(w)
    return Query("{ sellerResults { greetings { sent } } }", secret='"sent": 1')


def _ambassador_status(w):
    _set_ambassador_opt_in(w)
    return Query("{ ambassadorStatus { isAmbassador } }", secret='"isAmbassador": true')


def _community_programs(w):
    run_program(MentoringProgram, w.staff, grace_days=21)
    return Query("{ communityPrograms { mentoring { graceDays } } }", secret='"graceDays": 21')


def _greeting_templates(w):
    w.template()
    return Query("{ greetingTemplates { name } }", secret="Thanks")


def _auto_greeting(w):
    seller_services.set_auto_greeting(seller=w.owner, enabled=True, template=w.template())
    return Query("{ autoGreeting { template { name } } }", secret="Thanks")


def _upsell_suggestions(w):
    order = w.order(buyer=w.seller, seller=w.owner)
    w.listing(title="Secret suggestion")
    return Query(
        "query($id: ID!) { upsellSuggestions(orderId: $id) { title } }", {"id": gid(order)}, "Secret suggestion"
    )


def _draft(w):
    draft = w.listing(title="Secret draft", publish=False)
    return Query(by_id("listing"), {"id": gid(draft)}, gid(draft))


def _closet_with_draft(w):
    w.listing(title="Secret draft", publish=False)
    return Query(
        connection_of("listings", "title", "sellerId: $id, availableOnly: false"), {"id": gid(w.owner)}, "Secret draft"
    )


def _email(w):
    return Query(
        "query($id: ID!) { node(id: $id) { ... on User { email } } }", {"id": gid(w.owner)}, "owner@example.com"
    )


def _time_zone(w):
    account_services.update_profile(user=w.owner, time_zone="Pacific/Chatham")
    return Query(
        "query($id: ID!) { node(id: $id) { ... on User { timeZone } } }", {"id": gid(w.owner)}, "Pacific/Chatham"
    )


def _show_invitations(w):
    show = w.show(live=False)
    w.invited_cohost(show)
    return Query(
        "query($id: ID!) { show(id: $id) { coHostInvitations { user { username } } } }", {"id": gid(show)}, "seller"
    )


def _show_muted_words(w):
    show = w.show(live=False)
    live_services.set_muted_words(show=show, user=w.owner, words=["secretword"])
    return Query("query($id: ID!) { show(id: $id) { mutedWords } }", {"id": gid(show)}, "secretword")


def _show_link_token(w):
    show = w.show(live=False)
    return Query("query($id: ID!) { show(id: $id) { linkToken } }", {"id": gid(show)}, show.link_token)


def _private_show(w):
    show = live_services.create_show(
        host=w.owner, title="Secretsale", is_private=True, scheduled_start=timezone.now() + timedelta(hours=1)
    )
    return Query("query($id: ID!) { node(id: $id) { ... on Show { title } } }", {"id": gid(show)}, "Secretsale")


# Keyed by root query field, node(Type), Type.field, or "field:variant" for objects a public field
# hides from some callers.
READ_RULES: dict[str, ReadRule] = {
    # The viewer's own account and inbox
    "me": ReadRule(
        Who.OWNER,
        lambda w: Query("{ me { username email timeZone } }", secret="owner@example.com"),
        anonymous=NO_EFFECT,
    ),
    "notifications": ReadRule(Who.OWNER, _notifications),
    "latestDataExport": ReadRule(
        Who.OWNER,
        lambda w: (
            account_exports.request_data_export(user=w.owner),
            Query("{ latestDataExport { status } }", secret='"status": "PENDING"'),
        )[1],
    ),
    "unreadNotificationCount": ReadRule(Who.OWNER, _unread_notifications),
    "notificationPreferences": ReadRule(Who.OWNER, _quiet_hours),
    "feed": ReadRule(Who.OWNER, _feed),
    "myLikes": ReadRule(Who.OWNER, _my_likes),
    # Checkout: orders, offers and bundles are their buyer's and seller's only
    "myShippingAddresses": ReadRule(Who.OWNER, _my_addresses),
    "myOrders": ReadRule(Who.OWNER, _reading(connection_of("myOrders", arguments="role: BUYER"), _owners_order)),
    "order": ReadRule(Who.OWNER, _reading(by_id("order"), _owners_order, _its_id), anonymous=NO_EFFECT),
    "earnings": ReadRule(
        Who.OWNER,
        _reading("{ earnings { entries(first: 10) { edges { node { id } } } } }", _owners_earnings),
    ),
    "myCases": ReadRule(Who.OWNER, _reading(connection_of("myCases", arguments="role: BUYER"), _owners_case)),
    "myOffers": ReadRule(Who.OWNER, _reading(connection_of("myOffers", arguments="role: BUYER"), _owners_offer)),
    "offer": ReadRule(Who.OWNER, _reading(by_id("offer"), _owners_offer, _its_id), anonymous=NO_EFFECT),
    "bundle": ReadRule(
        Who.OWNER, _reading(by_id("bundle", "sellerId"), _owners_bundle, lambda w, bundle: {"id": gid(w.seller)})
    ),
    # Social: who liked a listing is its seller's business (and staff's); conversations their members'
    "listingLikes": ReadRule(Who.OWNER_OR_STAFF, _listing_likes, refusal=FORBIDDEN),
    "conversations": ReadRule(Who.OWNER, _reading(connection_of("conversations"), _owners_conversation)),
    "conversationWith": ReadRule(
        Who.OWNER,
        _reading(
            by_id("conversationWith", "userId"), _owners_conversation, lambda w, conversation: {"id": gid(w.seller)}
        ),
    ),
    "messages": ReadRule(Who.OWNER, _messages, refusal=NOT_FOUND),
    "unreadMessageCount": ReadRule(Who.OWNER, _unread_messages),
    # Seller tools
    "greetingTemplates": ReadRule(Who.OWNER, _greeting_templates),
    "autoGreeting": ReadRule(Who.OWNER, _auto_greeting),
    "greetingsEnabled": ReadRule(Who.OWNER, _greetings_off),
    "closetVisitors": ReadRule(Who.OWNER, _reading(connection_of("closetVisitors", "visitor { id }"), _closet_visitor)),
    "greetings": ReadRule(Who.OWNER, _reading(connection_of("greetings"), _greeting)),
    "upsells": ReadRule(Who.OWNER, _reading(connection_of("upsells"), _upsell)),
    "upsellSuggestions": ReadRule(Who.OWNER, _upsell_suggestions, refusal=NOT_FOUND),
    "offersToLikers": ReadRule(
        Who.OWNER_OR_STAFF,
        _reading(
            connection_of("offersToLikers", arguments="listingId: $id"),
            _offer_to_likers_campaign,
            lambda w, campaign: {"id": gid(campaign.listing)},
        ),
        refusal=FORBIDDEN,
    ),
    "sellerResults": ReadRule(Who.OWNER, _seller_results),
    "priceDrops": ReadRule(
        Who.OWNER_OR_STAFF,
        _reading(
            connection_of("priceDrops", arguments="listingId: $id"),
            _price_drop,
            lambda w, notice: {"id": gid(notice.listing)},
        ),
        refusal=FORBIDDEN,
    ),
    # Community programs: a member's own status and groups; the settings and results are staff's
    "ambassadorStatus": ReadRule(Who.OWNER, _ambassador_status),
    "mentoringGroups": ReadRule(Who.OWNER, _reading(connection_of("mentoringGroups"), _mentoring_group)),
    "communityPrograms": ReadRule(Who.STAFF, _community_programs, refusal=FORBIDDEN),
    "programResults": ReadRule(
        Who.STAFF, lambda w: Query("{ programResults { habitOrders } }", secret='"habitOrders": 4'), refusal=FORBIDDEN
    ),
    "programChanges": ReadRule(
        Who.STAFF, _reading(connection_of("programChanges"), _program_change), refusal=FORBIDDEN
    ),
    # Live: a member's saved shows and co-host invitations
    "savedShows": ReadRule(Who.OWNER, _reading(connection_of("savedShows"), _saved_show)),
    "coHostInvitations": ReadRule(Who.OWNER, _reading("{ coHostInvitations { id } }", _invited_show)),
    # Private objects by id: node(id) answers null to whoever may not see them
    "node(Order)": ReadRule(Who.OWNER, _node(_owners_order), anonymous=NO_EFFECT),
    "node(Case)": ReadRule(Who.OWNER, _node(_owners_case), anonymous=NO_EFFECT),
    "node(LedgerEntry)": ReadRule(Who.OWNER, _node(_owners_earnings), anonymous=NO_EFFECT),
    "node(Payout)": ReadRule(Who.OWNER, _node(_owners_payout), anonymous=NO_EFFECT),
    "node(Offer)": ReadRule(Who.OWNER, _node(_owners_offer), anonymous=NO_EFFECT),
    "node(Bundle)": ReadRule(Who.OWNER, _node(_owners_bundle), anonymous=NO_EFFECT),
    "node(ShippingAddress)": ReadRule(Who.OWNER, _node(_address), anonymous=NO_EFFECT),
    "node(Notification)": ReadRule(Who.OWNER, _node(lambda w: w.notification(w.owner)), anonymous=NO_EFFECT),
    "node(Device)": ReadRule(
        Who.OWNER,
        _node(lambda w: notification_services.register_device(user=w.owner, platform="fcm", token="fcm-owner-token")),
        anonymous=NO_EFFECT,
    ),
    "node(Conversation)": ReadRule(Who.OWNER, _node(_owners_conversation), anonymous=NO_EFFECT),
    "node(Message)": ReadRule(Who.OWNER, _node(lambda w: _owners_conversation(w).messages.get()), anonymous=NO_EFFECT),
    "node(Like)": ReadRule(Who.OWNER, _node(lambda w: _liked_listing(w).likes.get()), anonymous=NO_EFFECT),
    "node(GreetingTemplate)": ReadRule(Who.OWNER, _node(lambda w: w.template()), anonymous=NO_EFFECT),
    "node(Greeting)": ReadRule(Who.OWNER, _node(_greeting), anonymous=NO_EFFECT),
    "node(Upsell)": ReadRule(Who.OWNER, _node(_upsell), anonymous=NO_EFFECT),
    "node(OfferToLikers)": ReadRule(Who.OWNER, _node(_offer_to_likers_campaign), anonymous=NO_EFFECT),
    "node(PriceDropNotice)": ReadRule(Who.OWNER, _node(_price_drop), anonymous=NO_EFFECT),
    "node(MentoringGroup)": ReadRule(Who.OWNER, _node(_mentoring_group), anonymous=NO_EFFECT),
    "node(ProgramChange)": ReadRule(Who.STAFF, _node(_program_change), anonymous=NO_EFFECT),
    # Public fields that hide some objects: drafts are their seller's only
    "listing:draft": ReadRule(Who.OWNER, _draft, anonymous=NO_EFFECT),
    "listings:closet": ReadRule(Who.OWNER, _closet_with_draft, anonymous=NO_EFFECT),
    # Private fields of shared types
    "User.email": ReadRule(Who.OWNER, _email, anonymous=NO_EFFECT),
    "User.timeZone": ReadRule(Who.OWNER, _time_zone, anonymous=NO_EFFECT),
    "Show.coHostInvitations": ReadRule(Who.OWNER, _show_invitations, anonymous=NO_EFFECT),
    "Show.mutedWords": ReadRule(Who.OWNER, _show_muted_words, anonymous=NO_EFFECT),
    "Show.linkToken": ReadRule(Who.OWNER, _show_link_token, anonymous=NO_EFFECT),
    # A private show opens by its link's token (or to its people), never by its ID alone.
    "node:private-show": ReadRule(Who.OWNER, _private_show, anonymous=NO_EFFECT),
}

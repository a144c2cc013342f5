"""Reads of the seller tools: who hears of a price drop, and what the seller sees of the results."""

from datetime import datetime, timedelta

from django.db.models import BooleanField, Case, Count, Exists, OuterRef, Prefetch, Q, Subquery, Value, When

from marketplace.models import Listing, ListingPriceChange
from sellers.models import Greeting, GreetingTemplate, LastGreeting, PriceDropNotice, SellerToolSettings
from social.models import Block, ClosetVisit, Like, Message
from social.selectors import messages_shown_to, users_for

# How far back the seller's list of closet visitors goes.
VISITOR_HISTORY = timedelta(days=30)


def price_drop_recipients(listing: Listing) -> list[int]:
    """Ids of the listing's current likers who may hear of its drop: active members, not the
    seller, and nobody the seller blocked or who blocked the seller."""
    seller_id = listing.seller_id
    return list(Like.objects.filter(listing_id=listing.pk, user__is_active=True)
                .exclude(user_id=seller_id)
                .exclude(user_id__in=Block.objects.filter(blocker_id=seller_id).values("blocked_id"))
                .exclude(user_id__in=Block.objects.filter(blocked_id=seller_id).values("blocker_id"))
                .values_list("user_id", flat=True))


def latest_price_drop_notice(listing_id: int, *, since=None) -> PriceDropNotice | None:
    """The notice of the listing's drop window open at `since`, if any: the latest notice that
    opened a window (later drops in it join that notice's notification)."""
    opened = PriceDropNotice.objects.filter(listing_id=listing_id, window_start__isnull=True)
    if since is not None:
        opened = opened.filter(created_at__gte=since)
    return opened.order_by("-created_at", "-pk").first()


def likers_reached_by_last_price_change(listing: Listing) -> int | None:
    """How many likers the listing's latest price change reached; None when it notified nobody."""
    latest_change = ListingPriceChange.objects.filter(listing_id=listing.pk).order_by("-changed_at", "-pk")
    return (PriceDropNotice.objects.filter(price_change_id=Subquery(latest_change.values("pk")[:1]))
            .values_list("likers_reached", flat=True).first())


def price_drops(listing: Listing):
    """The listing's price-drop notices, newest first: order by ("-created_at", "-pk")."""
    return PriceDropNotice.objects.filter(listing_id=listing.pk)


def greeting_templates(seller):
    return GreetingTemplate.objects.filter(seller_id=seller.pk).order_by("name", "pk")


def closet_visitors(seller, *, policy: SellerToolSettings, now: datetime):
    """Who visited the seller's closet in the last VISITOR_HISTORY, each once with their
    `last_visited_at`, `last_greeted_at` (by this seller, ever) and `can_greet` (a recent enough
    visit, no greeting within the period; opt-outs stay private until a greeting is tried);
    newest visit first: order by ("-last_visited_at", "-pk")."""
    visits = ClosetVisit.objects.filter(closet_owner_id=seller.pk)
    last_visit = visits.filter(visitor_id=OuterRef("pk")).order_by("-visited_at").values("visited_at")[:1]
    last_greeting = LastGreeting.objects.filter(seller_id=seller.pk, visitor_id=OuterRef("pk")).values("greeted_at")
    return (users_for(seller)
            .filter(pk__in=visits.filter(visited_at__gte=now - VISITOR_HISTORY).values("visitor_id"))
            .annotate(last_visited_at=Subquery(last_visit), last_greeted_at=Subquery(last_greeting[:1]))
            .annotate(can_greet=Case(
                When(Q(last_visited_at__gte=now - policy.greeting_visit_window)
                     & (Q(last_greeted_at__isnull=True) | Q(last_greeted_at__lte=now - policy.greeting_period)),
                     then=Value(True)),
                default=Value(False), output_field=BooleanField())))


def greetings_sent(seller):
    """The seller's greetings with their results, newest first: order by ("-created_at", "-pk").

    `replied`: the visitor wrote in the conversation after it."""
    return (Greeting.objects.filter(seller_id=seller.pk)
            .annotate(replied=_replied("message__conversation_id", "visitor_id"))
            .prefetch_related(Prefetch("visitor", queryset=users_for(seller)),
                              Prefetch("message", queryset=messages_shown_to(seller))))


def greeting_results(seller, *, since: datetime) -> dict:
    """How the seller's greetings since then did: sent, replied."""
    return Greeting.objects.filter(seller_id=seller.pk, created_at__gte=since).aggregate(
        sent=Count("pk"), replied=Count("pk", filter=_replied("message__conversation_id", "visitor_id")))


def _replied(conversation: str, other: str):
    """Did the other member write in the conversation after this (a greeting, an upsell)?"""
    return Exists(Message.objects.filter(conversation_id=OuterRef(conversation), sender_id=OuterRef(other),
                                         created_at__gt=OuterRef("created_at")))

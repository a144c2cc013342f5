"""Writes of the seller tools: price drops (the price-change hook), offers to likers, greetings
(one-off, templates and the auto-greeting of closet visitors) and upsells to a buyer after a sale."""

import re
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from graphql_relay import to_global_id

from accounts.models import User
from config.errors import CommonError, ServiceError
from marketplace import services as marketplace_services
from marketplace.errors import CheckoutError, ListingError
from marketplace.models import Listing, ListingPriceChange, Offer, Order
from marketplace.pricing import CENT
from notifications import services as notification_services
from notifications.models import Kind
from sellers import selectors, tasks
from sellers.errors import SellerToolError
from sellers.models import (
    AUTO_GREETING_MAX_DELAY_MINUTES,
    AutoGreeting,
    Greeting,
    GreetingOptOut,
    GreetingTemplate,
    LastGreeting,
    OfferToLikers,
    PriceDropNotice,
    ScheduledGreeting,
    SellerToolSettings,
    Upsell,
)
from social import selectors as social_selectors
from social import services as social_services
from social.models import ClosetVisit, Message

# `{name}` in a greeting; only these names exist, filled in one pass with plain text.
PLACEHOLDER = re.compile(r"\{(\w*)\}")
PLACEHOLDERS = ("visitor_name", "listing_title")
MAX_TEMPLATES = 20
MAX_UPSELL_ITEMS = 10
NAME_MAX_LENGTH = GreetingTemplate._meta.get_field("name").max_length
BODY_MAX_LENGTH = GreetingTemplate._meta.get_field("body").max_length


def at_least_below(price: Decimal, percent: Decimal) -> Decimal:
    """The highest price at least `percent` below `price`, in cents (rounded down, never short)."""
    return (price * (1 - percent / Decimal(100))).quantize(CENT, rounding=ROUND_DOWN)


@transaction.atomic
def on_price_change(*, listing: Listing, change: ListingPriceChange) -> PriceDropNotice | None:
    """Tell the listing's likers of a drop of at least the threshold below the lowest price they
    were last told of; a smaller drop or a rise tells nobody.

    A marketplace.hooks.PRICE_CHANGE hook: update_listing runs it in its transaction, the listing locked, so
    drops of one listing are serialised. Drops within the window of a notified one keep one
    notification per liker: they notify with the same dedupe key and `replace=True`, so each
    liker's row is rewritten with the latest price (and new likers get it) instead of a second
    row; the push already decided for that row is not repeated. A qualifying drop lowers the
    price likers know of even when none are reached yet, so whoever likes it later is never told
    of a "drop" that is a rise from the price they liked it at.
    """
    if (
        listing.status != Listing.Status.AVAILABLE
        or listing.lowest_notified_price is None
        or change.new_price >= change.old_price
    ):
        return None
    policy = SellerToolSettings.current()
    if change.new_price > at_least_below(listing.lowest_notified_price, policy.price_drop_threshold_percent):
        return None
    now = timezone.now()
    window = selectors.open_price_drop_window(listing.pk, since=now - policy.price_drop_window)
    recipient_ids = selectors.reachable_likers(listing)
    notice = PriceDropNotice.objects.create(
        listing=listing,
        price_change=change,
        window_start=window,
        new_price=change.new_price,
        previous_price=window.previous_price if window else listing.lowest_notified_price,
        currency=change.currency,
        likers_reached=len(recipient_ids),
        created_at=now,
    )
    notification_services.notify(
        recipient_ids=recipient_ids,
        kind=Kind.PRICE_DROP,
        title=f"Price drop: {listing.title}",
        body=f"Now {notice.new_price} {notice.currency} (was {notice.previous_price} {notice.currency}).",
        target=listing,
        coalesce_key=f"listing:{listing.pk}",
        dedupe_key=f"price_drop:{listing.pk}:{(window or notice).pk}",
        replace=True,
        data={
            "listingId": to_global_id("Listing", listing.pk),
            "price": str(notice.new_price),
            "previousPrice": str(notice.previous_price),
            "currency": notice.currency,
        },
    )
    Listing.objects.filter(pk=listing.pk).update(lowest_notified_price=change.new_price)
    listing.lowest_notified_price = change.new_price
    return notice


@transaction.atomic
def send_greeting(
    *,
    seller: User,
    visitor: User,
    text: str | None = None,
    template: GreetingTemplate | None = None,
    listing: Listing | None = None,
    automatic: bool = False,
    now: datetime | None = None,
) -> Greeting:
    """Greet someone who visited the seller's closet lately, as a direct message with a greeting
    marker (the listing, if any, attached) and a `greeting` notification.

    Refused when they did not visit within the staff's window, turned greetings off, muted the
    seller, or were greeted by this seller within the period: the period is claimed by a
    conditional UPDATE of the pair's LastGreeting row, which holds under concurrent requests (a
    second claimant waits for the first to commit, then finds the period taken).
    """
    now = now or timezone.now()
    if (text is None) == (template is None):
        raise ServiceError(CommonError.INVALID, "Write a greeting or choose a template.", "text")
    if listing is not None and (listing.seller_id != seller.pk or listing.status != Listing.Status.AVAILABLE):
        raise ServiceError(ListingError.LISTING_NOT_AVAILABLE, "Attach one of your available listings.", "listingId")
    policy = SellerToolSettings.current()
    ensure_greetable(seller=seller, visitor=visitor, policy=policy, now=now)
    body = render_greeting(template.body if template else text, visitor=visitor, listing=listing)
    LastGreeting.objects.bulk_create([LastGreeting(seller=seller, visitor=visitor)], ignore_conflicts=True)
    claimed = (
        LastGreeting.objects.filter(seller=seller, visitor=visitor)
        .filter(Q(greeted_at__isnull=True) | Q(greeted_at__lte=now - policy.greeting_period))
        .update(greeted_at=now)
    )
    if not claimed:
        raise _already_greeted(policy)
    message = social_services.send_message(
        sender=seller, recipient=visitor, body=body, kind=Message.Kind.GREETING, listings=[listing] if listing else []
    )
    return Greeting.objects.create(
        seller=seller, visitor=visitor, message=message, template=template, automatic=automatic, created_at=now
    )


def ensure_greetable(*, seller: User, visitor: User, policy: SellerToolSettings, now: datetime) -> None:
    """Raise the reason `seller` may not greet `visitor` now, if there is one (the period is only
    read here; send_greeting claims it)."""
    if not ClosetVisit.objects.filter(
        closet_owner=seller, visitor=visitor, visited_at__gte=now - policy.greeting_visit_window
    ).exists():
        raise ServiceError(
            SellerToolError.NOT_A_RECENT_VISITOR,
            f"You can greet people who visited your closet in the last {policy.greeting_visit_days} days.",
            "visitorId",
        )
    if GreetingOptOut.objects.filter(user=visitor).exists() or social_selectors.has_muted(visitor.pk, seller.pk):
        raise ServiceError(SellerToolError.GREETINGS_OFF, "This member doesn't take greetings.", "visitorId")
    recently_greeted = LastGreeting.objects.filter(
        seller=seller, visitor=visitor, greeted_at__gt=now - policy.greeting_period
    )
    if recently_greeted.exists():
        raise _already_greeted(policy)


def _already_greeted(policy: SellerToolSettings) -> ServiceError:
    return ServiceError(
        SellerToolError.ALREADY_GREETED,
        f"You greeted them in the last {policy.greeting_period_days} days.",
        "visitorId",
    )


def render_greeting(text: str, *, visitor: User, listing: Listing | None) -> str:
    """Fill the placeholders with plain text in a single pass (a visitor named "{listing_title}"
    stays as written; no format-string attribute access), after checking every name exists."""
    values = {
        "visitor_name": visitor.display_name or visitor.username,
        "listing_title": listing.title if listing else None,
    }
    text = validate_greeting_text(text)
    if "{listing_title}" in text and listing is None:
        raise ServiceError(CommonError.REQUIRED, "This greeting names a listing: choose one.", "listingId")
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def validate_greeting_text(text: str, field: str = "text") -> str:
    text = text.strip()
    if not text:
        raise ServiceError(CommonError.REQUIRED, "Write a greeting.", field)
    unknown = sorted({name for name in PLACEHOLDER.findall(text) if name not in PLACEHOLDERS})
    if unknown:
        allowed = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
        raise ServiceError(CommonError.INVALID, f"Unknown placeholder {{{unknown[0]}}}; use {allowed}.", field)
    return text


def save_greeting_template(
    *, seller: User, name: str, body: str, template: GreetingTemplate | None = None
) -> GreetingTemplate:
    """Create a template (or change `template`); names are unique per seller, whatever the case."""
    name, body = name.strip(), validate_greeting_text(body, "body")
    if not name or len(name) > NAME_MAX_LENGTH:
        raise ServiceError(CommonError.INVALID, f"Name the template in 1 to {NAME_MAX_LENGTH} characters.", "name")
    if len(body) > BODY_MAX_LENGTH:
        raise ServiceError(CommonError.INVALID, f"A template has at most {BODY_MAX_LENGTH} characters.", "body")
    if template is None:
        if GreetingTemplate.objects.filter(seller=seller).count() >= MAX_TEMPLATES:
            raise ServiceError(SellerToolError.TOO_MANY_TEMPLATES, f"Keep at most {MAX_TEMPLATES} templates.", "name")
        template = GreetingTemplate(seller=seller)
    template.name, template.body = name, body
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError:  # the (seller, lower(name)) constraint
        raise ServiceError(CommonError.INVALID, "You already have a template with this name.", "name") from None
    return template


@transaction.atomic
def delete_greeting_template(*, template: GreetingTemplate) -> None:
    if AutoGreeting.objects.filter(template=template).exists():
        raise ServiceError(
            SellerToolError.TEMPLATE_IN_USE,
            "Your auto-greeting uses this template: choose another first.",
            "templateId",
        )
    template.delete()


def set_auto_greeting(
    *,
    seller: User,
    enabled: bool,
    template: GreetingTemplate | None = None,
    listing: Listing | None = None,
    delay_minutes: int | None = None,
) -> AutoGreeting:
    """Turn automatic greetings on or off; the template (one of the seller's), its listing (for
    `{listing_title}`) and the delay after a visit are kept for next time."""
    rule = AutoGreeting.objects.filter(seller=seller).first() or AutoGreeting(seller=seller)
    if template is not None:
        rule.template = template
    if listing is not None:
        if listing.seller_id != seller.pk:
            raise ServiceError(ListingError.LISTING_NOT_AVAILABLE, "Choose one of your listings.", "listingId")
        rule.listing = listing
    if delay_minutes is not None:
        if not 0 <= delay_minutes <= AUTO_GREETING_MAX_DELAY_MINUTES:
            raise ServiceError(
                CommonError.INVALID,
                f"Greet 0 to {AUTO_GREETING_MAX_DELAY_MINUTES} minutes after a visit.",
                "delayMinutes",
            )
        rule.delay_minutes = delay_minutes
    if rule.template_id is None:
        raise ServiceError(CommonError.REQUIRED, "Choose a template.", "templateId")
    if "{listing_title}" in rule.template.body and rule.listing_id is None:
        raise ServiceError(CommonError.REQUIRED, "This template names a listing: choose one.", "listingId")
    rule.enabled = enabled
    rule.save()
    return rule


def set_greetings_enabled(*, user: User, enabled: bool) -> None:
    """A member turns greetings from every seller on or off."""
    if enabled:
        GreetingOptOut.objects.filter(user=user).delete()
    else:
        GreetingOptOut.objects.get_or_create(user=user)


def schedule_auto_greeting(*, visit: ClosetVisit) -> ScheduledGreeting | None:
    """After a recorded closet visit: if the seller greets automatically and may greet this
    visitor, schedule it after the rule's delay (one pending per pair, so repeated visits add
    nothing); a task sends it once committed and due. A social.hooks.CLOSET_VISIT hook."""
    rule = AutoGreeting.objects.filter(seller_id=visit.closet_owner_id, enabled=True).first()
    if rule is None:
        return None
    try:
        ensure_greetable(
            seller=visit.closet_owner, visitor=visit.visitor, policy=SellerToolSettings.current(), now=visit.visited_at
        )
    except ServiceError:
        return None
    delay = timedelta(minutes=rule.delay_minutes)
    scheduled, created = ScheduledGreeting.objects.get_or_create(
        seller_id=visit.closet_owner_id,
        visitor_id=visit.visitor_id,
        processed_at=None,
        defaults={"due_at": visit.visited_at + delay},
    )
    if created:
        # robust: the visit is recorded; without a broker, beat's send_due_greetings sends it when due.
        transaction.on_commit(
            lambda: tasks.send_scheduled_greeting.apply_async((scheduled.pk,), countdown=delay.total_seconds()),
            robust=True,
        )
    return scheduled


def send_scheduled_greeting(*, scheduled_id: int, now: datetime) -> Greeting | None:
    """Send one scheduled greeting if due and not processed yet (idempotent: a re-delivered task
    finds it processed); a refusal (opted out, greeted meanwhile, rule off...) skips it quietly."""
    with transaction.atomic():
        scheduled = (
            ScheduledGreeting.objects.select_for_update(skip_locked=True)
            .select_related("seller", "visitor")
            .filter(pk=scheduled_id, processed_at__isnull=True, due_at__lte=now)
            .first()
        )
        if scheduled is None:
            return None
        rule = (
            AutoGreeting.objects.select_related("template", "listing")
            .filter(seller_id=scheduled.seller_id, enabled=True)
            .first()
        )
        scheduled.processed_at, scheduled.outcome = now, ScheduledGreeting.Outcome.SKIPPED
        if rule is None:
            scheduled.detail = "automatic greetings were turned off"
        else:
            try:
                with transaction.atomic():  # a refusal undoes this attempt only
                    scheduled.greeting = send_greeting(
                        seller=scheduled.seller,
                        visitor=scheduled.visitor,
                        template=rule.template,
                        listing=rule.listing,
                        automatic=True,
                        now=now,
                    )
                scheduled.outcome = ScheduledGreeting.Outcome.SENT
            except ServiceError as refusal:
                scheduled.detail = refusal.errors[0].message[:200]
        scheduled.save(update_fields=["processed_at", "outcome", "detail", "greeting"])
        return scheduled.greeting


def send_due_greetings(*, now: datetime, limit: int = 1000) -> int:
    """The beat sweep: scheduled greetings due and never processed (a lost task); how many sent."""
    due = list(
        ScheduledGreeting.objects.filter(processed_at__isnull=True, due_at__lte=now)
        .order_by("due_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(send_scheduled_greeting(scheduled_id=pk, now=now) is not None for pk in due)


@transaction.atomic
def offer_to_likers(
    *, seller: User, listing: Listing, amount: Decimal, shipping_discount: Decimal | None = None
) -> OfferToLikers:
    """Send each current liker a private offer through the marketplace's offers (create_offer with
    source OFFER_TO_LIKERS: it enforces the price floor and the 24 h expiry, keeps one pending
    offer per liker and listing, and notifies the liker with kind offer_to_likers).

    The amount is at least the staff's discount (10%) below the list price. A liker with an offer
    pending, or offered within the lookback (90 days) at less than that discount above this
    amount, is skipped, so repeating the call sends nothing twice. All or nothing otherwise: an
    error that is not about one liker (the price floor...) rolls every offer back.
    """
    if listing.seller_id != seller.pk:  # the offers bind the listing's seller: staff may not make them
        raise ServiceError(CommonError.FORBIDDEN, "Only its seller can make offers on this listing.", "listingId")
    if listing.status != Listing.Status.AVAILABLE:
        raise ServiceError(ListingError.LISTING_NOT_AVAILABLE, "This listing is not available.", "listingId")
    # Checked here too, not only by create_offer: with no liker to offer to, the campaign row
    # itself would take a NaN, negative or oversized figure.
    amount = marketplace_services.validated_money(amount, "amount")
    if shipping_discount:
        shipping_discount = marketplace_services.validated_money(shipping_discount, "shipping_discount")
    policy = SellerToolSettings.current()
    percent = policy.liker_offer_min_discount_percent
    ceiling = at_least_below(listing.price, percent)
    if amount > ceiling:
        raise ServiceError(
            CheckoutError.OFFER_TOO_HIGH,
            f"Offer likers at least {percent:g}% off: {ceiling} {listing.currency} or less.",
            "amount",
        )
    liker_ids = selectors.reachable_likers(listing)
    last_offered = selectors.last_offers_to_likers(
        listing, liker_ids, since=timezone.now() - policy.liker_reoffer_lookback
    )
    campaign = OfferToLikers.objects.create(
        listing=listing,
        amount=amount,
        currency=listing.currency,
        shipping_discount=shipping_discount or Decimal("0.00"),
    )
    sent = []
    for liker in User.objects.filter(pk__in=liker_ids).order_by("pk"):
        previous = last_offered.get(liker.pk)
        if previous is not None and amount > at_least_below(previous, percent):
            continue
        try:
            sent.append(
                marketplace_services.create_offer(
                    buyer=liker,
                    listing=listing,
                    amount=amount,
                    source=Offer.Source.OFFER_TO_LIKERS,
                    shipping_discount=shipping_discount,
                )
            )
        except ServiceError as refusal:
            if refusal.errors[0].code is not CheckoutError.OFFER_ALREADY_PENDING:
                raise
    campaign.offers.set(sent)
    campaign.skipped_count = len(liker_ids) - len(sent)
    campaign.save(update_fields=["skipped_count"])
    return campaign


@transaction.atomic
def send_upsell(*, order: Order, listings: list[Listing], note: str = "") -> Upsell:
    """Message the buyer of an order items of the same closet to add to its parcel (no second
    shipping fee, through marketplace's add_to_order), while its add-on window is open; once per
    order. Delivered as a direct message with the items attached and an `upsell` notification."""
    order = Order.objects.select_for_update().select_related("buyer", "seller").get(pk=order.pk)
    if order.status != Order.Status.PAID or timezone.now() >= order.add_on_until:
        raise ServiceError(
            CheckoutError.ADD_ON_WINDOW_CLOSED,
            "Suggestions go out while items can still join the parcel: within a day of purchase, before it ships.",
            "orderId",
        )
    if Upsell.objects.filter(order=order).exists():
        raise ServiceError(
            SellerToolError.UPSELL_ALREADY_SENT, "You already suggested items for this order.", "orderId"
        )
    if not 1 <= len(listings) <= MAX_UPSELL_ITEMS:
        raise ServiceError(CommonError.INVALID, f"Suggest 1 to {MAX_UPSELL_ITEMS} items.", "listingIds")
    in_order = set(order.lines.filter(active=True).values_list("listing_id", flat=True))
    for listing in listings:
        if (
            listing.seller_id != order.seller_id
            or listing.status != Listing.Status.AVAILABLE
            or listing.currency != order.currency
            or listing.pk in in_order
        ):
            raise ServiceError(
                ListingError.LISTING_NOT_AVAILABLE,
                f"“{listing.title}” is not an available item of yours that could join this order.",
                "listingIds",
            )
    note = note.strip() or "These go well with your order: add any of them to the same parcel, no extra shipping."
    message = social_services.send_message(
        sender=order.seller, recipient=order.buyer, body=note, kind=Message.Kind.UPSELL, listings=listings
    )
    return Upsell.objects.create(order=order, message=message)

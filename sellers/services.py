"""Every write of the seller tools (price drops and offers to likers, greetings, upsells) and of
the community programs (their settings, the first-sale shipping discount, nudges, ambassadors,
mentoring)."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Subquery
from django.utils import timezone
from graphql_relay import to_global_id

from accounts.models import User
from config.errors import CommonError, ServiceError
from marketplace import pricing
from marketplace import services as marketplace_services
from marketplace.errors import DJANGO_CODES, CheckoutError, ListingError
from marketplace.models import DiscountSource, DomainEvent, Listing, ListingPriceChange, Offer, Order
from marketplace.pricing import CENT
from notifications import services as notification_services
from notifications.models import Kind
from sellers import selectors, tasks
from sellers.errors import ProgramError, SellerToolError
from sellers.models import (
    AUTO_GREETING_MAX_DELAY_MINUTES,
    PROGRAM_ROW,
    Ambassador,
    AmbassadorProgram,
    AutoGreeting,
    FirstSaleNudge,
    FirstSaleNudgeProgram,
    FirstSaleShippingProgram,
    Greeting,
    GreetingOptOut,
    GreetingTemplate,
    LastGreeting,
    MentoringGroup,
    MentoringProgram,
    MentoringSeat,
    OfferToLikers,
    PriceDropNotice,
    Program,
    ProgramChange,
    ScheduledGreeting,
    SellerToolSettings,
    ShippingSubsidy,
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
    seller,
    visitor,
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


def ensure_greetable(*, seller, visitor, policy: SellerToolSettings, now: datetime) -> None:
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


def render_greeting(text: str, *, visitor, listing: Listing | None) -> str:
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
    *, seller, name: str, body: str, template: GreetingTemplate | None = None
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
    seller,
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


def set_greetings_enabled(*, user, enabled: bool) -> None:
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
    *, seller, listing: Listing, amount: Decimal, shipping_discount: Decimal | None = None
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


# Community programs: settings ------------------------------------------------------------------


@transaction.atomic
def update_program(*, program_class: type[Program], changed_by, **changes) -> Program:
    """Change a program's settings (staff, in the admin or through GraphQL): validated against the
    model's fields and constraints, saved and audited in one transaction, the program's row locked
    meanwhile. The ProgramChange holds each field that really changed with its old and new value;
    a change to nothing is not logged."""
    program_class.current()
    program = program_class.locked()
    before = {name: getattr(program, name) for name in changes}
    for name, value in changes.items():
        if name not in program_class.settings_fields():
            raise ValueError(f"{name} is not a setting of {program_class.__name__}")
        setattr(program, name, value)
    try:
        program.full_clean()
    except ValidationError as exc:
        raise ServiceError.from_validation_error(exc, codes=DJANGO_CODES) from None
    changed = {
        name: {"old": _as_text(before[name]), "new": _as_text(getattr(program, name))}
        for name in changes
        if before[name] != getattr(program, name)
    }
    if changed:
        program.save()
        ProgramChange.objects.create(program=program_class.KEY, changed_by=changed_by, changes=changed)
    return program


def _as_text(value):
    """A setting as the audit keeps it: JSON-ready, exact (decimals and times as text)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


# Community programs: first-sale shipping discount ----------------------------------------------

FIRST_SALE_SHIPPING_DESCRIPTION = "First sale: shipping discount from Closetline"


def first_sale_shipping_discount(basket: pricing.Basket) -> list[pricing.Discount]:
    """The program's pricing rule (in marketplace.pricing.DISCOUNT_RULES): while the seller has no
    sale, their order's shipping is discounted by the program's offer, funded from its budget.

    Checkout prices an order twice, to authorize the payment and then in the order's transaction
    with the seller's row locked; the second reading is exact (no other order of the seller is
    being written), so of two buyers racing for a new seller's first sale one gets the discount
    and the other's charge no longer matches its quote (PRICE_CHANGED, nothing bought)."""
    offer = selectors.first_sale_shipping_offer(
        seller_id=basket.seller_id, currency=basket.currency, now=timezone.now()
    )
    if offer is None:
        return []
    return [
        pricing.Discount(
            DiscountSource.PROGRAM,
            offer,
            pricing.SHIPPING,
            FIRST_SALE_SHIPPING_DESCRIPTION,
            fund=fund_first_sale_shipping,
        )
    ]


def fund_first_sale_shipping(order: Order, amount: Decimal) -> None:
    """Pay a first order's shipping discount from the budget, in the order's transaction: a debit
    in the ledger and `spent` raised by a conditional UPDATE. That UPDATE is the budget's guard:
    concurrent first orders queue on the program's row and each re-checks `spent + amount <=
    budget` once the one before it committed, so the budget is never overspent. An order that no
    longer fits is refused (PRICE_CHANGED; its retry is quoted without the discount)."""
    # Half a cent of slack: whole-cent amounts compare exactly even where decimals are floats (SQLite).
    funded = FirstSaleShippingProgram.objects.filter(
        pk=PROGRAM_ROW, active=True, currency=order.currency, spent__lt=F("budget") - amount + Decimal("0.005")
    ).update(spent=F("spent") + amount)
    if not funded:
        raise ServiceError(
            CheckoutError.PRICE_CHANGED,
            "The first-sale shipping discount has just run out; review the price and try again.",
        )
    ShippingSubsidy.objects.create(
        program_id=PROGRAM_ROW, order=order, entry=ShippingSubsidy.Entry.DEBIT, amount=amount, currency=order.currency
    )


def return_first_sale_subsidy(event: DomainEvent) -> None:
    """order_cancelled: a subsidised order gives its subsidy back to the budget, once (the credit
    is unique per order, so a re-delivered event changes nothing). The seller has no sale again,
    so their listings show the banner again while the program runs."""
    debit = ShippingSubsidy.objects.filter(
        order_id=event.payload["order_id"], entry=ShippingSubsidy.Entry.DEBIT
    ).first()
    if debit is None:
        return
    with transaction.atomic():
        try:
            with transaction.atomic():
                ShippingSubsidy.objects.create(
                    program_id=debit.program_id,
                    order_id=debit.order_id,
                    entry=ShippingSubsidy.Entry.CREDIT,
                    amount=debit.amount,
                    currency=debit.currency,
                )
        except IntegrityError:
            return
        FirstSaleShippingProgram.objects.filter(pk=debit.program_id).update(spent=F("spent") - debit.amount)


# Community programs: first-sale nudges ---------------------------------------------------------


@dataclass(frozen=True)
class NudgeText:
    title: str
    body: str
    suggested_price: Decimal | None = None


@dataclass(frozen=True)
class NudgeRule:
    """One kind of first-sale nudge. `listing(kind, program, now)` is a subquery giving, for a
    seller (OuterRef "pk"), the listing this nudge would be about, or null when it does not apply;
    `text(listing, program)` words the nudge."""

    kind: str
    listing: Callable[[str, FirstSaleNudgeProgram, datetime], Subquery]
    text: Callable[[Listing, FirstSaleNudgeProgram], NudgeText]


def _offer_to_likers_text(listing: Listing, program: FirstSaleNudgeProgram) -> NudgeText:
    likers = f"{listing.like_count} people like" if listing.like_count > 1 else "Someone likes"
    return NudgeText(
        f"{likers} “{listing.title}”",
        "Send them a private offer: an offer to likers is the quickest way to a first sale.",
    )


def _reprice_text(listing: Listing, program: FirstSaleNudgeProgram) -> NudgeText:
    price = at_least_below(listing.price, program.reprice_percent)
    return NudgeText(
        f"Give “{listing.title}” a fresh start",
        f"No new likes or price changes in {program.stale_after_days} days: try {price} "
        f"{listing.currency} to catch buyers' eyes.",
        price,
    )


def _share_text(listing: Listing, program: FirstSaleNudgeProgram) -> NudgeText:
    return NudgeText(
        f"Share “{listing.title}”", "A share puts it at the top of your followers' feeds, where buyers find it."
    )


def _first_show_text(listing: Listing, program: FirstSaleNudgeProgram) -> NudgeText:
    return NudgeText(
        f"Go live with “{listing.title}”",
        "Host a show: your followers are reminded when you go live, and buy while they watch.",
    )


# In priority order: a seller gets the first that applies.
NUDGE_RULES = [
    NudgeRule("offer_to_likers", selectors.listing_for_offer_to_likers, _offer_to_likers_text),
    NudgeRule("reprice", selectors.stale_listing, _reprice_text),
    NudgeRule("share", selectors.listing_to_share, _share_text),
    NudgeRule("show", selectors.listing_for_first_show, _first_show_text),
]


def send_first_sale_nudges(*, now: datetime, batch: int = 500) -> int:
    """The beat task: every seller due a nudge (selectors.sellers_to_nudge: no sale, joined long
    enough ago, none within the cadence) gets one, the first of NUDGE_RULES that applies to them,
    recorded and sent through notify() (kind program_nudge, category programs: the engine's caps,
    quiet hours and opt-outs apply). Each batch holds the program's row, so overlapping runs queue
    instead of breaking the cadence. Returns how many were sent."""
    sent = 0
    while True:
        with transaction.atomic():
            program = FirstSaleNudgeProgram.locked()
            if program is None or not program.is_running(now):
                return sent
            sellers = list(
                selectors.sellers_to_nudge(
                    program, now, {rule.kind: rule.listing(rule.kind, program, now) for rule in NUDGE_RULES}
                )[:batch]
            )
            chosen = [_first_nudge_for(seller) for seller in sellers]
            listings = Listing.objects.in_bulk([listing_id for _, listing_id in chosen])
            texts = [rule.text(listings[listing_id], program) for rule, listing_id in chosen]
            nudges = FirstSaleNudge.objects.bulk_create(
                FirstSaleNudge(
                    seller=seller,
                    kind=rule.kind,
                    listing=listings[listing_id],
                    suggested_price=text.suggested_price,
                    sent_at=now,
                )
                for seller, (rule, listing_id), text in zip(sellers, chosen, texts, strict=False)
            )
            for nudge, text in zip(nudges, texts, strict=False):
                _notify_nudge(nudge, text)
        sent += len(sellers)
        if len(sellers) < batch:
            return sent


def _first_nudge_for(seller) -> tuple[NudgeRule, int]:
    """The first rule that applies to an annotated seller of sellers_to_nudge, and its listing."""
    return next(
        (rule, getattr(seller, f"nudge_{rule.kind}"))
        for rule in NUDGE_RULES
        if getattr(seller, f"nudge_{rule.kind}") is not None
    )


def _notify_nudge(nudge: FirstSaleNudge, text: NudgeText) -> None:
    data = {"nudge": nudge.kind, "listingId": to_global_id("Listing", nudge.listing_id)}
    if text.suggested_price is not None:
        data |= {"suggestedPrice": str(text.suggested_price), "currency": nudge.listing.currency}
    notification_services.notify(
        recipient_ids=[nudge.seller_id],
        kind=Kind.PROGRAM_NUDGE,
        title=text.title,
        body=text.body,
        dedupe_key=f"first_sale_nudge:{nudge.pk}",
        target=nudge.listing,
        data=data,
    )


# Community programs: ambassadors ---------------------------------------------------------------


def refresh_ambassadors(*, now: datetime) -> tuple[int, int]:
    """The beat task: grant ambassador status to every member who meets the staff's bar and revoke
    it from those who no longer do, in set-based SQL over selectors.eligible_ambassadors; those
    granted it are told, and invited to opt in to mentoring. Holds the program's row, so two runs
    never overlap. Returns (granted, revoked)."""
    with transaction.atomic():
        program = AmbassadorProgram.locked()
        if program is None or not program.is_running(now):
            return 0, 0
        eligible = selectors.eligible_ambassadors(program).values("pk")
        revoked = (
            Ambassador.objects.filter(revoked_at__isnull=True).exclude(user_id__in=eligible).update(revoked_at=now)
        )
        returning = list(
            Ambassador.objects.filter(revoked_at__isnull=False, user_id__in=eligible).values_list("user_id", flat=True)
        )
        Ambassador.objects.filter(user_id__in=returning).update(revoked_at=None, granted_at=now)
        new = list(eligible.exclude(pk__in=Ambassador.objects.values("user_id")).values_list("pk", flat=True))
        Ambassador.objects.bulk_create(Ambassador(user_id=user_id, granted_at=now) for user_id in new)
        granted = returning + new
        notification_services.notify(
            recipient_ids=granted,
            kind=Kind.PROGRAM_NUDGE,
            title="You are a Closetline ambassador",
            body="Your closet sets the example. Opt in to mentoring to help new sellers reach their first sale.",
            dedupe_key=f"ambassador_granted:{now.isoformat()}",
        )
    return len(granted), revoked


def set_ambassador_opt_in(*, user, opt_in: bool) -> Ambassador:
    """An ambassador takes part in mentoring groups (or stops: no new group; current ones go on)."""
    if not Ambassador.objects.filter(user=user, revoked_at__isnull=True).update(mentoring_opt_in=opt_in):
        raise ServiceError(ProgramError.NOT_AN_AMBASSADOR, "Mentoring is for ambassadors.", "optIn")
    return Ambassador.objects.get(user=user)


# Community programs: first-sale mentoring ------------------------------------------------------


def join_mentoring(*, mentee, question: str = "") -> MentoringGroup:
    """A seller before their first sale joins mentoring: matched with as many of the best mentor
    candidates as a group takes (selectors.mentor_candidates: balanced load, then shared categories,
    then time zone region), all in a new group conversation; the mentors are told, and the
    mentee's first question, if any, opens the conversation (the mentors are notified of it as of
    every message). Joining again returns the open group. Matching holds the program's row, so
    concurrent joins queue and each sees the loads the one before it left."""
    now = timezone.now()
    with transaction.atomic():
        program = MentoringProgram.locked()
        group = MentoringGroup.objects.filter(mentee=mentee, status=MentoringGroup.Status.OPEN).first()
        if group is not None:
            return group
        if program is None or not program.is_running(now):
            raise ServiceError(ProgramError.PROGRAM_NOT_RUNNING, "Mentoring is not open at the moment.")
        if selectors.completed_orders().filter(seller_id=mentee.pk).exists():
            raise ServiceError(
                ProgramError.FIRST_SALE_ALREADY_MADE,
                "Mentoring is for sellers before their first sale: congratulations on yours!",
            )
        mentor_ids = list(
            selectors.mentor_candidates(mentee, program).values_list("user_id", flat=True)[
                : program.mentors_per_group_max
            ]
        )
        if len(mentor_ids) < program.mentors_per_group_min:
            raise ServiceError(ProgramError.NO_MENTORS_AVAILABLE, "No mentors are free right now; try again soon.")
        conversation = social_services.start_group_conversation(
            title=f"Mentoring @{mentee.username}", member_ids=[mentee.pk, *mentor_ids]
        )
        group = MentoringGroup.objects.create(mentee=mentee, conversation=conversation, created_at=now)
        MentoringSeat.objects.bulk_create(
            MentoringSeat(group=group, mentor_id=mentor_id, created_at=now) for mentor_id in mentor_ids
        )
        notification_services.notify(
            recipient_ids=mentor_ids,
            kind=Kind.PROGRAM_NUDGE,
            title=f"A new seller to mentor: @{mentee.username}",
            body="Say hello in your mentoring group and help them to their first sale.",
            dedupe_key=f"mentoring_group:{group.pk}",
            target=conversation,
            data={"conversationId": to_global_id("Conversation", conversation.pk)},
        )
        if question.strip():
            social_services.send_message(sender=mentee, conversation=conversation, body=question)
    return group


def close_mentoring_groups(*, now: datetime) -> int:
    """The beat task: close the open groups whose mentee made their first sale the program's grace
    ago; their conversations keep their history and take no new messages. Set-based: one UPDATE
    of the groups, one of their conversations."""
    due = selectors.mentoring_groups_due_to_close(now, MentoringProgram.current().grace)
    with transaction.atomic():
        MentoringGroup.objects.filter(pk__in=[group_id for group_id, _ in due]).update(
            status=MentoringGroup.Status.CLOSED, closed_at=now
        )
        social_services.close_group_conversations(
            conversation_ids=[conversation_id for _, conversation_id in due], at=now
        )
    return len(due)

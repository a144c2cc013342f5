"""Orders after purchase: one table of transitions (ship, in transit, deliver, accept, release,
cancel, refund), who may take each and when, the event each records, and auto-acceptance
of delivered orders.

Locks: each transition locks the order row (`_transition`); a cancellation that gives stock back
takes the seller's member row after the order, as the lock order in checkout says.
"""

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from config.errors import CommonError, ServiceError
from marketplace import events, hooks, tasks
from marketplace.errors import CheckoutError
from marketplace.models import DomainEvent, Listing, Order
from marketplace.services._shared import _gid, _lock_member
from marketplace.services.checkout import BINDING_SOURCES
from notifications import services as notification_services
from notifications.models import Kind


class Role(enum.StrEnum):
    BUYER = "buyer"
    SELLER = "seller"
    PLATFORM = "platform"  # periodic tasks, payment failures, carriers' webhooks, staff in the admin


def _anytime(order: Order, now) -> str | None:
    return None


def _unshipped_long_enough(order: Order, now) -> str | None:
    if now >= order.placed_at + settings.ORDER_UNSHIPPED_CANCEL_AFTER:
        return None
    return f"An unshipped order can be cancelled {settings.ORDER_UNSHIPPED_CANCEL_AFTER.days} days after purchase."


def _buyer_may_cancel(order: Order, now) -> str | None:
    if order.source not in BINDING_SOURCES and now < order.placed_at + settings.ORDER_BUYER_CANCEL_WINDOW:
        return None
    if _unshipped_long_enough(order, now) is None:
        return None
    hours = settings.ORDER_BUYER_CANCEL_WINDOW // timedelta(hours=1)
    return (
        f"A purchase can be cancelled within {hours} hours (accepted offers and auctions are binding), "
        f"or once unshipped for {settings.ORDER_UNSHIPPED_CANCEL_AFTER.days} days."
    )


def _delivered_long_enough(order: Order, now) -> str | None:
    if order.delivered_at and now >= order.delivered_at + settings.ORDER_AUTO_ACCEPT_AFTER:
        return None
    return "The buyer has not had the time to check the order yet."


def _platform_may_accept(order: Order, now) -> str | None:
    """Accepting for the buyer once the window passed, unless an app holds the funds (an open case)."""
    return _delivered_long_enough(order, now) or hooks.acceptance_hold(order)


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    stamp: str  # the Order field that records when
    # Who may take it, and when: a role's rule says why not (a message) or None.
    rules: dict[Role, Callable[[Order, datetime], str | None]]
    announce: str  # the DomainEvent recorded with the move
    refused: enum.Enum = CheckoutError.ORDER_TRANSITION_NOT_ALLOWED  # when a rule says not now


_ON_ITS_WAY = frozenset({Order.Status.SHIPPED, Order.Status.IN_TRANSIT})
_SENT = _ON_ITS_WAY | {Order.Status.DELIVERED}

ORDER_TRANSITIONS = {
    "ship": Transition(
        frozenset({Order.Status.PAID}),
        Order.Status.SHIPPED,
        "shipped_at",
        {Role.SELLER: _anytime, Role.PLATFORM: _anytime},
        DomainEvent.Name.ORDER_SHIPPED,
    ),
    "in_transit": Transition(
        frozenset({Order.Status.SHIPPED}),
        Order.Status.IN_TRANSIT,
        "in_transit_at",
        {Role.PLATFORM: _anytime},
        DomainEvent.Name.ORDER_IN_TRANSIT,
    ),
    "deliver": Transition(
        _ON_ITS_WAY,
        Order.Status.DELIVERED,
        "delivered_at",
        {Role.BUYER: _anytime, Role.PLATFORM: _anytime},
        DomainEvent.Name.ORDER_DELIVERED,
    ),
    "accept": Transition(
        _SENT,
        Order.Status.ACCEPTED,
        "accepted_at",
        {Role.BUYER: _anytime, Role.PLATFORM: _platform_may_accept},
        DomainEvent.Name.ORDER_ACCEPTED,
    ),
    # Staff accepting for the buyer whatever holds it (a case resolved for the seller).
    "release": Transition(
        _SENT, Order.Status.ACCEPTED, "accepted_at", {Role.PLATFORM: _anytime}, DomainEvent.Name.ORDER_ACCEPTED
    ),
    "cancel": Transition(
        frozenset({Order.Status.PAID}),
        Order.Status.CANCELLED,
        "cancelled_at",
        {Role.BUYER: _buyer_may_cancel, Role.SELLER: _unshipped_long_enough, Role.PLATFORM: _anytime},
        DomainEvent.Name.ORDER_CANCELLED,
        refused=CheckoutError.CANCELLATION_WINDOW_CLOSED,
    ),
    "refund": Transition(
        _SENT, Order.Status.REFUNDED, "refunded_at", {Role.PLATFORM: _anytime}, DomainEvent.Name.ORDER_REFUNDED
    ),
}

MAX_CARRIER_LENGTH = Order._meta.get_field("carrier").max_length
MAX_REFUND_REASON_LENGTH = Order._meta.get_field("refund_reason").max_length


def ship_order(*, order: Order, actor, tracking_number: str, carrier: str = "") -> Order:
    """The parcel was sent (the seller says so, or the carrier's first scan does): the buyer hears
    of it with the tracking number."""
    tracking_number, carrier = (tracking_number or "").strip(), (carrier or "").strip()
    if not 4 <= len(tracking_number) <= 64:
        raise ServiceError(CommonError.INVALID, "Enter the carrier's tracking number.", "trackingNumber")
    if len(carrier) > MAX_CARRIER_LENGTH:
        raise ServiceError(CommonError.INVALID, f"Name the carrier in {MAX_CARRIER_LENGTH} characters.", "carrier")
    with transaction.atomic():
        order = _transition(order, "ship", actor, tracking_number=tracking_number, carrier=carrier)
        notification_services.notify(
            recipient_ids=[order.buyer_id],
            kind=Kind.ORDER_SHIPPED,
            title="Your order is on its way",
            body=f"Tracking number {tracking_number}.",
            dedupe_key=f"order:{order.pk}:shipped",
            target=order.lines.first().listing,
            data={"orderId": _gid(order)},
        )
    return order


@transaction.atomic
def mark_order_in_transit(*, order: Order, actor) -> Order:
    """The carrier has the parcel moving (its tracking webhook)."""
    return _transition(order, "in_transit", actor)


@transaction.atomic
def mark_order_delivered(*, order: Order, actor) -> Order:
    """The parcel arrived (the buyer says so, or the carrier): the acceptance window starts."""
    return _transition(order, "deliver", actor)


@transaction.atomic
def accept_order(*, order: Order, actor) -> Order:
    """The buyer is happy with the items (the platform accepts for them some days after delivery,
    unless `hooks.ACCEPTANCE_HELD` holds the order)."""
    return _accepted(_transition(order, "accept", actor))


@transaction.atomic
def release_order(*, order: Order, actor) -> Order:
    """Staff (or the platform) accept for the buyer whatever holds the order: a case resolved for the
    seller releases the funds."""
    if actor is not None and not actor.is_staff:
        raise ServiceError(CommonError.FORBIDDEN, "Only staff release an order.", "orderId")
    return _accepted(_transition(order, "release", actor))


def _accepted(order: Order) -> Order:
    if order.delivered_at is None:  # accepted before the delivery scan: it evidently arrived
        order.delivered_at = order.accepted_at
        order.save(update_fields=["delivered_at"])
    return order


def cancel_order(*, order: Order, actor) -> Order:
    """Cancel an unshipped order: its items go back in stock and the buyer's money back."""
    with transaction.atomic():
        order = _transition(order, "cancel", actor)
        _lock_member(order.seller_id)  # the seller's sales ledger: "first sale" reads it
        lines = order.lines.filter(active=True)
        Listing.objects.filter(pk__in=lines.values("listing_id")).update(
            quantity=F("quantity") + 1,
            updated_at=order.cancelled_at,
            status=Case(When(status=Listing.Status.SOLD, then=Value(Listing.Status.AVAILABLE)), default=F("status")),
        )
        lines.update(active=False)
        _settle_payments_on_commit(order)
    return order


def refund_order(*, order: Order, actor, reason: str) -> Order:
    """Give the buyer their money back for an order already sent (a case resolved for them): the
    payments are refunded after commit; the items are not back on sale (they are with the buyer,
    or on their way back)."""
    if actor is not None and not actor.is_staff:
        raise ServiceError(CommonError.FORBIDDEN, "Only staff refund an order.", "orderId")
    reason = (reason or "").strip()
    if not 1 <= len(reason) <= MAX_REFUND_REASON_LENGTH:
        raise ServiceError(CommonError.INVALID, f"Say why, in at most {MAX_REFUND_REASON_LENGTH} characters.", "reason")
    with transaction.atomic():
        order = _transition(order, "refund", actor, refund_reason=reason)
        _settle_payments_on_commit(order)
    return order


def _settle_payments_on_commit(order: Order) -> None:
    payment_ids = list(order.payments.values_list("pk", flat=True))
    transaction.on_commit(lambda: [tasks.settle_payment.delay(pk) for pk in payment_ids], robust=True)


def auto_accept_orders(*, now: datetime) -> int:
    """Accept the orders delivered ORDER_AUTO_ACCEPT_AFTER ago that their buyers did not."""
    due = Order.objects.filter(status=Order.Status.DELIVERED, delivered_at__lte=now - settings.ORDER_AUTO_ACCEPT_AFTER)
    accepted = 0
    for order_id in due.order_by("delivered_at").values_list("pk", flat=True).iterator(chunk_size=500):
        try:
            accept_order(order=Order(pk=order_id), actor=None)
            accepted += 1
        except ServiceError:
            continue  # the buyer accepted (or it changed) meanwhile
    return accepted


def _transition(order: Order, action: str, actor, **changes) -> Order:
    """Lock the order and move it along ORDER_TRANSITIONS with `changes` (other fields set with the
    move), recording the transition's event; or raise a typed error (nothing changed)."""
    transition = ORDER_TRANSITIONS[action]
    order = Order.objects.select_for_update().get(pk=order.pk)
    role = _order_role(order, actor)
    rule = transition.rules.get(role)
    if rule is None:
        raise ServiceError(CommonError.FORBIDDEN, f"The {role} of an order cannot {action} it.")
    if order.status not in transition.sources:
        raise ServiceError(
            CheckoutError.ORDER_TRANSITION_NOT_ALLOWED,
            f"This order is {order.get_status_display().lower()}: it cannot {action} now.",
        )
    now = timezone.now()
    refusal = rule(order, now)
    if refusal:
        raise ServiceError(transition.refused, refusal)
    if action == "cancel":
        changes["cancelled_by"] = str(role)
    for field, value in {"status": transition.target, transition.stamp: now, **changes}.items():
        setattr(order, field, value)
    order.save(update_fields=["status", transition.stamp, *changes])
    events.record(transition.announce, **events.order_payload(order), by=str(role), **changes)
    return order


def _order_role(order: Order, actor) -> Role:
    if actor is None or (actor.is_staff and actor.pk not in (order.buyer_id, order.seller_id)):
        return Role.PLATFORM
    if actor.pk == order.buyer_id:
        return Role.BUYER
    if actor.pk == order.seller_id:
        return Role.SELLER
    raise ServiceError(CommonError.NOT_FOUND, "This order does not exist.", "orderId")

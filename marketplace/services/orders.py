"""Orders after purchase: one table of transitions (ship, deliver, accept, cancel), who may
take each and when, and auto-acceptance of delivered orders.

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
from marketplace import events, tasks
from marketplace.errors import CheckoutError
from marketplace.models import DomainEvent, Listing, Order
from marketplace.services._shared import _gid, _lock_member
from marketplace.services.checkout import BINDING_SOURCES
from notifications import services as notification_services
from notifications.models import Kind


class Role(enum.StrEnum):
    BUYER = "buyer"
    SELLER = "seller"
    PLATFORM = "platform"  # periodic tasks, payment failures, staff in the admin


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


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    stamp: str  # the Order field that records when
    # Who may take it, and when: a role's rule says why not (a message) or None.
    rules: dict[Role, Callable[[Order, datetime], str | None]]
    refused: enum.Enum = CheckoutError.ORDER_TRANSITION_NOT_ALLOWED  # when a rule says not now


ORDER_TRANSITIONS = {
    "ship": Transition(frozenset({Order.Status.PAID}), Order.Status.SHIPPED, "shipped_at", {Role.SELLER: _anytime}),
    "deliver": Transition(
        frozenset({Order.Status.SHIPPED}),
        Order.Status.DELIVERED,
        "delivered_at",
        {Role.BUYER: _anytime, Role.PLATFORM: _anytime},
    ),
    "accept": Transition(
        frozenset({Order.Status.SHIPPED, Order.Status.DELIVERED}),
        Order.Status.ACCEPTED,
        "accepted_at",
        {Role.BUYER: _anytime, Role.PLATFORM: _delivered_long_enough},
    ),
    "cancel": Transition(
        frozenset({Order.Status.PAID}),
        Order.Status.CANCELLED,
        "cancelled_at",
        {Role.BUYER: _buyer_may_cancel, Role.SELLER: _unshipped_long_enough, Role.PLATFORM: _anytime},
        refused=CheckoutError.CANCELLATION_WINDOW_CLOSED,
    ),
}


def ship_order(*, order: Order, actor, tracking_number: str) -> Order:
    """The seller sent the parcel: the buyer hears of it with the tracking number."""
    tracking_number = (tracking_number or "").strip()
    if not 4 <= len(tracking_number) <= 64:
        raise ServiceError(CommonError.INVALID, "Enter the carrier's tracking number.", "trackingNumber")
    with transaction.atomic():
        order = _transition(order, "ship", actor)
        order.tracking_number = tracking_number
        order.save(update_fields=["tracking_number"])
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
def mark_order_delivered(*, order: Order, actor) -> Order:
    return _transition(order, "deliver", actor)


@transaction.atomic
def accept_order(*, order: Order, actor) -> Order:
    """The buyer is happy with the items (the platform accepts for them some days after delivery)."""
    order = _transition(order, "accept", actor)
    if order.delivered_at is None:  # accepted straight from shipped: it evidently arrived
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
        events.record(
            DomainEvent.Name.ORDER_CANCELLED,
            order_id=order.pk,
            buyer_id=order.buyer_id,
            seller_id=order.seller_id,
            cancelled_by=order.cancelled_by,
        )
        payment_ids = list(order.payments.values_list("pk", flat=True))
        transaction.on_commit(lambda: [tasks.settle_payment.delay(pk) for pk in payment_ids], robust=True)
    return order


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


def _transition(order: Order, action: str, actor) -> Order:
    """Lock the order and move it along ORDER_TRANSITIONS, or raise a typed error (nothing changed)."""
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
    order.status = transition.target
    setattr(order, transition.stamp, now)
    fields = ["status", transition.stamp]
    if action == "cancel":
        order.cancelled_by = role
        fields.append("cancelled_by")
    order.save(update_fields=fields)
    return order


def _order_role(order: Order, actor) -> Role:
    if actor is None or (actor.is_staff and actor.pk not in (order.buyer_id, order.seller_id)):
        return Role.PLATFORM
    if actor.pk == order.buyer_id:
        return Role.BUYER
    if actor.pk == order.seller_id:
        return Role.SELLER
    raise ServiceError(CommonError.NOT_FOUND, "This order does not exist.", "orderId")

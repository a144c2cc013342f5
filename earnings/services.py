"""Every write of earnings: the ledger booked from the marketplace's order events, payouts and
payout accounts.

The ledger follows an order whatever order its events arrive in, and however often: each handler
first brings the sale, the seller's shipping subsidy and the commission to what the order now says
(a refund may be dispatched before the placement, an add-on grows the order), and each entry's
`key` (order:12:sale) is unique, so a re-delivered event books nothing twice. An accepted order's
entries move from pending to available; a cancelled or refunded one gets one refund entry that
nets its sale, subsidy and commission to zero (in the state its sale is in).

Locks: every booking locks the seller's `EarningsAccount` of the entry's currency (all of an
order's entries are in one), books entries and moves its balance columns in one transaction, so
the columns always equal the sum of the entries. A payout is claimed with a conditional UPDATE of
its status before the provider is called, outside any lock (like marketplace's settle_payment).
"""

import logging
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from graphql_relay import to_global_id

from config.errors import CommonError, ServiceError
from earnings import payouts, tasks
from earnings.errors import EarningsError
from earnings.models import EarningsAccount, EarningsSettings, LedgerEntry, Payout, PayoutAccount
from marketplace.models import DiscountSource, DiscountTarget, DomainEvent, Order
from notifications import services as notification_services
from notifications.models import Kind as NotificationKind

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
Kind, State = LedgerEntry.Kind, LedgerEntry.State
ORDER_KINDS = (Kind.SALE, Kind.SHIPPING_SUBSIDY, Kind.COMMISSION)  # what a sale books, and a refund nets


# The commission rule -----------------------------------------------------------------------------


def commission_for(amount: Decimal, rule: EarningsSettings) -> Decimal:
    """What Closetline keeps of a sale: the flat fee below the threshold, the percentage at or above
    it; never more than the sale."""
    if amount < rule.commission_threshold:
        fee = rule.commission_flat_fee
    else:
        fee = (amount * rule.commission_percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    return min(fee, amount)


def seller_owed(order: Order) -> dict[str, Decimal]:
    """The order's entries for its seller: the items as the buyer paid them (less the seller's own
    discounts on them; a program's discount is Closetline's), the share of the label fee the seller
    offered to pay (their shipping discount, a shipping subsidy), and the commission on what is left
    to them. The buyer's shipping fee pays for the label."""
    own = [discount for discount in order.discounts.all() if discount.source != DiscountSource.PROGRAM]
    on_items = sum((d.amount for d in own if d.applies_to == DiscountTarget.ITEMS), Decimal("0.00"))
    on_shipping = sum((d.amount for d in own if d.applies_to == DiscountTarget.SHIPPING), Decimal("0.00"))
    sale = max(order.item_total - on_items, Decimal("0.00"))
    owed = {
        Kind.SALE: sale,
        Kind.COMMISSION: -commission_for(max(sale - on_shipping, Decimal("0.00")), EarningsSettings.current()),
    }
    if on_shipping:
        owed[Kind.SHIPPING_SUBSIDY] = -on_shipping
    return owed


# The ledger ---------------------------------------------------------------------------------------


def _lock_account(seller_id: int, currency: str) -> EarningsAccount:
    EarningsAccount.objects.get_or_create(seller_id=seller_id, currency=currency)
    return EarningsAccount.objects.select_for_update().get(seller_id=seller_id, currency=currency)


def _book(account: EarningsAccount, *, kind: str, amount: Decimal, state: str, key: str, now: datetime, **links):
    """Write one entry and move the account's columns by it (the account is locked by the caller)."""
    entry = LedgerEntry.objects.create(
        seller_id=account.seller_id,
        currency=account.currency,
        kind=kind,
        amount=amount,
        state=state,
        key=key,
        created_at=now,
        available_at=now if state == State.AVAILABLE else None,
        **links,
    )
    column = "pending" if state == State.PENDING else "available"
    changes = {column: F(column) + amount, "updated_at": now}
    if kind in (Kind.PAYOUT, Kind.REVERSAL):
        changes["paid_out"] = F("paid_out") - amount
    EarningsAccount.objects.filter(pk=account.pk).update(**changes)
    return entry


def _order_key(order_id: int, kind: str) -> str:
    return f"order:{order_id}:{kind}"


def _book_sale(account: EarningsAccount, order: Order, event_id: int, now: datetime) -> None:
    """Bring the order's sale and commission entries to what the order now says (its add-ons
    included), unless it was refunded: the first booking, then an adjustment keyed by the event
    that found the order grown. An event handled late finds nothing left to book."""
    if LedgerEntry.objects.filter(key=_order_key(order.pk, Kind.REFUND)).exists():
        return
    booked = dict(
        LedgerEntry.objects.filter(order=order, kind__in=ORDER_KINDS).values_list("kind").annotate(total=Sum("amount"))
    )
    owed = seller_owed(order)
    released = LedgerEntry.objects.filter(order=order, kind=Kind.SALE, state=State.AVAILABLE).exists()
    for kind, amount in owed.items():
        if kind not in booked:
            key = _order_key(order.pk, kind)
        elif amount != booked[kind]:
            key, amount = f"{_order_key(order.pk, kind)}:{event_id}", amount - booked[kind]
        else:
            continue
        state = State.AVAILABLE if released else State.PENDING
        _book(account, kind=kind, amount=amount, state=state, key=key, now=now, order=order)


def _release(account: EarningsAccount, order: Order, now: datetime) -> None:
    """The buyer accepted: the order's pending entries (a refund booked before the acceptance
    arrived included, so they still net to zero) become available."""
    pending = LedgerEntry.objects.filter(order=order, state=State.PENDING)
    moved = pending.aggregate(total=Sum("amount"))["total"]
    if moved is None:
        return
    pending.update(state=State.AVAILABLE, available_at=now)
    EarningsAccount.objects.filter(pk=account.pk).update(
        pending=F("pending") - moved, available=F("available") + moved, updated_at=now
    )


def _refund(account: EarningsAccount, order: Order, now: datetime) -> None:
    """The buyer got their money back: one entry netting the sale and commission to zero, in the
    state the sale is in (pending before acceptance; taken from the available balance after)."""
    key = _order_key(order.pk, Kind.REFUND)
    if LedgerEntry.objects.filter(key=key).exists():
        return
    booked = LedgerEntry.objects.filter(order=order, kind__in=ORDER_KINDS)
    net = booked.aggregate(total=Sum("amount"))["total"] or Decimal("0.00")
    released = booked.filter(kind=Kind.SALE, state=State.AVAILABLE).exists()
    state = State.AVAILABLE if released else State.PENDING
    _book(account, kind=Kind.REFUND, amount=-net, state=state, key=key, now=now, order=order)


def _order_step(*steps):
    """An event handler: lock the order's seller account, book the sale as the order now stands
    (whichever of its events comes first), then each step. Money comes from the order, never from
    the event's payload."""

    def handle(event: DomainEvent) -> None:
        order = Order.objects.prefetch_related("discounts").filter(pk=event.payload["order_id"]).first()
        if order is None:
            logger.warning("Event %s names an order that does not exist.", event.pk)
            return
        now = timezone.now()
        with transaction.atomic():
            account = _lock_account(order.seller_id, order.currency)
            _book_sale(account, order, event.pk, now)
            for step in steps:
                step(account, order, now)

    return handle


# Shipping, transit and delivery change no money: the ledger waits for acceptance or a refund.
ORDER_EVENT_HANDLERS = {
    DomainEvent.Name.ORDER_PLACED: _order_step(),
    DomainEvent.Name.ORDER_ITEM_ADDED: _order_step(),
    DomainEvent.Name.ORDER_ACCEPTED: _order_step(_release),
    DomainEvent.Name.ORDER_CANCELLED: _order_step(_refund),
    DomainEvent.Name.ORDER_REFUNDED: _order_step(_refund),
}


# Payout accounts ----------------------------------------------------------------------------------


def connect_payout_account(*, seller, country: str) -> tuple[PayoutAccount, str]:
    """The seller's connected account (created at the provider once, whatever the retries) and a
    link where they complete it; a link expires, so each call makes a new one."""
    country = (country or "").strip().upper()
    if len(country) != 2 or not country.isalpha():
        raise ServiceError(CommonError.INVALID, "Give the two-letter code of your country.", "country")
    provider = payouts.provider()
    try:
        account = PayoutAccount.objects.filter(seller=seller).first()
        if account is None:
            account_id = provider.create_account(
                email=seller.email, country=country, idempotency_key=f"payout-account:{seller.pk}"
            )
            account = _save_payout_account(seller, account_id)
        url = payouts.provider(account.provider).onboarding_link(account_id=account.account_id)
    except payouts.PayoutUnavailable:
        raise ServiceError(
            EarningsError.PAYOUT_PROVIDER_UNAVAILABLE, "Payouts cannot be set up right now; try again shortly."
        ) from None
    return account, url


def _save_payout_account(seller, account_id: str) -> PayoutAccount:
    try:
        with transaction.atomic():
            return PayoutAccount.objects.create(seller=seller, provider=settings.PAYOUT_PROVIDER, account_id=account_id)
    except IntegrityError:  # a concurrent request saved it (the idempotency key gave it the same id)
        return PayoutAccount.objects.get(seller=seller)


# Payouts ------------------------------------------------------------------------------------------


def request_payout(*, seller, currency: str) -> Payout:
    """Pay out the seller's whole available balance in `currency` to their payout account: the payout
    entry takes the balance to zero in this transaction, and the provider is called after commit."""
    currency = (currency or "").strip().upper()
    account = PayoutAccount.objects.filter(seller=seller).first()
    if account is None:
        raise ServiceError(EarningsError.NO_PAYOUT_ACCOUNT, "Connect a payout account first.")
    minimum = EarningsSettings.current().payout_minimum
    with transaction.atomic():
        balance = EarningsAccount.objects.select_for_update().filter(seller=seller, currency=currency).first()
        available = balance.available if balance else Decimal("0.00")
        if available <= 0:
            raise ServiceError(EarningsError.NOTHING_TO_PAY_OUT, "You have nothing to pay out yet.", "currency")
        if available < minimum:
            raise ServiceError(
                EarningsError.BELOW_PAYOUT_MINIMUM, f"Payouts start at {minimum} {currency}.", "currency"
            )
        now = timezone.now()
        payout = Payout.objects.create(
            seller=seller,
            currency=currency,
            amount=available,
            provider=account.provider,
            destination=account.account_id,
            created_at=now,
            updated_at=now,
        )
        _book(
            balance,
            kind=Kind.PAYOUT,
            amount=-available,
            state=State.AVAILABLE,
            key=f"payout:{payout.pk}",
            now=now,
            payout=payout,
        )
        transaction.on_commit(lambda: tasks.send_payout.delay(payout.pk), robust=True)
    return payout


def send_payout(*, payout_id: int) -> None:
    """Call the provider for a requested payout, once: the REQUESTED → SENDING move is the claim,
    and the transfer's idempotency key is the payout's id, so a retried call never pays twice. A
    refusal fails the payout and gives its amount back to the available balance."""
    if not _move_payout(payout_id, Payout.Status.REQUESTED, Payout.Status.SENDING):
        return  # sent, failed, or another run is sending it
    payout = Payout.objects.get(pk=payout_id)
    try:
        reference = payouts.provider(payout.provider).transfer(
            account_id=payout.destination,
            amount=payout.amount,
            currency=payout.currency,
            idempotency_key=f"payout:{payout.pk}",
        )
    except payouts.PayoutRefused as refused:
        _fail_payout(payout, str(refused)[:200])
    except BaseException:
        # The provider was not reached, or its answer was lost: back to where a retry (or the sweep)
        # calls again with the same idempotency key.
        _move_payout(payout.pk, Payout.Status.SENDING, Payout.Status.REQUESTED)
        raise
    else:
        paid = _move_payout(
            payout.pk, Payout.Status.SENDING, Payout.Status.PAID, reference=reference, paid_at=timezone.now()
        )
        if paid:
            _tell_seller(
                payout, "paid", "Your payout is on its way", f"{payout.amount} {payout.currency} to your account."
            )


def _fail_payout(payout: Payout, detail: str) -> None:
    with transaction.atomic():
        balance = _lock_account(payout.seller_id, payout.currency)
        if not _move_payout(payout.pk, Payout.Status.SENDING, Payout.Status.FAILED, detail=detail):
            return
        _book(
            balance,
            kind=Kind.REVERSAL,
            amount=payout.amount,
            state=State.AVAILABLE,
            key=f"payout:{payout.pk}:reversal",
            now=timezone.now(),
            payout=payout,
        )
        _tell_seller(payout, "failed", "Your payout could not be sent", f"{detail} The amount is back in your balance.")


def _tell_seller(payout: Payout, outcome: str, title: str, body: str) -> None:
    notification_services.notify(
        recipient_ids=[payout.seller_id],
        kind=NotificationKind.SYSTEM,
        title=title,
        body=body,
        dedupe_key=f"payout:{payout.pk}:{outcome}",
        data={"payoutId": to_global_id("Payout", payout.pk)},
    )


def _move_payout(payout_id: int, from_status: str, to_status: str, **fields) -> bool:
    return bool(
        Payout.objects.filter(pk=payout_id, status=from_status).update(
            status=to_status, updated_at=timezone.now(), **fields
        )
    )


def stalled_payouts(*, now: datetime) -> list[int]:
    """Payouts left requested or sending for CHECKOUT_SWEEP_GRACE (a lost task, a killed worker),
    put back where send_payout takes them again; their ids."""
    stalled = Payout.objects.filter(updated_at__lt=now - settings.CHECKOUT_SWEEP_GRACE)
    caught = list(stalled.filter(status=Payout.Status.SENDING).values_list("pk", flat=True)[:1000])
    Payout.objects.filter(pk__in=caught, status=Payout.Status.SENDING).update(
        status=Payout.Status.REQUESTED, updated_at=now
    )
    waiting = stalled.filter(status=Payout.Status.REQUESTED).values_list("pk", flat=True)[:1000]
    return sorted({*caught, *waiting})


def scheduled_payouts(*, now: datetime) -> int:
    """Pay out every connected seller's available balance of at least the minimum, on the days the
    schedule staff set says (daily, or on its weekday); the number of payouts requested."""
    rule = EarningsSettings.current()
    if rule.payout_schedule == EarningsSettings.Schedule.MANUAL:
        return 0
    if rule.payout_schedule == EarningsSettings.Schedule.WEEKLY and now.weekday() != rule.payout_weekday:
        return 0
    due = EarningsAccount.objects.filter(
        available__gte=rule.payout_minimum, seller__payout_account__isnull=False
    ).select_related("seller")
    requested = 0
    for balance in due.order_by("pk").iterator(chunk_size=500):
        try:
            request_payout(seller=balance.seller, currency=balance.currency)
            requested += 1
        except ServiceError:
            continue  # paid out (or refunded below the minimum) meanwhile
    return requested

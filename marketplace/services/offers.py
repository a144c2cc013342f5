"""Offers: made on a listing or a bundle, countered, accepted (into an order through checkout),
declined, withdrawn and expired.

Locks: a new offer holds the seller's member row before the offer rows, an acceptance goes through
checkout's lock order; answers and withdrawals lock the offer (`_lock_for_answer`), expiry skips
offers locked elsewhere.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.errors import CommonError, ServiceError
from marketplace import events, pricing
from marketplace.errors import CheckoutError
from marketplace.models import Bundle, DomainEvent, Listing, Offer, Order
from marketplace.services._shared import _gid, _lock_member, validated_money
from marketplace.services.checkout import (
    _bundle_listings,
    _buy_bundle,
    _buy_listing,
    _check_single_currency,
    _shipping_address,
)
from marketplace.services.idempotency import _idempotent, _keyed, _Request
from marketplace.services.listings import _check_buyable
from notifications import services as notification_services
from notifications.models import Kind


def create_offer(
    *,
    buyer,
    listing: Listing,
    amount: Decimal,
    source: str = Offer.Source.BUYER_OFFER,
    shipping_discount: Decimal | None = None,
    idempotency_key: str | None = None,
) -> Offer:
    """Open a negotiation on a listing. A buyer's offer (BUYER_OFFER) is binding: the seller may
    accept it at once, so the buyer needs a default address; a seller's offer to a liker
    (OFFER_TO_LIKERS) waits for the liker. Either way: at least OFFER_MIN_PERCENT of the list
    price and below it; one pending offer per buyer and listing; it expires after OFFER_LIFETIME.
    `shipping_discount` comes off the label fee if accepted. With a key, a retry returns the first offer."""
    amount = validated_money(amount, "amount")
    request = (
        _keyed(
            buyer,
            idempotency_key,
            "offer",
            listing=listing.pk,
            amount=amount,
            source=source,
            shipping_discount=shipping_discount,
        )
        if idempotency_key is not None
        else None
    )

    def make() -> Offer:
        current = Listing.objects.get(pk=listing.pk)
        _check_buyable(buyer, current)
        return _open_offer(
            buyer=buyer,
            seller_id=current.seller_id,
            listing=current,
            bundle=None,
            list_price=current.price,
            currency=current.currency,
            amount=amount,
            source=Offer.Source(source),
            shipping_discount=shipping_discount,
            request=request,
        )

    return _idempotent(request, make)


def make_bundle_offer(*, buyer, bundle: Bundle, amount: Decimal, idempotency_key: str | None = None) -> Offer:
    """Offer a price for the whole of an open bundle (the same rules as create_offer, on the sum of
    its items' prices); while it is pending the bundle cannot change."""
    amount = validated_money(amount, "amount")
    if bundle.buyer_id != buyer.pk:
        raise ServiceError(CommonError.NOT_FOUND, "This bundle does not exist.", "bundleId")
    request = (
        _keyed(buyer, idempotency_key, "bundle_offer", bundle=bundle.pk, amount=amount)
        if idempotency_key is not None
        else None
    )

    def make() -> Offer:
        if bundle.status != Bundle.Status.OPEN:
            raise ServiceError(CheckoutError.BUNDLE_ALREADY_ORDERED, "This bundle was already checked out.", "bundleId")
        listings = _bundle_listings(bundle)
        for listing in listings:
            _check_buyable(buyer, listing)
        _check_single_currency(listings)
        return _open_offer(
            buyer=buyer,
            seller_id=bundle.seller_id,
            listing=None,
            bundle=bundle,
            list_price=sum(listing.price for listing in listings),
            currency=listings[0].currency,
            amount=amount,
            source=Offer.Source.BUYER_OFFER,
            shipping_discount=None,
            request=request,
        )

    return _idempotent(request, make)


def _open_offer(
    *,
    buyer,
    seller_id: int,
    listing: Listing | None,
    bundle: Bundle | None,
    list_price: Decimal,
    currency: str,
    amount: Decimal,
    source: str,
    shipping_discount: Decimal | None,
    request: _Request | None,
) -> Offer:
    floor = _offer_floor(list_price)
    if amount < floor:
        raise ServiceError(CheckoutError.OFFER_TOO_LOW, f"Offer at least {floor} {currency}.", "amount")
    if amount >= list_price:
        raise ServiceError(CheckoutError.OFFER_TOO_HIGH, "Offer less than the price, or buy it now.", "amount")
    shipping_discount = (
        validated_money(shipping_discount, "shipping_discount") if shipping_discount else Decimal("0.00")
    )
    from_buyer = source == Offer.Source.BUYER_OFFER
    if from_buyer:
        _shipping_address(buyer, None)  # binding: the seller's acceptance ships it there
    now = timezone.now()
    with transaction.atomic():
        record = request.claim() if request else None
        _lock_member(seller_id)
        pending = Offer.objects.select_for_update().filter(status=Offer.Status.PENDING, buyer=buyer)
        pending = pending.filter(listing=listing) if listing else pending.filter(bundle=bundle)
        for stale in pending.filter(expires_at__lte=now):
            _expire(stale)
        if pending.filter(expires_at__gt=now).exists():
            raise ServiceError(
                CheckoutError.OFFER_ALREADY_PENDING,
                "You already have an offer waiting on this.",
                "listingId" if listing else "bundleId",
            )
        offer = Offer.objects.create(
            listing=listing,
            bundle=bundle,
            buyer=buyer,
            seller_id=seller_id,
            source=source,
            currency=currency,
            list_price=list_price,
            turn=Offer.Party.SELLER if from_buyer else Offer.Party.BUYER,
            buyer_amount=amount if from_buyer else None,
            seller_amount=list_price if from_buyer else amount,
            shipping_discount=shipping_discount,
            expires_at=now + settings.OFFER_LIFETIME,
            created_at=now,
            updated_at=now,
        )
        if record:
            record.offer = offer
            record.save(update_fields=["offer"])
        recipient_id = seller_id if from_buyer else buyer.pk
        events.record(
            DomainEvent.Name.OFFER_RECEIVED,
            **_offer_facts(offer),
            recipient_id=recipient_id,
            amount=str(amount),
            currency=currency,
            source=source,
        )
        notification_services.notify(
            recipient_ids=[recipient_id],
            kind=Kind.OFFER_RECEIVED if from_buyer else Kind.OFFER_TO_LIKERS,
            title=f"Offer: {amount} {currency}",
            body=f"On {_offer_subject(offer)}. It expires in 24 hours.",
            dedupe_key=f"offer:{offer.pk}:received",
            target=listing,
            data={"offerId": _gid(offer)},
        )
    return offer


def respond_to_offer(*, offer: Offer, actor, action: str, amount: Decimal | None = None) -> Offer:
    """The party whose turn it is accepts (which buys the item at the offer's amount and is
    binding), declines, or counters with an amount strictly between the two sides' latest figures
    (the other side's turn then, for a fresh OFFER_LIFETIME)."""
    party = _offer_party(offer, actor)
    if action == "accept":
        _accept_offer(offer, party)
    elif action == "decline":
        _decline_offer(offer, party)
    elif action == "counter":
        _counter_offer(offer, party, validated_money(amount, "amount") if amount is not None else None)
    else:
        raise ValueError(f"unknown offer action {action}")
    return Offer.objects.get(pk=offer.pk)


@transaction.atomic
def withdraw_offer(*, offer: Offer, actor) -> Offer:
    """Take back what you proposed, while the other side has not answered."""
    party = _offer_party(offer, actor)
    offer = Offer.objects.select_for_update().get(pk=offer.pk)
    _check_pending(offer)
    if offer.turn == party:
        raise ServiceError(
            CheckoutError.NOT_YOUR_TURN, "This offer waits for your answer: decline it instead.", "offerId"
        )
    offer.status, offer.updated_at = Offer.Status.WITHDRAWN, timezone.now()
    offer.save(update_fields=["status", "updated_at"])
    return offer


def expire_offers(*, now: datetime, batch: int = 500) -> int:
    """Mark expired the pending offers past their time (the periodic task; reads and acts check
    the time themselves, so an offer is expired on time even before this runs)."""
    expired = 0
    while True:
        with transaction.atomic():
            due = list(
                Offer.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(status=Offer.Status.PENDING, expires_at__lte=now)
                .select_related("listing", "bundle")[:batch]
            )
            for offer in due:
                _expire(offer)
        expired += len(due)
        if len(due) < batch:
            return expired


@dataclass(frozen=True)
class _Acceptance:
    """An offer being accepted by `party`, settled inside the purchase's transaction."""

    offer: Offer
    party: str

    def claim(self) -> None:
        """Lock the offer and check it is still this party's to accept, at the amount quoted."""
        offer = Offer.objects.select_for_update().get(pk=self.offer.pk)
        _check_pending(offer)
        _check_turn(offer, self.party)
        if offer.amount != self.offer.amount:
            raise ServiceError(CheckoutError.PRICE_CHANGED, "The offer changed meanwhile.", "offerId")
        Offer.objects.filter(pk=offer.pk).update(status=Offer.Status.ACCEPTED, updated_at=timezone.now())

    def settle(self, order: Order) -> None:
        Offer.objects.filter(pk=self.offer.pk).update(order=order)
        offer = self.offer
        events.record(
            DomainEvent.Name.OFFER_ACCEPTED,
            **_offer_facts(offer),
            order_id=order.pk,
            amount=str(offer.amount),
            currency=offer.currency,
        )
        # The seller hears "sold" from the order; a buyer accepting a counter needs no news.
        if self.party == Offer.Party.SELLER:
            notification_services.notify(
                recipient_ids=[offer.buyer_id],
                kind=Kind.OFFER_ACCEPTED,
                title="Your offer was accepted",
                body=f"{_offer_subject(offer)} is yours for {offer.amount} {offer.currency}.",
                dedupe_key=f"offer:{offer.pk}:accepted",
                target=offer.listing,
                data={"offerId": _gid(offer), "orderId": _gid(order)},
            )


def _accept_offer(offer: Offer, party: str) -> Order:
    # The key makes one order per offer, and a retried acceptance returns it.
    request = _keyed(offer.buyer, f"offer:{offer.pk}", "accept_offer", offer=offer.pk)

    def accept() -> Order:
        _check_pending(offer)
        _check_turn(offer, party)
        accepting = _Acceptance(offer=offer, party=party)
        if offer.listing_id:
            return _buy_listing(
                buyer=offer.buyer,
                listing=offer.listing,
                request=request,
                price=offer.amount,
                source=Order.Source.OFFER,
                accepting=accepting,
            )
        return _buy_bundle(bundle=offer.bundle, request=request, accepting=accepting)

    return _idempotent(request, accept)


@transaction.atomic
def _decline_offer(offer: Offer, party: str) -> None:
    offer = _lock_for_answer(offer, party)
    offer.status, offer.updated_at = Offer.Status.DECLINED, timezone.now()
    offer.save(update_fields=["status", "updated_at"])
    other = _other_party_id(offer, party)
    events.record(DomainEvent.Name.OFFER_DECLINED, **_offer_facts(offer), recipient_id=other)
    notification_services.notify(
        recipient_ids=[other],
        kind=Kind.OFFER_DECLINED,
        title="Your offer was declined",
        body=f"On {_offer_subject(offer)}.",
        dedupe_key=f"offer:{offer.pk}:declined",
        target=offer.listing,
        data={"offerId": _gid(offer)},
    )


@transaction.atomic
def _counter_offer(offer: Offer, party: str, amount: Decimal | None) -> None:
    if amount is None:
        raise ServiceError(CommonError.REQUIRED, "A counter needs an amount.", "amount")
    offer = _lock_for_answer(offer, party)
    floor = _offer_floor(offer.list_price)
    if amount < floor or (offer.buyer_amount is not None and amount <= offer.buyer_amount):
        raise ServiceError(
            CheckoutError.OFFER_TOO_LOW, f"Counter above {offer.buyer_amount or floor} {offer.currency}.", "amount"
        )
    if amount >= offer.seller_amount:
        raise ServiceError(
            CheckoutError.OFFER_TOO_HIGH, f"Counter below {offer.seller_amount} {offer.currency}.", "amount"
        )
    now = timezone.now()
    setattr(offer, f"{party}_amount", amount)
    offer.turn = Offer.Party.BUYER if party == Offer.Party.SELLER else Offer.Party.SELLER
    offer.counter_count += 1
    offer.expires_at, offer.updated_at = now + settings.OFFER_LIFETIME, now
    offer.save(update_fields=[f"{party}_amount", "turn", "counter_count", "expires_at", "updated_at"])
    other = _other_party_id(offer, party)
    events.record(
        DomainEvent.Name.OFFER_COUNTERED,
        **_offer_facts(offer),
        recipient_id=other,
        amount=str(amount),
        currency=offer.currency,
    )
    notification_services.notify(
        recipient_ids=[other],
        kind=Kind.OFFER_COUNTERED,
        title=f"Counter offer: {amount} {offer.currency}",
        body=f"On {_offer_subject(offer)}. It expires in 24 hours.",
        dedupe_key=f"offer:{offer.pk}:counter:{offer.counter_count}",
        target=offer.listing,
        data={"offerId": _gid(offer)},
    )


def _expire(offer: Offer) -> None:
    """Mark a locked, pending offer past its time expired, and tell its buyer."""
    offer.status = Offer.Status.EXPIRED
    offer.save(update_fields=["status"])
    events.record(DomainEvent.Name.OFFER_EXPIRED, **_offer_facts(offer))
    notification_services.notify(
        recipient_ids=[offer.buyer_id],
        kind=Kind.OFFER_EXPIRED,
        title="An offer expired",
        body=f"On {_offer_subject(offer)}.",
        dedupe_key=f"offer:{offer.pk}:expired",
        target=offer.listing,
        data={"offerId": _gid(offer)},
    )


def _lock_for_answer(offer: Offer, party: str) -> Offer:
    offer = Offer.objects.select_for_update(of=("self",)).select_related("listing").get(pk=offer.pk)
    _check_pending(offer)
    _check_turn(offer, party)
    return offer


def _check_pending(offer: Offer) -> None:
    status = offer.status_at(timezone.now())
    if status != Offer.Status.PENDING:
        raise ServiceError(
            CheckoutError.OFFER_NOT_PENDING,
            f"This offer is {Offer.Status(status).label.lower()}; it cannot change.",
            "offerId",
        )


def _check_turn(offer: Offer, party: str) -> None:
    if offer.turn != party:
        raise ServiceError(CheckoutError.NOT_YOUR_TURN, "This offer waits for the other side's answer.", "offerId")


def _offer_party(offer: Offer, actor) -> str:
    if actor.pk == offer.buyer_id:
        return Offer.Party.BUYER
    if actor.pk == offer.seller_id:
        return Offer.Party.SELLER
    raise ServiceError(CommonError.NOT_FOUND, "This offer does not exist.", "offerId")


def _other_party_id(offer: Offer, party: str) -> int:
    return offer.seller_id if party == Offer.Party.BUYER else offer.buyer_id


def _offer_floor(list_price: Decimal) -> Decimal:
    return pricing.percent_of(list_price, settings.OFFER_MIN_PERCENT)


def _offer_facts(offer: Offer) -> dict:
    return {"offer_id": offer.pk, "buyer_id": offer.buyer_id, "seller_id": offer.seller_id}


def _offer_subject(offer: Offer) -> str:
    return offer.listing.title if offer.listing_id else "a bundle"

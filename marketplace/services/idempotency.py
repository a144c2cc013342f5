"""Idempotency keys: a client's key claimed once per request, a retry answered with the first
result (`_keyed` builds the request, `_idempotent` runs a write under it).

Locks: the key row is the first lock of a request (see the lock order in checkout).
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from accounts.models import User
from config.errors import CommonError, ServiceError
from marketplace.errors import CheckoutError
from marketplace.models import IdempotencyKey, Offer, Order

MAX_KEY_LENGTH = 100


class _KeyTaken(Exception):
    """A concurrent request with the same key committed first."""


@dataclass(frozen=True)
class _Request:
    """A write under a client's idempotency key: the key, and the fingerprint of its input."""

    user: User
    key: str
    fingerprint: str
    # What the buyer's payment sheet collected (a confirmation token or payment method id), for the
    # provider to confirm the payment with; the dev provider ignores it.
    payment_method: str | None = None

    @property
    def payment_key(self) -> str:
        """The provider's idempotency key of this request's authorization: its retries (after a
        3-D Secure challenge, a lost answer) find the same payment at the provider."""
        return f"authorize:{self.user.pk}:{self.fingerprint[:16]}:{self.key}"

    def replay(self) -> Order | Offer | None:
        """What this key already made, or None; the same key with other input is an error."""
        record = (
            IdempotencyKey.objects.filter(user_id=self.user.pk, key=self.key).select_related("order", "offer").first()
        )
        if record is None:
            return None
        if record.fingerprint != self.fingerprint:
            raise ServiceError(
                CheckoutError.IDEMPOTENCY_KEY_REUSED,
                "This idempotency key was used for another request; use a new key.",
                "idempotencyKey",
            )
        return record.order or record.offer

    def claim(self) -> IdempotencyKey:
        """Insert the key in the caller's transaction; the unique constraint lets one request win."""
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(user_id=self.user.pk, key=self.key, fingerprint=self.fingerprint)
        except IntegrityError:
            raise _KeyTaken from None


def _idempotent(request: _Request | None, write: Callable[[], Order | Offer]) -> Order | Offer:
    """What the request's key already made, else `write()`. A refusal is checked against the key
    once more: a concurrent request with the same key may have just won (taken the item, or the
    key itself), and then its result is this request's too."""
    if request is None:
        return write()
    first = request.replay()
    if first is not None:
        return first
    try:
        return write()
    except (ServiceError, _KeyTaken):
        first = request.replay()
        if first is None:
            raise
        return first


def _keyed(user, key: str, operation: str, *, payment_method: str | None = None, **inputs) -> _Request:
    key = (key or "").strip()
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ServiceError(
            CommonError.INVALID, f"An idempotency key has 1 to {MAX_KEY_LENGTH} characters.", "idempotencyKey"
        )
    canonical = json.dumps({"operation": operation, **inputs}, sort_keys=True, default=str)
    payment_method = (payment_method or "").strip() or None
    if payment_method is not None and (len(payment_method) > MAX_KEY_LENGTH or not payment_method.isascii()):
        raise ServiceError(CommonError.INVALID, "Send what the payment sheet gave.", "paymentMethod")
    fingerprint = hashlib.sha256(canonical.encode()).hexdigest()
    return _Request(user=user, key=key, fingerprint=fingerprint, payment_method=payment_method)

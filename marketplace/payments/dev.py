"""The dev/test provider that stands in for a card network (the embedded default)."""

import uuid

from marketplace.payments.base import PaymentDeclined, PaymentProvider, PaymentSheet


class DevPaymentProvider(PaymentProvider):
    """Approves everything without a card network, except amounts ending in .13, which it declines
    (like a card network's test card numbers: `make run` and tests can reach the decline path).
    It ignores the payment method; its payment sheet names a customer no card form can use."""

    DECLINED_CENTS = 13

    def authorize(self, *, amount, currency, idempotency_key, buyer, payment_method=None):
        if int(amount * 100) % 100 == self.DECLINED_CENTS:
            raise PaymentDeclined("The card was declined.")
        return f"dev_{uuid.uuid5(uuid.NAMESPACE_URL, idempotency_key).hex}"

    def capture(self, *, reference, amount, idempotency_key):
        pass

    def void(self, *, reference, idempotency_key):
        pass

    def refund(self, *, reference, amount, idempotency_key):
        pass

    def payment_sheet(self, *, buyer):
        return PaymentSheet(customer=f"dev_customer_{buyer.pk}", ephemeral_key_secret="", publishable_key="")

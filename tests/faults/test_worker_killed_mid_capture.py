"""A Celery worker SIGKILLed while it captures an order's payment: the beat sweep settles it
again with the same idempotency key, so the buyer is charged once, and a client retrying the
purchase gets the same order, never a second one.

The worker runs the settle_payment task the purchase enqueued on commit; the recording provider
(tests/faults/payments.py) stalls the capture until the worker is killed. The payment is left
CAPTURING; once the sweep's grace period has passed (its timestamp is set back), beat's
`sweep_checkout`, run by a new worker, puts it back and captures it.
"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from marketplace import tasks
from marketplace.models import Order, Payment
from tests.faults import payments
from tests.marketplace.checkout_api import purchase
from tests.processes import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def provider(settings, monkeypatch, tmp_path):
    """The recording provider for this process and the workers it starts, its captures held."""
    folder = tmp_path / "payments"
    folder.mkdir()
    monkeypatch.setenv(payments.FOLDER_VARIABLE, str(folder))
    settings.PAYMENT_PROVIDER = "tests.faults.payments.RecordingProvider"
    (folder / "hold").touch()
    return folder


def captures():
    return [entry for entry in payments.ledger() if entry["call"] == "capture"]


def test_a_capture_cut_short_by_a_killed_worker_is_made_once_by_the_sweep(
    workers, processes, provider, gql, make_user, make_buyer, make_listing
):
    seller, _ = make_user("priya")
    listing = make_listing(seller, price="40.00")
    _, token = make_buyer("marco")
    first = workers()

    order = purchase(gql, token, listing, key="checkout-1")["order"]
    wait_for(lambda: captures(), 30, "the worker to call the provider")
    processes.kill(first)
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.CAPTURING

    # The app never heard back and retries with the same key: the same order, not a second one.
    assert purchase(gql, token, listing, key="checkout-1")["order"]["id"] == order["id"]

    (provider / "hold").unlink()
    workers()
    Payment.objects.filter(pk=payment.pk).update(
        updated_at=timezone.now() - settings.CHECKOUT_SWEEP_GRACE - timedelta(seconds=1)
    )
    tasks.sweep_checkout.delay()  # what beat sends every minute
    wait_for(
        lambda: Payment.objects.filter(pk=payment.pk, status=Payment.Status.CAPTURED).exists(),
        30,
        "the sweep to capture the payment",
    )

    assert Order.objects.count() == 1 and Payment.objects.count() == 1
    calls = captures()
    assert len(calls) == 2  # the call cut short, then the sweep's
    assert {call["idempotency_key"] for call in calls} == {f"capture:{payment.pk}"}  # one charge
    assert {call["amount"] for call in calls} == {order["total"]["amount"]}

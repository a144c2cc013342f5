import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from marketplace.payments import DevPaymentProvider, PaymentDeclined
from tests.helpers import gid

UPLOAD = """mutation($input: UploadListingImageInput!) {
  uploadListingImage(input: $input) {
    image { id width height position url(size: ORIGINAL) }
    listing { images { id position } coverImage { id } }
    errors { field code message }
  }
}"""


def upload(gql, token, listing, content: bytes, name="photo.jpg", cover=False):
    operations = {"query": UPLOAD, "variables": {"input": {"listingId": gid(listing), "image": None, "cover": cover}}}
    response = gql.http.post(
        "/graphql/",
        {
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.image"]}),
            "0": SimpleUploadedFile(name, content),
        },
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    return response.json()["data"]["uploadListingImage"]


class RecordingProvider(DevPaymentProvider):
    """The dev provider, keeping each call as (operation, reference, amount); `fail` makes the next
    call of an operation decline."""

    calls: list[tuple[str, str, Decimal | None]] = []
    fail: set[str] = set()

    def _record(self, operation, reference, amount=None):
        if operation in self.fail:
            self.fail.discard(operation)
            raise PaymentDeclined(f"{operation} declined")
        self.calls.append((operation, reference, amount))

    def authorize(self, *, amount, currency, idempotency_key, buyer, payment_method=None):
        reference = super().authorize(amount=amount, currency=currency, idempotency_key=idempotency_key, buyer=buyer)
        self._record("authorize", reference, amount)
        return reference

    def capture(self, *, reference, amount, idempotency_key):
        self._record("capture", reference, amount)

    def void(self, *, reference, idempotency_key):
        self._record("void", reference)

    def refund(self, *, reference, amount, idempotency_key):
        self._record("refund", reference, amount)

    @classmethod
    def operations(cls) -> list[str]:
        return [operation for operation, _, _ in cls.calls]


@pytest.fixture(autouse=True)
def provider(settings):
    """Every marketplace test pays through the recording provider: `provider.calls`, `provider.fail`."""
    settings.PAYMENT_PROVIDER = "tests.marketplace.conftest.RecordingProvider"
    RecordingProvider.calls, RecordingProvider.fail = [], set()
    return RecordingProvider

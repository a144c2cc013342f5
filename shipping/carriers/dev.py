"""The embedded default: a label made here, no network. Its PDF is written through Django's
storage (local media in development) and its tracking code is made up, so `make run` shows a
seller a label without any carrier account."""

import hashlib
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from shipping.carriers.base import Carrier, Label, LabelRequest


class DevCarrier(Carrier):
    name = "dev"

    def create_shipment(self, request: LabelRequest) -> str:
        digest = hashlib.sha256(f"{request.reference}:{request.is_return}".encode()).hexdigest()[:16]
        return f"dev_shp_{digest}"

    def buy_label(self, shipment_id: str) -> Label:
        tracking_code = "DEV" + str(int(shipment_id.removeprefix("dev_shp_"), 16))[:18]
        name = f"shipping/labels/{shipment_id}.pdf"
        if not default_storage.exists(name):  # bought already: the same label
            name = default_storage.save(name, ContentFile(_label_pdf(tracking_code)))
        return Label(
            carrier="DEV",
            service="Flat",
            tracking_code=tracking_code,
            label_url=default_storage.url(name),
            tracker_id=f"dev_trk_{shipment_id.removeprefix('dev_shp_')}",
            cost=Decimal(settings.SHIPPING_LABEL_FEE),
            currency="USD",
        )

    def refund_label(self, shipment_id: str) -> None:
        return None  # nothing was paid


def _label_pdf(tracking_code: str) -> bytes:
    """A one-page PDF saying it is a development label, with its tracking code."""
    text = f"BT /F1 24 Tf 72 720 Td (Closetline development label - not postage) Tj 0 -40 Td ({tracking_code}) Tj ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(text)} >>\nstream\n{text}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    body, offsets = b"%PDF-1.4\n", []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += f"{number} 0 obj\n{content}\nendobj\n".encode()
    xref = len(body)
    body += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    body += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    body += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return body

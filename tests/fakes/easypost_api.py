"""A local fake of EasyPost's HTTP API, enough for the official SDK to buy labels against it.

A threaded http.server on 127.0.0.1 answering JSON in EasyPost's shapes (ids by prefix, as the SDK
maps them to classes): POST /v2/shipments (with rates), GET /v2/shipments/:id, POST
/v2/shipments/:id/buy (a PDF label, a tracking code and its tracker), POST
/v2/shipments/:id/refund and POST /v2/trackers. Return shipments are shipments with is_return.
Faults on demand: `stall_after_buy` buys and then answers too late (the client times out, the
label is bought), `unavailable` answers 503 to the next calls.
"""

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_KEY = "EZTK_test_local_fake"
RATES = (  # carrier, service, rate: the cheapest of USPS GroundAdvantage is 5.57
    ("USPS", "GroundAdvantage", "5.57"),
    ("USPS", "GroundAdvantage", "6.10"),
    ("USPS", "Priority", "8.95"),
    ("UPS", "Ground", "4.99"),
)


class FakeEasyPost:
    def __init__(self):
        self.shipments: dict[str, dict] = {}
        self.trackers: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []
        self.purchases: list[str] = []  # shipment ids, once per label bought
        self.refunds: list[str] = []  # shipment ids, once per refund asked
        self.stall_after_buy = 0.0  # seconds to wait before answering a buy
        self.unavailable = 0  # the next so many calls answer 503
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.api_base = f"http://127.0.0.1:{self.server.server_port}/v2"

    def start(self) -> "FakeEasyPost":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def new_id(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}_{next(self._ids):024x}"

    def answer(self, method: str, path: str, body: dict) -> tuple[int, dict]:
        self.requests.append((method, path))
        if self.unavailable:
            self.unavailable -= 1
            return 503, {"error": {"code": "SERVICE.UNAVAILABLE", "message": "Try again later."}}
        parts = path.strip("/").split("/")[1:]  # after "v2"
        if method == "POST" and parts == ["shipments"]:
            return 201, self.create_shipment(body.get("shipment") or {})
        if method == "GET" and len(parts) == 2 and parts[0] == "shipments" and parts[1] in self.shipments:
            return 200, self.shipments[parts[1]]
        if method == "POST" and len(parts) == 3 and parts[0] == "shipments" and parts[2] == "buy":
            return self.buy(parts[1], (body.get("rate") or {}).get("id"))
        if method == "POST" and len(parts) == 3 and parts[0] == "shipments" and parts[2] == "refund":
            return self.refund(parts[1])
        if method == "POST" and parts == ["trackers"]:
            return 201, self.tracker((body.get("tracker") or {}).get("tracking_code", ""), "")
        return 404, {"error": {"code": "NOT_FOUND", "message": "The requested resource could not be found."}}

    def create_shipment(self, fields: dict) -> dict:
        shipment_id = self.new_id("shp")
        shipment = {
            "id": shipment_id,
            "object": "Shipment",
            "mode": "test",
            "reference": fields.get("reference"),
            "is_return": bool(fields.get("is_return")),
            "from_address": {"id": self.new_id("adr"), "object": "Address", **(fields.get("from_address") or {})},
            "to_address": {"id": self.new_id("adr"), "object": "Address", **(fields.get("to_address") or {})},
            "parcel": {"id": self.new_id("prcl"), "object": "Parcel", **(fields.get("parcel") or {})},
            "options": fields.get("options") or {},
            "rates": [
                {
                    "id": self.new_id("rate"),
                    "object": "Rate",
                    "carrier": carrier,
                    "service": service,
                    "rate": rate,
                    "currency": "USD",
                    "shipment_id": shipment_id,
                }
                for carrier, service, rate in RATES
            ],
            "postage_label": None,
            "selected_rate": None,
            "tracking_code": None,
            "tracker": None,
            "refund_status": None,
        }
        self.shipments[shipment_id] = shipment
        return shipment

    def buy(self, shipment_id: str, rate_id: str | None) -> tuple[int, dict]:
        shipment = self.shipments.get(shipment_id)
        if shipment is None:
            return 404, {"error": {"code": "NOT_FOUND", "message": "The requested resource could not be found."}}
        if shipment["postage_label"]:
            return 422, {"error": {"code": "SHIPMENT.POSTAGE.EXISTS", "message": "Postage already exists."}}
        rate = next((rate for rate in shipment["rates"] if rate["id"] == rate_id), None)
        if rate is None:
            return 422, {"error": {"code": "SHIPMENT.RATE.INVALID", "message": "Rate not found."}}
        tracking_code = f"9400{len(self.purchases) + 1:018d}"
        label_id = self.new_id("pl")
        shipment.update(
            postage_label={
                "id": label_id,
                "object": "PostageLabel",
                "label_url": f"https://easypost-files.example/{label_id}.png",
                "label_pdf_url": f"https://easypost-files.example/{label_id}.pdf",
                "label_file_type": "application/pdf",
            },
            selected_rate=rate,
            tracking_code=tracking_code,
            tracker=self.tracker(tracking_code, shipment_id),
        )
        self.purchases.append(shipment_id)
        if self.stall_after_buy:
            time.sleep(self.stall_after_buy)
        return 200, shipment

    def refund(self, shipment_id: str) -> tuple[int, dict]:
        shipment = self.shipments.get(shipment_id)
        if shipment is None or not shipment["postage_label"] or shipment["refund_status"]:
            return 422, {"error": {"code": "SHIPMENT.REFUND.INVALID", "message": "Cannot refund this shipment."}}
        shipment["refund_status"] = "submitted"
        self.refunds.append(shipment_id)
        return 200, shipment

    def tracker(self, tracking_code: str, shipment_id: str) -> dict:
        tracker = {
            "id": self.new_id("trk"),
            "object": "Tracker",
            "mode": "test",
            "tracking_code": tracking_code,
            "status": "pre_transit",
            "carrier": "USPS",
            "shipment_id": shipment_id,
            "tracking_details": [],
        }
        self.trackers[tracker["id"]] = tracker
        return tracker


def _handler(fake: FakeEasyPost):
    class Handler(BaseHTTPRequestHandler):
        def _respond(self, method):
            if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                status, body = 401, {"error": {"code": "APIKEY.REQUIRED", "message": "Invalid API key."}}
            else:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, body = fake.answer(method, self.path.split("?")[0], json.loads(raw) if raw else {})
            payload = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout under test)

        def do_GET(self):
            self._respond("GET")

        def do_POST(self):
            self._respond("POST")

        def log_message(self, *args):
            pass

    return Handler

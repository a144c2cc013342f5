"""A local fake of Stripe's HTTP API for the official SDK (STRIPE_API_BASE points at it).

A threaded http.server on 127.0.0.1 keeping objects in memory, with Stripe's JSON shapes and
errors, replaying a request sent again with the same Idempotency-Key (and refusing the key with
other parameters). Routes live in one table: other modules add endpoints (Connect: accounts,
transfers, payouts) with `@route(...)` on a function taking (fake, params, *path groups) and
returning (status, body), or raise `StripeFailure`.

Test cards (payment methods or confirmation tokens): a name containing "threeDSecure" needs
authentication, "chargeDeclined" is declined; anything else authorizes. `complete_action(id)`
plays the buyer passing the 3-D Secure challenge; `stall(path)` makes the next call there be
processed but answered too late for the client (a provider timeout).
"""

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORTS = range(8130, 8140)  # the loopback ports of the payment tests' servers
WEBHOOK_SECRET = "whsec_test_closetline"

ROUTES: list[tuple[str, re.Pattern, Callable]] = []


def route(method: str, pattern: str):
    def register(handler):
        ROUTES.append((method, re.compile(f"^{pattern}$"), handler))
        return handler

    return register


class StripeFailure(Exception):
    def __init__(self, status: int, error: dict):
        super().__init__(error.get("message", ""))
        self.status, self.error = status, error


@dataclass
class FakeStripe:
    objects: dict[str, dict] = field(default_factory=dict)
    requests: list[tuple[str, str, dict]] = field(default_factory=list)
    stalled: set[str] = field(default_factory=set)
    stall_seconds: float = 1.5
    _replies: dict[str, tuple[str, int, dict]] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._ids):06d}"

    def store(self, thing: dict) -> dict:
        self.objects[thing["id"]] = thing
        return thing

    def get(self, object_id: str, kind: str) -> dict:
        thing = self.objects.get(object_id)
        if thing is None or thing["object"] != kind:
            raise StripeFailure(
                404,
                {
                    "type": "invalid_request_error",
                    "code": "resource_missing",
                    "message": f"No such {kind}: '{object_id}'",
                },
            )
        return thing

    def complete_action(self, intent_id: str) -> None:
        """The buyer passed the 3-D Secure challenge."""
        intent = self.objects[intent_id]
        intent.update(status="requires_capture", next_action=None, amount_capturable=intent["amount"])

    def stall(self, path: str) -> None:
        """The next call to `path` is done, but answered after the client gave up."""
        self.stalled.add(path)

    def calls(self, method: str | None = None) -> list[str]:
        return [f"{verb} {path}" for verb, path, _ in self.requests if method in (None, verb)]

    def handle(self, method: str, path: str, params: dict, idempotency_key: str | None) -> tuple[int, dict]:
        with self._lock:
            self.requests.append((method, path, params))
            fingerprint = json.dumps([method, path, params], sort_keys=True)
            if idempotency_key and idempotency_key in self._replies:
                first, status, body = self._replies[idempotency_key]
                if first != fingerprint:
                    return 400, {
                        "error": {
                            "type": "idempotency_error",
                            "message": "Keys for idempotent requests can only be used with the same parameters.",
                        }
                    }
                return status, body
            status, body = self._dispatch(method, path, params)
            if idempotency_key and method == "POST":
                self._replies[idempotency_key] = (fingerprint, status, body)
            return status, body

    def _dispatch(self, method, path, params):
        for verb, pattern, handler in ROUTES:
            match = pattern.match(path)
            if verb == method and match:
                try:
                    return 200, handler(self, params, *match.groups())
                except StripeFailure as failure:
                    return failure.status, {"error": failure.error}
        return 404, {"error": {"type": "invalid_request_error", "message": f"Unrecognized request URL ({path})."}}


def _parse(query: str) -> dict:
    """Stripe's form encoding: a[b]=1&c[0]=x → {"a": {"b": "1"}, "c": ["x"]}."""
    params: dict = {}
    for key, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        target = params
        for part, following in zip(parts, parts[1:], strict=False):
            target = target.setdefault(part, [] if following.isdigit() else {})
        last = parts[-1]
        if isinstance(target, list):
            target.append(value)
        else:
            target[last] = value
    return params


class _Handler(BaseHTTPRequestHandler):
    fake: FakeStripe

    def do_GET(self):
        self._answer("GET")

    def do_POST(self):
        self._answer("POST")

    def do_DELETE(self):
        self._answer("DELETE")

    def _answer(self, method):
        url = urllib.parse.urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        params = _parse(body if method == "POST" else url.query)
        status, reply = self.fake.handle(method, url.path, params, self.headers.get("Idempotency-Key"))
        if url.path in self.fake.stalled:
            self.fake.stalled.discard(url.path)
            time.sleep(self.fake.stall_seconds)
        payload = json.dumps(reply).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Request-Id", f"req_{len(self.fake.requests)}")
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting

    def log_message(self, format, *args):
        pass


def serve(fake: FakeStripe) -> tuple[ThreadingHTTPServer, str]:
    """Start a server for `fake` on the first free port of PORTS; returns it and its base URL."""
    handler = type("Handler", (_Handler,), {"fake": fake})
    for port in PORTS:
        try:
            server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        except OSError:
            continue
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, f"http://127.0.0.1:{port}"
    raise OSError(f"no free loopback port in {PORTS.start}-{PORTS.stop - 1}")


def signed(payload: dict, secret: str, *, timestamp: int | None = None) -> tuple[bytes, str]:
    """A webhook body and its Stripe-Signature header, as Stripe signs them."""
    body = json.dumps(payload).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={timestamp},v1={digest}"


def event(fake: FakeStripe, type: str, thing: dict) -> dict:
    """A webhook event about a snapshot of `thing`."""
    return {
        "id": fake.new_id("evt"),
        "object": "event",
        "type": type,
        "created": int(time.time()),
        "livemode": False,
        "api_version": "2026-10-28.endive",
        "data": {"object": json.loads(json.dumps(thing))},
    }


# Customers and ephemeral keys ----------------------------------------------------------------


@route("POST", "/v1/customers")
def create_customer(fake, params):
    return fake.store(
        {
            "id": fake.new_id("cus"),
            "object": "customer",
            "email": params.get("email"),
            "metadata": params.get("metadata", {}),
        }
    )


@route("POST", "/v1/ephemeral_keys")
def create_ephemeral_key(fake, params):
    fake.get(params.get("customer", ""), "customer")
    key_id = fake.new_id("ephkey")
    return {
        "id": key_id,
        "object": "ephemeral_key",
        "secret": f"ek_test_{key_id}",
        "associated_objects": [{"id": params["customer"], "type": "customer"}],
        "expires": int(time.time()) + 3600,
    }


# Payment intents, charges and refunds --------------------------------------------------------


def _card_error(intent: dict, code: str, message: str) -> StripeFailure:
    error = {"type": "card_error", "code": code, "decline_code": "generic_decline", "message": message}
    intent.update(status="requires_payment_method", last_payment_error=error)
    return StripeFailure(402, {**error, "payment_intent": dict(intent)})


@route("POST", "/v1/payment_intents")
def create_payment_intent(fake, params):
    intent_id = fake.new_id("pi")
    intent = fake.store(
        {
            "id": intent_id,
            "object": "payment_intent",
            "created": int(time.time()),
            "amount": int(params["amount"]),
            "amount_capturable": 0,
            "amount_received": 0,
            "currency": params["currency"],
            "customer": params.get("customer"),
            "capture_method": params.get("capture_method", "automatic"),
            "client_secret": f"{intent_id}_secret_fake",
            "metadata": params.get("metadata", {}),
            "status": "requires_payment_method",
            "next_action": None,
            "last_payment_error": None,
            "latest_charge": None,
            "payment_method": None,
        }
    )
    method = params.get("payment_method") or params.get("confirmation_token")
    if params.get("confirm") == "true" and method:
        method = method.replace("ctoken_", "pm_")  # a confirmation token turns into its payment method
        intent["payment_method"] = method
        if params.get("setup_future_usage") and intent["customer"]:
            fake.store({"id": method, "object": "payment_method", "type": "card", "customer": intent["customer"]})
        if "chargeDeclined" in method:
            raise _card_error(intent, "card_declined", "Your card was declined.")
        if "threeDSecure" in method and params.get("off_session") == "true":
            raise _card_error(intent, "authentication_required", "Your card needs you to authenticate this payment.")
        if "threeDSecure" in method:
            intent.update(status="requires_action", next_action={"type": "use_stripe_sdk"})
        else:
            intent.update(status="requires_capture", amount_capturable=intent["amount"])
    return dict(intent)


@route("GET", "/v1/payment_methods")
def list_payment_methods(fake, params):
    cards = [
        thing
        for thing in reversed(fake.objects.values())
        if thing["object"] == "payment_method" and thing["customer"] == params.get("customer")
    ]
    limit = int(params.get("limit", 10))
    return {"object": "list", "url": "/v1/payment_methods", "has_more": len(cards) > limit, "data": cards[:limit]}


@route("GET", "/v1/payment_intents")
def list_payment_intents(fake, params):
    created = params.get("created", {})
    intents = [
        dict(thing)
        for thing in reversed(fake.objects.values())
        if thing["object"] == "payment_intent"
        and int(created.get("gte", 0)) <= thing["created"] < int(created.get("lt", 2**40))
    ]  # one page, newest first: enough for tests
    return {"object": "list", "url": "/v1/payment_intents", "has_more": False, "data": intents}


@route("GET", "/v1/payment_intents/([^/]+)")
def retrieve_payment_intent(fake, params, intent_id):
    intent = dict(fake.get(intent_id, "payment_intent"))
    if "latest_charge" in params.get("expand", []) and intent["latest_charge"]:
        intent["latest_charge"] = dict(fake.objects[intent["latest_charge"]])
    return intent


@route("POST", "/v1/payment_intents/([^/]+)/capture")
def capture_payment_intent(fake, params, intent_id):
    intent = fake.get(intent_id, "payment_intent")
    if intent["status"] != "requires_capture":
        raise _unexpected_state(intent, "capture")
    amount = int(params.get("amount_to_capture", intent["amount"]))
    charge = fake.store(
        {
            "id": fake.new_id("ch"),
            "object": "charge",
            "amount": amount,
            "amount_captured": amount,
            "amount_refunded": 0,
            "captured": True,
            "refunded": False,
            "currency": intent["currency"],
            "payment_intent": intent_id,
        }
    )
    intent.update(status="succeeded", amount_received=amount, amount_capturable=0, latest_charge=charge["id"])
    return dict(intent)


@route("POST", "/v1/payment_intents/([^/]+)/cancel")
def cancel_payment_intent(fake, params, intent_id):
    intent = fake.get(intent_id, "payment_intent")
    if intent["status"] in ("succeeded", "canceled"):
        raise _unexpected_state(intent, "cancel")
    intent.update(status="canceled", amount_capturable=0)
    return dict(intent)


@route("POST", "/v1/refunds")
def create_refund(fake, params):
    intent = fake.get(params.get("payment_intent", ""), "payment_intent")
    if intent["status"] != "succeeded":
        raise _unexpected_state(intent, "refund")
    charge = fake.objects[intent["latest_charge"]]
    amount = int(params.get("amount", charge["amount_captured"] - charge["amount_refunded"]))
    if amount > charge["amount_captured"] - charge["amount_refunded"]:
        raise StripeFailure(400, {"type": "invalid_request_error", "code": "amount_too_large", "message": "Too much."})
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] == charge["amount_captured"]
    return fake.store(
        {
            "id": fake.new_id("re"),
            "object": "refund",
            "amount": amount,
            "charge": charge["id"],
            "payment_intent": intent["id"],
            "currency": intent["currency"],
            "status": "succeeded",
        }
    )


def _unexpected_state(intent: dict, action: str) -> StripeFailure:
    return StripeFailure(
        400,
        {
            "type": "invalid_request_error",
            "code": "payment_intent_unexpected_state",
            "message": f"This PaymentIntent could not be {action}d: its status is {intent['status']}.",
        },
    )

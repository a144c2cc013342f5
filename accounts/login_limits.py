"""How fast anyone may guess a password, without letting an attacker lock a member out.

Three limits on failed logins, all in the cache (Redis in production), keyed on the account (its
pk once the identifier names one, else the identifier's normalised key: accounts.identity), so
`priya`, `PRIYA`, `prıya` and `priya@…` share one count:

- **account and address together** (`LOGIN_RATE_LIMIT` failures per window): one address
  guessing one account stops there; it stops nobody else, the owner elsewhere included;
- **address** (`LOGIN_ADDRESS_RATE_LIMIT` failures per window, any accounts): one address trying
  many accounts (credential stuffing) stops;
- **account, slower backoff**: once failures come from more than `LOGIN_ACCOUNT_BACKOFF_ADDRESSES`
  addresses within `LOGIN_ACCOUNT_BACKOFF_WINDOW` seconds (a distributed guess: one address never
  starts it), each further failure doubles a wait (1 s, 2 s, ... up to
  `LOGIN_ACCOUNT_BACKOFF_MAX_SECONDS`) before the next try from an address the member has not
  logged in from. Addresses the member logged in from in the last `LOGIN_KNOWN_ADDRESS_DAYS` are
  never held by it.

Only failures count; a limited try is refused before the password is checked (the right password
waits too, so guessing stays slow). With the cache out of reach the limits are not counted, as
for every other rate limit (config.graphql.mutations.enforce_rate_limit).
"""

import hashlib
import ipaddress
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django_ratelimit.core import get_usage
from redis import RedisError

from config.errors import CommonError, ServiceError

logger = logging.getLogger("closetline.accounts")


def client_address(request) -> str:
    """The client's address (IPv6 by its /64, as django-ratelimit counts it)."""
    raw = (request.META.get("REMOTE_ADDR") or "").strip() if request is not None else ""
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw or "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)


class LoginLimits:
    """The limits of one login attempt: `check()` before the password, then `failed()` or
    `succeeded()`."""

    def __init__(self, *, account: str, address: str):
        self.account, self.address = account, address

    def check(self) -> None:
        try:
            limited = (
                self._full("login:pair", f"{self.account}|{self.address}", settings.LOGIN_RATE_LIMIT)
                or self._full("login:address", self.address, settings.LOGIN_ADDRESS_RATE_LIMIT)
                or self._held()
            )
        except RedisError as error:
            logger.warning("Login limits not checked, the cache is out of reach: %s", error)
            return
        if limited:
            raise ServiceError(CommonError.RATE_LIMITED, "Too many attempts; try again shortly.")

    def failed(self) -> None:
        try:
            self._count("login:pair", f"{self.account}|{self.address}", settings.LOGIN_RATE_LIMIT)
            self._count("login:address", self.address, settings.LOGIN_ADDRESS_RATE_LIMIT)
            self._back_off()
        except RedisError as error:
            logger.warning("Login failure not counted, the cache is out of reach: %s", error)

    def succeeded(self) -> None:
        try:
            cache.set(self._known_key(), 1, settings.LOGIN_KNOWN_ADDRESS_DAYS * 86400)
        except RedisError as error:
            logger.warning("Known address not kept, the cache is out of reach: %s", error)

    # -- the windows (django-ratelimit's fixed windows, read without counting, then counted) --

    @staticmethod
    def _full(group: str, value: str, rate: str) -> bool:
        usage = get_usage(None, group=group, key=lambda _group, _request: value, rate=rate, increment=False)
        return usage is not None and usage["count"] >= usage["limit"]

    @staticmethod
    def _count(group: str, value: str, rate: str) -> None:
        get_usage(None, group=group, key=lambda _group, _request: value, rate=rate, increment=True)

    # -- the account's backoff --

    def _held(self) -> bool:
        state = cache.get(self._backoff_key())
        if not state or _now() >= state.get("until", 0):
            return False
        return cache.get(self._known_key()) is None

    def _back_off(self) -> None:
        key, now = self._backoff_key(), _now()
        state = cache.get(key) or {"addresses": [], "failures": 0, "until": 0}
        address = _digest(self.address)
        if address not in state["addresses"] and len(state["addresses"]) < 1000:
            state["addresses"].append(address)
        if len(state["addresses"]) > settings.LOGIN_ACCOUNT_BACKOFF_ADDRESSES:
            state["failures"] += 1
            wait = min(settings.LOGIN_ACCOUNT_BACKOFF_MAX_SECONDS, 2 ** min(state["failures"] - 1, 30))
            state["until"] = now + wait
        cache.set(key, state, settings.LOGIN_ACCOUNT_BACKOFF_WINDOW)

    def _backoff_key(self) -> str:
        return f"login:backoff:{_digest(self.account)}"

    def _known_key(self) -> str:
        return f"login:known:{_digest(self.account)}:{_digest(self.address)}"


def _now() -> float:
    return time.time()


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]

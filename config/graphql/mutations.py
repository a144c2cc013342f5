import logging
from typing import ClassVar

import graphene
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django_ratelimit.core import is_ratelimited
from graphene.utils.str_converters import to_camel_case
from redis import RedisError

from config.errors import CommonError, ServiceError
from config.graphql.errors import Error, graphql_code
from config.graphql.permissions import Access, ensure_access

logger = logging.getLogger("closetline.graphql")


class BaseMutation(graphene.Mutation):
    """Every mutation takes `input` and returns its payload with `errors: [Error!]!`.

    Subclasses declare `access` (checked before anything runs) and implement `perform`, which
    calls services and returns the payload; a `ServiceError` becomes typed `errors` and, since
    services write in one transaction, nothing has changed.
    """

    errors = graphene.List(graphene.NonNull(Error), required=True)

    access: ClassVar[Access]
    # Writes per user (or IP when anonymous) per mutation; None to rely on a service's own limit.
    rate_limit: ClassVar[str | None] = "default"

    class Meta:
        abstract = True

    @classmethod
    def __init_subclass_with_meta__(cls, **options):
        if not isinstance(getattr(cls, "access", None), Access):
            raise ImproperlyConfigured(f"{cls.__name__} must declare `access` (an Access member).")
        super().__init_subclass_with_meta__(**options)

    @classmethod
    def mutate(cls, root, info, **arguments):
        try:
            ensure_access(info, cls.access)
            cls._enforce_rate_limit(info)
            return cls.perform(info, **arguments)
        except ServiceError as exc:
            return cls(errors=errors_for_client(exc))

    @classmethod
    def perform(cls, info, **arguments):
        raise NotImplementedError

    @classmethod
    def _enforce_rate_limit(cls, info):
        if cls.rate_limit is not None:
            rate = settings.MUTATION_RATE_LIMIT if cls.rate_limit == "default" else cls.rate_limit
            enforce_rate_limit(info, f"mutation:{cls.__name__}", rate)


def enforce_rate_limit(info, group: str, rate: str, key="user_or_ip"):
    """Count one hit in a fixed window; `key` is a django-ratelimit key ("ip", a callable, ...).

    The windows live in the cache (Redis in production). While it is out of reach the write goes
    on uncounted rather than every write failing: the database still enforces every rule."""
    try:
        limited = is_ratelimited(info.context, group=group, key=key, rate=rate, increment=True)
    except RedisError as error:
        logger.warning("Rate limit %s not counted, the cache is out of reach: %s", group, error)
        return
    if limited:
        raise ServiceError(CommonError.RATE_LIMITED, "Too many attempts; try again shortly.")


def errors_for_client(exc: ServiceError) -> list[Error]:
    return [
        Error(
            field=to_camel_case(error.field) if error.field else None,
            code=graphql_code(error.code),
            message=error.message,
            client_secret=error.client_secret,
        )
        for error in exc.errors
    ]

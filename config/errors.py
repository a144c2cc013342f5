"""Expected failures of services, with a code clients can switch on.

Services raise `ServiceError`; the GraphQL layer turns it into `errors: [Error!]!` on a mutation
payload, or a top-level error with `extensions.code` on a query. Each app owns its codes, in an
enum of its `errors.py` (`CommonError` here for what every app says); config/graphql/errors.py
puts them all in the one `ErrorCode` GraphQL enum. Add members, never rename them.
"""

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from django.core.exceptions import ValidationError


class CommonError(enum.Enum):
    """Every app's: the input, the caller, the rate, a member who bars the other."""

    INVALID = "invalid"
    REQUIRED = "required"
    NOT_FOUND = "not_found"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    RATE_LIMITED = "rate_limited"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class FieldError:
    code: enum.Enum  # a member of CommonError or of an app's errors.py
    message: str
    field: str | None = None
    client_secret: str | None = None  # what the app completes a payment with (PAYMENT_ACTION_REQUIRED)


class ServiceError(Exception):
    """One or more expected failures; raising it means nothing was changed."""

    def __init__(self, code: enum.Enum, message: str, field: str | None = None, *, client_secret: str | None = None):
        self.errors = [FieldError(code, message, field, client_secret)]
        super().__init__(message)

    @classmethod
    def many(cls, errors: list[FieldError]) -> "ServiceError":
        error = cls(errors[0].code, errors[0].message, errors[0].field)
        error.errors = list(errors)
        return error

    @classmethod
    def from_validation_error(
        cls, exc: ValidationError, field: str | None = None, codes: Mapping[str, enum.Enum] = MappingProxyType({})
    ) -> "ServiceError":
        """Map Django validation errors (model constraints, validators) to codes: `codes` names the
        caller's app's codes for Django codes (its `errors.DJANGO_CODES`); the rest are INVALID or REQUIRED."""
        errors = []
        for error_field, field_errors in _by_field(exc, field):
            for item in field_errors:
                code = codes.get(item.code or "") or _COMMON_CODE_BY_DJANGO_CODE.get(
                    item.code or "", CommonError.INVALID
                )
                errors.append(FieldError(code, " ".join(item.messages), error_field))
        return cls.many(errors)


_COMMON_CODE_BY_DJANGO_CODE = {
    "required": CommonError.REQUIRED,
    "blank": CommonError.REQUIRED,
    "null": CommonError.REQUIRED,
    "unique": CommonError.INVALID,
}


def _by_field(exc: ValidationError, field: str | None):
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            yield (None if name == "__all__" else name), errors
    else:
        yield field, exc.error_list

"""Who may do what. Every mutation declares an `Access`; resolvers call the helpers."""

import enum

from config.errors import CommonError, ServiceError


class Access(enum.Enum):
    PUBLIC = "public"
    AUTHENTICATED = "authenticated"
    STAFF = "staff"


def viewer(info):
    """The authenticated user, or None for anonymous clients."""
    user = info.context.user
    return user if user.is_authenticated else None


def require_user(info):
    user = viewer(info)
    if user is None:
        raise ServiceError(CommonError.UNAUTHENTICATED, "You need to log in first.")
    return user


def require_staff(info):
    user = require_user(info)
    if not user.is_staff:
        raise ServiceError(CommonError.FORBIDDEN, "Only staff can do this.")
    return user


def require_owner(info, owner_id: int):
    user = require_user(info)
    if user.pk != owner_id and not user.is_staff:
        raise ServiceError(CommonError.FORBIDDEN, "Only the owner can do this.")
    return user


def ensure_access(info, access: Access):
    if access is Access.AUTHENTICATED:
        require_user(info)
    elif access is Access.STAFF:
        require_staff(info)

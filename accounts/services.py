from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import identity
from accounts.errors import DJANGO_CODES, AccountError
from accounts.login_limits import LoginLimits
from accounts.models import AuthToken, User
from accounts.tokens import hash_token, new_raw_token
from config.errors import FieldError, ServiceError
from config.realtime import AUTH_REVOKED, auth_token_group, broadcast_on_commit
from config.textfold import fold_case

PROFILE_FIELDS = ("display_name", "bio", "time_zone")
# Called with the ids of tokens being revoked, inside the revoking transaction: upper apps
# register here in AppConfig.ready() (notifications lets go of the devices those sessions held).
TOKENS_REVOKED_HOOKS: list = []


def register(
    *,
    username: str,
    email: str,
    password: str,
    display_name: str = "",
    time_zone: str = "UTC",
    device_name: str = "",
    verified: bool = True,
    log_in: bool = True,
) -> tuple[User, str | None]:
    """Create a member and log them in; returns the user and a raw token for this device.

    In-process callers (staff tools, demo data, tests) vouch for the address. Sign-ups over the API
    go through accounts.recovery.sign_up: unverified, no token, the existing address never told."""
    username, email = username.strip(), email.strip()
    user = User(
        username=username,
        email=User.objects.normalize_email(email),
        display_name=display_name.strip(),
        time_zone=time_zone,
        email_verified_at=timezone.now() if verified else None,
    )
    errors = _field_errors(user)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        errors += ServiceError.from_validation_error(exc, "password", DJANGO_CODES).errors
    if errors:
        raise ServiceError.many(errors)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
            raw = _issue_token(user, device_name) if log_in else None
    except IntegrityError:
        # Two sign-ups raced for the same name or address; the constraint decided.
        if not User.objects.filter(username_key=user.username_key).exists():
            raise ServiceError(AccountError.DUPLICATE_EMAIL, "An account with this email exists.", "email") from None
        raise ServiceError(AccountError.DUPLICATE_USERNAME, "This username is taken.", "username") from None
    return user, raw


def login(*, username: str, password: str, device_name: str = "", address: str = "") -> tuple[User, str]:
    """Check credentials (username or email, compared by their keys: accounts.identity) and issue
    a token for the device; failures are limited per account and address (accounts.login_limits)."""
    identifier = username.strip()
    user = identity.user_for_identifier(identifier)
    limits = LoginLimits(
        account=f"user:{user.pk}" if user else f"key:{identity.identifier_key(identifier)}", address=address
    )
    limits.check()
    if user is None:
        User().set_password(password)  # same work as a real check, so timing reveals nothing
        limits.failed()
        raise _bad_credentials()
    if not user.check_password(password) or not user.is_active:
        limits.failed()
        raise _bad_credentials()
    if user.email_verified_at is None:
        # Only with the right password: the address's owner learns what to do, nobody else anything.
        raise ServiceError(
            AccountError.EMAIL_NOT_VERIFIED,
            "Verify your email first: follow the link we mailed you (requestEmailVerification sends a new one).",
        )
    with transaction.atomic():
        raw = _issue_token(user, device_name)
        User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    limits.succeeded()
    return user, raw


def logout(*, token: AuthToken, all_devices: bool = False) -> int:
    """Revoke this token (or every token of its user); their open WebSockets are closed."""
    tokens = AuthToken.objects.filter(revoked_at__isnull=True)
    tokens = tokens.filter(user_id=token.user_id) if all_devices else tokens.filter(pk=token.pk)
    return revoke_tokens(tokens)


@transaction.atomic
def revoke_tokens(tokens) -> int:
    ids = list(tokens.select_for_update().values_list("pk", flat=True))
    AuthToken.objects.filter(pk__in=ids).update(revoked_at=timezone.now())
    for hook in TOKENS_REVOKED_HOOKS:
        hook(ids)
    for token_id in ids:
        broadcast_on_commit(auth_token_group(token_id), {}, AUTH_REVOKED)
    return len(ids)


@transaction.atomic
def update_profile(*, user: User, **changes) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    for name, value in changes.items():
        if name not in PROFILE_FIELDS:
            raise ValueError(f"{name} is not a profile field")
        setattr(user, name, value.strip() if isinstance(value, str) else value)
    errors = _field_errors(user)
    if errors:
        raise ServiceError.many(errors)
    user.save(update_fields=list(changes))
    return user


def issue_token(user: User, device_name: str = "") -> str:
    """A new bearer token for one device (after verifying an email, resetting a password)."""
    return _issue_token(user, device_name)


def _issue_token(user: User, device_name: str) -> str:
    raw = new_raw_token()
    AuthToken.objects.create(
        user=user,
        key_hash=hash_token(raw),
        device_name=device_name.strip()[:100],
        expires_at=timezone.now() + settings.AUTH_TOKEN_LIFETIME,
    )
    return raw


def _field_errors(user: User) -> list[FieldError]:
    errors = []
    try:
        user.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        errors += ServiceError.from_validation_error(exc, codes=DJANGO_CODES).errors
    others = User.objects.exclude(pk=user.pk)
    if user.username:
        taken = others.filter(username_key=identity.username_key(user.username)).values_list("username", flat=True)
        errors += [_username_taken(user.username, other) for other in taken[:1]]
    if user.email and others.filter(email_key=identity.email_key(user.email)).exists():
        errors.append(FieldError(AccountError.DUPLICATE_EMAIL, "An account with this email exists.", "email"))
    return errors


def _username_taken(username: str, other: str) -> FieldError:
    if fold_case(other) == fold_case(username):
        return FieldError(AccountError.DUPLICATE_USERNAME, "This username is taken.", "username")
    return FieldError(AccountError.USERNAME_LOOKS_TAKEN, "This username looks like one that is taken.", "username")


def _bad_credentials() -> ServiceError:
    return ServiceError(AccountError.INVALID_CREDENTIALS, "Wrong username or password.")

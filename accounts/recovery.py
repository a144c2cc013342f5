"""Sign-up, email verification and password reset: single-use, expiring tokens mailed to an address.

Tokens are 256 random bits (accounts.tokens), stored as SHA-256 in `AccountToken` with their
purpose, the address they were mailed to and an expiry, and spent once by a conditional UPDATE.

No answer here tells whether an address has an account (finding 7):
- `sign_up` with an address that has one answers as a sign-up does ("check your mail") and mails
  the address's owner instead; the password is hashed all the same;
- `request_password_reset` and `request_email_verification` only enqueue a task with the address,
  whatever it is: the lookup, the token and the mail happen in the worker, so the request takes the
  same path and time either way.
"""

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import identity, mail, services
from accounts.errors import DJANGO_CODES, AccountError
from accounts.models import AccountToken, AuthToken, User
from accounts.tokens import hash_token, new_raw_token
from config.errors import ServiceError

Purpose = AccountToken.Purpose

_LIFETIMES = {
    Purpose.VERIFY_EMAIL: "ACCOUNTS_VERIFY_EMAIL_LIFETIME",
    Purpose.RESET_PASSWORD: "ACCOUNTS_RESET_PASSWORD_LIFETIME",
    Purpose.CHANGE_EMAIL: "ACCOUNTS_CHANGE_EMAIL_LIFETIME",
}


def normalized_email(email: str) -> str:
    return User.objects.normalize_email((email or "").strip())


def member_with_email(email: str) -> User | None:
    """The active account using this address (the lookup every mail-by-address path shares)."""
    address = normalized_email(email)
    if not address or len(address) > 254:
        return None
    return User.objects.filter(email_key=identity.email_key(address), is_active=True).first()


# Tokens --------------------------------------------------------------------------------------


def issue(user: User, purpose: str, email: str) -> str:
    """A new token for `purpose`, mailed to `email`; the raw value is returned once."""
    raw = new_raw_token()
    AccountToken.objects.create(
        user=user,
        purpose=purpose,
        email=email,
        key_hash=hash_token(raw),
        expires_at=timezone.now() + getattr(settings, _LIFETIMES[purpose]),
    )
    return raw


def redeem(raw: str, purpose: str, *, field: str = "token") -> AccountToken:
    """Spend a token once (inside the caller's transaction): the conditional UPDATE decides between
    two concurrent uses, so only one of them goes on."""
    now = timezone.now()
    token = None
    if raw and len(raw) <= 200:
        token = (
            AccountToken.objects.select_related("user")
            .filter(key_hash=hash_token(raw.strip()), purpose=purpose)
            .first()
        )
    if token is None or token.used_at is not None or not token.user.is_active:
        raise ServiceError(AccountError.INVALID_TOKEN, "This link is not valid (or was used already).", field)
    if token.expires_at <= now:
        raise ServiceError(AccountError.TOKEN_EXPIRED, "This link has expired; ask for a new one.", field)
    spent = AccountToken.objects.filter(pk=token.pk, used_at__isnull=True).update(used_at=now)
    if not spent:
        raise ServiceError(AccountError.INVALID_TOKEN, "This link is not valid (or was used already).", field)
    return token


def spend_outstanding(user: User, *purposes: str) -> int:
    """Retire every unused token of these purposes (a password or address changed under them)."""
    return AccountToken.objects.filter(user=user, purpose__in=purposes, used_at__isnull=True).update(
        used_at=timezone.now()
    )


# Sign-up and verification ---------------------------------------------------------------------


def sign_up(*, username: str, email: str, password: str, display_name: str = "", time_zone: str = "UTC") -> None:
    """Create an unverified account and mail its address a verification link. The answer is the same
    when the address already has an account: nothing is created and its owner is told by mail.
    Field errors (username taken, weak password, bad time zone) are typed as ever: they say nothing
    about the address."""
    try:
        with transaction.atomic():
            user, _ = services.register(
                username=username,
                email=email,
                password=password,
                display_name=display_name,
                time_zone=time_zone,
                verified=False,
                log_in=False,
            )
            transaction.on_commit(lambda: _enqueue("send_verification_mail", user.pk))
    except ServiceError as exc:
        others = [error for error in exc.errors if error.code is not AccountError.DUPLICATE_EMAIL]
        if others:
            raise ServiceError.many(others) from None
        User().set_password(password)  # the work a sign-up does, so the time says nothing either
        owner = member_with_email(email)
        if owner is not None:
            mail.send_on_commit(mail.registration_attempt(owner))


def request_email_verification(*, email: str) -> None:
    """Mail a new verification link if an unverified account uses `email` (decided in the worker)."""
    address = normalized_email(email)
    transaction.on_commit(lambda: _enqueue("send_verification_mail_to", address))


def send_verification(*, user_id: int) -> None:
    """(worker) A verification token for the account's address, mailed to it."""
    user = User.objects.filter(pk=user_id, is_active=True, email_verified_at__isnull=True).first()
    if user is None:
        return
    with transaction.atomic():
        raw = issue(user, Purpose.VERIFY_EMAIL, user.email)
    mail.deliver(mail.verify_email(user, user.email, raw))


def send_verification_to(*, email: str) -> None:
    user = member_with_email(email)
    if user is not None:
        send_verification(user_id=user.pk)


@transaction.atomic
def verify_email(*, token: str, device_name: str = "") -> tuple[User, str]:
    """Confirm the address the token was mailed to and log in on this device."""
    spent = redeem(token, Purpose.VERIFY_EMAIL)
    user = User.objects.select_for_update().get(pk=spent.user_id)
    if user.email.lower() != spent.email.lower():
        raise ServiceError(
            AccountError.INVALID_TOKEN, "This link is for an address the account no longer uses.", "token"
        )
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    spend_outstanding(user, Purpose.VERIFY_EMAIL)
    return user, services.issue_token(user, device_name)


# Password reset -------------------------------------------------------------------------------


def request_password_reset(*, email: str) -> None:
    """Answer the same for every address: the lookup and the mail are the worker's."""
    address = normalized_email(email)
    transaction.on_commit(lambda: _enqueue("send_password_reset_mail", address))


def send_password_reset(*, email: str) -> None:
    """(worker) A reset token mailed to the account using `email`, if there is one."""
    user = member_with_email(email)
    if user is None:
        return
    with transaction.atomic():
        raw = issue(user, Purpose.RESET_PASSWORD, user.email)
    mail.deliver(mail.reset_password(user, raw))


@transaction.atomic
def reset_password(*, token: str, new_password: str, device_name: str = "") -> tuple[User, str]:
    """Set a new password with a mailed token: every session is signed out, the other reset links
    die, and the address counts as verified (its owner just read the mail). Logs in this device."""
    spent = redeem(token, Purpose.RESET_PASSWORD)
    user = User.objects.select_for_update().get(pk=spent.user_id)
    if user.email.lower() != spent.email.lower():
        raise ServiceError(
            AccountError.INVALID_TOKEN, "This link is for an address the account no longer uses.", "token"
        )
    set_password(user, new_password, field="new_password")
    user.email_verified_at = user.email_verified_at or timezone.now()
    user.save(update_fields=["password", "email_verified_at"])
    spend_outstanding(user, Purpose.RESET_PASSWORD)
    services.revoke_tokens(AuthToken.objects.filter(user=user, revoked_at__isnull=True))
    mail.send_on_commit(mail.password_changed(user))
    return user, services.issue_token(user, device_name)


def set_password(user: User, password: str, *, field: str) -> None:
    """Validate and hash a new password onto `user` (not saved); weak ones are typed errors."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ServiceError.from_validation_error(exc, field, DJANGO_CODES) from None
    user.set_password(password)


def _enqueue(task_name: str, *args) -> None:
    from accounts import tasks

    getattr(tasks, task_name).delay(*args)

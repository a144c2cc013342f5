"""A member's own account: change password, change email, delete the account.

Each asks for the current password (a stolen bearer token alone cannot take the account over),
writes in one transaction and mails on commit.
"""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import hooks, identity, mail, recovery, services
from accounts.errors import AccountError
from accounts.models import AccountToken, AuthToken, DataExport, User
from config.errors import CommonError, ServiceError

Purpose = AccountToken.Purpose


def check_password(user: User, password: str, field: str = "password") -> None:
    if not password or not user.check_password(password):
        raise ServiceError(AccountError.INVALID_CREDENTIALS, "Wrong password.", field)


@transaction.atomic
def change_password(*, user: User, current_password: str, new_password: str, keep_token: AuthToken) -> int:
    """Set a new password; every other session is signed out (this one stays), outstanding reset
    links die and the address is told. Returns how many sessions were signed out."""
    user = User.objects.select_for_update().get(pk=user.pk)
    check_password(user, current_password, "current_password")
    recovery.set_password(user, new_password, field="new_password")
    user.save(update_fields=["password"])
    recovery.spend_outstanding(user, Purpose.RESET_PASSWORD)
    signed_out = services.revoke_tokens(
        AuthToken.objects.filter(user=user, revoked_at__isnull=True).exclude(pk=keep_token.pk)
    )
    mail.send_on_commit(mail.password_changed(user))
    return signed_out


@transaction.atomic
def request_email_change(*, user: User, password: str, new_email: str) -> str:
    """Ask to move the account to `new_email`: it takes effect when the link mailed there is
    followed (confirm_email_change); the current address is told now. Whether another account uses
    the new address is the worker's to find out, so the answer never says."""
    user = User.objects.select_for_update().get(pk=user.pk)
    check_password(user, password)
    address = recovery.normalized_email(new_email)
    try:
        validate_email(address)
    except ValidationError:
        raise ServiceError(CommonError.INVALID, "Enter a valid email address.", "new_email") from None
    if len(address) > 254:
        raise ServiceError(CommonError.INVALID, "Enter a valid email address.", "new_email")
    if address.lower() == user.email.lower():
        raise ServiceError(CommonError.INVALID, "This is already your email.", "new_email")
    recovery.spend_outstanding(user, Purpose.CHANGE_EMAIL)  # one pending change at a time
    mail.send_on_commit(mail.email_change_requested(user, address))
    transaction.on_commit(lambda: recovery._enqueue("send_email_change_mail", user.pk, address))
    return address


def send_email_change(*, user_id: int, new_email: str) -> None:
    """(worker) The confirmation link to the new address, or, when another account uses it, a
    note to that address instead."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    if recovery.member_with_email(new_email) is not None:
        mail.deliver(mail.email_in_use(new_email))
        return
    with transaction.atomic():
        raw = recovery.issue(user, Purpose.CHANGE_EMAIL, new_email)
    mail.deliver(mail.confirm_email_change(user, new_email, raw))


def confirm_email_change(*, token: str) -> User:
    """Follow the link mailed to the new address: the account uses it from now on, verified, and
    the old address is told."""
    try:
        with transaction.atomic():
            spent = recovery.redeem(token, Purpose.CHANGE_EMAIL)
            user = User.objects.select_for_update().get(pk=spent.user_id)
            old_address = user.email
            if User.objects.exclude(pk=user.pk).filter(email_key=identity.email_key(spent.email)).exists():
                # The holder of the new mailbox learns its own address has an account: nothing new.
                raise ServiceError(AccountError.DUPLICATE_EMAIL, "Another account uses this email now.", "token")
            user.email, user.email_verified_at = spent.email, timezone.now()
            user.save(update_fields=["email", "email_verified_at"])
            recovery.spend_outstanding(user, Purpose.CHANGE_EMAIL, Purpose.RESET_PASSWORD, Purpose.VERIFY_EMAIL)
            mail.send_on_commit(mail.email_changed(user, old_address))
    except IntegrityError:
        raise ServiceError(AccountError.DUPLICATE_EMAIL, "Another account uses this email now.", "token") from None
    return user


@transaction.atomic
def delete_account(*, user: User, password: str) -> None:
    """Delete the account: every app's hook erases its part (listings removed, offers and bundles
    ended, messages' sender anonymised, devices gone, ...), orders stay for the other party, and the
    user row is kept as an anonymous tombstone (`deleted-<id>`) for them. Refused while an order is
    in progress or a show is on air (the hooks' checks)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    check_password(user, password)
    for hook in hooks.registered():
        if hook.check_deletion:
            hook.check_deletion(user)
    goodbye = mail.account_deleted(user.display_name or user.username, user.email)
    for hook in reversed(hooks.registered()):
        if hook.erase:
            hook.erase(user)
    _erase_account(user)
    mail.send_on_commit(goodbye)


def _erase_account(user: User) -> None:
    files = [user.avatar.name] if user.avatar else []
    for export in DataExport.objects.filter(user=user):
        if export.file:
            files.append(export.file.name)
    DataExport.objects.filter(user=user).delete()
    AccountToken.objects.filter(user=user).delete()
    services.revoke_tokens(AuthToken.objects.filter(user=user, revoked_at__isnull=True))
    user.username = f"deleted-{user.pk}"
    # The address must stay unique; a reserved domain (RFC 2606) that no mail reaches.
    user.email = f"deleted-{user.pk}@deleted.invalid"
    user.first_name = user.last_name = user.display_name = user.bio = ""
    user.avatar = ""
    user.time_zone = "UTC"
    user.email_verified_at = None
    user.is_active = user.is_staff = user.is_superuser = False
    user.deleted_at = timezone.now()
    user.set_unusable_password()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
    if files:
        from django.core.files.storage import default_storage

        transaction.on_commit(lambda: [default_storage.delete(name) for name in files])

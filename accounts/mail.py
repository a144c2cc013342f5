"""Account mail: what each message says, and how it leaves.

Everything goes through Django's email framework (`EMAIL_BACKEND`: console in `make run`, locmem
in tests, Postmark through django-anymail or SMTP in production). Services never send during a
request: they enqueue a Celery task when their transaction commits (`send_on_commit`, or the
token-bearing tasks of accounts.tasks, which make their token in the worker so that no secret
travels through the broker), so a rolled-back write mails nobody and a slow provider slows nobody.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def send_on_commit(mail: Mail) -> None:
    """Send `mail` from a task once the surrounding transaction commits (at once outside one)."""
    from accounts import tasks

    transaction.on_commit(lambda: tasks.send_account_mail.delay(mail.to, mail.subject, mail.body))


def deliver(mail: Mail) -> None:
    """Hand the message to the configured backend (in the worker)."""
    EmailMessage(subject=mail.subject, body=mail.body, from_email=settings.DEFAULT_FROM_EMAIL, to=[mail.to]).send()


def app_link(path: str, token: str) -> str:
    return f"{settings.ACCOUNTS_APP_URL.rstrip('/')}/{path}?{urlencode({'token': token})}"


def _hello(user) -> str:
    return f"Hi {user.display_name or user.username},"


_SIGN_OFF = "\n\n— Closetline"


def verify_email(user, address: str, token: str) -> Mail:
    hours = int(settings.ACCOUNTS_VERIFY_EMAIL_LIFETIME.total_seconds() // 3600)
    return Mail(
        address,
        "Confirm your email for Closetline",
        f"{_hello(user)}\n\nConfirm this address to start using your closet:\n\n"
        f"{app_link('verify-email', token)}\n\nOr enter this code in the app: {token}\n\n"
        f"The link works once, for {hours} hours. If you did not sign up, ignore this mail."
        f"{_SIGN_OFF}",
    )


def registration_attempt(user) -> Mail:
    """To the owner of an address someone tried to sign up with again (finding 7: the sign-up
    itself answers as if it worked)."""
    return Mail(
        user.email,
        "Someone tried to sign up with your email",
        f"{_hello(user)}\n\nSomeone just tried to create a Closetline account with this address, "
        f"which already has one (username {user.username}).\n\nIf it was you, log in instead, or "
        f"reset your password from the app's login screen if you forgot it. If it was not you, "
        f"nothing changed and you can ignore this mail.{_SIGN_OFF}",
    )


def reset_password(user, token: str) -> Mail:
    minutes = int(settings.ACCOUNTS_RESET_PASSWORD_LIFETIME.total_seconds() // 60)
    return Mail(
        user.email,
        "Reset your Closetline password",
        f"{_hello(user)}\n\nSomeone (hopefully you) asked to reset the password of {user.username}.\n\n"
        f"{app_link('reset-password', token)}\n\nOr enter this code in the app: {token}\n\n"
        f"The link works once, for {minutes} minutes; it signs out every device. If you did not ask, "
        f"ignore this mail: your password stays as it is.{_SIGN_OFF}",
    )


def password_changed(user) -> Mail:
    return Mail(
        user.email,
        "Your Closetline password was changed",
        f"{_hello(user)}\n\nThe password of {user.username} was just changed and your other devices "
        f"were signed out. If it was not you, reset your password now from the app's login screen."
        f"{_SIGN_OFF}",
    )


def confirm_email_change(user, new_address: str, token: str) -> Mail:
    hours = int(settings.ACCOUNTS_CHANGE_EMAIL_LIFETIME.total_seconds() // 3600)
    return Mail(
        new_address,
        "Confirm your new email for Closetline",
        f"{_hello(user)}\n\nConfirm that {user.username} should use this address from now on:\n\n"
        f"{app_link('confirm-email-change', token)}\n\nOr enter this code in the app: {token}\n\n"
        f"The link works once, for {hours} hours. Until then the account keeps its old address."
        f"{_SIGN_OFF}",
    )


def email_in_use(new_address: str) -> Mail:
    """To an address a member asked to move their account to while another account uses it."""
    return Mail(
        new_address,
        "Someone asked to use your email on Closetline",
        "Hi,\n\nA Closetline member asked to move their account to this address, which already belongs "
        "to an account. Nothing changed; if it was you, log in with this address instead."
        f"{_SIGN_OFF}",
    )


def email_change_requested(user, new_address: str) -> Mail:
    """To the old address, when the change is asked for."""
    return Mail(
        user.email,
        "Your Closetline email is about to change",
        f"{_hello(user)}\n\nSomeone logged in as {user.username} asked to move the account to "
        f"{new_address}. It takes effect once that address is confirmed. If it was not you, change "
        f"your password now.{_SIGN_OFF}",
    )


def email_changed(user, old_address: str) -> Mail:
    """To the old address, once the change took effect."""
    return Mail(
        old_address,
        "Your Closetline email was changed",
        f"{_hello(user)}\n\nThe account {user.username} now uses {user.email}; this address will get no "
        f"more mail about it. If it was not you, contact support by replying to this mail.{_SIGN_OFF}",
    )


def account_deleted(name: str, address: str) -> Mail:
    return Mail(
        address,
        "Your Closetline account was deleted",
        f"Hi {name},\n\nYour account was deleted as you asked: your listings are gone and your "
        f"personal data erased. Orders you took part in are kept, without your details, for the other "
        f"party and the records the law requires.{_SIGN_OFF}",
    )


def export_ready(user, url: str) -> Mail:
    hours = int(settings.ACCOUNTS_EXPORT_LIFETIME.total_seconds() // 3600)
    return Mail(
        user.email,
        "Your Closetline data is ready to download",
        f"{_hello(user)}\n\nThe copy of your data you asked for is ready:\n\n{url}\n\n"
        f"The link is yours alone and works for {hours} hours.{_SIGN_OFF}",
    )

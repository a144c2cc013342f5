"""Celery side of accounts: account mail and data exports.

Tasks that mail a token make the token themselves (from an id or an address), so no secret waits
in the broker; a retry after a failed send makes a new one (the unused one expires).
"""

import smtplib

from anymail.exceptions import AnymailAPIError
from celery import shared_task
from django.utils import timezone

from accounts import mail, recovery

_SEND_ERRORS = (smtplib.SMTPException, OSError, AnymailAPIError)
_RETRY = {"autoretry_for": _SEND_ERRORS, "retry_backoff": 10, "retry_backoff_max": 600, "max_retries": 8}


@shared_task(**_RETRY)
def send_account_mail(to: str, subject: str, body: str) -> None:
    mail.deliver(mail.Mail(to, subject, body))


@shared_task(**_RETRY)
def send_verification_mail(user_id: int) -> None:
    recovery.send_verification(user_id=user_id)


@shared_task(**_RETRY)
def send_verification_mail_to(email: str) -> None:
    recovery.send_verification_to(email=email)


@shared_task(**_RETRY)
def send_password_reset_mail(email: str) -> None:
    recovery.send_password_reset(email=email)


@shared_task(**_RETRY)
def send_email_change_mail(user_id: int, new_email: str) -> None:
    from accounts import lifecycle

    lifecycle.send_email_change(user_id=user_id, new_email=new_email)


@shared_task
def build_data_export(export_id: int, mail_link: bool = True) -> None:
    from accounts import exports

    exports.build(export_id=export_id, mail_link=mail_link)


@shared_task
def purge_expired_exports() -> int:
    from accounts import exports

    return exports.purge_expired(now=timezone.now())

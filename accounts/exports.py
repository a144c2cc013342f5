"""Export my data: a zip of JSON with the member's data from every app, built by a task.

`request_data_export` records a pending `DataExport` and enqueues `build` on commit; `build` asks
every app's hook (accounts.hooks) for its section, stores `closetline-data.json` zipped through
Django's default storage under a random folder, and mails the member a download link. The link is
signed (Django's TimestampSigner over the export's and the member's ids with SECRET_KEY), so it
cannot be guessed or altered, expires with the export (ACCOUNTS_EXPORT_LIFETIME), and is shown only
to the member (the `latestDataExport` query and the mail to their address). Beat deletes expired
files every hour.
"""

import io
import json
import secrets
import zipfile

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts import hooks, mail
from accounts.models import AuthToken, DataExport, User

_SALT = "accounts.data-export"
FORMAT = "closetline-export/1"


@transaction.atomic
def request_data_export(*, user: User, mail_link: bool = True) -> DataExport:
    export = DataExport.objects.create(user=user, expires_at=timezone.now() + settings.ACCOUNTS_EXPORT_LIFETIME)
    from accounts import tasks

    transaction.on_commit(lambda: tasks.build_data_export.delay(export.pk, mail_link))
    return export


def latest(user: User) -> DataExport | None:
    return DataExport.objects.filter(user=user, expires_at__gt=timezone.now()).order_by("-created_at", "-pk").first()


def build(*, export_id: int, mail_link: bool = True) -> None:
    """(worker) Gather, zip, store, mark ready and mail the link; a second run does nothing."""
    export = DataExport.objects.select_related("user").filter(pk=export_id, status=DataExport.Status.PENDING).first()
    if export is None:
        return
    user = export.user
    try:
        document = {"format": FORMAT, "generatedAt": timezone.now().isoformat(), "accounts": account_section(user)}
        for hook in hooks.registered():
            if hook.export:
                document[hook.app] = hook.export(user)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("closetline-data.json", json.dumps(document, indent=2, default=str, ensure_ascii=False))
        name = default_storage.save(
            f"exports/{secrets.token_hex(16)}/closetline-data-{timezone.now():%Y%m%d}.zip",
            ContentFile(buffer.getvalue()),
        )
    except Exception:
        DataExport.objects.filter(pk=export.pk).update(status=DataExport.Status.FAILED)
        raise
    with transaction.atomic():
        updated = DataExport.objects.filter(pk=export.pk, status=DataExport.Status.PENDING).update(
            status=DataExport.Status.READY, file=name, size=buffer.tell(), ready_at=timezone.now()
        )
        if not updated:
            transaction.on_commit(lambda: default_storage.delete(name))
            return
        export.refresh_from_db()
        if mail_link:
            mail.send_on_commit(mail.export_ready(user, download_url(export)))


def account_section(user: User) -> dict:
    return {
        "username": user.username,
        "email": user.email,
        "displayName": user.display_name,
        "bio": user.bio,
        "timeZone": user.time_zone,
        "avatar": user.avatar.name or None,
        "dateJoined": user.date_joined,
        "emailVerifiedAt": user.email_verified_at,
        "lastLogin": user.last_login,
        "devices": [
            {
                "deviceName": token.device_name,
                "createdAt": token.created_at,
                "lastUsedAt": token.last_used_at,
                "expiresAt": token.expires_at,
                "revokedAt": token.revoked_at,
            }
            for token in AuthToken.objects.filter(user=user).order_by("created_at")
        ],
    }


def download_url(export: DataExport) -> str | None:
    if export.status != DataExport.Status.READY or export.expires_at <= timezone.now():
        return None
    signed = signing.dumps({"export": export.pk, "user": export.user_id}, salt=_SALT)
    return settings.PUBLIC_API_URL.rstrip("/") + reverse("data-export-download", args=[signed])


def open_download(signed: str) -> DataExport | None:
    """The ready, unexpired export a link names, for the member it was made for; None otherwise."""
    try:
        claims = signing.loads(signed, salt=_SALT, max_age=settings.ACCOUNTS_EXPORT_LIFETIME)
    except signing.BadSignature:
        return None
    return DataExport.objects.filter(
        pk=claims.get("export"),
        user_id=claims.get("user"),
        user__is_active=True,
        status=DataExport.Status.READY,
        expires_at__gt=timezone.now(),
    ).first()


def purge_expired(*, now) -> int:
    """(beat) Delete expired exports and their files."""
    expired = list(DataExport.objects.filter(expires_at__lte=now))
    for export in expired:
        if export.file:
            default_storage.delete(export.file.name)
    DataExport.objects.filter(pk__in=[export.pk for export in expired]).delete()
    return len(expired)

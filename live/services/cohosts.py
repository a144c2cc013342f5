"""Co-hosts: the host invites, the member accepts or declines, the host removes them or they
step down. Accepted co-hosts share the room's powers with the host."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from graphql_relay import to_global_id

from config.errors import CommonError, ServiceError
from live import events, payloads
from live.errors import LiveError
from live.models import CoHost, Show
from live.services._shared import Type, _locked, _require_host, _require_not_ended
from live.services._video import _revoke_keys
from notifications.models import Kind
from notifications.services import notify
from social import selectors as social_selectors
from social.errors import SocialError


def invite_cohost(*, show: Show, host, invitee, now=None) -> CoHost:
    """Invite a member to co-host; inviting someone already invited or co-hosting changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        show = _locked(show.pk)
        _require_host(show, host)
        _require_not_ended(show)
        if invitee.pk == show.host_id:
            raise ServiceError(SocialError.CANNOT_TARGET_SELF, "You are the host already.", "userId")
        if social_selectors.is_blocked(show.host_id, invitee.pk):
            raise ServiceError(CommonError.BLOCKED, "You cannot invite this member.", "userId")
        pending = CoHost.objects.filter(show_id=show.pk, status__in=[CoHost.Status.INVITED, CoHost.Status.ACCEPTED])
        current = pending.filter(user_id=invitee.pk).first()
        if current is not None:
            return current
        if pending.count() >= settings.LIVE_MAX_COHOSTS:
            raise ServiceError(
                LiveError.COHOST_LIMIT_REACHED, f"A show has at most {settings.LIVE_MAX_COHOSTS} co-hosts.", "userId"
            )
        cohost, _ = CoHost.objects.update_or_create(
            show=show, user=invitee, defaults={"status": CoHost.Status.INVITED, "invited_at": now, "responded_at": None}
        )
        notify(
            recipient_ids=[invitee.pk],
            kind=Kind.COHOST_INVITE,
            title=f"@{show.host.username} invites you to co-host",
            body=show.title,
            dedupe_key=f"show_cohost_invite:{cohost.pk}:{int(now.timestamp())}",
            target=show,
            data={"show_id": to_global_id("Show", show.pk)},
        )
    return cohost


def respond_to_cohost_invite(*, show: Show, user, accept: bool, now=None) -> CoHost:
    now = now or timezone.now()
    with transaction.atomic():
        show = _locked(show.pk)
        _require_not_ended(show)
        cohost = CoHost.objects.filter(show_id=show.pk, user_id=user.pk, status=CoHost.Status.INVITED).first()
        if cohost is None:
            raise ServiceError(CommonError.NOT_FOUND, "You have no invitation to co-host this show.", "showId")
        cohost.status = CoHost.Status.ACCEPTED if accept else CoHost.Status.DECLINED
        cohost.responded_at = now
        cohost.save(update_fields=["status", "responded_at"])
        if accept:
            events.record(show, Type.COHOST_ADDED, {"user": payloads.user(user)}, now=now)
    return cohost


def remove_cohost(*, show: Show, user, cohost_user, now=None) -> None:
    """The host withdraws an invitation or removes a co-host; a co-host may step down."""
    now = now or timezone.now()
    with transaction.atomic():
        show = _locked(show.pk)
        if user.pk not in (show.host_id, cohost_user.pk):
            raise ServiceError(CommonError.FORBIDDEN, "Only the host can remove a co-host.", "userId")
        cohost = CoHost.objects.filter(
            show_id=show.pk, user_id=cohost_user.pk, status__in=[CoHost.Status.INVITED, CoHost.Status.ACCEPTED]
        ).first()
        if cohost is None:
            raise ServiceError(CommonError.NOT_FOUND, "This member is not a co-host of the show.", "userId")
        was_cohosting = cohost.status == CoHost.Status.ACCEPTED
        cohost.status, cohost.responded_at = CoHost.Status.REMOVED, now
        cohost.save(update_fields=["status", "responded_at"])
        _revoke_keys(show, now=now, member_id=cohost_user.pk)
        if was_cohosting:
            events.record(show, Type.COHOST_REMOVED, {"user": payloads.user(cohost_user)}, now=now)

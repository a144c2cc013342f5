import re
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import User
from config.errors import ErrorCode, ServiceError
from marketplace.models import Listing
from notifications import services as notification_services
from notifications.models import Kind
from social.models import Block, ClosetVisit, Comment, Follow, Like, Mention, Share
from social.selectors import is_blocked

# `@name` not preceded by a word character (so emails are not mentions); trailing dots end a sentence.
MENTION = re.compile(r"(?<!\w)@([\w.@+-]+)")


def like_listing(*, user, listing: Listing) -> bool:
    """Like once, whatever the concurrency; True when this call added the like.

    The unique (user, listing) constraint decides between racing requests (get_or_create retries
    the read after losing), and `like_count` moves only in the transaction that really inserted.
    """
    _require_available(listing)
    with transaction.atomic():
        _, created = Like.objects.get_or_create(user=user, listing=listing)
        if created:
            Listing.objects.filter(pk=listing.pk).update(like_count=F("like_count") + 1)
    return created


@transaction.atomic
def unlike_listing(*, user, listing: Listing) -> bool:
    """Remove the like if there is one; True when this call removed it."""
    deleted, _ = Like.objects.filter(user=user, listing=listing).delete()
    if deleted:
        Listing.objects.filter(pk=listing.pk).update(like_count=F("like_count") - 1)
    return bool(deleted)


def follow_user(*, follower, followee) -> bool:
    if follower.pk == followee.pk:
        raise ServiceError(ErrorCode.CANNOT_TARGET_SELF, "You cannot follow yourself.", "userId")
    if is_blocked(follower.pk, followee.pk):
        raise ServiceError(ErrorCode.BLOCKED, "You cannot follow this closet.", "userId")
    with transaction.atomic():
        _, created = Follow.objects.get_or_create(follower=follower, followee=followee)
        if created:
            # Keyed per pair: unfollowing and following again does not notify twice.
            notification_services.notify(
                recipient_ids=[followee.pk], kind=Kind.NEW_FOLLOWER, title=f"@{follower.username} follows you",
                body="They will see your new listings and shares.",
                dedupe_key=f"follow:{follower.pk}:{followee.pk}", target=follower)
    return created


def unfollow_user(*, follower, followee) -> bool:
    deleted, _ = Follow.objects.filter(follower=follower, followee=followee).delete()
    return bool(deleted)


@transaction.atomic
def block_user(*, blocker, blocked) -> bool:
    """Block, and end the follows between the two either way."""
    if blocker.pk == blocked.pk:
        raise ServiceError(ErrorCode.CANNOT_TARGET_SELF, "You cannot block yourself.", "userId")
    _, created = Block.objects.get_or_create(blocker=blocker, blocked=blocked)
    Follow.objects.filter(Q(follower=blocker, followee=blocked) | Q(follower=blocked, followee=blocker)).delete()
    return created


def unblock_user(*, blocker, blocked) -> bool:
    deleted, _ = Block.objects.filter(blocker=blocker, blocked=blocked).delete()
    return bool(deleted)


def share_listing(*, sharer, listing: Listing) -> Share:
    """Share to one's followers: the listing goes to the top of their feeds (rate-limited by the API)."""
    _require_available(listing)
    return Share.objects.create(sharer=sharer, listing=listing)


@transaction.atomic
def add_comment(*, author, listing: Listing, body: str) -> Comment:
    if listing.status not in (Listing.Status.AVAILABLE, Listing.Status.SOLD):
        raise ServiceError(ErrorCode.LISTING_NOT_AVAILABLE, "Comments open once the listing is published.",
                           "listingId")
    if is_blocked(author.pk, listing.seller_id):
        raise ServiceError(ErrorCode.BLOCKED, "You cannot comment on this listing.", "listingId")
    comment = Comment(listing=listing, author=author, body=body.strip())
    mentioned = _mentioned_users(comment)
    comment.save()
    Mention.objects.bulk_create([Mention(comment=comment, user=user) for user in mentioned])
    _notify_mentioned(comment, mentioned)
    if listing.seller_id != author.pk and listing.seller_id not in {user.pk for user in mentioned}:
        notification_services.notify(
            recipient_ids=[listing.seller_id], kind=Kind.COMMENT, title=f"@{author.username} commented",
            body=f"On {listing.title}: {comment.body[:120]}", dedupe_key=f"comment:{comment.pk}", target=listing,
            coalesce_key=f"listing:{listing.pk}")
    return comment


@transaction.atomic
def edit_comment(*, comment: Comment, body: str) -> Comment:
    """Change the text; only people mentioned for the first time are notified."""
    comment = Comment.objects.select_for_update().select_related("author").get(pk=comment.pk)
    comment.body, comment.edited_at = body.strip(), timezone.now()
    mentioned = _mentioned_users(comment)
    comment.save(update_fields=["body", "edited_at"])
    already = set(comment.mentions.values_list("user_id", flat=True))
    comment.mentions.exclude(user__in=mentioned).delete()
    added = [user for user in mentioned if user.pk not in already]
    Mention.objects.bulk_create([Mention(comment=comment, user=user) for user in added])
    _notify_mentioned(comment, added)
    return comment


def delete_comment(*, comment: Comment) -> None:
    comment.delete()


def record_closet_visit(*, visitor, closet_owner, at: datetime | None = None) -> bool:
    """Record a visit, once per visitor, closet and hour (a unique key on the hour decides races).

    True when recorded; one's own closet, or a closet one cannot see, records nothing."""
    if visitor.pk == closet_owner.pk or is_blocked(visitor.pk, closet_owner.pk):
        return False
    at = at or timezone.now()
    _, created = ClosetVisit.objects.get_or_create(
        visitor=visitor, closet_owner=closet_owner, hour=at.replace(minute=0, second=0, microsecond=0),
        defaults={"visited_at": at})
    return created


def _mentioned_users(comment: Comment) -> list[User]:
    """Validate the comment and resolve its `@usernames` (the author and blocked users excepted)."""
    try:
        comment.full_clean(exclude=["listing", "author"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise ServiceError.from_validation_error(exc) from None
    names = {match.rstrip(".").lower() for match in MENTION.findall(comment.body)}
    if len(names) > settings.COMMENT_MAX_MENTIONS:
        raise ServiceError(ErrorCode.TOO_MANY_MENTIONS,
                           f"Mention at most {settings.COMMENT_MAX_MENTIONS} people in a comment.", "body")
    author_id = comment.author_id
    return list(User.objects.annotate(name=Lower("username"))
                .filter(name__in=names, is_active=True)
                .exclude(pk=author_id)
                .exclude(blocks_made__blocked_id=author_id)
                .exclude(blocks_received__blocker_id=author_id)
                .order_by("pk"))


def _notify_mentioned(comment: Comment, users: list[User]) -> None:
    """Tell newly mentioned people, once per comment each (an edit re-mentioning is no news)."""
    notification_services.notify(
        recipient_ids=[user.pk for user in users], kind=Kind.MENTION,
        title=f"@{comment.author.username} mentioned you", body=comment.body[:140],
        dedupe_key=f"mention:{comment.pk}", target=comment.listing, coalesce_key=f"listing:{comment.listing_id}")


def _require_available(listing: Listing) -> None:
    if listing.status != Listing.Status.AVAILABLE:
        raise ServiceError(ErrorCode.LISTING_NOT_AVAILABLE, "This listing is not available.", "listingId")

import re
from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from graphql_relay import to_global_id

from accounts.identity import username_key
from accounts.models import User
from config.errors import CommonError, ServiceError
from config.realtime import broadcast_on_commit, user_group
from marketplace.errors import ListingError
from marketplace.models import Listing
from notifications import services as notification_services
from notifications.models import Kind
from social import hooks
from social.errors import SocialError
from social.models import (
    Block,
    ClosetVisit,
    Comment,
    Conversation,
    Follow,
    Like,
    Mention,
    Message,
    Participant,
    Share,
)
from social.selectors import is_blocked

# `@name` not preceded by a word character (so emails are not mentions); trailing dots end a sentence.
MENTION = re.compile(r"(?<!\w)@([\w.@+-]+)")
MESSAGE_MAX_LENGTH = Message._meta.get_field("body").max_length


def like_listing(*, user: User, listing: Listing) -> bool:
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
def unlike_listing(*, user: User, listing: Listing) -> bool:
    """Remove the like if there is one; True when this call removed it."""
    deleted, _ = Like.objects.filter(user=user, listing=listing).delete()
    if deleted:
        Listing.objects.filter(pk=listing.pk).update(like_count=F("like_count") - 1)
    return bool(deleted)


def follow_user(*, follower: User, followee: User) -> bool:
    if follower.pk == followee.pk:
        raise ServiceError(SocialError.CANNOT_TARGET_SELF, "You cannot follow yourself.", "userId")
    if is_blocked(follower.pk, followee.pk):
        raise ServiceError(CommonError.BLOCKED, "You cannot follow this closet.", "userId")
    with transaction.atomic():
        _, created = Follow.objects.get_or_create(follower=follower, followee=followee)
        if created:
            # Keyed per pair: unfollowing and following again does not notify twice.
            notification_services.notify(
                recipient_ids=[followee.pk],
                kind=Kind.NEW_FOLLOWER,
                title=f"@{follower.username} follows you",
                body="They will see your new listings and shares.",
                dedupe_key=f"follow:{follower.pk}:{followee.pk}",
                target=follower,
            )
    return created


def unfollow_user(*, follower: User, followee: User) -> bool:
    deleted, _ = Follow.objects.filter(follower=follower, followee=followee).delete()
    return bool(deleted)


@transaction.atomic
def block_user(*, blocker: User, blocked: User) -> bool:
    """Block, and end the follows between the two either way."""
    if blocker.pk == blocked.pk:
        raise ServiceError(SocialError.CANNOT_TARGET_SELF, "You cannot block yourself.", "userId")
    _, created = Block.objects.get_or_create(blocker=blocker, blocked=blocked)
    Follow.objects.filter(Q(follower=blocker, followee=blocked) | Q(follower=blocked, followee=blocker)).delete()
    return created


def unblock_user(*, blocker: User, blocked: User) -> bool:
    deleted, _ = Block.objects.filter(blocker=blocker, blocked=blocked).delete()
    return bool(deleted)


def share_listing(*, sharer: User, listing: Listing) -> Share:
    """Share to one's followers: the listing goes to the top of their feeds (rate-limited by the API)."""
    _require_available(listing)
    return Share.objects.create(sharer=sharer, listing=listing)


@transaction.atomic
def add_comment(*, author: User, listing: Listing, body: str) -> Comment:
    if listing.status not in (Listing.Status.AVAILABLE, Listing.Status.SOLD):
        raise ServiceError(
            ListingError.LISTING_NOT_AVAILABLE, "Comments open once the listing is published.", "listingId"
        )
    if is_blocked(author.pk, listing.seller_id):
        raise ServiceError(CommonError.BLOCKED, "You cannot comment on this listing.", "listingId")
    comment = Comment(listing=listing, author=author, body=body.strip())
    mentioned = _mentioned_users(comment)
    comment.save()
    Mention.objects.bulk_create([Mention(comment=comment, user=user) for user in mentioned])
    _notify_mentioned(comment, mentioned)
    if listing.seller_id != author.pk and listing.seller_id not in {user.pk for user in mentioned}:
        notification_services.notify(
            recipient_ids=[listing.seller_id],
            kind=Kind.COMMENT,
            title=f"@{author.username} commented",
            body=f"On {listing.title}: {comment.body[:120]}",
            dedupe_key=f"comment:{comment.pk}",
            target=listing,
            coalesce_key=f"listing:{listing.pk}",
        )
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


@transaction.atomic
def record_closet_visit(*, visitor: User, closet_owner: User, at: datetime | None = None) -> bool:
    """Record a visit, once per visitor, closet and hour (a unique key on the hour decides races),
    and let the seller's auto-greeting schedule itself.

    True when recorded; one's own closet, or a closet one cannot see, records nothing."""
    if visitor.pk == closet_owner.pk or is_blocked(visitor.pk, closet_owner.pk):
        return False
    at = at or timezone.now()
    visit, created = ClosetVisit.objects.get_or_create(
        visitor=visitor,
        closet_owner=closet_owner,
        hour=at.replace(minute=0, second=0, microsecond=0),
        defaults={"visited_at": at},
    )
    if created:
        for hook in hooks.CLOSET_VISIT:
            hook(visit=visit)
    return created


def send_message(
    *,
    sender: User,
    body: str,
    recipient: User | None = None,
    conversation: Conversation | None = None,
    kind: str = Message.Kind.TEXT,
    listings: Sequence[Listing] = (),
) -> Message:
    """A message to `recipient`, in the pair's one direct conversation (started by the first
    message), or in a group `conversation` the sender belongs to (CONVERSATION_CLOSED once closed).

    Every other member's unread count grows and they are notified unless they muted the
    conversation: greetings and upsells each get their own notification; text messages not read
    yet share one, rewritten with the latest (`replace`), so a burst of messages is one inbox row
    and one push. Every member's `messageAdded` subscriptions hear of it once committed.
    """
    if (recipient is None) == (conversation is None):
        raise ValueError("Give a recipient or a group conversation.")
    if recipient is not None:
        if sender.pk == recipient.pk:
            raise ServiceError(SocialError.CANNOT_TARGET_SELF, "You cannot message yourself.", "recipientId")
        if is_blocked(sender.pk, recipient.pk):
            raise ServiceError(CommonError.BLOCKED, "You cannot message this member.", "recipientId")
    body = body.strip()
    if not body:
        raise ServiceError(CommonError.REQUIRED, "Write a message.", "body")
    if len(body) > MESSAGE_MAX_LENGTH:
        raise ServiceError(CommonError.INVALID, f"A message has at most {MESSAGE_MAX_LENGTH} characters.", "body")
    with transaction.atomic():
        # One sender at a time keeps counts exact.
        conversation = (
            _locked_conversation(sender, recipient) if recipient is not None else _locked_group(conversation, sender)
        )
        message = Message.objects.create(conversation=conversation, sender=sender, kind=kind, body=body)
        message.listings.set(listings)
        Conversation.objects.filter(pk=conversation.pk).update(last_message=message, last_message_at=message.created_at)
        # Writing in a conversation means having read it.
        conversation.participants.filter(user=sender).update(
            unread_count=0, first_unread=None, last_read_at=message.created_at
        )
        for side in conversation.participants.select_for_update().exclude(user=sender).order_by("user_id"):
            side.unread_count += 1
            side.first_unread_id = side.first_unread_id or message.pk
            side.save(update_fields=["unread_count", "first_unread"])
            if not side.muted:
                _notify_message(message, side)
        for user_id in conversation.participants.values_list("user_id", flat=True):
            broadcast_on_commit(messages_group(user_id), {"message_id": message.pk, "conversation_id": conversation.pk})
    return message


@transaction.atomic
def start_group_conversation(*, title: str, member_ids: list[int]) -> Conversation:
    """A group conversation of these members (for services: a mentoring group), empty until a
    member writes in it with send_message."""
    conversation = Conversation.objects.create(kind=Conversation.Kind.GROUP, title=title[:80])
    Participant.objects.bulk_create(
        [Participant(conversation=conversation, user_id=user_id) for user_id in sorted(set(member_ids))]
    )
    return conversation


def close_group_conversations(*, conversation_ids: list[int], at: datetime) -> int:
    """Close groups whose purpose is over: their history stays, new messages are refused."""
    return Conversation.objects.filter(
        pk__in=conversation_ids, kind=Conversation.Kind.GROUP, closed_at__isnull=True
    ).update(closed_at=at)


def mark_conversation_read(*, user: User, conversation: Conversation) -> None:
    conversation.participants.filter(user=user).update(unread_count=0, first_unread=None, last_read_at=timezone.now())


@transaction.atomic
def set_muted(*, user: User, other: User, muted: bool) -> None:
    """Mute (or unmute) the conversation with `other`: no notifications of their messages, and
    no greetings from them. Possible before any message: it starts the (empty) conversation."""
    if user.pk == other.pk:
        raise ServiceError(SocialError.CANNOT_TARGET_SELF, "You cannot mute yourself.", "userId")
    conversation = _locked_conversation(user, other)
    conversation.participants.filter(user=user).update(muted=muted)


def messages_group(user_id: int) -> str:
    """The channel-layer group of a member's `messageAdded` subscriptions (apart from their
    notifications' group, whose subscribers expect notification events only)."""
    return f"{user_group(user_id)}-messages"


# How each kind of message is announced: notification kind and title (after the sender's name).
_ANNOUNCED_AS = {
    Message.Kind.TEXT: (Kind.MESSAGE, "sent you a message"),
    Message.Kind.GREETING: (Kind.GREETING, "says hi"),
    Message.Kind.UPSELL: (Kind.UPSELL, "picked items to go with your order"),
}


def _notify_message(message: Message, side: Participant) -> None:
    kind, title = _ANNOUNCED_AS[message.kind]
    unread_texts = message.kind == Message.Kind.TEXT
    if unread_texts and side.unread_count > 1:
        title = f"sent you {side.unread_count} messages"
    if message.conversation.kind == Conversation.Kind.GROUP:
        title = f"wrote in {message.conversation.title}"
    conversation_id = to_global_id("Conversation", message.conversation_id)
    notification_services.notify(
        recipient_ids=[side.user_id],
        kind=kind,
        title=f"@{message.sender.username} {title}",
        body=message.body[:140],
        target=message.conversation,
        coalesce_key=f"conversation:{message.conversation_id}",
        data={"conversationId": conversation_id, "messageId": to_global_id("Message", message.pk)},
        # Unread text messages share the notification named by the first of them.
        dedupe_key=f"messages:{message.conversation_id}:{side.first_unread_id}"
        if unread_texts
        else f"message:{message.pk}",
        replace=unread_texts,
    )


def _locked_conversation(user: User, other: User) -> Conversation:
    """The pair's conversation, created with both sides if new, locked until the transaction ends.

    The unique pair decides between two members starting it at once (get_or_create re-reads)."""
    first, second = sorted((user.pk, other.pk))
    conversation, created = Conversation.objects.get_or_create(first_user_id=first, second_user_id=second)
    if created:
        Participant.objects.bulk_create(
            [Participant(conversation=conversation, user_id=user_id) for user_id in (first, second)]
        )
    return Conversation.objects.select_for_update().get(pk=conversation.pk)


def _locked_group(conversation: Conversation, sender: User) -> Conversation:
    """A group conversation the sender belongs to, open and locked until the transaction ends."""
    group = (
        Conversation.objects.select_for_update(of=("self",))
        .filter(pk=conversation.pk, kind=Conversation.Kind.GROUP, participants__user_id=sender.pk)
        .first()
    )
    if group is None:
        raise ServiceError(CommonError.NOT_FOUND, "This conversation does not exist.", "conversationId")
    if group.closed_at is not None:
        raise ServiceError(
            SocialError.CONVERSATION_CLOSED, "This group is closed: it takes no new messages.", "conversationId"
        )
    return group


def _mentioned_users(comment: Comment) -> list[User]:
    """Validate the comment and resolve its `@usernames` (the author and blocked users excepted)."""
    try:
        comment.full_clean(exclude=["listing", "author"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise ServiceError.from_validation_error(exc) from None
    names = {username_key(match.rstrip(".")) for match in MENTION.findall(comment.body)}
    if len(names) > settings.COMMENT_MAX_MENTIONS:
        raise ServiceError(
            SocialError.TOO_MANY_MENTIONS,
            f"Mention at most {settings.COMMENT_MAX_MENTIONS} people in a comment.",
            "body",
        )
    author_id = comment.author_id
    return list(
        User.objects.filter(username_key__in=names, is_active=True)
        .exclude(pk=author_id)
        .exclude(blocks_made__blocked_id=author_id)
        .exclude(blocks_received__blocker_id=author_id)
        .order_by("pk")
    )


def _notify_mentioned(comment: Comment, users: list[User]) -> None:
    """Tell newly mentioned people, once per comment each (an edit re-mentioning is no news)."""
    notification_services.notify(
        recipient_ids=[user.pk for user in users],
        kind=Kind.MENTION,
        title=f"@{comment.author.username} mentioned you",
        body=comment.body[:140],
        dedupe_key=f"mention:{comment.pk}",
        target=comment.listing,
        coalesce_key=f"listing:{comment.listing_id}",
    )


def _require_available(listing: Listing) -> None:
    if listing.status != Listing.Status.AVAILABLE:
        raise ServiceError(ListingError.LISTING_NOT_AVAILABLE, "This listing is not available.", "listingId")

"""Reads of the social graph, shaped so that lists of users, likes and comments cost fixed queries."""

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from accounts.models import User
from marketplace import hooks
from marketplace.models import Listing
from social.models import Block, Comment, Conversation, Follow, Like, Message, Participant


def is_blocked(user_a_id: int, user_b_id: int) -> bool:
    """Whether either of the two users has blocked the other (comments, follows, messages)."""
    return Block.objects.filter(
        Q(blocker_id=user_a_id, blocked_id=user_b_id) | Q(blocker_id=user_b_id, blocked_id=user_a_id)
    ).exists()


def blockers_of(viewer: User) -> QuerySet[Block]:
    """Ids of the users who blocked `viewer`, as a subquery: their closets are hidden from them."""
    return Block.objects.filter(blocked_id=viewer.pk).values("blocker_id")


def viewer_has_liked(viewer: User | None) -> Exists | Value:
    """An annotation for listing querysets: has `viewer` liked this listing?"""
    if viewer is None:
        return Value(False)
    return Exists(Like.objects.filter(listing_id=OuterRef("pk"), user_id=viewer.pk))


def with_follow_stats(users: QuerySet[User], viewer: User | None) -> QuerySet[User]:
    """Users annotated with `follower_count`, `following_count` and `viewer_is_following`."""
    return users.annotate(
        follower_count=_count(Follow.objects.filter(followee_id=OuterRef("pk")), "followee_id"),
        following_count=_count(Follow.objects.filter(follower_id=OuterRef("pk")), "follower_id"),
        viewer_is_following=Exists(Follow.objects.filter(follower_id=viewer.pk, followee_id=OuterRef("pk")))
        if viewer is not None
        else Value(False),
    )


def users_for(viewer: User | None) -> QuerySet[User]:
    """Active users as every user list shows them (a `Prefetch` queryset for authors, sellers...),
    with what every app adds to members (marketplace.hooks.MEMBER_ANNOTATIONS: these follow counts,
    sellers' ratings)."""
    return hooks.members_as_shown(User.objects.filter(is_active=True), viewer)


def follow_stats(user: User, viewer: User | None) -> User:
    """One user with the annotations of `with_follow_stats`, for a user that did not come from a list."""
    return with_follow_stats(User.objects.filter(pk=user.pk), viewer).get()


def followers(user: User, viewer: User | None) -> QuerySet[User]:
    """Who follows `user`, newest first: order by ("-followed_at", "-pk")."""
    return (
        users_for(viewer)
        .filter(following_relations__followee_id=user.pk)
        .annotate(followed_at=F("following_relations__created_at"))
    )


def following(user: User, viewer: User | None) -> QuerySet[User]:
    """Whom `user` follows, newest first: order by ("-followed_at", "-pk")."""
    return (
        users_for(viewer)
        .filter(follower_relations__follower_id=user.pk)
        .annotate(followed_at=F("follower_relations__created_at"))
    )


def likes_of_listing(listing: Listing, viewer: User | None) -> QuerySet[Like]:
    """Who liked a listing (the seller's view), each with when; order by ("-created_at", "-pk")."""
    return Like.objects.filter(listing_id=listing.pk, user__is_active=True).prefetch_related(
        Prefetch("user", queryset=users_for(viewer))
    )


def comments_on(listing: Listing, viewer: User | None) -> QuerySet[Comment]:
    """A listing's comments, oldest first (a conversation): order by ("created_at", "pk")."""
    return Comment.objects.filter(listing_id=listing.pk).prefetch_related(
        Prefetch("author", queryset=users_for(viewer))
    )


def conversations_of(viewer: User) -> QuerySet[Conversation]:
    """The viewer's conversations with their side's `unread_count`, `muted` and `first_unread_id`,
    both members and the last message prefetched; only those with a message are listed, newest
    activity first: order by ("-last_message_at", "-pk")."""
    users = users_for(viewer)
    return (
        Conversation.objects.filter(participants__user_id=viewer.pk)
        .annotate(
            unread_count=F("participants__unread_count"),
            muted=F("participants__muted"),
            first_unread_id=F("participants__first_unread_id"),
        )
        .prefetch_related(
            Prefetch("first_user", queryset=users),
            Prefetch("second_user", queryset=users),
            Prefetch("last_message", queryset=messages_shown_to(viewer)),
        )
    )


def listed_conversations(viewer: User) -> QuerySet[Conversation]:
    return conversations_of(viewer).filter(last_message__isnull=False)


def conversation_between(viewer: User, other_id: int) -> Conversation | None:
    first, second = sorted((viewer.pk, other_id))
    return conversations_of(viewer).filter(first_user_id=first, second_user_id=second).first()


def messages_shown_to(viewer: User) -> QuerySet[Message]:
    """Messages of the viewer's conversations with sender and attached listing cards; a thread is
    ordered newest first: ("-created_at", "-pk")."""
    from marketplace import selectors as listing_selectors  # marketplace's selectors import this module

    # Attached listings in the order they were listed: the join alone leaves it to the query plan.
    cards = listing_selectors.listing_cards(listing_selectors.visible_listings(viewer), viewer).order_by("pk")
    return Message.objects.filter(conversation__participants__user_id=viewer.pk).prefetch_related(
        Prefetch("sender", queryset=users_for(viewer)), Prefetch("listings", queryset=cards)
    )


def unread_message_count(viewer: User) -> int:
    return Participant.objects.filter(user_id=viewer.pk, unread_count__gt=0).aggregate(
        total=Coalesce(Sum("unread_count"), 0)
    )["total"]


def has_muted(user_id: int, other_id: int) -> bool:
    """Whether `user_id` muted their conversation with `other_id` (no notifications, no greetings)."""
    first, second = sorted((user_id, other_id))
    return Participant.objects.filter(
        user_id=user_id, muted=True, conversation__first_user_id=first, conversation__second_user_id=second
    ).exists()


def _count(related: QuerySet, column: str) -> Coalesce:
    counted = related.order_by().values(column).annotate(count=Count("pk")).values("count")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))

"""What deleting an account and exporting its data mean for social (accounts.hooks).

Deleting removes the member's likes, follows (both ways), shares, closet visits (both ways),
blocks (both ways), comments and mentions. Direct messages stay in the other person's
conversation (their record, e.g. of an order's arrangements), signed by the anonymous
`deleted-<id>`.
"""

from django.db.models import Q

from social.models import Block, ClosetVisit, Comment, Follow, Like, Mention, Message, Share


def erase(user) -> None:
    Like.objects.filter(user=user).delete()
    Follow.objects.filter(Q(follower=user) | Q(followee=user)).delete()
    Share.objects.filter(sharer=user).delete()
    ClosetVisit.objects.filter(Q(visitor=user) | Q(closet_owner=user)).delete()
    Block.objects.filter(Q(blocker=user) | Q(blocked=user)).delete()
    Mention.objects.filter(Q(user=user) | Q(comment__author=user)).delete()
    Comment.objects.filter(author=user).delete()


def export(user) -> dict:
    return {
        "likes": list(
            Like.objects.filter(user=user).order_by("created_at").values("listing_id", "listing__title", "created_at")
        ),
        "following": list(
            Follow.objects.filter(follower=user).order_by("created_at").values("followee__username", "created_at")
        ),
        "followers": Follow.objects.filter(followee=user).count(),
        "shares": list(Share.objects.filter(sharer=user).order_by("created_at").values("listing_id", "created_at")),
        "comments": list(
            Comment.objects.filter(author=user).order_by("created_at").values("listing_id", "body", "created_at")
        ),
        "messagesSent": list(
            Message.objects.filter(sender=user)
            .order_by("created_at")
            .values("conversation_id", "kind", "body", "created_at")
        ),
        "blocked": list(Block.objects.filter(blocker=user).values("blocked__username")),
    }

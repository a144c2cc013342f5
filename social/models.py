from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from marketplace.models import Listing


class Like(models.Model):
    """A listing on someone's wish list. One per user and listing, whatever the concurrency."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="likes")
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "listing"], name="like_once_per_user")]
        indexes = [models.Index(fields=["listing", "-created_at"]), models.Index(fields=["user", "-created_at"])]

    def __str__(self):
        return f"{self.user_id} ♥ {self.listing_id}"


class Follow(models.Model):
    follower = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                 related_name="following_relations")
    followee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                 related_name="follower_relations")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "followee"], name="follow_once"),
            models.CheckConstraint(condition=~Q(follower=F("followee")), name="follow_not_self"),
        ]
        indexes = [models.Index(fields=["followee", "-created_at"]), models.Index(fields=["follower", "-created_at"])]

    def __str__(self):
        return f"{self.follower_id} → {self.followee_id}"


class Share(models.Model):
    """A listing shared to the sharer's followers; each share is a new row (it re-tops their feeds)."""

    sharer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shares")
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="shares")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["sharer", "-created_at"]), models.Index(fields=["listing", "-created_at"])]

    def __str__(self):
        return f"{self.sharer_id} shared {self.listing_id}"


class Comment(models.Model):
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments")
    body = models.TextField(max_length=500, validators=[MaxLengthValidator(500)])
    mentioned_users = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Mention", related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["listing", "created_at"])]

    def __str__(self):
        return f"{self.author_id} on {self.listing_id}: {self.body[:40]}"


class Mention(models.Model):
    """An `@username` in a comment, kept so edits notify only the newly mentioned."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentions")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["comment", "user"], name="mention_once_per_comment")]


class Block(models.Model):
    """`blocker` shuts `blocked` out: no comments, follows or sight of the blocker's closet."""

    blocker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocks_made")
    blocked = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocks_received")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="block_once"),
            models.CheckConstraint(condition=~Q(blocker=F("blocked")), name="block_not_self"),
        ]
        indexes = [models.Index(fields=["blocked", "blocker"])]

    def __str__(self):
        return f"{self.blocker_id} blocked {self.blocked_id}"


class ClosetVisit(models.Model):
    """A visit to a closet, at most one per visitor, closet and hour (`hour` is the visit truncated)."""

    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="closet_visits")
    closet_owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                     related_name="closet_visitors")
    hour = models.DateTimeField()
    visited_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["closet_owner", "visitor", "hour"], name="closet_visit_once_per_hour"),
            models.CheckConstraint(condition=~Q(visitor=F("closet_owner")), name="closet_visit_not_own"),
        ]
        indexes = [models.Index(fields=["closet_owner", "-visited_at"])]

    def __str__(self):
        return f"{self.visitor_id} visited {self.closet_owner_id} at {self.visited_at:%Y-%m-%d %H:%M}"

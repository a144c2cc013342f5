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
    follower = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="following_relations")
    followee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follower_relations")
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
    closet_owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="closet_visitors")
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


class Conversation(models.Model):
    """Messages between members, each side a `Participant`.

    A direct conversation is between exactly two members: one per pair, lower id first. A group
    (started by a service, e.g. a mentoring group) has a title and no pair: its members are its
    participants, and once closed it keeps its history but takes no new messages.
    """

    class Kind(models.TextChoices):
        DIRECT = "direct", "Direct"
        GROUP = "group", "Group"

    kind = models.CharField(max_length=6, choices=Kind.choices, default=Kind.DIRECT)
    title = models.CharField(max_length=80, blank=True, help_text="A group's name.")
    first_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    second_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="A group takes no new messages once closed.")
    # Denormalised for the conversation list: newest activity first, with a preview, in one query.
    last_message = models.ForeignKey("Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    last_message_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["first_user", "second_user"], name="conversation_once_per_pair"),
            models.CheckConstraint(
                condition=Q(kind="direct", first_user__isnull=False, first_user__lt=F("second_user"))
                | Q(kind="group", first_user__isnull=True, second_user__isnull=True),
                name="conversation_direct_pair_ordered_or_group",
            ),
        ]

    def __str__(self):
        if self.kind == self.Kind.GROUP:
            return self.title
        return f"{self.first_user_id} ↔ {self.second_user_id}"


class Participant(models.Model):
    """One member's side of a conversation: what they have not read yet, and whether it is muted."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversation_sides")
    unread_count = models.PositiveIntegerField(default=0)
    # The oldest message not read yet: clients jump to it, and it names the notification that the
    # following unread messages rewrite.
    first_unread = models.ForeignKey("Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    last_read_at = models.DateTimeField(null=True, blank=True)
    muted = models.BooleanField(
        default=False, help_text="No notifications for this conversation, and no greetings from the other member."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "user"], name="participant_once"),
            models.CheckConstraint(condition=Q(unread_count__gte=0), name="participant_unread_not_negative"),
        ]
        indexes = [models.Index(fields=["user"], condition=Q(unread_count__gt=0), name="participant_unread_idx")]

    def __str__(self):
        return f"{self.user_id} in {self.conversation_id}"


class Message(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        GREETING = "greeting", "Greeting"  # a seller greeting a closet visitor
        UPSELL = "upsell", "Upsell"  # a seller suggesting items to a buyer after an order

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="messages_sent")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT)
    body = models.TextField(max_length=2000, validators=[MaxLengthValidator(2000)])
    listings = models.ManyToManyField(Listing, blank=True, related_name="+", help_text="Items attached (upsells).")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["conversation", "-created_at", "-id"], name="message_thread_idx")]

    def __str__(self):
        return f"{self.sender_id} in {self.conversation_id}: {self.body[:40]}"

import graphene
from django.conf import settings
from django.db.models import Q
from graphene_django import DjangoObjectType
from graphql_relay import to_global_id

from accounts.schema import UserType, active_member
from config.errors import CommonError, ServiceError
from config.graphql.mutations import BaseMutation, enforce_rate_limit
from config.graphql.node import Node, decode_id
from config.graphql.pagination import connection_args, keyset_page
from config.graphql.permissions import Access, require_owner, require_user, viewer
from marketplace import selectors as marketplace_selectors
from marketplace.schema import ListingIdInput, ListingType
from social import selectors, services
from social.models import Comment, Conversation, Like, Message

MessageKind = graphene.Enum.from_enum(Message.Kind, name="MessageKind")
ConversationKind = graphene.Enum.from_enum(Conversation.Kind, name="ConversationKind")


class LikeType(DjangoObjectType):
    """Who liked a listing, and when (the seller's view)."""

    class Meta:
        model = Like
        name = "Like"
        interfaces = (Node,)
        fields = ("created_at",)

    user = graphene.Field(UserType, required=True)

    @classmethod
    def get_queryset(cls, queryset, info):
        current = viewer(info)  # a like is shown to its liker and to the listing's seller
        if current is None:
            return queryset.none()
        return queryset.filter(Q(user_id=current.pk) | Q(listing__seller_id=current.pk))


class CommentType(DjangoObjectType):
    class Meta:
        model = Comment
        name = "Comment"
        interfaces = (Node,)
        fields = ("body", "created_at", "edited_at")

    author = graphene.Field(UserType, required=True)

    @classmethod
    def get_queryset(cls, queryset, info):
        return queryset.filter(listing__in=marketplace_selectors.visible_listings(viewer(info)))


class ConversationType(DjangoObjectType):
    """Your direct messages with one member, or a group you belong to (a mentoring group)."""

    class Meta:
        model = Conversation
        name = "Conversation"
        interfaces = (Node,)
        fields = ("created_at", "last_message_at", "closed_at")

    kind = ConversationKind(required=True)
    title = graphene.String(description="A group's name; null in a direct conversation.")
    other_user = graphene.Field(UserType, description="The other member of a direct conversation; null in a group.")
    last_message = graphene.Field(lambda: MessageType)
    unread_count = graphene.Int(required=True, description="Messages you have not read yet.")
    first_unread_message_id = graphene.ID(description="The oldest message you have not read; null when none.")
    muted = graphene.Boolean(required=True, description="You get no notifications of it, nor greetings from them.")

    @classmethod
    def get_queryset(cls, queryset, info):
        current = viewer(info)
        return selectors.conversations_of(current) if current else queryset.none()

    def resolve_title(conversation, info):
        return conversation.title or None

    def resolve_other_user(conversation, info):
        if conversation.kind == Conversation.Kind.GROUP:
            return None
        mine = conversation.first_user_id == info.context.user.pk
        return conversation.second_user if mine else conversation.first_user

    def resolve_first_unread_message_id(conversation, info):
        return to_global_id("Message", conversation.first_unread_id) if conversation.first_unread_id else None


class MessageType(DjangoObjectType):
    class Meta:
        model = Message
        name = "Message"
        interfaces = (Node,)
        fields = ("body", "created_at")

    kind = MessageKind(required=True)
    sender = graphene.Field(UserType, required=True)
    conversation_id = graphene.ID(required=True)
    listings = graphene.List(
        graphene.NonNull(ListingType),
        required=True,
        description="Items attached (an upsell's picks) that you can still see.",
    )

    @classmethod
    def get_queryset(cls, queryset, info):
        current = viewer(info)
        return selectors.messages_shown_to(current) if current else queryset.none()

    def resolve_conversation_id(message, info):
        return to_global_id("Conversation", message.conversation_id)

    def resolve_listings(message, info):
        return message.listings.all()


class ConversationConnection(graphene.relay.Connection):
    class Meta:
        node = ConversationType


class MessageConnection(graphene.relay.Connection):
    class Meta:
        node = MessageType


class LikeConnection(graphene.relay.Connection):
    class Meta:
        node = LikeType


class CommentConnection(graphene.relay.Connection):
    class Meta:
        node = CommentType


class Query(graphene.ObjectType):
    listing_likes = graphene.Field(
        LikeConnection,
        **connection_args(listing_id=graphene.ID(required=True)),
        description="Who liked your listing, most recent first.",
    )
    comments = graphene.Field(
        CommentConnection,
        **connection_args(listing_id=graphene.ID(required=True)),
        description="A listing's comments, oldest first.",
    )

    conversations = graphene.Field(
        ConversationConnection, **connection_args(), description="Your conversations, most recent activity first."
    )
    conversation_with = graphene.Field(
        ConversationType,
        user_id=graphene.ID(required=True),
        description="Your conversation with this member; null before any message.",
    )
    messages = graphene.Field(
        MessageConnection,
        **connection_args(conversation_id=graphene.ID(required=True)),
        description="A conversation's messages, newest first.",
    )
    unread_message_count = graphene.Int(required=True, description="Unread messages in all your conversations.")

    def resolve_conversations(root, info, first=None, after=None):
        return keyset_page(
            selectors.listed_conversations(require_user(info)),
            ConversationConnection,
            first=first,
            after=after,
            ordering=("-last_message_at", "-pk"),
        )

    def resolve_conversation_with(root, info, user_id):
        return selectors.conversation_between(require_user(info), decode_id(user_id, "User", "userId"))

    def resolve_messages(root, info, conversation_id, first=None, after=None):
        conversation = _conversation(info, conversation_id)
        messages = selectors.messages_shown_to(info.context.user).filter(conversation_id=conversation.pk)
        return keyset_page(messages, MessageConnection, first=first, after=after, ordering=("-created_at", "-pk"))

    def resolve_unread_message_count(root, info):
        return selectors.unread_message_count(require_user(info))

    def resolve_listing_likes(root, info, listing_id, first=None, after=None):
        listing = _listing(info, listing_id)
        require_owner(info, listing.seller_id)
        return keyset_page(
            selectors.likes_of_listing(listing, viewer(info)),
            LikeConnection,
            first=first,
            after=after,
            ordering=("-created_at", "-pk"),
        )

    def resolve_comments(root, info, listing_id, first=None, after=None):
        listing = _listing(info, listing_id)
        return keyset_page(
            selectors.comments_on(listing, viewer(info)),
            CommentConnection,
            first=first,
            after=after,
            ordering=("created_at", "pk"),
        )


def _listing(info, global_id: str):
    return marketplace_selectors.get_listing(viewer(info), decode_id(global_id, "Listing", "listingId"))


def _conversation(info, global_id: str) -> Conversation:
    conversation = (
        selectors.conversations_of(require_user(info))
        .filter(pk=decode_id(global_id, "Conversation", "conversationId"))
        .first()
    )
    if conversation is None:
        raise ServiceError(CommonError.NOT_FOUND, "This conversation does not exist.", "conversationId")
    return conversation


class UserIdInput(graphene.InputObjectType):
    user_id = graphene.ID(required=True)


class ListingMutation(BaseMutation):
    """A change of the viewer's relation to a listing; returns the listing as it is now."""

    class Meta:
        abstract = True

    class Arguments:
        input = ListingIdInput(required=True)

    listing = graphene.Field(ListingType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        listing = _listing(info, input.listing_id)
        cls.change(info.context.user, listing)
        return cls(listing=marketplace_selectors.get_listing(info.context.user, listing.pk), errors=[])


class LikeListing(ListingMutation):
    """Add to your likes (idempotent)."""

    @staticmethod
    def change(user, listing):
        services.like_listing(user=user, listing=listing)


class UnlikeListing(ListingMutation):
    """Remove from your likes (idempotent)."""

    @staticmethod
    def change(user, listing):
        services.unlike_listing(user=user, listing=listing)


class UserMutation(BaseMutation):
    """A change of the viewer's relation to a member; returns the member as seen now."""

    class Meta:
        abstract = True

    class Arguments:
        input = UserIdInput(required=True)

    user = graphene.Field(UserType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        target = active_member(input.user_id)
        cls.change(info.context.user, target)
        return cls(user=selectors.follow_stats(target, info.context.user), errors=[])


class FollowUser(UserMutation):
    @staticmethod
    def change(user, target):
        services.follow_user(follower=user, followee=target)


class UnfollowUser(UserMutation):
    @staticmethod
    def change(user, target):
        services.unfollow_user(follower=user, followee=target)


class BlockUser(UserMutation):
    """They can no longer comment on your listings, follow you or see your closet; follows end."""

    @staticmethod
    def change(user, target):
        services.block_user(blocker=user, blocked=target)


class UnblockUser(UserMutation):
    @staticmethod
    def change(user, target):
        services.unblock_user(blocker=user, blocked=target)


class ShareListing(BaseMutation):
    """Share to your followers: it goes to the top of their feeds."""

    class Arguments:
        input = ListingIdInput(required=True)

    listing = graphene.Field(ListingType)
    shared_at = graphene.DateTime()

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        enforce_rate_limit(info, "share:daily", settings.SHARE_RATE_LIMIT)  # automation is abuse
        share = services.share_listing(sharer=info.context.user, listing=_listing(info, input.listing_id))
        return cls(listing=share.listing, shared_at=share.created_at, errors=[])


class AddCommentInput(graphene.InputObjectType):
    listing_id = graphene.ID(required=True)
    body = graphene.String(required=True, description="Up to 500 characters; @username notifies that member.")


class AddComment(BaseMutation):
    class Arguments:
        input = AddCommentInput(required=True)

    comment = graphene.Field(CommentType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        comment = services.add_comment(
            author=info.context.user, listing=_listing(info, input.listing_id), body=input.body
        )
        return cls(comment=comment, errors=[])


class EditCommentInput(graphene.InputObjectType):
    comment_id = graphene.ID(required=True)
    body = graphene.String(required=True)


def _comment(info, global_id: str) -> Comment:
    comment = (
        CommentType.get_queryset(Comment.objects.select_related("listing"), info)
        .filter(pk=decode_id(global_id, "Comment", "commentId"))
        .first()
    )
    if comment is None:
        raise ServiceError(CommonError.NOT_FOUND, "This comment does not exist.", "commentId")
    return comment


class EditComment(BaseMutation):
    class Arguments:
        input = EditCommentInput(required=True)

    comment = graphene.Field(CommentType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        comment = _comment(info, input.comment_id)
        if comment.author_id != info.context.user.pk:
            raise ServiceError(CommonError.FORBIDDEN, "Only its author can edit a comment.", "commentId")
        return cls(comment=services.edit_comment(comment=comment, body=input.body), errors=[])


class DeleteCommentInput(graphene.InputObjectType):
    comment_id = graphene.ID(required=True)


class DeleteComment(BaseMutation):
    """Its author, or the listing's seller, can delete a comment."""

    class Arguments:
        input = DeleteCommentInput(required=True)

    deleted_comment_id = graphene.ID()

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        comment = _comment(info, input.comment_id)
        if comment.listing.seller_id != info.context.user.pk:
            require_owner(info, comment.author_id)
        services.delete_comment(comment=comment)
        return cls(deleted_comment_id=input.comment_id, errors=[])


class RecordClosetVisit(BaseMutation):
    """Note that you opened this member's closet (at most once an hour counts)."""

    class Arguments:
        input = UserIdInput(required=True)

    recorded = graphene.Boolean(description="False for your own closet or a repeat this hour.")

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        recorded = services.record_closet_visit(visitor=info.context.user, closet_owner=active_member(input.user_id))
        return cls(recorded=recorded, errors=[])


class SendMessageInput(graphene.InputObjectType):
    recipient_id = graphene.ID(description="A member; or give conversationId.")
    conversation_id = graphene.ID(description="A group conversation of yours.")
    body = graphene.String(required=True, description=f"1 to {services.MESSAGE_MAX_LENGTH} characters.")


class SendMessage(BaseMutation):
    """Message a member (the first message starts your conversation with them), or write in a group
    you belong to."""

    class Arguments:
        input = SendMessageInput(required=True)

    message = graphene.Field(MessageType)
    conversation = graphene.Field(ConversationType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        enforce_rate_limit(info, "message", settings.MESSAGE_RATE_LIMIT)
        user = info.context.user
        if bool(input.recipient_id) == bool(input.conversation_id):
            raise ServiceError(CommonError.REQUIRED, "Give either a recipient or a conversation.", "recipientId")
        if input.recipient_id:
            message = services.send_message(
                sender=user, recipient=active_member(input.recipient_id, "recipientId"), body=input.body
            )
        else:
            message = services.send_message(
                sender=user, conversation=_conversation(info, input.conversation_id), body=input.body
            )
        return cls(
            message=selectors.messages_shown_to(user).get(pk=message.pk),
            conversation=selectors.conversations_of(user).get(pk=message.conversation_id),
            errors=[],
        )


class ConversationIdInput(graphene.InputObjectType):
    conversation_id = graphene.ID(required=True)


class MarkConversationRead(BaseMutation):
    class Arguments:
        input = ConversationIdInput(required=True)

    conversation = graphene.Field(ConversationType)
    unread_message_count = graphene.Int(description="Unread messages left in all your conversations.")

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        conversation = _conversation(info, input.conversation_id)
        services.mark_conversation_read(user=user, conversation=conversation)
        return cls(
            conversation=selectors.conversations_of(user).get(pk=conversation.pk),
            unread_message_count=selectors.unread_message_count(user),
            errors=[],
        )


class MuteUser(UserMutation):
    """No notifications of their messages and no greetings from them; they are not told."""

    @staticmethod
    def change(user, target):
        services.set_muted(user=user, other=target, muted=True)


class UnmuteUser(UserMutation):
    @staticmethod
    def change(user, target):
        services.set_muted(user=user, other=target, muted=False)


class Mutation(graphene.ObjectType):
    like_listing = LikeListing.Field()
    unlike_listing = UnlikeListing.Field()
    follow_user = FollowUser.Field()
    unfollow_user = UnfollowUser.Field()
    block_user = BlockUser.Field()
    unblock_user = UnblockUser.Field()
    share_listing = ShareListing.Field()
    add_comment = AddComment.Field()
    edit_comment = EditComment.Field()
    delete_comment = DeleteComment.Field()
    record_closet_visit = RecordClosetVisit.Field()
    send_message = SendMessage.Field()
    mark_conversation_read = MarkConversationRead.Field()
    mute_user = MuteUser.Field()
    unmute_user = UnmuteUser.Field()


class Subscription(graphene.ObjectType):
    message_added = graphene.Field(
        MessageType,
        conversation_id=graphene.ID(description="Only this conversation."),
        description="Each new message of your conversations, yours included.",
    )

    async def subscribe_message_added(root, info, conversation_id=None):
        user = require_user(info)
        wanted = decode_id(conversation_id, "Conversation", "conversationId") if conversation_id else None
        return _messages_of(info.context.listen(services.messages_group(user.pk)), wanted)

    def resolve_message_added(event, info, conversation_id=None):
        return selectors.messages_shown_to(info.context.user).filter(pk=event["message_id"]).first()


async def _messages_of(events, conversation_id: int | None):
    """The events of one conversation (of all when None); closing this stops the listener too."""
    try:
        async for event in events:
            if conversation_id is None or event["conversation_id"] == conversation_id:
                yield event
    finally:
        await events.aclose()

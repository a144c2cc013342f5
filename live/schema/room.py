"""Mutations of the room: co-hosts, muting and removing viewers, the line-up, featuring, chat
and its limits."""

import graphene

from accounts.schema import active_member
from config.graphql.mutations import BaseMutation
from config.graphql.node import decode_id
from config.graphql.permissions import Access, viewer
from live import selectors, services
from live.models import ShowRestriction
from live.schema.shows import ShowAction, ShowPayload, _listing, _show
from live.schema.types import ShowMessageType


class ShowMemberInput(graphene.InputObjectType):
    show_id = graphene.ID(required=True)
    user_id = graphene.ID(required=True)


class ShowMemberAction(ShowAction):
    """A ShowAction on one member of the show (`act(show, user, member)`)."""

    class Arguments:
        input = ShowMemberInput(required=True)

    @classmethod
    def target(cls, info, input) -> tuple:
        return (active_member(input.user_id),)


class AddCoHost(ShowMemberAction):
    """Invite a member to co-host (host); they accept or decline."""

    @staticmethod
    def act(show, user, member):
        services.invite_cohost(show=show, host=user, invitee=member)


class RemoveCoHost(ShowMemberAction):
    """Withdraw an invitation or remove a co-host (host), or step down (the co-host)."""

    @staticmethod
    def act(show, user, member):
        services.remove_cohost(show=show, user=user, cohost_user=member)


class MuteShowViewer(ShowMemberAction):
    """The viewer keeps watching but cannot chat (host or co-host)."""

    @staticmethod
    def act(show, user, member):
        services.restrict_viewer(show=show, moderator=user, viewer=member, kind=ShowRestriction.Kind.MUTED)


class UnmuteShowViewer(ShowMemberAction):
    """Let a muted viewer chat again (host or co-host)."""

    @staticmethod
    def act(show, user, member):
        services.unmute_viewer(show=show, moderator=user, viewer=member)


class RemoveShowViewer(ShowMemberAction):
    """End the viewer's stream; they cannot watch, chat or bid in this show again (host or co-host)."""

    @staticmethod
    def act(show, user, member):
        services.restrict_viewer(show=show, moderator=user, viewer=member, kind=ShowRestriction.Kind.REMOVED)


class RespondToCoHostInviteInput(graphene.InputObjectType):
    show_id = graphene.ID(required=True)
    accept = graphene.Boolean(required=True)


class RespondToCoHostInvite(ShowPayload, BaseMutation):
    class Arguments:
        input = RespondToCoHostInviteInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        show = _show(info, input.show_id)
        services.respond_to_cohost_invite(show=show, user=info.context.user, accept=input.accept)
        return cls(show=show, errors=[])


class ShowListingInput(graphene.InputObjectType):
    show_id = graphene.ID(required=True)
    listing_id = graphene.ID(required=True)


class ShowListingAction(ShowAction):
    """A ShowAction on one listing of the show (`act(show, user, listing)`)."""

    class Arguments:
        input = ShowListingInput(required=True)

    @classmethod
    def target(cls, info, input) -> tuple:
        return (_listing(info, input.listing_id),)


class AddShowListing(ShowListingAction):
    """Curate an available listing from any closet into the line-up (host or co-host); its seller is told."""

    @staticmethod
    def act(show, user, listing):
        services.add_show_listing(show=show, user=user, listing=listing)


class RemoveShowListing(ShowListingAction):
    """Take a listing out of the line-up (host or co-host)."""

    @staticmethod
    def act(show, user, listing):
        services.remove_show_listing(show=show, user=user, listing=listing)


class FeatureShowListingInput(graphene.InputObjectType):
    show_id = graphene.ID(required=True)
    listing_id = graphene.ID(description="A listing of the line-up; null to feature nothing.")


class FeatureShowListing(ShowPayload, BaseMutation):
    """Show one listing of the line-up to every viewer at once (host or co-host)."""

    class Arguments:
        input = FeatureShowListingInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        show = _show(info, input.show_id)
        listing = _listing(info, input.listing_id) if input.listing_id else None
        services.feature_listing(show=show, user=info.context.user, listing=listing)
        return cls(show=show, errors=[])


class ReorderShowListingsInput(graphene.InputObjectType):
    show_id = graphene.ID(required=True)
    listing_ids = graphene.List(
        graphene.NonNull(graphene.ID),
        required=True,
        description="These first, in this order; the others follow as they were.",
    )


class ReorderShowListings(ShowPayload, BaseMutation):
    class Arguments:
        input = ReorderShowListingsInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        show = _show(info, input.show_id)
        listing_ids = [decode_id(value, "Listing", "listingIds") for value in input.listing_ids]
        services.reorder_line_up(show=show, user=info.context.user, listing_ids=listing_ids)
        return cls(show=show, errors=[])


class SendShowMessageInput(graphene.InputObjectType):
    show_id = graphene.ID(required=True)
    body = graphene.String(required=True)


class SendShowMessage(BaseMutation):
    """Chat in a live show: length-limited; slow mode, muted words and mutes apply to viewers."""

    class Arguments:
        input = SendShowMessageInput(required=True)

    message = graphene.Field(ShowMessageType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        message = services.send_message(show=_show(info, input.show_id), author=info.context.user, body=input.body)
        return cls(message=message, errors=[])


class DeleteShowMessageInput(graphene.InputObjectType):
    message_id = graphene.ID(required=True)


class DeleteShowMessage(BaseMutation):
    """Take a chat message down (host, co-host or its author)."""

    class Arguments:
        input = DeleteShowMessageInput(required=True)

    deleted = graphene.Boolean()

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        message = selectors.get_message(viewer(info), decode_id(input.message_id, "ShowMessage", "messageId"))
        services.delete_message(message=message, user=info.context.user)
        return cls(deleted=True, errors=[])


class SetShowSlowModeInput(graphene.InputObjectType):
    show_id = graphene.ID(required=True)
    seconds = graphene.Int(required=True, description="Between a viewer's messages; 0 turns slow mode off.")


class SetShowSlowMode(ShowPayload, BaseMutation):
    class Arguments:
        input = SetShowSlowModeInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        show = services.set_slow_mode(show=_show(info, input.show_id), user=info.context.user, seconds=input.seconds)
        return cls(show=show, errors=[])


class SetShowMutedWordsInput(graphene.InputObjectType):
    show_id = graphene.ID(required=True)
    words = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        description="Replaces the list; messages with one of them are refused.",
    )


class SetShowMutedWords(ShowPayload, BaseMutation):
    class Arguments:
        input = SetShowMutedWordsInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        show = services.set_muted_words(show=_show(info, input.show_id), user=info.context.user, words=input.words)
        return cls(show=show, errors=[])

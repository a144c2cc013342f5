"""Show queries, and the mutations on a show itself: create, edit, start, end, save, the
private link. `ShowAction` and `ShowPayload` are the base of the other modules' mutations: ids
in, services, the show card (or the thing made) out."""

import graphene

from config.graphql.mutations import BaseMutation
from config.graphql.node import decode_id
from config.graphql.pagination import connection_args
from config.graphql.permissions import Access, require_user, viewer
from config.graphql.upload import Upload
from live import selectors, services
from live.models import Show
from live.schema.types import ShowConnection, ShowType, _shows_page
from marketplace import selectors as marketplace_selectors


class Query(graphene.ObjectType):
    show = graphene.Field(
        ShowType,
        id=graphene.ID(required=True),
        link_token=graphene.String(description="From the link of a private show."),
        description="A show; null when it does not exist or is hidden from you (a private "
        "one opens with its link's token).",
    )
    upcoming_shows = graphene.Field(ShowConnection, **connection_args(), description="Scheduled shows, soonest first.")
    live_shows = graphene.Field(ShowConnection, **connection_args(), description="Live now, latest started first.")
    saved_shows = graphene.Field(
        ShowConnection, **connection_args(), description="Shows you saved that are not over, most recently saved first."
    )
    co_host_invitations = graphene.List(
        graphene.NonNull(ShowType),
        required=True,
        description="Shows you are invited to co-host (respondToCoHostInvite).",
    )

    def resolve_show(root, info, id, link_token=None):
        show = selectors.show_card(viewer(info), decode_id(id, "Show"), link_token)
        if show is not None:
            selectors.attach_viewer_counts([show])
        return show

    def resolve_upcoming_shows(root, info, first=None, after=None):
        return _shows_page(
            selectors.upcoming_shows(viewer(info)), first=first, after=after, ordering=selectors.UPCOMING
        )

    def resolve_live_shows(root, info, first=None, after=None):
        return _shows_page(selectors.live_shows(viewer(info)), first=first, after=after, ordering=selectors.LIVE_NOW)

    def resolve_saved_shows(root, info, first=None, after=None):
        return _shows_page(
            selectors.saved_shows(require_user(info)), first=first, after=after, ordering=selectors.SAVED
        )

    def resolve_co_host_invitations(root, info):
        return list(selectors.invited_shows(require_user(info)))


def _show(info, show_id: str) -> Show:
    return selectors.get_show(viewer(info), decode_id(show_id, "Show", "showId"))


def _listing(info, listing_id: str):
    return marketplace_selectors.get_visible_listing(viewer(info), decode_id(listing_id, "Listing", "listingId"))


class ShowFields:
    title = graphene.String()
    description = graphene.String()
    scheduled_start = graphene.DateTime()
    is_private = graphene.Boolean(description="Left out of show lists; only savers are reminded. Open by link.")
    cover = Upload(description="A JPEG, PNG, WebP or HEIC image, sent as a multipart part.")


class CreateShowInput(ShowFields, graphene.InputObjectType):
    title = graphene.String(required=True)
    scheduled_start = graphene.DateTime(required=True)


class UpdateShowInput(ShowFields, graphene.InputObjectType):
    show_id = graphene.ID(required=True)


class ShowPayload:
    show = graphene.Field(ShowType)

    def resolve_show(payload, info):
        # The card costs a dozen queries: only for clients that ask for it.
        return selectors.show_card(viewer(info), payload.show.pk) if payload.show else None


class CreateShow(ShowPayload, BaseMutation):
    class Arguments:
        input = CreateShowInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        show = services.create_show(
            host=info.context.user,
            title=input.title,
            scheduled_start=input.scheduled_start,
            description=input.description or "",
            is_private=bool(input.is_private),
            cover=input.cover,
        )
        return cls(show=show, errors=[])


class UpdateShow(ShowPayload, BaseMutation):
    class Arguments:
        input = UpdateShowInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        details = {name: input.get(name) for name in ("title", "description", "scheduled_start", "is_private")}
        show = services.update_show(
            show=_show(info, input.show_id), user=info.context.user, cover=input.cover, **details
        )
        return cls(show=show, errors=[])


class ShowIdInput(graphene.InputObjectType):
    show_id = graphene.ID(required=True)


class ShowAction(ShowPayload, BaseMutation):
    """A mutation on one show, answering with the show as it is now: a subclass's `act` makes the
    service call, given the member or listing its input names (`target`)."""

    class Arguments:
        input = ShowIdInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        show = _show(info, input.show_id)
        cls.act(show, info.context.user, *cls.target(info, input))
        return cls(show=show, errors=[])

    @classmethod
    def target(cls, info, input) -> tuple:
        return ()


class StartShow(ShowAction):
    """Go live: the host's followers and the show's savers are reminded."""

    @staticmethod
    def act(show, user):
        services.start_show(show=show, user=user)


class EndShow(ShowAction):
    """End a live show, or cancel a scheduled one (host)."""

    @staticmethod
    def act(show, user):
        services.end_show(show=show, user=user)


class SaveShow(ShowAction):
    """Be reminded when the show goes live."""

    @staticmethod
    def act(show, user):
        services.save_show(user=user, show=show)


class UnsaveShow(ShowAction):
    """No reminder for this show any more."""

    @staticmethod
    def act(show, user):
        services.unsave_show(user=user, show=show)


class RotateShowLink(ShowAction):
    """Replace the show's link (host): the old one opens nothing more; members who opened it keep access."""

    @staticmethod
    def act(show, user):
        services.rotate_show_link(show=show, user=user)


class OpenShowLinkInput(graphene.InputObjectType):
    show_id = graphene.ID(required=True)
    link_token = graphene.String(required=True, description="From the show's link.")


class OpenShowLink(ShowPayload, BaseMutation):
    """Open a private show by its link: you keep access to it (saving it, watching it) from then on,
    even after the host replaces the link."""

    class Arguments:
        input = OpenShowLinkInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        show = selectors.get_show(viewer(info), decode_id(input.show_id, "Show", "showId"), link_token=input.link_token)
        services.open_show_link(show=show, user=info.context.user)
        return cls(show=show, errors=[])

"""Mutations of the host's video: publish credentials and their rotation (host and accepted
co-hosts), going live with the stream and failing over to the second provider (host)."""

import graphene

from config.graphql.mutations import BaseMutation
from config.graphql.permissions import Access
from live import services
from live.schema.shows import ShowAction, ShowIdInput, ShowPayload, _show


class PublishCredentialsType(graphene.ObjectType):
    """What your encoder streams with. RTMP (OBS, a phone RTMP app): server `ingestUrl`, stream
    key `streamKey`. A real-time provider: `ingestUrl` and `token` for its SDK."""

    class Meta:
        name = "StreamCredentials"

    ingest_url = graphene.String(required=True)
    stream_key = graphene.String(
        description="Shown once, when issued or rotated (it is stored hashed): null afterwards, "
        "rotateStreamKey shows a new one."
    )
    token = graphene.String(description="A publish token for the provider's SDK.")
    expires_at = graphene.DateTime(description="Null: valid until rotated, or the show ends.")


class PublishCredentials(ShowPayload, BaseMutation):
    """Your credentials to stream the show (host and accepted co-hosts): a stream key the first
    time, the ingest address afterwards."""

    class Arguments:
        input = ShowIdInput(required=True)

    credentials = graphene.Field(PublishCredentialsType)

    access = Access.AUTHENTICATED
    rotate = False

    @classmethod
    def perform(cls, info, input):
        show = _show(info, input.show_id)
        credentials = services.publish_credentials(show=show, user=info.context.user, rotate=cls.rotate)
        return cls(show=show, credentials=credentials, errors=[])


class RotateStreamKey(PublishCredentials):
    """A new stream key (the old one is refused from now on, and a stream using it is cut off)."""

    rotate = True


class SetShowGoesLiveWithStreamInput(graphene.InputObjectType):
    show_id = graphene.ID(required=True)
    enabled = graphene.Boolean(required=True)


class SetShowGoesLiveWithStream(ShowPayload, BaseMutation):
    """Whether the scheduled show goes live by itself when your stream does (host)."""

    class Arguments:
        input = SetShowGoesLiveWithStreamInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        show = _show(info, input.show_id)
        services.set_goes_live_with_stream(show=show, user=info.context.user, enabled=input.enabled)
        return cls(show=show, errors=[])


class FailOverShowStream(ShowAction):
    """Move the show's video to the second provider (host): ask for publish credentials again;
    viewers' apps ask for playback again on STREAM_RESUMED."""

    @staticmethod
    def act(show, user):
        services.fail_over(show=show, user=user)

import graphene
from django.conf import settings
from graphene_django import DjangoObjectType

from accounts import account_schema, recovery, services
from accounts.login_limits import client_address
from accounts.models import User
from config import media
from config.errors import CommonError, ServiceError
from config.graphql.mutations import BaseMutation
from config.graphql.node import Node, decode_id
from config.graphql.pagination import connection_args, keyset_page
from config.graphql.permissions import Access, viewer
from marketplace import hooks
from reviews import selectors as review_selectors
from social import selectors as social_selectors


class UserType(DjangoObjectType):
    class Meta:
        model = User
        name = "User"
        interfaces = (Node,)
        fields = ("username", "display_name", "bio", "date_joined")

    avatar_url = graphene.String()
    email = graphene.String(description="Visible to the user themself only.")
    time_zone = graphene.String(description="Visible to the user themself only.")
    follower_count = graphene.Int(required=True)
    following_count = graphene.Int(required=True)
    viewer_is_following = graphene.Boolean(required=True)
    review_count = graphene.Int(required=True, description="Reviews of their sales (hidden ones aside).")
    rating_average = graphene.Float(description="Average stars of those reviews; null before the first.")
    followers = graphene.Field(lambda: UserConnection, **connection_args(), description="Most recent first.")
    following = graphene.Field(lambda: UserConnection, **connection_args(), description="Most recent first.")

    @classmethod
    def get_queryset(cls, queryset, info):
        return hooks.members_as_shown(queryset.filter(is_active=True), viewer(info))

    def resolve_follower_count(user, info):
        return _with_follow_stats(user, info).follower_count

    def resolve_following_count(user, info):
        return _with_follow_stats(user, info).following_count

    def resolve_viewer_is_following(user, info):
        return _with_follow_stats(user, info).viewer_is_following

    def resolve_review_count(user, info):
        return _with_seller_rating(user).review_count

    def resolve_rating_average(user, info):
        rated = _with_seller_rating(user)
        return review_selectors.average(rated.review_count, rated.rating_total)

    def resolve_followers(user, info, first=None, after=None):
        return keyset_page(
            social_selectors.followers(user, viewer(info)),
            UserConnection,
            first=first,
            after=after,
            ordering=("-followed_at", "-pk"),
        )

    def resolve_following(user, info, first=None, after=None):
        return keyset_page(
            social_selectors.following(user, viewer(info)),
            UserConnection,
            first=first,
            after=after,
            ordering=("-followed_at", "-pk"),
        )

    def resolve_avatar_url(user, info):
        return media.absolute_url(info.context, user.avatar.name) if user.avatar else None

    def resolve_email(user, info):
        return user.email if _is_self(info, user) else None

    def resolve_time_zone(user, info):
        return user.time_zone if _is_self(info, user) else None


class UserConnection(graphene.relay.Connection):
    class Meta:
        node = UserType


def _with_follow_stats(user, info):
    """Users of lists come annotated by social selectors; a lone one (me, a payload) is counted once."""
    if not hasattr(user, "follower_count"):
        counted = social_selectors.follow_stats(user, viewer(info))
        user.follower_count, user.following_count = counted.follower_count, counted.following_count
        user.viewer_is_following = counted.viewer_is_following
    return user


def _with_seller_rating(user):
    """Members of lists come annotated (marketplace.hooks.MEMBER_ANNOTATIONS); a lone one is read once."""
    if not hasattr(user, "review_count"):
        rating = review_selectors.seller_rating(user.pk)
        user.review_count, user.rating_total = rating.review_count, rating.rating_total
    return user


def _is_self(info, user) -> bool:
    current = viewer(info)
    return current is not None and current.pk == user.pk


class Query(account_schema.Query, graphene.ObjectType):
    me = graphene.Field(UserType, description="The logged-in user, or null when anonymous.")

    def resolve_me(root, info):
        return viewer(info)


class RegisterInput(graphene.InputObjectType):
    username = graphene.String(required=True)
    email = graphene.String(required=True)
    password = graphene.String(required=True)
    display_name = graphene.String()
    time_zone = graphene.String(description="IANA name, e.g. America/New_York. Default UTC.")
    device_name = graphene.String(description="Unused since sign-up verifies by mail: verifyEmail takes it.")


class Register(BaseMutation):
    """Sign up: the account is created unverified and a link is mailed to the address; following it
    (verifyEmail) logs in. The answer is the same when the address already has an account (nothing
    is created; its owner is mailed instead), so it never tells which addresses have accounts."""

    class Arguments:
        input = RegisterInput(required=True)

    check_email = graphene.Boolean(
        description="True: the sign-up goes on by the link mailed to the address (verifyEmail); null with errors."
    )
    user = graphene.Field(
        UserType, deprecation_reason="Always null: the account is usable once verified (verifyEmail)."
    )
    token = graphene.String(deprecation_reason="Null: verifyEmail logs in.")

    access = Access.PUBLIC
    rate_limit = settings.REGISTER_RATE_LIMIT

    @classmethod
    def perform(cls, info, input):
        recovery.sign_up(
            username=input.username,
            email=input.email,
            password=input.password,
            display_name=input.display_name or "",
            time_zone=input.time_zone or "UTC",
        )
        return cls(check_email=True, errors=[])


class LoginInput(graphene.InputObjectType):
    username = graphene.String(required=True, description="Username or email.")
    password = graphene.String(required=True)
    device_name = graphene.String()


class Login(BaseMutation):
    """Exchange credentials for a bearer token for this device."""

    class Arguments:
        input = LoginInput(required=True)

    user = graphene.Field(UserType)
    token = graphene.String(description="Send as `Authorization: Bearer <token>`. Shown once.")

    access = Access.PUBLIC
    rate_limit = None  # failures limited per account and address, per address, per account (login_limits)

    @classmethod
    def perform(cls, info, input):
        user, token = services.login(
            username=input.username,
            password=input.password,
            device_name=input.device_name or "",
            address=client_address(info.context),
        )
        return cls(user=user, token=token, errors=[])


class LogoutInput(graphene.InputObjectType):
    all_devices = graphene.Boolean(description="Revoke every token of this account, not just this one.")


class Logout(BaseMutation):
    """Revoke the token this request used (or all of them); their WebSockets close."""

    class Arguments:
        input = LogoutInput()

    revoked_count = graphene.Int()

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input=None):
        all_devices = bool(input and input.all_devices)
        revoked = services.logout(token=info.context.user.auth_token, all_devices=all_devices)
        return cls(revoked_count=revoked, errors=[])


class UpdateProfileInput(graphene.InputObjectType):
    display_name = graphene.String()
    bio = graphene.String()
    time_zone = graphene.String()


class UpdateProfile(BaseMutation):
    class Arguments:
        input = UpdateProfileInput(required=True)

    user = graphene.Field(UserType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        changes = {name: value for name, value in input.items() if value is not None}
        user = services.update_profile(user=info.context.user, **changes)
        return cls(user=user, errors=[])


class Mutation(account_schema.Mutation, graphene.ObjectType):
    register = Register.Field()
    login = Login.Field()
    logout = Logout.Field()
    update_profile = UpdateProfile.Field()


def active_member(global_id: str, field: str = "userId") -> User:
    """The active member a `User` global ID of an input names, or NOT_FOUND on `field`."""
    user = User.objects.filter(pk=decode_id(global_id, "User", field), is_active=True).first()
    if user is None:
        raise ServiceError(CommonError.NOT_FOUND, "This member does not exist.", field)
    return user

"""GraphQL for the account basics: verification, password reset, password and email change, account
deletion and data export (accounts.recovery, accounts.lifecycle, accounts.exports)."""

import logging

import graphene
from django.conf import settings
from django_ratelimit.core import is_ratelimited
from redis import RedisError

from accounts import exports, lifecycle, recovery
from accounts.models import DataExport
from config.graphql.mutations import BaseMutation
from config.graphql.permissions import Access, require_user

logger = logging.getLogger("closetline.graphql")


def address_may_be_mailed(info, group: str, email: str) -> bool:
    """At most ACCOUNT_MAIL_RATE_LIMIT mails asked for one address, whoever asks (no mail bombs).
    Past it the answer stays the same and nothing is sent: an error would differ by address."""
    address = recovery.normalized_email(email).lower()
    try:
        return not is_ratelimited(
            info.context,
            group=group,
            key=lambda _group, _request: address,
            rate=settings.ACCOUNT_MAIL_RATE_LIMIT,
            increment=True,
        )
    except RedisError as error:
        logger.warning("Rate limit %s not counted, the cache is out of reach: %s", group, error)
        return True


class DataExportStatus(graphene.Enum):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


class DataExportType(graphene.ObjectType):
    class Meta:
        name = "DataExport"
        description = "A copy of the member's data from every app: a zip of JSON, built in the background."

    status = graphene.Field(DataExportStatus, required=True)
    created_at = graphene.DateTime(required=True)
    ready_at = graphene.DateTime()
    expires_at = graphene.DateTime(required=True)
    size = graphene.Int(required=True, description="Bytes of the zip once ready.")
    download_url = graphene.String(description="Signed link, yours alone, until expiresAt; null until ready.")

    def resolve_status(export: DataExport, info):
        return DataExport.Status(export.status).value

    def resolve_download_url(export: DataExport, info):
        return exports.download_url(export)


class Query(graphene.ObjectType):
    latest_data_export = graphene.Field(DataExportType, description="Your most recent export still downloadable.")

    def resolve_latest_data_export(root, info):
        return exports.latest(require_user(info))


class EmailInput(graphene.InputObjectType):
    email = graphene.String(required=True)


class RequestEmailVerification(BaseMutation):
    """Mail a new verification link to an address whose account is not verified. Answers the same
    for every address."""

    class Arguments:
        input = EmailInput(required=True)

    access = Access.PUBLIC

    @classmethod
    def perform(cls, info, input):
        if address_may_be_mailed(info, "mail:verify", input.email):
            recovery.request_email_verification(email=input.email)
        return cls(errors=[])


class VerifyEmailInput(graphene.InputObjectType):
    token = graphene.String(required=True, description="From the link mailed to the address.")
    device_name = graphene.String()


class VerifyEmail(BaseMutation):
    """Confirm the address and log in on this device."""

    class Arguments:
        input = VerifyEmailInput(required=True)

    user = graphene.Field("accounts.schema.UserType")
    token = graphene.String(description="Send as `Authorization: Bearer <token>`. Shown once.")

    access = Access.PUBLIC

    @classmethod
    def perform(cls, info, input):
        user, token = recovery.verify_email(token=input.token, device_name=input.device_name or "")
        return cls(user=user, token=token, errors=[])


class RequestPasswordReset(BaseMutation):
    """Mail a reset link to the account using this address, if any. Answers the same, on the same
    path, whether or not the address has an account."""

    class Arguments:
        input = EmailInput(required=True)

    access = Access.PUBLIC

    @classmethod
    def perform(cls, info, input):
        if address_may_be_mailed(info, "mail:reset", input.email):
            recovery.request_password_reset(email=input.email)
        return cls(errors=[])


class ResetPasswordInput(graphene.InputObjectType):
    token = graphene.String(required=True, description="From the link mailed to the address.")
    new_password = graphene.String(required=True)
    device_name = graphene.String()


class ResetPassword(BaseMutation):
    """Set a new password with a mailed token (once, before it expires): every device is signed out,
    and this one logged in."""

    class Arguments:
        input = ResetPasswordInput(required=True)

    user = graphene.Field("accounts.schema.UserType")
    token = graphene.String(description="Send as `Authorization: Bearer <token>`. Shown once.")

    access = Access.PUBLIC

    @classmethod
    def perform(cls, info, input):
        user, token = recovery.reset_password(
            token=input.token, new_password=input.new_password, device_name=input.device_name or ""
        )
        return cls(user=user, token=token, errors=[])


class ChangePasswordInput(graphene.InputObjectType):
    current_password = graphene.String(required=True)
    new_password = graphene.String(required=True)


class ChangePassword(BaseMutation):
    """Change the password (the current one is needed); every other device is signed out."""

    class Arguments:
        input = ChangePasswordInput(required=True)

    signed_out_count = graphene.Int(description="Other devices signed out.")

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        count = lifecycle.change_password(
            user=user,
            current_password=input.current_password,
            new_password=input.new_password,
            keep_token=user.auth_token,
        )
        return cls(signed_out_count=count, errors=[])


class ChangeEmailInput(graphene.InputObjectType):
    password = graphene.String(required=True)
    new_email = graphene.String(required=True)


class ChangeEmail(BaseMutation):
    """Ask to move the account to a new address: a link goes there, and the change takes effect when
    it is followed (confirmEmailChange). The current address is told."""

    class Arguments:
        input = ChangeEmailInput(required=True)

    pending_email = graphene.String(description="The address the confirmation link went to.")

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        address = lifecycle.request_email_change(
            user=info.context.user, password=input.password, new_email=input.new_email
        )
        return cls(pending_email=address, errors=[])


class TokenInput(graphene.InputObjectType):
    token = graphene.String(required=True, description="From the link mailed to the new address.")


class ConfirmEmailChange(BaseMutation):
    """Follow the link mailed to the new address: the account uses it from now on."""

    class Arguments:
        input = TokenInput(required=True)

    user = graphene.Field("accounts.schema.UserType")

    access = Access.PUBLIC

    @classmethod
    def perform(cls, info, input):
        return cls(user=lifecycle.confirm_email_change(token=input.token), errors=[])


class DeleteAccountInput(graphene.InputObjectType):
    password = graphene.String(required=True)


class DeleteAccount(BaseMutation):
    """Delete your account: listings removed, personal data erased, every device signed out; orders
    stay, anonymised, for the other party. Refused while an order is in progress."""

    class Arguments:
        input = DeleteAccountInput(required=True)

    deleted = graphene.Boolean()

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        lifecycle.delete_account(user=info.context.user, password=input.password)
        return cls(deleted=True, errors=[])


class RequestDataExportInput(graphene.InputObjectType):
    mail_link = graphene.Boolean(description="Mail the link when the file is ready (default true).")


class RequestDataExport(BaseMutation):
    """Build a copy of your data (every app's part, JSON in a zip); the link is mailed and shown by
    latestDataExport when ready."""

    class Arguments:
        input = RequestDataExportInput()

    data_export = graphene.Field(DataExportType)

    access = Access.AUTHENTICATED
    rate_limit = "3/h"

    @classmethod
    def perform(cls, info, input=None):
        mail_link = input is None or input.mail_link is None or bool(input.mail_link)
        return cls(data_export=exports.request_data_export(user=info.context.user, mail_link=mail_link), errors=[])


class Mutation(graphene.ObjectType):
    request_email_verification = RequestEmailVerification.Field()
    verify_email = VerifyEmail.Field()
    request_password_reset = RequestPasswordReset.Field()
    reset_password = ResetPassword.Field()
    change_password = ChangePassword.Field()
    change_email = ChangeEmail.Field()
    confirm_email_change = ConfirmEmailChange.Field()
    delete_account = DeleteAccount.Field()
    request_data_export = RequestDataExport.Field()

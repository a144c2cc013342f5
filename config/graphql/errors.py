import graphene

from config.errors import ErrorCode

ErrorCodeEnum = graphene.Enum.from_enum(ErrorCode, description="Why an operation failed.")


class Error(graphene.ObjectType):
    """An expected failure: nothing was changed."""

    field = graphene.String(description="The input field at fault, in camelCase; null when the whole input is.")
    code = graphene.Field(ErrorCodeEnum, required=True)
    message = graphene.String(required=True, description="A message fit to show the user.")

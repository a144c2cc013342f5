import graphene
from django.core.files.uploadedfile import UploadedFile
from graphql import GraphQLError, Undefined


class Upload(graphene.Scalar):
    """A file sent with the GraphQL multipart request spec; only valid as a variable."""

    @staticmethod
    def serialize(value):
        return None

    @staticmethod
    def parse_literal(node, _variables=None):
        return Undefined

    @staticmethod
    def parse_value(value):
        if not isinstance(value, UploadedFile):
            raise GraphQLError("Expected a file sent as a multipart request part.")
        return value

"""Relay global IDs that fail cleanly on client mistakes instead of raising internal errors."""

from graphene import relay
from graphql_relay import from_global_id

from config.errors import CommonError, ServiceError


def decode_id(global_id: str, expected_type: str, field: str = "id") -> int:
    """The database id behind a global ID of `expected_type`, or a typed INVALID error."""
    try:
        type_name, raw_id = from_global_id(global_id)
        pk = int(raw_id)
    except (TypeError, ValueError, UnicodeDecodeError):
        raise ServiceError(CommonError.INVALID, "This is not a valid ID.", field) from None
    if type_name != expected_type or pk <= 0:
        raise ServiceError(CommonError.INVALID, f"Expected the ID of a {expected_type}.", field)
    return pk


class Node(relay.Node):
    class Meta:
        name = "Node"

    @classmethod
    def get_node_from_global_id(cls, info, global_id, only_type=None):
        try:
            type_name, raw_id = from_global_id(global_id)
        except (TypeError, ValueError, UnicodeDecodeError):
            raise ServiceError(CommonError.INVALID, "This is not a valid ID.", "id") from None
        schema_type = info.schema.get_type(type_name)
        graphene_type = getattr(schema_type, "graphene_type", None)
        if graphene_type is None or cls not in getattr(graphene_type._meta, "interfaces", ()):
            return None
        if only_type and graphene_type is not only_type:
            return None
        if not raw_id.isdigit():
            return None
        return graphene_type.get_node(info, raw_id)

"""Fields an upper app adds to a lower app's type, without the lower app knowing of it.

A lower app's schema never imports an upper one's (config.layers); the upper app's schema module
adds its fields to the type when it is imported, before config.graphql.schema builds the schema:

    add_fields(OrderType, shipment=graphene.Field(ShipmentType, resolver=resolve_shipment))
"""

import graphene


def add_fields(object_type: type[graphene.ObjectType], **fields: graphene.Field) -> None:
    taken = set(fields) & set(object_type._meta.fields)
    if taken:
        raise ValueError(f"{object_type._meta.name} already has {', '.join(sorted(taken))}.")
    object_type._meta.fields.update(fields)

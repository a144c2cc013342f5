"""Order mutations after purchase: ship, mark delivered, accept, cancel
(marketplace.services.orders holds the transition table).
"""

import graphene

from config.graphql.mutations import BaseMutation
from config.graphql.node import decode_id
from config.graphql.permissions import Access
from marketplace import selectors, services
from marketplace.schema.checkout import OrderPayload


class OrderIdInput(graphene.InputObjectType):
    order_id = graphene.ID(required=True)


class OrderAction(OrderPayload, BaseMutation):
    """A move of an order along its life (marketplace.services.ORDER_TRANSITIONS)."""

    class Meta:
        abstract = True

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        order = selectors.get_order(user, decode_id(input.order_id, "Order", "orderId"))
        cls.act(order=order, actor=user, input=input)
        return cls(order=selectors.get_order(user, order.pk), errors=[])


class ShipOrderInput(graphene.InputObjectType):
    order_id = graphene.ID(required=True)
    tracking_number = graphene.String(required=True)
    carrier = graphene.String(description="Who carries it (USPS, UPS...), if you know.")


class ShipOrder(OrderAction):
    """Seller: the parcel is on its way."""

    class Arguments:
        input = ShipOrderInput(required=True)

    @staticmethod
    def act(*, order, actor, input):
        services.ship_order(
            order=order, actor=actor, tracking_number=input.tracking_number, carrier=input.carrier or ""
        )


class MarkOrderDelivered(OrderAction):
    """Buyer: the parcel arrived."""

    class Arguments:
        input = OrderIdInput(required=True)

    @staticmethod
    def act(*, order, actor, input):
        services.mark_order_delivered(order=order, actor=actor)


class AcceptOrder(OrderAction):
    """Buyer: the items are as described (done for you some days after delivery)."""

    class Arguments:
        input = OrderIdInput(required=True)

    @staticmethod
    def act(*, order, actor, input):
        services.accept_order(order=order, actor=actor)


class CancelOrder(OrderAction):
    """Buyer within 3 hours of a purchase; either side once unshipped for 7 days. Items go back in
    stock and the buyer is refunded."""

    class Arguments:
        input = OrderIdInput(required=True)

    @staticmethod
    def act(*, order, actor, input):
        services.cancel_order(order=order, actor=actor)

"""The root schema: each app contributes its Query, Mutation and Subscription."""

import graphene

from accounts import schema as accounts
from cases import schema as cases
from config.graphql.node import Node
from earnings import schema as earnings
from live import schema as live
from marketplace import schema as marketplace
from notifications import schema as notifications
from reviews import schema as reviews
from sellers import schema as sellers
from shipping import schema as shipping  # noqa: F401  (adds the parcels to Order)
from social import schema as social


class Query(
    earnings.Query,
    accounts.Query,
    marketplace.Query,
    cases.Query,
    reviews.Query,
    social.Query,
    notifications.Query,
    sellers.Query,
    live.Query,
    graphene.ObjectType,
):
    node = Node.Field()


class Mutation(
    earnings.Mutation,
    accounts.Mutation,
    marketplace.Mutation,
    cases.Mutation,
    reviews.Mutation,
    social.Mutation,
    notifications.Mutation,
    sellers.Mutation,
    live.Mutation,
    graphene.ObjectType,
):
    pass


class Subscription(notifications.Subscription, social.Subscription, live.Subscription, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation, subscription=Subscription)

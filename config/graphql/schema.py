"""The root schema: each app contributes its Query, Mutation and Subscription."""

import graphene

from accounts import schema as accounts
from config.graphql.node import Node
from notifications import schema as notifications


class Query(accounts.Query, notifications.Query, graphene.ObjectType):
    node = Node.Field()


class Mutation(accounts.Mutation, notifications.Mutation, graphene.ObjectType):
    pass


class Subscription(notifications.Subscription, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation, subscription=Subscription)

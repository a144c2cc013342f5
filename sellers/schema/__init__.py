"""The sellers app's GraphQL: seller tools (tools.py) and community programs (programs.py)."""

import graphene

from sellers.schema.programs import ProgramMutation, ProgramQuery
from sellers.schema.tools import SellerToolMutation, SellerToolQuery


class Query(SellerToolQuery, ProgramQuery, graphene.ObjectType):
    pass


class Mutation(SellerToolMutation, ProgramMutation, graphene.ObjectType):
    pass

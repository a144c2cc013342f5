"""Reviews over GraphQL: leave one on an accepted order, answer one, a seller's reviews."""

import graphene
from graphene_django import DjangoObjectType

from accounts.schema import UserType
from config.graphql.mutations import BaseMutation
from config.graphql.node import Node, decode_id
from config.graphql.pagination import connection_args, keyset_page
from config.graphql.permissions import Access, viewer
from marketplace import selectors as marketplace_selectors
from reviews import selectors, services
from reviews.models import Review


class ReviewType(DjangoObjectType):
    class Meta:
        model = Review
        name = "Review"
        interfaces = (Node,)
        fields = ("rating", "note", "created_at", "answer", "answered_at")

    buyer = graphene.Field(UserType, required=True)
    seller = graphene.Field(UserType, required=True)
    hidden = graphene.Boolean(required=True, description="Taken down by staff: only the order's parties see it.")

    @classmethod
    def get_queryset(cls, queryset, info):
        return selectors.reviews_shown(viewer(info))

    def resolve_hidden(review, info):
        return review.hidden_at is not None


class ReviewConnection(graphene.relay.Connection):
    class Meta:
        node = ReviewType


class Query(graphene.ObjectType):
    seller_reviews = graphene.Field(
        ReviewConnection, **connection_args(seller_id=graphene.ID(required=True)), description="Newest first."
    )

    def resolve_seller_reviews(root, info, seller_id, first=None, after=None):
        reviews = selectors.seller_reviews(decode_id(seller_id, "User", "sellerId"), viewer(info))
        return keyset_page(reviews, ReviewConnection, first=first, after=after, ordering=("-created_at", "-pk"))


class ReviewPayload:
    review = graphene.Field(ReviewType)


class LeaveReviewInput(graphene.InputObjectType):
    order_id = graphene.ID(required=True)
    rating = graphene.Int(required=True, description="1 to 5 stars.")
    note = graphene.String(description="A love note for the seller, up to 500 characters.")


class LeaveReview(ReviewPayload, BaseMutation):
    """Buyer: review an order you accepted, once."""

    class Arguments:
        input = LeaveReviewInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        order = marketplace_selectors.get_order(user, decode_id(input.order_id, "Order", "orderId"))
        review = services.leave_review(order=order, buyer=user, rating=input.rating, note=input.note or "")
        return cls(review=selectors.get_review(user, review.pk), errors=[])


class AnswerReviewInput(graphene.InputObjectType):
    review_id = graphene.ID(required=True)
    answer = graphene.String(required=True, description="Up to 500 characters.")


class AnswerReview(ReviewPayload, BaseMutation):
    """Seller: answer a review of yours, once."""

    class Arguments:
        input = AnswerReviewInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        review = selectors.get_review(user, decode_id(input.review_id, "Review", "reviewId"))
        review = services.answer_review(review=review, seller=user, answer=input.answer)
        return cls(review=selectors.get_review(user, review.pk), errors=[])


class Mutation(graphene.ObjectType):
    leave_review = LeaveReview.Field()
    answer_review = AnswerReview.Field()

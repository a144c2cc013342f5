"""Cases over GraphQL: open one about an order (with photos, multipart), answer it (seller), write
on it (either party), an order's case and the viewer's cases. Staff resolve them in the admin."""

import graphene
from graphene_django import DjangoObjectType

from accounts.schema import UserType
from cases import selectors, services
from cases.models import Case, CaseEvent, CaseMessage, CasePhoto
from config import media
from config.graphql.mutations import BaseMutation
from config.graphql.node import Node, decode_id
from config.graphql.pagination import connection_args, keyset_page
from config.graphql.permissions import Access, require_user, viewer
from config.graphql.upload import Upload
from marketplace import selectors as marketplace_selectors
from marketplace.models import Offer
from marketplace.schema.types import Party

CaseReason = graphene.Enum.from_enum(Case.Reason, name="CaseReason")
CaseStatus = graphene.Enum.from_enum(Case.Status, name="CaseStatus")
CaseEventKind = graphene.Enum.from_enum(CaseEvent.Kind, name="CaseEventKind")


class CasePhotoType(DjangoObjectType):
    class Meta:
        model = CasePhoto
        name = "CasePhoto"
        fields = ("position", "width", "height")

    url = graphene.String(required=True)

    def resolve_url(photo, info):
        return media.absolute_url(info.context, photo.original)


class CaseMessageType(DjangoObjectType):
    class Meta:
        model = CaseMessage
        name = "CaseMessage"
        fields = ("body", "created_at")

    author = graphene.Field(UserType, required=True)


class CaseEventType(DjangoObjectType):
    class Meta:
        model = CaseEvent
        name = "CaseEvent"
        fields = ("at", "note")

    kind = graphene.Field(CaseEventKind, required=True)


class CaseType(DjangoObjectType):
    class Meta:
        model = Case
        name = "Case"
        interfaces = (Node,)
        fields = ("description", "opened_at", "seller_answered_at", "closed_at", "resolution_note", "return_label_url")

    reason = graphene.Field(CaseReason, required=True)
    status = graphene.Field(CaseStatus, required=True)
    order = graphene.Field("marketplace.schema.types.OrderType", required=True)
    buyer = graphene.Field(UserType, required=True)
    seller = graphene.Field(UserType, required=True)
    photos = graphene.List(graphene.NonNull(CasePhotoType), required=True)
    messages = graphene.List(graphene.NonNull(CaseMessageType), required=True, description="Oldest first.")
    events = graphene.List(graphene.NonNull(CaseEventType), required=True, description="The case's history.")

    @classmethod
    def get_queryset(cls, queryset, info):
        current = viewer(info)
        return selectors.case_cards(selectors.visible_cases(current), current)

    def resolve_order(case, info):
        return case.order  # prefetched as orders show (selectors.case_cards), or the order it hangs on

    def resolve_photos(case, info):
        return case.photos.all()

    def resolve_messages(case, info):
        return case.messages.all()

    def resolve_events(case, info):
        return case.events.all()


class CaseConnection(graphene.relay.Connection):
    class Meta:
        node = CaseType


class Query(graphene.ObjectType):
    my_cases = graphene.Field(
        CaseConnection,
        **connection_args(role=Party(required=True, description="BUYER: cases you opened; SELLER: about your sales.")),
        description="Newest first.",
    )

    def resolve_my_cases(root, info, role, first=None, after=None):
        cases = selectors.cases_of(require_user(info), as_seller=role.value == Offer.Party.SELLER)
        return keyset_page(cases, CaseConnection, first=first, after=after, ordering=("-opened_at", "-pk"))


class CasePayload:
    case = graphene.Field(CaseType)


class OpenCaseInput(graphene.InputObjectType):
    order_id = graphene.ID(required=True)
    reason = CaseReason(required=True)
    description = graphene.String(required=True, description="What is wrong, up to 2,000 characters.")
    photos = graphene.List(
        graphene.NonNull(Upload), description="Up to 6 JPEG, PNG, WebP or HEIC photos, sent as multipart files."
    )


class OpenCase(CasePayload, BaseMutation):
    """Buyer: report a problem within 3 days of delivery (a missing parcel, while it is on its way).
    The payment stays held until staff resolve the case; accepting the order withdraws it."""

    class Arguments:
        input = OpenCaseInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        order = marketplace_selectors.get_order(user, decode_id(input.order_id, "Order", "orderId"))
        case = services.open_case(
            order=order,
            buyer=user,
            reason=input.reason.value,
            description=input.description,
            photos=list(input.photos or []),
        )
        return cls(case=selectors.get_case(user, case.pk), errors=[])


class CaseMessageInput(graphene.InputObjectType):
    case_id = graphene.ID(required=True)
    body = graphene.String(required=True, description="Up to 2,000 characters.")


class CaseMessageMutation(CasePayload, BaseMutation):
    class Meta:
        abstract = True

    class Arguments:
        input = CaseMessageInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        case = selectors.get_case(user, decode_id(input.case_id, "Case", "caseId"))
        cls.write(case=case, author=user, body=input.body)
        return cls(case=selectors.get_case(user, case.pk), errors=[])


class AnswerCase(CaseMessageMutation):
    """Seller: your side of the story on a case about your sale."""

    @staticmethod
    def write(*, case, author, body):
        services.answer_case(case=case, seller=author, body=body)


class AddCaseMessage(CaseMessageMutation):
    """Buyer or seller: a message on an open case."""

    @staticmethod
    def write(*, case, author, body):
        services.add_case_message(case=case, author=author, body=body)


class Mutation(graphene.ObjectType):
    open_case = OpenCase.Field()
    answer_case = AnswerCase.Field()
    add_case_message = AddCaseMessage.Field()

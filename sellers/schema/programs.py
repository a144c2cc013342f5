"""Community programs over GraphQL: each program's settings (staff change them, every change
audited), a member's standing in them (ambassador status, mentoring), and their results."""

import json
from typing import ClassVar

import graphene
from django.utils import timezone
from graphene.utils.str_converters import to_camel_case
from graphene_django import DjangoObjectType

from accounts.schema import UserType
from config.errors import CommonError, ServiceError
from config.graphql.mutations import BaseMutation
from config.graphql.node import Node
from config.graphql.pagination import connection_args, keyset_page
from config.graphql.permissions import Access, require_staff, require_user, viewer
from marketplace.schema import Money, money
from sellers import selectors, services
from sellers.models import (
    Ambassador,
    AmbassadorProgram,
    FirstSaleNudgeProgram,
    FirstSaleShippingProgram,
    MentoringGroup,
    MentoringProgram,
    Program,
    ProgramChange,
    ProgramKey,
)
from social.schema import ConversationType

CommunityProgram = graphene.Enum.from_enum(ProgramKey, name="CommunityProgram")


class ProgramType(DjangoObjectType):
    """What every program has: it runs while active and between its dates."""

    class Meta:
        abstract = True

    running = graphene.Boolean(required=True, description="Active, and now between its dates.")

    def resolve_running(program, info):
        return program.is_running(timezone.now())


PROGRAM_FIELDS = ("active", "starts_at", "ends_at", "updated_at")


class FirstSaleShippingProgramType(ProgramType):
    """Listings of sellers with no sale carry "first purchase from this seller gets discounted
    shipping": their first order's shipping is discounted by the amount (at most the per-order cap,
    the label fee and what is left of the budget), paid by Closetline."""

    class Meta:
        model = FirstSaleShippingProgram
        name = "FirstSaleShippingProgram"
        fields = (*PROGRAM_FIELDS, "currency")

    amount = graphene.Field(Money, required=True)
    per_order_cap = graphene.Field(Money, required=True)
    budget = graphene.Field(Money, required=True)
    spent = graphene.Field(
        Money, required=True, description="Paid for first orders, less what cancelled ones gave back."
    )
    remaining = graphene.Field(Money, required=True)

    def resolve_amount(program, info):
        return money(program.amount, program.currency)

    def resolve_per_order_cap(program, info):
        return money(program.per_order_cap, program.currency)

    def resolve_budget(program, info):
        return money(program.budget, program.currency)

    def resolve_spent(program, info):
        return money(program.spent, program.currency)

    def resolve_remaining(program, info):
        return money(program.remaining, program.currency)


class FirstSaleNudgeProgramType(ProgramType):
    """Sellers with no sale get one targeted nudge at a time: offer to your likers, reprice a stale
    listing, share one; through notifications (category programs), so caps and opt-outs apply."""

    class Meta:
        model = FirstSaleNudgeProgram
        name = "FirstSaleNudgeProgram"
        fields = (
            *PROGRAM_FIELDS,
            "first_nudge_after_days",
            "days_between_nudges",
            "stale_after_days",
            "reprice_percent",
        )


class AmbassadorProgramType(ProgramType):
    """The bar for ambassadors (members who mentor new sellers): a periodic task grants the status to
    members who meet all of it and revokes it from those who no longer do."""

    class Meta:
        model = AmbassadorProgram
        name = "AmbassadorProgram"
        fields = (
            *PROGRAM_FIELDS,
            "min_shares_of_others",
            "min_available_listings",
            "min_sales",
            "min_rating",
            "max_average_ship_days",
        )


class MentoringProgramType(ProgramType):
    """Sellers before their first sale join mentoring: matched with ambassadors who answer their
    questions in a group conversation, until the first sale plus a grace period."""

    class Meta:
        model = MentoringProgram
        name = "MentoringProgram"
        fields = (
            *PROGRAM_FIELDS,
            "mentors_per_group_min",
            "mentors_per_group_max",
            "max_groups_per_mentor",
            "grace_days",
        )


class CommunityPrograms(graphene.ObjectType):
    """Staff: the settings of every community program."""

    first_sale_shipping = graphene.Field(FirstSaleShippingProgramType, required=True)
    first_sale_nudges = graphene.Field(FirstSaleNudgeProgramType, required=True)
    ambassadors = graphene.Field(AmbassadorProgramType, required=True)
    mentoring = graphene.Field(MentoringProgramType, required=True)

    def resolve_first_sale_shipping(root, info):
        return FirstSaleShippingProgram.current()

    def resolve_first_sale_nudges(root, info):
        return FirstSaleNudgeProgram.current()

    def resolve_ambassadors(root, info):
        return AmbassadorProgram.current()

    def resolve_mentoring(root, info):
        return MentoringProgram.current()


class AmbassadorStatus(graphene.ObjectType):
    """Whether you are an ambassador, and whether you mentor new sellers."""

    is_ambassador = graphene.Boolean(required=True)
    since = graphene.DateTime(description="When you became one (again); null if you are not.")
    mentoring_opt_in = graphene.Boolean(required=True, description="You take part in mentoring groups.")

    @staticmethod
    def of(ambassador: Ambassador | None) -> "AmbassadorStatus":
        current = ambassador is not None and ambassador.revoked_at is None
        return AmbassadorStatus(
            is_ambassador=current,
            since=ambassador.granted_at if current else None,
            mentoring_opt_in=current and ambassador.mentoring_opt_in,
        )


MentoringGroupStatus = graphene.Enum.from_enum(MentoringGroup.Status, name="MentoringGroupStatus")


class MentoringRole(graphene.Enum):
    MENTEE = "mentee"
    MENTOR = "mentor"


class MentoringGroupType(DjangoObjectType):
    """A new seller and the ambassadors mentoring them to their first sale, in a group conversation."""

    class Meta:
        model = MentoringGroup
        name = "MentoringGroup"
        interfaces = (Node,)
        fields = ("created_at", "closed_at")

    status = MentoringGroupStatus(required=True, description="CLOSED some days after the mentee's first sale.")
    viewer_role = graphene.Field(MentoringRole, required=True)
    mentee = graphene.Field(UserType, required=True)
    mentors = graphene.List(graphene.NonNull(UserType), required=True)
    conversation = graphene.Field(
        ConversationType, required=True, description="Write in it with sendMessage(conversationId)."
    )

    @classmethod
    def get_queryset(cls, queryset, info):
        current = viewer(info)
        return selectors.mentoring_groups_of(current) if current else queryset.none()

    def resolve_viewer_role(group, info):
        return MentoringRole.MENTEE if group.mentee_id == info.context.user.pk else MentoringRole.MENTOR

    def resolve_mentors(group, info):
        return group.mentors.all()


class MentoringGroupConnection(graphene.relay.Connection):
    class Meta:
        node = MentoringGroupType


class ProgramFieldChange(graphene.ObjectType):
    field = graphene.String(required=True)
    old_value = graphene.String(description="As JSON text unless it is text; null when it was empty.")
    new_value = graphene.String()


class ProgramChangeType(DjangoObjectType):
    """Staff: one audited change of a program's settings."""

    class Meta:
        model = ProgramChange
        name = "ProgramChange"
        interfaces = (Node,)
        fields = ("changed_at",)

    program = CommunityProgram(required=True)
    changed_by = graphene.Field(UserType, description="The staff member; null if their account was deleted.")
    changes = graphene.List(graphene.NonNull(ProgramFieldChange), required=True)

    @classmethod
    def get_queryset(cls, queryset, info):
        current = viewer(info)
        return queryset if current and current.is_staff else queryset.none()

    def resolve_changes(change, info):
        return [
            ProgramFieldChange(
                field=to_camel_case(name),
                old_value=_as_client_text(values["old"]),
                new_value=_as_client_text(values["new"]),
            )
            for name, values in change.changes.items()
        ]


def _as_client_text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


class ProgramChangeConnection(graphene.relay.Connection):
    class Meta:
        node = ProgramChangeType


class FirstSaleCohort(graphene.ObjectType):
    """Sellers who joined in one week, in or out of one program, and how their first sales went."""

    program = CommunityProgram(required=True)
    week_starting = graphene.Date(required=True, description="The Monday of the week they joined.")
    in_program = graphene.Boolean(
        required=True,
        description="Shipping discount: joined between its dates; nudges: got one; mentoring: was mentored.",
    )
    sellers = graphene.Int(required=True, description="Members with a listing.")
    first_sales = graphene.Int(required=True, description="Sellers who made a sale (an order not cancelled).")
    first_sale_rate = graphene.Float(required=True)
    average_days_to_first_sale = graphene.Float(description="From joining; null without a first sale.")


class SubsidyResults(graphene.ObjectType):
    """The first-sale shipping discount's money."""

    budget = graphene.Field(Money, required=True)
    spent = graphene.Field(Money, required=True, description="Paid less returned.")
    remaining = graphene.Field(Money, required=True)
    paid = graphene.Field(Money, required=True, description="For every subsidised order.")
    returned = graphene.Field(Money, required=True, description="By the orders cancelled since.")
    subsidised_orders = graphene.Int(required=True)
    returned_orders = graphene.Int(required=True)

    def resolve_budget(figures, info):
        return money(figures.program.budget, figures.program.currency)

    def resolve_spent(figures, info):
        return money(figures.program.spent, figures.program.currency)

    def resolve_remaining(figures, info):
        return money(figures.program.remaining, figures.program.currency)

    def resolve_paid(figures, info):
        return money(figures.paid, figures.program.currency)

    def resolve_returned(figures, info):
        return money(figures.returned, figures.program.currency)


class MentorResponseResults(graphene.ObjectType):
    """How fast mentors answer: a question is a mentee's message in their group, its answer the
    first mentor's message after it."""

    questions = graphene.Int(required=True)
    answered = graphene.Int(required=True)
    average_hours = graphene.Float(description="To the first answer; null when none was answered.")


class BuyerHabitCohort(graphene.ObjectType):
    """Buyers whose first order was in one week, and how many orders they placed within the
    habit window from it."""

    week_starting = graphene.Date(required=True)
    buyers = graphene.Int(required=True)
    with_two_orders = graphene.Int(required=True)
    with_three_orders = graphene.Int(required=True)
    reached_habit = graphene.Int(required=True, description="Placed the habit point's number of orders.")
    habit_rate = graphene.Float(required=True)
    window_over = graphene.Boolean(required=True, description="False while some of them still have time left.")


class ProgramResultsType(graphene.ObjectType):
    """Staff: how the programs do, computed now over the last weeks."""

    class Meta:
        name = "ProgramResults"

    since = graphene.DateTime(required=True)
    first_sale = graphene.List(
        graphene.NonNull(FirstSaleCohort),
        required=True,
        description="By program, join week, then out of / in the program.",
    )
    subsidy = graphene.Field(SubsidyResults, required=True)
    mentor_responses = graphene.Field(MentorResponseResults, required=True)
    habit_orders = graphene.Int(required=True)
    habit_days = graphene.Int(required=True)
    buyer_habit = graphene.List(
        graphene.NonNull(BuyerHabitCohort), required=True, description="By the week of the buyers' first order."
    )


class ProgramQuery(graphene.ObjectType):
    ambassador_status = graphene.Field(AmbassadorStatus, required=True)
    mentoring_groups = graphene.Field(
        MentoringGroupConnection,
        **connection_args(),
        description="The mentoring groups you are mentored in or mentor, newest first.",
    )
    community_programs = graphene.Field(
        CommunityPrograms, required=True, description="Staff: every community program's settings."
    )
    program_results = graphene.Field(
        ProgramResultsType,
        required=True,
        weeks=graphene.Int(
            required=True,
            default_value=12,
            description="Members who joined (buyers who first ordered) in the last 1 to 104 weeks.",
        ),
        habit_orders=graphene.Int(required=True, default_value=selectors.HABIT_ORDERS),
        habit_days=graphene.Int(required=True, default_value=selectors.HABIT_DAYS),
        description="Staff: first sales in and out of each program, the subsidy, mentors' response times and "
        "buyers' progress to the habit point (4 orders in their first 4 months).",
    )
    program_changes = graphene.Field(
        ProgramChangeConnection,
        **connection_args(program=CommunityProgram()),
        description="Staff: who changed which program setting, from what to what; newest first.",
    )

    def resolve_mentoring_groups(root, info, first=None, after=None):
        return keyset_page(
            selectors.mentoring_groups_of(require_user(info)),
            MentoringGroupConnection,
            first=first,
            after=after,
            ordering=("-created_at", "-pk"),
        )

    def resolve_ambassador_status(root, info):
        return AmbassadorStatus.of(Ambassador.objects.filter(user=require_user(info)).first())

    def resolve_community_programs(root, info):
        require_staff(info)
        return CommunityPrograms()

    def resolve_program_results(root, info, weeks, habit_orders, habit_days):
        require_staff(info)
        for value, low, high, field in (
            (weeks, 1, 104, "weeks"),
            (habit_orders, 2, 50, "habitOrders"),
            (habit_days, 7, 730, "habitDays"),
        ):
            if not low <= value <= high:
                raise ServiceError(CommonError.INVALID, f"Choose {low} to {high}.", field)
        return selectors.program_results(
            now=timezone.now(), weeks=weeks, habit_orders=habit_orders, habit_days=habit_days
        )

    def resolve_program_changes(root, info, first=None, after=None, program=None):
        staff = require_staff(info)
        changes = selectors.program_changes(staff, program=program.value if program else None)
        return keyset_page(changes, ProgramChangeConnection, first=first, after=after, ordering=("-changed_at", "-pk"))


class ProgramInputFields:
    active = graphene.Boolean()
    starts_at = graphene.DateTime()
    ends_at = graphene.DateTime()


class UpdateProgram(BaseMutation):
    """Staff: change a program's settings; what is left out stays. Every change is audited."""

    class Meta:
        abstract = True

    access = Access.STAFF
    program_class: ClassVar[type[Program]]

    @classmethod
    def perform(cls, info, input):
        changes = {name: value for name, value in input.items() if value is not None}
        program = services.update_program(program_class=cls.program_class, changed_by=info.context.user, **changes)
        return cls(program=program, errors=[])


class FirstSaleShippingProgramInput(ProgramInputFields, graphene.InputObjectType):
    currency = graphene.String()
    amount = graphene.Decimal(description="Off the label fee of a seller's first order.")
    per_order_cap = graphene.Decimal(description="The most Closetline pays for one order.")
    budget = graphene.Decimal(description="The most Closetline pays in all (not below what is spent).")


class UpdateFirstSaleShippingProgram(UpdateProgram):
    class Arguments:
        input = FirstSaleShippingProgramInput(required=True)

    program = graphene.Field(FirstSaleShippingProgramType)

    program_class = FirstSaleShippingProgram


class FirstSaleNudgeProgramInput(ProgramInputFields, graphene.InputObjectType):
    first_nudge_after_days = graphene.Int(description="Days after joining before the first nudge.")
    days_between_nudges = graphene.Int(description="At least this many days between two nudges to a seller.")
    stale_after_days = graphene.Int(description="No like and no price change this long: a listing is stale.")
    reprice_percent = graphene.Decimal(description="How far below the price a reprice nudge suggests.")


class UpdateFirstSaleNudgeProgram(UpdateProgram):
    class Arguments:
        input = FirstSaleNudgeProgramInput(required=True)

    program = graphene.Field(FirstSaleNudgeProgramType)

    program_class = FirstSaleNudgeProgram


class AmbassadorProgramInput(ProgramInputFields, graphene.InputObjectType):
    min_shares_of_others = graphene.Int()
    min_available_listings = graphene.Int()
    min_sales = graphene.Int()
    min_rating = graphene.Decimal(description="0 to 5.")
    max_average_ship_days = graphene.Decimal(description="From payment to shipping.")


class UpdateAmbassadorProgram(UpdateProgram):
    class Arguments:
        input = AmbassadorProgramInput(required=True)

    program = graphene.Field(AmbassadorProgramType)

    program_class = AmbassadorProgram


class SetAmbassadorOptInInput(graphene.InputObjectType):
    opt_in = graphene.Boolean(required=True, description="True to mentor new sellers.")


class SetAmbassadorOptIn(BaseMutation):
    """Ambassadors: take part in mentoring groups, or stop (no new group; your current ones go on)."""

    class Arguments:
        input = SetAmbassadorOptInInput(required=True)

    ambassador_status = graphene.Field(AmbassadorStatus)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        ambassador = services.set_ambassador_opt_in(user=info.context.user, opt_in=input.opt_in)
        return cls(ambassador_status=AmbassadorStatus.of(ambassador), errors=[])


class MentoringProgramInput(ProgramInputFields, graphene.InputObjectType):
    mentors_per_group_min = graphene.Int()
    mentors_per_group_max = graphene.Int()
    max_groups_per_mentor = graphene.Int()
    grace_days = graphene.Int(description="A group closes this many days after the mentee's first sale.")


class UpdateMentoringProgram(UpdateProgram):
    class Arguments:
        input = MentoringProgramInput(required=True)

    program = graphene.Field(MentoringProgramType)

    program_class = MentoringProgram


class JoinMentoringInput(graphene.InputObjectType):
    question = graphene.String(description="Your first question to your mentors (optional).")


class JoinMentoring(BaseMutation):
    """Before your first sale: be matched with 4-5 ambassadors who answer your questions in a group
    conversation. Joining again returns your group."""

    class Arguments:
        input = JoinMentoringInput(required=True)

    mentoring_group = graphene.Field(MentoringGroupType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        group = services.join_mentoring(mentee=user, question=input.question or "")
        return cls(mentoring_group=selectors.mentoring_groups_of(user).get(pk=group.pk), errors=[])


class ProgramMutation(graphene.ObjectType):
    update_first_sale_shipping_program = UpdateFirstSaleShippingProgram.Field()
    update_first_sale_nudge_program = UpdateFirstSaleNudgeProgram.Field()
    update_ambassador_program = UpdateAmbassadorProgram.Field()
    update_mentoring_program = UpdateMentoringProgram.Field()
    set_ambassador_opt_in = SetAmbassadorOptIn.Field()
    join_mentoring = JoinMentoring.Field()

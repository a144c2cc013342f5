import json
from datetime import timedelta
from typing import ClassVar

import graphene
from django.utils import timezone
from graphene.utils.str_converters import to_camel_case
from graphene_django import DjangoObjectType

from accounts.schema import UserType, active_member
from config.errors import CommonError, ServiceError
from config.graphql.mutations import BaseMutation
from config.graphql.node import Node, decode_id
from config.graphql.pagination import connection_args, keyset_page
from config.graphql.permissions import Access, require_owner, require_staff, require_user, viewer
from marketplace import selectors as marketplace_selectors
from marketplace.models import Listing
from marketplace.schema import ListingType, Money, OrderType, money
from sellers import selectors, services
from sellers.models import (
    Ambassador,
    AmbassadorProgram,
    AutoGreeting,
    FirstSaleNudgeProgram,
    FirstSaleShippingProgram,
    Greeting,
    GreetingTemplate,
    MentoringGroup,
    MentoringProgram,
    OfferToLikers,
    PriceDropNotice,
    Program,
    ProgramChange,
    ProgramKey,
    Upsell,
)
from social.schema import ConversationType, MessageType


class PriceDropNoticeType(DjangoObjectType):
    """A price drop the listing's likers were told of."""

    class Meta:
        model = PriceDropNotice
        name = "PriceDropNotice"
        interfaces = (Node,)
        fields = ("likers_reached", "created_at")

    previous_price = graphene.Field(
        Money, required=True, description="The lowest price likers had been told of before."
    )
    new_price = graphene.Field(Money, required=True)
    coalesced = graphene.Boolean(
        required=True,
        description="True when it rewrote the notification of a drop moments before instead of sending another.",
    )

    @classmethod
    def get_queryset(cls, queryset, info):
        current = viewer(info)
        return queryset.filter(listing__seller_id=current.pk) if current else queryset.none()

    def resolve_previous_price(notice, info):
        return {"amount": notice.previous_price, "currency": notice.currency}

    def resolve_new_price(notice, info):
        return {"amount": notice.new_price, "currency": notice.currency}

    def resolve_coalesced(notice, info):
        return notice.window_start_id is not None


class PriceDropNoticeConnection(graphene.relay.Connection):
    class Meta:
        node = PriceDropNoticeType


class GreetingTemplateType(DjangoObjectType):
    """A saved greeting; {visitor_name} and {listing_title} are filled in when it is sent."""

    class Meta:
        model = GreetingTemplate
        name = "GreetingTemplate"
        interfaces = (Node,)
        fields = ("name", "body", "created_at", "updated_at")

    @classmethod
    def get_queryset(cls, queryset, info):
        current = viewer(info)
        return queryset.filter(seller_id=current.pk) if current else queryset.none()


class AutoGreetingType(DjangoObjectType):
    """Your automatic greeting of closet visitors."""

    class Meta:
        model = AutoGreeting
        name = "AutoGreeting"
        fields = ("enabled", "template", "delay_minutes", "updated_at")

    listing = graphene.Field(ListingType, description="Attached to each greeting; its title fills {listing_title}.")

    def resolve_listing(rule, info):
        user = info.context.user
        cards = marketplace_selectors.listing_cards(marketplace_selectors.visible_listings(user), user)
        return cards.filter(pk=rule.listing_id).first() if rule.listing_id else None


class GreetingType(DjangoObjectType):
    class Meta:
        model = Greeting
        name = "Greeting"
        interfaces = (Node,)
        fields = ("automatic", "created_at")

    visitor = graphene.Field(UserType, required=True)
    message = graphene.Field(MessageType, required=True)
    replied = graphene.Boolean(required=True, description="They wrote back after it.")
    converted = graphene.Boolean(required=True, description="They bought from you after it.")

    @classmethod
    def get_queryset(cls, queryset, info):
        current = viewer(info)
        return selectors.greetings_sent(current) if current else queryset.none()


class UpsellType(DjangoObjectType):
    """Items you suggested to go with an order, sent to its buyer."""

    class Meta:
        model = Upsell
        name = "Upsell"
        interfaces = (Node,)
        fields = ("created_at",)

    order = graphene.Field(OrderType, required=True)
    message = graphene.Field(MessageType, required=True, description="The message, with the items attached.")
    replied = graphene.Boolean(required=True, description="The buyer wrote back after it.")
    converted = graphene.Boolean(
        required=True, description="The buyer bought from you after it (an item added to the parcel, or a new order)."
    )

    @classmethod
    def get_queryset(cls, queryset, info):
        current = viewer(info)
        return selectors.upsells_sent(current) if current else queryset.none()


class UpsellConnection(graphene.relay.Connection):
    class Meta:
        node = UpsellType


class OfferToLikersType(DjangoObjectType):
    """Private offers you sent the likers of a listing, and what became of them."""

    class Meta:
        model = OfferToLikers
        name = "OfferToLikers"
        interfaces = (Node,)
        fields = ("created_at",)

    amount = graphene.Field(Money, required=True)
    shipping_discount = graphene.Field(Money, required=True)
    sent = graphene.Int(required=True, description="Likers who got an offer.")
    skipped = graphene.Int(
        required=True,
        description="Likers with an offer pending, or offered lately at a price not far enough above this one.",
    )
    accepted = graphene.Int(required=True)
    expired = graphene.Int(required=True)

    @classmethod
    def get_queryset(cls, queryset, info):
        current = viewer(info)
        if current is None:
            return queryset.none()
        return queryset.filter(listing__seller_id=current.pk).annotate(**selectors.offer_counts(timezone.now()))

    def resolve_amount(campaign, info):
        return {"amount": campaign.amount, "currency": campaign.currency}

    def resolve_shipping_discount(campaign, info):
        return {"amount": campaign.shipping_discount, "currency": campaign.currency}

    def resolve_skipped(campaign, info):
        return campaign.skipped_count


class OfferToLikersConnection(graphene.relay.Connection):
    class Meta:
        node = OfferToLikersType


class GreetingConnection(graphene.relay.Connection):
    class Meta:
        node = GreetingType


class ClosetVisitor(graphene.ObjectType):
    """Someone who visited your closet lately."""

    visitor = graphene.Field(UserType, required=True)
    last_visited_at = graphene.DateTime(required=True)
    last_greeted_at = graphene.DateTime(description="When you last greeted them; null if never.")
    can_greet = graphene.Boolean(
        required=True,
        description="A recent enough visit and no greeting within the "
        "period (they may still have turned greetings off).",
    )

    def resolve_visitor(user, info):
        return user


class ClosetVisitorConnection(graphene.relay.Connection):
    class Meta:
        node = ClosetVisitor


class MessageResults(graphene.ObjectType):
    sent = graphene.Int(required=True)
    replied = graphene.Int(required=True, description="Those the member wrote back after.")
    converted = graphene.Int(required=True, description="Those the member bought from you after.")


class OfferResults(graphene.ObjectType):
    sent = graphene.Int(required=True)
    accepted = graphene.Int(required=True)
    expired = graphene.Int(required=True)


class SellerResults(graphene.ObjectType):
    """How your seller tools did over the last `days`."""

    days = graphene.Int(required=True)
    greetings = graphene.Field(MessageResults, required=True)
    upsells = graphene.Field(MessageResults, required=True)
    offers_to_likers = graphene.Field(OfferResults, required=True)


class SellerToolQuery(graphene.ObjectType):
    greeting_templates = graphene.List(
        graphene.NonNull(GreetingTemplateType),
        required=True,
        description=f"Your saved greetings (at most {services.MAX_TEMPLATES}), by name.",
    )
    auto_greeting = graphene.Field(AutoGreetingType, description="Null until you set one up.")
    greetings_enabled = graphene.Boolean(required=True, description="Whether sellers may greet you.")
    closet_visitors = graphene.Field(
        ClosetVisitorConnection,
        **connection_args(),
        description="Who visited your closet in the last 30 days, latest visit first.",
    )
    greetings = graphene.Field(
        GreetingConnection,
        **connection_args(),
        description="Greetings you sent, newest first, with whether they replied.",
    )
    upsells = graphene.Field(
        UpsellConnection,
        **connection_args(),
        description="Items you suggested after orders, newest first, with their results.",
    )
    upsell_suggestions = graphene.List(
        graphene.NonNull(ListingType),
        required=True,
        order_id=graphene.ID(required=True),
        description="Your available items that go with this order of yours, best first (at most 20): those its "
        "buyer liked, then those whose category goes with what they bought, then those liked by the "
        "people who liked what they bought.",
    )
    offers_to_likers = graphene.Field(
        OfferToLikersConnection,
        **connection_args(listing_id=graphene.ID(required=True)),
        description="Offers you sent the likers of your listing, newest first.",
    )
    seller_results = graphene.Field(SellerResults, days=graphene.Int(required=True, default_value=30), required=True)
    price_drops = graphene.Field(
        PriceDropNoticeConnection,
        **connection_args(listing_id=graphene.ID(required=True)),
        description="Price drops of your listing that notified its likers, newest first.",
    )

    def resolve_greeting_templates(root, info):
        return selectors.greeting_templates(require_user(info))

    def resolve_auto_greeting(root, info):
        return selectors.auto_greeting_of(require_user(info))

    def resolve_greetings_enabled(root, info):
        return selectors.greetings_enabled(require_user(info))

    def resolve_closet_visitors(root, info, first=None, after=None):
        visitors = selectors.closet_visitors(require_user(info), now=timezone.now())
        return keyset_page(
            visitors, ClosetVisitorConnection, first=first, after=after, ordering=("-last_visited_at", "-pk")
        )

    def resolve_greetings(root, info, first=None, after=None):
        return keyset_page(
            selectors.greetings_sent(require_user(info)),
            GreetingConnection,
            first=first,
            after=after,
            ordering=("-created_at", "-pk"),
        )

    def resolve_upsells(root, info, first=None, after=None):
        return keyset_page(
            selectors.upsells_sent(require_user(info)),
            UpsellConnection,
            first=first,
            after=after,
            ordering=("-created_at", "-pk"),
        )

    def resolve_upsell_suggestions(root, info, order_id):
        return selectors.upsell_suggestions(_sold_order(info, order_id), info.context.user)

    def resolve_offers_to_likers(root, info, listing_id, first=None, after=None):
        campaigns = selectors.offers_to_likers(_owned_listing(info, listing_id), now=timezone.now())
        return keyset_page(
            campaigns, OfferToLikersConnection, first=first, after=after, ordering=("-created_at", "-pk")
        )

    def resolve_seller_results(root, info, days):
        seller = require_user(info)
        if not 1 <= days <= 365:
            raise ServiceError(CommonError.INVALID, "Look back 1 to 365 days.", "days")
        now = timezone.now()
        results = selectors.results(seller, since=now - timedelta(days=days), now=now)
        return SellerResults(
            days=days,
            greetings=MessageResults(**results["greetings"]),
            upsells=MessageResults(**results["upsells"]),
            offers_to_likers=OfferResults(**results["offers_to_likers"]),
        )

    def resolve_price_drops(root, info, listing_id, first=None, after=None):
        listing = _owned_listing(info, listing_id)
        return keyset_page(
            selectors.price_drops(listing),
            PriceDropNoticeConnection,
            first=first,
            after=after,
            ordering=("-created_at", "-pk"),
        )


def _owned_listing(info, global_id: str, field: str = "listingId") -> Listing:
    listing = marketplace_selectors.get_listing(viewer(info), decode_id(global_id, "Listing", field), field)
    require_owner(info, listing.seller_id)
    return listing


def _sold_order(info, global_id: str):
    """An order the viewer sold, or NOT_FOUND."""
    order = marketplace_selectors.get_order(require_user(info), decode_id(global_id, "Order", "orderId"))
    if order.seller_id != info.context.user.pk:
        raise ServiceError(CommonError.NOT_FOUND, "This order does not exist.", "orderId")
    return order


def _own_template(info, global_id: str, field: str = "templateId") -> GreetingTemplate:
    template = GreetingTemplate.objects.filter(
        pk=decode_id(global_id, "GreetingTemplate", field), seller=info.context.user
    ).first()
    if template is None:
        raise ServiceError(CommonError.NOT_FOUND, "This template does not exist.", field)
    return template


class SendGreetingInput(graphene.InputObjectType):
    visitor_id = graphene.ID(required=True, description="Someone who visited your closet lately.")
    text = graphene.String(description="Your words; {visitor_name} and {listing_title} are filled in.")
    template_id = graphene.ID(description="Or one of your saved templates.")
    listing_id = graphene.ID(description="One of your available listings, attached (and {listing_title}).")


class SendGreeting(BaseMutation):
    """Greet a recent closet visitor with a direct message; once per visitor per period."""

    class Arguments:
        input = SendGreetingInput(required=True)

    greeting = graphene.Field(GreetingType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        seller = info.context.user
        visitor = active_member(input.visitor_id, "visitorId")
        greeting = services.send_greeting(
            seller=seller,
            visitor=visitor,
            text=input.text,
            template=_own_template(info, input.template_id) if input.template_id else None,
            listing=_owned_listing(info, input.listing_id) if input.listing_id else None,
        )
        return cls(greeting=selectors.greetings_sent(seller).get(pk=greeting.pk), errors=[])


class SaveGreetingTemplateInput(graphene.InputObjectType):
    template_id = graphene.ID(description="The template to change; leave out to create one.")
    name = graphene.String(required=True)
    body = graphene.String(required=True, description="Up to 1000 characters; {visitor_name}, {listing_title}.")


class SaveGreetingTemplate(BaseMutation):
    class Arguments:
        input = SaveGreetingTemplateInput(required=True)

    template = graphene.Field(GreetingTemplateType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        template = _own_template(info, input.template_id) if input.template_id else None
        saved = services.save_greeting_template(
            seller=info.context.user, name=input.name, body=input.body, template=template
        )
        return cls(template=saved, errors=[])


class TemplateIdInput(graphene.InputObjectType):
    template_id = graphene.ID(required=True)


class DeleteGreetingTemplate(BaseMutation):
    class Arguments:
        input = TemplateIdInput(required=True)

    deleted_template_id = graphene.ID()

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        services.delete_greeting_template(template=_own_template(info, input.template_id))
        return cls(deleted_template_id=input.template_id, errors=[])


class SetAutoGreetingInput(graphene.InputObjectType):
    enabled = graphene.Boolean(required=True)
    template_id = graphene.ID(description="Needed the first time; kept after.")
    listing_id = graphene.ID(description="One of your listings, attached to each greeting.")
    delay_minutes = graphene.Int(description="Minutes after the visit, 0 to 30 (default 5).")


class SetAutoGreeting(BaseMutation):
    """Greet closet visitors automatically with a template, a few minutes after their visit."""

    class Arguments:
        input = SetAutoGreetingInput(required=True)

    auto_greeting = graphene.Field(AutoGreetingType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        rule = services.set_auto_greeting(
            seller=info.context.user,
            enabled=input.enabled,
            delay_minutes=input.delay_minutes,
            template=_own_template(info, input.template_id) if input.template_id else None,
            listing=_owned_listing(info, input.listing_id) if input.listing_id else None,
        )
        return cls(auto_greeting=rule, errors=[])


class SetGreetingsEnabledInput(graphene.InputObjectType):
    enabled = graphene.Boolean(required=True)


class SetGreetingsEnabled(BaseMutation):
    """Let sellers greet you, or not (to stop one seller only, mute them with muteUser)."""

    class Arguments:
        input = SetGreetingsEnabledInput(required=True)

    greetings_enabled = graphene.Boolean()

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        services.set_greetings_enabled(user=info.context.user, enabled=input.enabled)
        return cls(greetings_enabled=input.enabled, errors=[])


class OfferToLikersInput(graphene.InputObjectType):
    listing_id = graphene.ID(required=True)
    price = graphene.Decimal(required=True, description="At least 10% below the list price.")
    shipping_discount = graphene.Decimal(description="Off the label fee if accepted.")


class SendOfferToLikers(BaseMutation):
    """Send every liker of your listing a private offer at this price; each may accept it (buying at that
    price) within 24 hours."""

    class Arguments:
        input = OfferToLikersInput(required=True)

    offer_to_likers = graphene.Field(OfferToLikersType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        listing = _owned_listing(info, input.listing_id)
        campaign = services.offer_to_likers(
            seller=info.context.user, listing=listing, amount=input.price, shipping_discount=input.shipping_discount
        )
        return cls(
            offer_to_likers=OfferToLikersType.get_queryset(OfferToLikers.objects, info).get(pk=campaign.pk), errors=[]
        )


class SendUpsellInput(graphene.InputObjectType):
    order_id = graphene.ID(required=True, description="An order you sold, within its add-on window.")
    listing_ids = graphene.List(
        graphene.NonNull(graphene.ID),
        required=True,
        description=f"1 to {services.MAX_UPSELL_ITEMS} of your available items.",
    )
    note = graphene.String(description="Your words; a default one otherwise.")


class SendUpsell(BaseMutation):
    """Suggest items to the buyer of an order: they can add them to the same parcel, no second shipping fee."""

    class Arguments:
        input = SendUpsellInput(required=True)

    upsell = graphene.Field(UpsellType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        order = _sold_order(info, input.order_id)
        listings = [_owned_listing(info, listing_id, "listingIds") for listing_id in input.listing_ids]
        upsell = services.send_upsell(order=order, listings=listings, note=input.note or "")
        return cls(upsell=selectors.upsells_sent(info.context.user).get(pk=upsell.pk), errors=[])


class SellerToolMutation(graphene.ObjectType):
    offer_to_likers = SendOfferToLikers.Field()
    send_upsell = SendUpsell.Field()
    send_greeting = SendGreeting.Field()
    save_greeting_template = SaveGreetingTemplate.Field()
    delete_greeting_template = DeleteGreetingTemplate.Field()
    set_auto_greeting = SetAutoGreeting.Field()
    set_greetings_enabled = SetGreetingsEnabled.Field()


# Community programs ----------------------------------------------------------------------------

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


class Query(SellerToolQuery, ProgramQuery, graphene.ObjectType):
    pass


class Mutation(SellerToolMutation, ProgramMutation, graphene.ObjectType):
    pass

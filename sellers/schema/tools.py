"""Seller tools over GraphQL: price-drop notices, greetings and their templates, offers to likers,
upsells, closet visitors and the results of each."""

from datetime import timedelta

import graphene
from django.utils import timezone
from graphene_django import DjangoObjectType

from accounts.schema import UserType, active_member
from config.errors import CommonError, ServiceError
from config.graphql.mutations import BaseMutation
from config.graphql.node import Node, decode_id
from config.graphql.pagination import connection_args, keyset_page
from config.graphql.permissions import Access, require_owner, require_user, viewer
from marketplace import selectors as marketplace_selectors
from marketplace.models import Listing
from marketplace.schema import ListingType, Money, OrderType
from sellers import selectors, services
from sellers.models import (
    AutoGreeting,
    Greeting,
    GreetingTemplate,
    OfferToLikers,
    PriceDropNotice,
    Upsell,
)
from social.schema import MessageType


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

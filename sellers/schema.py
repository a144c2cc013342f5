from datetime import timedelta

import graphene
from django.utils import timezone
from graphene_django import DjangoObjectType

from accounts.models import User
from accounts.schema import UserType
from config.errors import ErrorCode, ServiceError
from config.graphql.mutations import BaseMutation
from config.graphql.node import Node, decode_id
from config.graphql.pagination import connection_args, keyset_page
from config.graphql.permissions import Access, require_owner, require_user, viewer
from marketplace import selectors as marketplace_selectors
from marketplace.schema import ListingType, Money
from sellers import selectors, services
from sellers.models import AutoGreeting, Greeting, GreetingOptOut, GreetingTemplate, PriceDropNotice, SellerToolSettings
from social.schema import MessageType


class PriceDropNoticeType(DjangoObjectType):
    """A price drop the listing's likers were told of."""

    class Meta:
        model = PriceDropNotice
        name = "PriceDropNotice"
        interfaces = (Node,)
        fields = ("likers_reached", "created_at")

    previous_price = graphene.Field(Money, required=True,
                                    description="The lowest price likers had been told of before.")
    new_price = graphene.Field(Money, required=True)
    coalesced = graphene.Boolean(required=True, description="True when it rewrote the notification of a drop "
                                                            "moments before instead of sending another.")

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

    @classmethod
    def get_queryset(cls, queryset, info):
        current = viewer(info)
        return selectors.greetings_sent(current) if current else queryset.none()


class GreetingConnection(graphene.relay.Connection):
    class Meta:
        node = GreetingType


class ClosetVisitor(graphene.ObjectType):
    """Someone who visited your closet lately."""

    visitor = graphene.Field(UserType, required=True)
    last_visited_at = graphene.DateTime(required=True)
    last_greeted_at = graphene.DateTime(description="When you last greeted them; null if never.")
    can_greet = graphene.Boolean(required=True, description="A recent enough visit and no greeting within the "
                                                            "period (they may still have turned greetings off).")

    def resolve_visitor(user, info):
        return user


class ClosetVisitorConnection(graphene.relay.Connection):
    class Meta:
        node = ClosetVisitor


class ToolResults(graphene.ObjectType):
    sent = graphene.Int(required=True)
    replied = graphene.Int(required=True, description="Those the member wrote back after.")


class SellerResults(graphene.ObjectType):
    """How your seller tools did over the last `days`."""

    days = graphene.Int(required=True)
    greetings = graphene.Field(ToolResults, required=True)


class Query(graphene.ObjectType):
    greeting_templates = graphene.List(graphene.NonNull(GreetingTemplateType), required=True,
                                       description=f"Your saved greetings (at most {services.MAX_TEMPLATES}), "
                                                   "by name.")
    auto_greeting = graphene.Field(AutoGreetingType, description="Null until you set one up.")
    greetings_enabled = graphene.Boolean(required=True, description="Whether sellers may greet you.")
    closet_visitors = graphene.Field(ClosetVisitorConnection, **connection_args(),
                                     description="Who visited your closet in the last 30 days, latest visit first.")
    greetings = graphene.Field(GreetingConnection, **connection_args(),
                               description="Greetings you sent, newest first, with whether they replied.")
    seller_results = graphene.Field(SellerResults, days=graphene.Int(default_value=30), required=True)
    price_drops = graphene.Field(PriceDropNoticeConnection, **connection_args(listing_id=graphene.ID(required=True)),
                                 description="Price drops of your listing that notified its likers, newest first.")

    def resolve_greeting_templates(root, info):
        return selectors.greeting_templates(require_user(info))

    def resolve_auto_greeting(root, info):
        return AutoGreeting.objects.filter(seller=require_user(info)).first()

    def resolve_greetings_enabled(root, info):
        return not GreetingOptOut.objects.filter(user=require_user(info)).exists()

    def resolve_closet_visitors(root, info, first=None, after=None):
        visitors = selectors.closet_visitors(require_user(info), policy=SellerToolSettings.current(),
                                             now=timezone.now())
        return keyset_page(visitors, ClosetVisitorConnection, first=first, after=after,
                           ordering=("-last_visited_at", "-pk"))

    def resolve_greetings(root, info, first=None, after=None):
        return keyset_page(selectors.greetings_sent(require_user(info)), GreetingConnection, first=first, after=after,
                           ordering=("-created_at", "-pk"))

    def resolve_seller_results(root, info, days):
        seller = require_user(info)
        if not 1 <= days <= 365:
            raise ServiceError(ErrorCode.INVALID, "Look back 1 to 365 days.", "days")
        since = timezone.now() - timedelta(days=days)
        return SellerResults(days=days, greetings=ToolResults(**selectors.greeting_results(seller, since=since)))

    def resolve_price_drops(root, info, listing_id, first=None, after=None):
        listing = _owned_listing(info, listing_id)
        return keyset_page(selectors.price_drops(listing), PriceDropNoticeConnection, first=first, after=after,
                           ordering=("-created_at", "-pk"))


def _owned_listing(info, global_id: str):
    listing = marketplace_selectors.get_listing(viewer(info), decode_id(global_id, "Listing", "listingId"))
    require_owner(info, listing.seller_id)
    return listing


def _own_template(info, global_id: str, field: str = "templateId") -> GreetingTemplate:
    template = GreetingTemplate.objects.filter(pk=decode_id(global_id, "GreetingTemplate", field),
                                               seller=info.context.user).first()
    if template is None:
        raise ServiceError(ErrorCode.NOT_FOUND, "This template does not exist.", field)
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
        visitor = User.objects.filter(pk=decode_id(input.visitor_id, "User", "visitorId"), is_active=True).first()
        if visitor is None:
            raise ServiceError(ErrorCode.NOT_FOUND, "This member does not exist.", "visitorId")
        greeting = services.send_greeting(
            seller=seller, visitor=visitor, text=input.text,
            template=_own_template(info, input.template_id) if input.template_id else None,
            listing=_owned_listing(info, input.listing_id) if input.listing_id else None)
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
        saved = services.save_greeting_template(seller=info.context.user, name=input.name, body=input.body,
                                                template=template)
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
            seller=info.context.user, enabled=input.enabled, delay_minutes=input.delay_minutes,
            template=_own_template(info, input.template_id) if input.template_id else None,
            listing=_owned_listing(info, input.listing_id) if input.listing_id else None)
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


class Mutation(graphene.ObjectType):
    send_greeting = SendGreeting.Field()
    save_greeting_template = SaveGreetingTemplate.Field()
    delete_greeting_template = DeleteGreetingTemplate.Field()
    set_auto_greeting = SetAutoGreeting.Field()
    set_greetings_enabled = SetGreetingsEnabled.Field()

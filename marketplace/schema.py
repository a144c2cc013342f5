import graphene
from django.conf import settings
from django.utils import timezone
from graphene_django import DjangoObjectType

from accounts.schema import UserType
from config import media
from config.errors import CommonError, ServiceError
from config.graphql.mutations import BaseMutation
from config.graphql.node import Node, decode_id
from config.graphql.pagination import connection_args, keyset_page, offset_page
from config.graphql.permissions import Access, require_owner, require_user, viewer
from config.graphql.upload import Upload
from discovery import selectors as discovery
from marketplace import selectors, services
from marketplace.models import (
    Bundle,
    Category,
    DiscountSource,
    DiscountTarget,
    Listing,
    ListingImage,
    Offer,
    Order,
    OrderLine,
    ShippingAddress,
)
from marketplace.pricing import to_cents
from sellers.models import PriceDropNotice

ListingCondition = graphene.Enum.from_enum(Listing.Condition, name="ListingCondition")
ListingStatus = graphene.Enum.from_enum(Listing.Status, name="ListingStatus")
ImageSize = graphene.Enum(
    "ImageSize",
    [(name.upper(), name) for name in ("original", *settings.LISTING_IMAGE_WIDTHS)],
    description="Display sizes; ORIGINAL is the normalised upload.",
)


class ListingSort(graphene.Enum):
    NEWEST = "newest"
    RELEVANCE = "relevance"
    FOR_YOU = "for_you"
    PRICE_LOW = "price_low"
    PRICE_HIGH = "price_high"


class Money(graphene.ObjectType):
    amount = graphene.Decimal(required=True, description="Exact decimal, as a string.")
    currency = graphene.String(required=True, description="ISO 4217 code, e.g. USD.")


class CategoryType(DjangoObjectType):
    class Meta:
        model = Category
        name = "Category"
        interfaces = (Node,)
        fields = ("name", "slug", "path", "parent")


class ListingImageType(DjangoObjectType):
    class Meta:
        model = ListingImage
        name = "ListingImage"
        interfaces = (Node,)
        fields = ("position", "width", "height")

    url = graphene.String(
        required=True,
        size=ImageSize(required=True, default_value=ImageSize.LARGE),
        description="Until a size is made, the original is served.",
    )

    @classmethod
    def get_queryset(cls, queryset, info):
        return queryset.filter(listing__in=selectors.visible_listings(viewer(info)))

    def resolve_url(image, info, size):
        return media.absolute_url(info.context, image.renditions.get(size.value, image.original))


class ListingType(DjangoObjectType):
    class Meta:
        model = Listing
        name = "Listing"
        interfaces = (Node,)
        fields = (
            "title",
            "description",
            "brand",
            "size",
            "colour",
            "quantity",
            "category",
            "listed_at",
            "created_at",
            "updated_at",
        )

    seller = graphene.Field(UserType, required=True)
    condition = ListingCondition(required=True)
    status = ListingStatus(required=True)
    price = graphene.Field(Money, required=True)
    original_price = graphene.Field(Money, description="The retail price, when the seller gave one.")
    images = graphene.List(
        graphene.NonNull(ListingImageType), required=True, description="In order; the first is the cover."
    )
    cover_image = graphene.Field(ListingImageType)
    like_count = graphene.Int(required=True)
    viewer_has_liked = graphene.Boolean(required=True)
    first_sale_shipping_discount = graphene.Field(
        Money,
        description='The banner "first purchase from this seller gets discounted shipping": what Closetline '
        "takes off the shipping of the seller's first order; null once they made a sale or when "
        "no program offers it.",
    )

    @classmethod
    def get_queryset(cls, queryset, info):
        # Used by node(id), which passes the default manager: visibility is the selector's.
        current = viewer(info)
        return selectors.listing_cards(selectors.visible_listings(current), current)

    def resolve_price(listing, info):
        return {"amount": listing.price, "currency": listing.currency}

    def resolve_original_price(listing, info):
        if listing.original_price is None:
            return None
        return {"amount": listing.original_price, "currency": listing.currency}

    def resolve_first_sale_shipping_discount(listing, info):
        amount = listing.first_sale_shipping_discount  # computed in SQL: SQLite drops trailing zeros
        return None if amount is None else {"amount": to_cents(amount), "currency": listing.currency}

    def resolve_images(listing, info):
        return listing.images.all()

    def resolve_cover_image(listing, info):
        images = listing.images.all()
        return images[0] if images else None


class ListingConnection(graphene.relay.Connection):
    class Meta:
        node = ListingType


class PriceRangeInput(graphene.InputObjectType):
    min = graphene.Decimal()
    max = graphene.Decimal()
    currency = graphene.String(description="Default: the marketplace currency.")


def page(listings, *, first, after, keyset: tuple[str, ...] | None = None):
    """A page of listings: by keyset when ordered chronologically, else by offset (ranked)."""
    if keyset is not None:
        return keyset_page(listings, ListingConnection, first=first, after=after, ordering=keyset)
    return offset_page(listings, ListingConnection, first=first, after=after)


class ListingQuery(graphene.ObjectType):
    listing = graphene.Field(
        ListingType,
        id=graphene.ID(required=True),
        description="A listing; null when it does not exist or is hidden from you.",
    )
    listings = graphene.Field(
        ListingConnection,
        **connection_args(
            search=graphene.String(description="Words of the title, brand or description."),
            category_id=graphene.ID(description="A category and everything below it."),
            brand=graphene.String(),
            size=graphene.String(),
            colour=graphene.String(),
            conditions=graphene.List(graphene.NonNull(ListingCondition)),
            price=PriceRangeInput(),
            seller_id=graphene.ID(description="One closet."),
            available_only=graphene.Boolean(
                required=True, default_value=True, description="False shows sold items too; only within a closet."
            ),
            sort=ListingSort(
                description="NEWEST without `search`, RELEVANCE with it; FOR_YOU ranks by your likes, "
                "follows, sizes and brands; PRICE_LOW and PRICE_HIGH order by price."
            ),
        ),
        description="Search and browse available listings.",
    )
    feed = graphene.Field(
        ListingConnection,
        **connection_args(),
        description="New listings and shares of the closets you follow, newest first.",
    )
    my_likes = graphene.Field(
        ListingConnection, **connection_args(), description="Listings you liked, most recent like first."
    )
    categories = graphene.List(graphene.NonNull(CategoryType), required=True, description="The whole tree.")

    def resolve_listing(root, info, id):
        listing_id = decode_id(id, "Listing")
        try:
            return selectors.get_listing(viewer(info), listing_id)
        except ServiceError:
            return None

    def resolve_listings(
        root, info, first=None, after=None, sort=None, seller_id=None, category_id=None, price=None, **filters
    ):
        price = price or {}
        listings, keyset = discovery.browse(
            viewer(info),
            sort=sort.value if sort else None,
            seller_id=decode_id(seller_id, "User", "sellerId") if seller_id else None,
            category_id=decode_id(category_id, "Category", "categoryId") if category_id else None,
            min_price=price.get("min"),
            max_price=price.get("max"),
            currency=(price.get("currency") or settings.MARKETPLACE_DEFAULT_CURRENCY).upper(),
            **filters,
        )
        return page(listings, first=first, after=after, keyset=keyset)

    def resolve_feed(root, info, first=None, after=None):
        current = require_user(info)
        return page(
            selectors.listing_cards(discovery.feed(current), current),
            first=first,
            after=after,
            keyset=("-feed_at", "-pk"),
        )

    def resolve_my_likes(root, info, first=None, after=None):
        current = require_user(info)
        return page(
            selectors.listing_cards(discovery.liked_by(current), current),
            first=first,
            after=after,
            keyset=("-liked_at", "-pk"),
        )

    def resolve_categories(root, info):
        return selectors.categories()


def owned_listing(info, listing_id: int, field: str = "listingId") -> Listing:
    """The listing if the viewer may change it (its seller, or staff)."""
    listing = selectors.get_listing(viewer(info), listing_id, field)
    require_owner(info, listing.seller_id)
    return listing


class ListingFields:
    description = graphene.String()
    brand = graphene.String()
    size = graphene.String()
    colour = graphene.String()
    condition = ListingCondition()
    original_price = graphene.Decimal()
    currency = graphene.String(description="ISO 4217 code; default the marketplace currency.")
    quantity = graphene.Int()


class CreateListingInput(ListingFields, graphene.InputObjectType):
    title = graphene.String(required=True)
    category_id = graphene.ID(required=True)
    price = graphene.Decimal(required=True)
    draft = graphene.Boolean(description="Keep it private until published with updateListing.")


class UpdateListingInput(ListingFields, graphene.InputObjectType):
    listing_id = graphene.ID(required=True)
    title = graphene.String()
    category_id = graphene.ID()
    price = graphene.Decimal(description="A change is kept in the price history.")
    status = ListingStatus(description="DRAFT or AVAILABLE (publishing relists it at the top).")


def listing_changes(input) -> dict:
    """The given fields of a listing input, as service keyword arguments."""
    changes = {
        name: value
        for name, value in input.items()
        if value is not None and name not in ("listing_id", "draft", "status")
    }
    if "category_id" in changes:
        changes["category_id"] = decode_id(changes["category_id"], "Category", "categoryId")
    return changes


class CreateListing(BaseMutation):
    class Arguments:
        input = CreateListingInput(required=True)

    listing = graphene.Field(ListingType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        listing = services.create_listing(seller=user, publish=not input.draft, **listing_changes(input))
        return cls(listing=selectors.get_listing(user, listing.pk), errors=[])


class UpdateListing(BaseMutation):
    class Arguments:
        input = UpdateListingInput(required=True)

    listing = graphene.Field(ListingType)
    likers_reached = graphene.Int(
        description="Likers told of this price drop; null when the update notified "
        "nobody (no drop of at least the threshold)."
    )

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        listing = owned_listing(info, decode_id(input.listing_id, "Listing", "listingId"))
        update = services.update_listing(listing=listing, status=input.status, **listing_changes(input))
        notices = [outcome for outcome in update.price_change_outcomes if isinstance(outcome, PriceDropNotice)]
        return cls(
            listing=selectors.get_listing(info.context.user, listing.pk),
            likers_reached=notices[0].likers_reached if notices else None,
            errors=[],
        )


class ListingIdInput(graphene.InputObjectType):
    listing_id = graphene.ID(required=True)


class RemoveListing(BaseMutation):
    """Take a listing down for good (sold listings stay)."""

    class Arguments:
        input = ListingIdInput(required=True)

    removed_listing_id = graphene.ID()

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        services.remove_listing(listing=owned_listing(info, decode_id(input.listing_id, "Listing", "listingId")))
        return cls(removed_listing_id=input.listing_id, errors=[])


class UploadListingImageInput(graphene.InputObjectType):
    listing_id = graphene.ID(required=True)
    image = Upload(required=True, description="JPEG, PNG, WebP or HEIC, sent as a multipart file.")
    cover = graphene.Boolean(description="Put it first, as the cover (default: last).")


class UploadListingImage(BaseMutation):
    """Add a photo (multipart request). Location and camera data are removed; sizes follow shortly."""

    class Arguments:
        input = UploadListingImageInput(required=True)

    image = graphene.Field(ListingImageType)
    listing = graphene.Field(ListingType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        listing = owned_listing(info, decode_id(input.listing_id, "Listing", "listingId"))
        image = services.add_listing_image(listing=listing, upload=input.image, cover=bool(input.cover))
        return cls(image=image, listing=selectors.get_listing(info.context.user, listing.pk), errors=[])


class ReorderListingImagesInput(graphene.InputObjectType):
    listing_id = graphene.ID(required=True)
    image_ids = graphene.List(
        graphene.NonNull(graphene.ID),
        required=True,
        description="Every photo of the listing, in the new order; the first is the cover.",
    )


class ReorderListingImages(BaseMutation):
    class Arguments:
        input = ReorderListingImagesInput(required=True)

    listing = graphene.Field(ListingType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        listing = owned_listing(info, decode_id(input.listing_id, "Listing", "listingId"))
        image_ids = [decode_id(image_id, "ListingImage", "imageIds") for image_id in input.image_ids]
        services.reorder_listing_images(listing=listing, image_ids=image_ids)
        return cls(listing=selectors.get_listing(info.context.user, listing.pk), errors=[])


class RemoveListingImageInput(graphene.InputObjectType):
    image_id = graphene.ID(required=True)


class RemoveListingImage(BaseMutation):
    class Arguments:
        input = RemoveListingImageInput(required=True)

    listing = graphene.Field(ListingType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        image = ListingImage.objects.filter(pk=decode_id(input.image_id, "ListingImage", "imageId")).first()
        if image is None:
            raise ServiceError(CommonError.NOT_FOUND, "This photo does not exist.", "imageId")
        listing = owned_listing(info, image.listing_id, "imageId")
        services.remove_listing_image(image=image)
        return cls(listing=selectors.get_listing(info.context.user, listing.pk), errors=[])


class ListingMutation(graphene.ObjectType):
    create_listing = CreateListing.Field()
    update_listing = UpdateListing.Field()
    remove_listing = RemoveListing.Field()
    upload_listing_image = UploadListingImage.Field()
    reorder_listing_images = ReorderListingImages.Field()
    remove_listing_image = RemoveListingImage.Field()


# Checkout: addresses, orders, offers, bundles, seller discounts ---------------------------------

OrderStatus = graphene.Enum.from_enum(Order.Status, name="OrderStatus")
OrderSource = graphene.Enum.from_enum(Order.Source, name="OrderSource", description="How an item was bought.")
OfferStatus = graphene.Enum.from_enum(Offer.Status, name="OfferStatus")
OfferSource = graphene.Enum.from_enum(Offer.Source, name="OfferSource")
Party = graphene.Enum.from_enum(Offer.Party, name="Party", description="A side of an order or an offer.")
DiscountSourceEnum = graphene.Enum.from_enum(DiscountSource, name="DiscountSource")
DiscountTargetEnum = graphene.Enum.from_enum(DiscountTarget, name="DiscountTarget")


class OfferAction(graphene.Enum):
    ACCEPT = "accept"
    DECLINE = "decline"
    COUNTER = "counter"


def money(amount, currency: str) -> dict:
    return {"amount": amount, "currency": currency}


class AddressFields:
    recipient_name = graphene.String(required=True)
    line1 = graphene.String(required=True)
    line2 = graphene.String(required=True)
    city = graphene.String(required=True)
    region = graphene.String(required=True)
    postal_code = graphene.String(required=True)
    country = graphene.String(required=True, description="ISO 3166-1 alpha-2 code.")
    phone = graphene.String(required=True)


class ShippingAddressType(DjangoObjectType):
    class Meta:
        model = ShippingAddress
        name = "ShippingAddress"
        interfaces = (Node,)
        fields = (*ShippingAddress.ADDRESS_FIELDS, "is_default", "created_at")

    @classmethod
    def get_queryset(cls, queryset, info):
        current = viewer(info)
        return selectors.addresses_of(current) if current else queryset.none()


class OrderAddress(AddressFields, graphene.ObjectType):
    """Where an order ships: a copy of the buyer's address when they bought."""


class Discount(graphene.ObjectType):
    source = graphene.Field(DiscountSourceEnum, required=True, description="Who grants it.")
    applies_to = graphene.Field(DiscountTargetEnum, required=True)
    amount = graphene.Field(Money, required=True)
    description = graphene.String(required=True)


def discounts_in(discounts, currency: str) -> list[dict]:
    """Order discounts (rows) or quoted ones (marketplace.pricing.Discount), as `Discount` values."""
    return [
        {
            "source": discount.source,
            "applies_to": discount.applies_to,
            "description": discount.description,
            "amount": money(discount.amount, currency),
        }
        for discount in discounts
        if discount.amount
    ]


class OrderLineType(DjangoObjectType):
    class Meta:
        model = OrderLine
        name = "OrderLine"
        fields = ("title",)

    source = graphene.Field(OrderSource, required=True)
    price = graphene.Field(Money, required=True, description="What the item cost, as bought.")
    listing = graphene.Field(ListingType, description="The listing, while you may still see it.")

    def resolve_price(line, info):
        return money(line.price, line.order.currency)  # prefetched lines carry their order


class OrderType(DjangoObjectType):
    class Meta:
        model = Order
        name = "Order"
        interfaces = (Node,)
        fields = (
            "tracking_number",
            "placed_at",
            "add_on_until",
            "shipped_at",
            "delivered_at",
            "accepted_at",
            "cancelled_at",
            "rated_at",
        )

    status = graphene.Field(OrderStatus, required=True)
    source = graphene.Field(OrderSource, required=True)
    buyer = graphene.Field(UserType, required=True)
    seller = graphene.Field(UserType, required=True)
    viewer_role = graphene.Field(Party, required=True, description="Whether you bought or sold it.")
    lines = graphene.List(graphene.NonNull(OrderLineType), required=True)
    discounts = graphene.List(graphene.NonNull(Discount), required=True)
    item_total = graphene.Field(Money, required=True)
    shipping_fee = graphene.Field(Money, required=True)
    discount_total = graphene.Field(Money, required=True)
    total = graphene.Field(Money, required=True)
    shipping_address = graphene.Field(OrderAddress, required=True)
    rating = graphene.Int(description="The buyer's 1 to 5 stars, once they rated it.")

    @classmethod
    def get_queryset(cls, queryset, info):
        current = viewer(info)
        return selectors.order_cards(selectors.visible_orders(current), current)

    def resolve_rating(order, info):
        return order.buyer_rating

    def resolve_viewer_role(order, info):
        return Offer.Party.SELLER if info.context.user.pk == order.seller_id else Offer.Party.BUYER

    def resolve_lines(order, info):
        return order.lines.all()

    def resolve_discounts(order, info):
        return discounts_in(order.discounts.all(), order.currency)

    def resolve_item_total(order, info):
        return money(order.item_total, order.currency)

    def resolve_shipping_fee(order, info):
        return money(order.shipping_fee, order.currency)

    def resolve_discount_total(order, info):
        return money(order.discount_total, order.currency)

    def resolve_total(order, info):
        return money(order.total, order.currency)

    def resolve_shipping_address(order, info):
        return order


class OrderConnection(graphene.relay.Connection):
    class Meta:
        node = OrderType


class BundleType(DjangoObjectType):
    """Items gathered from one closet, checked out as one parcel; the totals are a quote for now."""

    class Meta:
        model = Bundle
        name = "Bundle"
        interfaces = (Node,)
        fields = ("created_at",)

    seller = graphene.Field(UserType, required=True)
    items = graphene.List(graphene.NonNull(ListingType), required=True, description="Oldest first.")
    item_total = graphene.Field(Money)
    discounts = graphene.List(graphene.NonNull(Discount), required=True)
    shipping_fee = graphene.Field(Money)
    total = graphene.Field(Money, description="Null while the bundle is empty.")
    pending_offer = graphene.Field(lambda: OfferType, description="Your offer on the whole bundle, if waiting.")

    @classmethod
    def get_queryset(cls, queryset, info):
        current = viewer(info)
        return selectors.bundle_cards(selectors.visible_bundles(current), current)

    def resolve_items(bundle, info):
        return [item.listing for item in bundle.items.all() if item.listing is not None]

    def resolve_item_total(bundle, info):
        return _quoted(bundle, lambda totals, currency: money(totals.items, currency))

    def resolve_discounts(bundle, info):
        return _quoted(bundle, lambda totals, currency: discounts_in(totals.discounts, currency)) or []

    def resolve_shipping_fee(bundle, info):
        return _quoted(bundle, lambda totals, currency: money(totals.shipping, currency))

    def resolve_total(bundle, info):
        return _quoted(bundle, lambda totals, currency: money(totals.total, currency))

    def resolve_pending_offer(bundle, info):
        return bundle.pending_offers[0] if bundle.pending_offers else None


def _quoted(bundle, shape):
    """A part of the bundle's quote, computed once per bundle and request."""
    if not hasattr(bundle, "quote"):
        bundle.quote = selectors.bundle_quote(bundle)
    return None if bundle.quote is None else shape(*bundle.quote)


class OfferType(DjangoObjectType):
    """A negotiation: the side whose `turn` it is accepts, declines or counters `amount`."""

    class Meta:
        model = Offer
        name = "Offer"
        interfaces = (Node,)
        fields = ("counter_count", "expires_at", "created_at", "updated_at")

    listing = graphene.Field(ListingType, description="The listing, for an offer on one item.")
    bundle = graphene.Field(BundleType, description="The bundle, for an offer on a bundle.")
    buyer = graphene.Field(UserType, required=True)
    seller = graphene.Field(UserType, required=True)
    source = graphene.Field(OfferSource, required=True)
    status = graphene.Field(OfferStatus, required=True, description="EXPIRED as soon as the time is up.")
    turn = graphene.Field(Party, required=True, description="Who may answer now.")
    viewer_role = graphene.Field(Party, required=True)
    amount = graphene.Field(Money, required=True, description="What is on the table.")
    list_price = graphene.Field(Money, required=True, description="The price when the offer was made.")
    buyer_amount = graphene.Field(Money, description="The buyer's latest figure.")
    seller_amount = graphene.Field(Money, required=True, description="The seller's latest figure.")
    shipping_discount = graphene.Field(Money, required=True, description="Off the label fee if accepted.")
    order = graphene.Field(OrderType, description="The order its acceptance made.")

    @classmethod
    def get_queryset(cls, queryset, info):
        current = viewer(info)
        return selectors.offer_cards(selectors.visible_offers(current), current)

    def resolve_status(offer, info):
        return offer.status_at(timezone.now())

    def resolve_viewer_role(offer, info):
        return Offer.Party.SELLER if info.context.user.pk == offer.seller_id else Offer.Party.BUYER

    def resolve_amount(offer, info):
        return money(offer.amount, offer.currency)

    def resolve_list_price(offer, info):
        return money(offer.list_price, offer.currency)

    def resolve_buyer_amount(offer, info):
        return None if offer.buyer_amount is None else money(offer.buyer_amount, offer.currency)

    def resolve_seller_amount(offer, info):
        return money(offer.seller_amount, offer.currency)

    def resolve_shipping_discount(offer, info):
        return money(offer.shipping_discount, offer.currency)

    def resolve_order(offer, info):
        return offer.order


class OfferConnection(graphene.relay.Connection):
    class Meta:
        node = OfferType


class SellerDiscountsType(graphene.ObjectType):
    class Meta:
        name = "SellerDiscounts"

    bundle_percent = graphene.Int(required=True, description="Off the items of a bundle; 0 for none.")
    bundle_min_items = graphene.Int(required=True, description="Items a bundle needs for the discount.")
    shipping_percent = graphene.Int(required=True, description="Off the label fee of every order.")


class CurationTermsType(graphene.ObjectType):
    class Meta:
        name = "CurationTerms"
        description = "A member's terms for their listings in other members' live shows (their own shows are free)."

    allow_curation = graphene.Boolean(required=True, description="Others may add these listings to their shows.")
    allow_auctions = graphene.Boolean(required=True, description="Others may auction these listings.")
    auction_floor_percent = graphene.Int(
        required=True, description="Of the list price: others' auctions start at and sell for no less."
    )


class CheckoutQuery(graphene.ObjectType):
    my_shipping_addresses = graphene.List(
        graphene.NonNull(ShippingAddressType), required=True, description="The default first."
    )
    my_orders = graphene.Field(
        OrderConnection,
        **connection_args(
            role=Party(required=True, description="BUYER: your purchases; SELLER: your sales."), status=OrderStatus()
        ),
        description="Newest first.",
    )
    order = graphene.Field(
        OrderType, id=graphene.ID(required=True), description="An order you bought or sold; null otherwise."
    )
    my_offers = graphene.Field(
        OfferConnection,
        **connection_args(
            role=Party(required=True, description="BUYER: offers on items you want; SELLER: on your items."),
            pending_only=graphene.Boolean(required=True, default_value=False),
        ),
        description="Most recently active first.",
    )
    offer = graphene.Field(OfferType, id=graphene.ID(required=True))
    bundle = graphene.Field(
        BundleType,
        seller_id=graphene.ID(required=True),
        description="Your open bundle from this closet, if you started one.",
    )
    seller_discounts = graphene.Field(SellerDiscountsType, required=True, seller_id=graphene.ID(required=True))
    curation_terms = graphene.Field(
        CurationTermsType,
        required=True,
        seller_id=graphene.ID(required=True),
        description="On what terms others may curate and auction this member's listings.",
    )

    def resolve_my_shipping_addresses(root, info):
        return selectors.addresses_of(require_user(info))

    def resolve_my_orders(root, info, role, first=None, after=None, status=None):
        current = require_user(info)
        orders = selectors.orders_of(
            current, as_seller=role.value == Offer.Party.SELLER, status=status.value if status else None
        )
        return keyset_page(orders, OrderConnection, first=first, after=after, ordering=("-placed_at", "-pk"))

    def resolve_order(root, info, id):
        order_id = decode_id(id, "Order")
        try:
            return selectors.get_order(viewer(info), order_id)
        except ServiceError:
            return None

    def resolve_my_offers(root, info, role, first=None, after=None, pending_only=False):
        current = require_user(info)
        offers = selectors.offers_of(current, as_seller=role.value == Offer.Party.SELLER, pending_only=pending_only)
        return keyset_page(offers, OfferConnection, first=first, after=after, ordering=("-updated_at", "-pk"))

    def resolve_offer(root, info, id):
        offer_id = decode_id(id, "Offer")
        try:
            return selectors.get_offer(viewer(info), offer_id)
        except ServiceError:
            return None

    def resolve_bundle(root, info, seller_id):
        current = require_user(info)
        return selectors.open_bundle(current, decode_id(seller_id, "User", "sellerId"))

    def resolve_seller_discounts(root, info, seller_id):
        return selectors.seller_terms(decode_id(seller_id, "User", "sellerId"))

    def resolve_curation_terms(root, info, seller_id):
        return selectors.curation_terms(decode_id(seller_id, "User", "sellerId"))


def client_key(value: str) -> str:
    """An idempotency key from a client: 8 to 100 letters, digits, '-' or '_' (a UUID does). The
    colon is kept for keys services derive themselves (an offer's acceptance), so no client key
    can collide with one."""
    if not 8 <= len(value) <= 100 or not all(char.isascii() and (char.isalnum() or char in "-_") for char in value):
        raise ServiceError(
            CommonError.INVALID, "Send 8 to 100 letters, digits, '-' or '_' (e.g. a UUID).", "idempotencyKey"
        )
    return value


class AddShippingAddressInput(graphene.InputObjectType):
    recipient_name = graphene.String(required=True)
    line1 = graphene.String(required=True)
    line2 = graphene.String()
    city = graphene.String(required=True)
    region = graphene.String()
    postal_code = graphene.String(required=True)
    country = graphene.String(required=True, description="ISO 3166-1 alpha-2 code, e.g. US.")
    phone = graphene.String()
    make_default = graphene.Boolean(description="Your first address is the default anyway.")


class UpdateShippingAddressInput(graphene.InputObjectType):
    shipping_address_id = graphene.ID(required=True)
    recipient_name = graphene.String()
    line1 = graphene.String()
    line2 = graphene.String()
    city = graphene.String()
    region = graphene.String()
    postal_code = graphene.String()
    country = graphene.String()
    phone = graphene.String()
    make_default = graphene.Boolean()


def address_changes(input) -> dict:
    return {
        name: value for name, value in input.items() if name in ShippingAddress.ADDRESS_FIELDS and value is not None
    }


class AddShippingAddress(BaseMutation):
    class Arguments:
        input = AddShippingAddressInput(required=True)

    shipping_address = graphene.Field(ShippingAddressType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        address = services.add_shipping_address(
            user=info.context.user, make_default=bool(input.make_default), **address_changes(input)
        )
        return cls(shipping_address=address, errors=[])


class UpdateShippingAddress(BaseMutation):
    class Arguments:
        input = UpdateShippingAddressInput(required=True)

    shipping_address = graphene.Field(ShippingAddressType)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        address = selectors.get_address(user, address_id(input))
        address = services.update_shipping_address(
            address=address, make_default=bool(input.make_default), **address_changes(input)
        )
        return cls(shipping_address=address, errors=[])


class ShippingAddressIdInput(graphene.InputObjectType):
    shipping_address_id = graphene.ID(required=True)


class RemoveShippingAddress(BaseMutation):
    class Arguments:
        input = ShippingAddressIdInput(required=True)

    removed_shipping_address_id = graphene.ID()

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        address = selectors.get_address(info.context.user, address_id(input))
        services.remove_shipping_address(address=address)
        return cls(removed_shipping_address_id=input.shipping_address_id, errors=[])


def address_id(input) -> int:
    return decode_id(input.shipping_address_id, "ShippingAddress", "shippingAddressId")


def optional_address_id(input) -> int | None:
    return address_id(input) if input.shipping_address_id else None


class PurchaseListingInput(graphene.InputObjectType):
    listing_id = graphene.ID(required=True)
    idempotency_key = graphene.String(required=True, description="New per purchase; the same for its retries.")
    shipping_address_id = graphene.ID(description="Default: your default address.")


class OrderPayload:
    order = graphene.Field(OrderType)


class PurchaseListing(OrderPayload, BaseMutation):
    """Buy one item at its price. A retry with the same key returns the same order."""

    class Arguments:
        input = PurchaseListingInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        listing = selectors.get_listing(user, decode_id(input.listing_id, "Listing", "listingId"))
        order = services.purchase_listing(
            buyer=user,
            listing=listing,
            idempotency_key=client_key(input.idempotency_key),
            shipping_address_id=optional_address_id(input),
        )
        return cls(order=selectors.get_order(user, order.pk), errors=[])


class CheckoutBundleInput(graphene.InputObjectType):
    bundle_id = graphene.ID(required=True)
    idempotency_key = graphene.String(required=True)
    shipping_address_id = graphene.ID()


class CheckoutBundle(OrderPayload, BaseMutation):
    """Buy every item of your bundle: one order, one parcel, one label fee, the seller's bundle discount."""

    class Arguments:
        input = CheckoutBundleInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        bundle = selectors.get_bundle(user, decode_id(input.bundle_id, "Bundle", "bundleId"))
        order = services.checkout_bundle(
            buyer=user,
            bundle=bundle,
            idempotency_key=client_key(input.idempotency_key),
            shipping_address_id=optional_address_id(input),
        )
        return cls(order=selectors.get_order(user, order.pk), errors=[])


class AddToOrderInput(graphene.InputObjectType):
    order_id = graphene.ID(required=True)
    listing_id = graphene.ID(required=True)
    idempotency_key = graphene.String(required=True)


class AddToOrder(OrderPayload, BaseMutation):
    """Buy another item of the same closet into an order's parcel (no second label fee), within a day
    of purchase and before it ships."""

    class Arguments:
        input = AddToOrderInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        order = selectors.get_order(user, decode_id(input.order_id, "Order", "orderId"))
        listing = selectors.get_listing(user, decode_id(input.listing_id, "Listing", "listingId"))
        services.add_to_order(
            buyer=user, order=order, listing=listing, idempotency_key=client_key(input.idempotency_key)
        )
        return cls(order=selectors.get_order(user, order.pk), errors=[])


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


class ShipOrder(OrderAction):
    """Seller: the parcel is on its way."""

    class Arguments:
        input = ShipOrderInput(required=True)

    @staticmethod
    def act(*, order, actor, input):
        services.ship_order(order=order, actor=actor, tracking_number=input.tracking_number)


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


class RateOrderInput(graphene.InputObjectType):
    order_id = graphene.ID(required=True)
    stars = graphene.Int(required=True, description="1 to 5.")


class RateOrder(OrderAction):
    """Buyer: rate an order you accepted (again to change it)."""

    class Arguments:
        input = RateOrderInput(required=True)

    @staticmethod
    def act(*, order, actor, input):
        services.rate_order(order=order, actor=actor, stars=input.stars)


class MakeOfferInput(graphene.InputObjectType):
    listing_id = graphene.ID(description="The item; or give bundleId.")
    bundle_id = graphene.ID(description="Your bundle, for an offer on all its items.")
    amount = graphene.Decimal(required=True, description="At least 40% of the price, and below it.")
    idempotency_key = graphene.String(description="Optional: a retry with it returns the same offer.")


class OfferPayload:
    offer = graphene.Field(OfferType)


class MakeOffer(OfferPayload, BaseMutation):
    """Offer a price: binding, the seller may accept it at once. One waiting offer per item."""

    class Arguments:
        input = MakeOfferInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        key = client_key(input.idempotency_key) if input.idempotency_key is not None else None
        if bool(input.listing_id) == bool(input.bundle_id):
            raise ServiceError(CommonError.INVALID, "Give either listingId or bundleId.", "listingId")
        if input.listing_id:
            listing = selectors.get_listing(user, decode_id(input.listing_id, "Listing", "listingId"))
            offer = services.create_offer(buyer=user, listing=listing, amount=input.amount, idempotency_key=key)
        else:
            bundle = selectors.get_bundle(user, decode_id(input.bundle_id, "Bundle", "bundleId"))
            offer = services.make_bundle_offer(buyer=user, bundle=bundle, amount=input.amount, idempotency_key=key)
        return cls(offer=selectors.get_offer(user, offer.pk), errors=[])


class RespondToOfferInput(graphene.InputObjectType):
    offer_id = graphene.ID(required=True)
    action = OfferAction(required=True, description="ACCEPT buys at the amount on the table (binding).")
    amount = graphene.Decimal(description="COUNTER: strictly between the buyer's and the seller's figures.")


class RespondToOffer(OfferPayload, BaseMutation):
    """Answer an offer when it is your turn; an accepted offer's order is `offer.order`."""

    class Arguments:
        input = RespondToOfferInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        offer = selectors.get_offer(user, decode_id(input.offer_id, "Offer", "offerId"))
        services.respond_to_offer(offer=offer, actor=user, action=input.action.value, amount=input.amount)
        return cls(offer=selectors.get_offer(user, offer.pk), errors=[])


class OfferIdInput(graphene.InputObjectType):
    offer_id = graphene.ID(required=True)


class WithdrawOffer(OfferPayload, BaseMutation):
    """Take back what you proposed before the other side answers."""

    class Arguments:
        input = OfferIdInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        offer = selectors.get_offer(user, decode_id(input.offer_id, "Offer", "offerId"))
        services.withdraw_offer(offer=offer, actor=user)
        return cls(offer=selectors.get_offer(user, offer.pk), errors=[])


class BundlePayload:
    bundle = graphene.Field(BundleType)


class AddToBundle(BundlePayload, BaseMutation):
    """Add an item to your bundle from its closet (started on first use)."""

    class Arguments:
        input = ListingIdInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        listing = selectors.get_listing(user, decode_id(input.listing_id, "Listing", "listingId"))
        bundle = services.add_to_bundle(buyer=user, listing=listing)
        return cls(bundle=selectors.get_bundle(user, bundle.pk), errors=[])


class RemoveFromBundle(BundlePayload, BaseMutation):
    class Arguments:
        input = ListingIdInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        listing = selectors.get_listing(user, decode_id(input.listing_id, "Listing", "listingId"))
        bundle = services.remove_from_bundle(buyer=user, listing=listing)
        return cls(bundle=selectors.get_bundle(user, bundle.pk) if bundle else None, errors=[])


class SellerDiscountsPayload:
    seller_discounts = graphene.Field(SellerDiscountsType)


class UpdateBundleDiscountInput(graphene.InputObjectType):
    bundle_percent = graphene.Int(required=True, description="Off the items of a bundle, 0 to 90; 0 for none.")
    bundle_min_items = graphene.Int(required=True, description="Items a bundle needs for it, 2 to 50.")


class UpdateBundleDiscount(SellerDiscountsPayload, BaseMutation):
    """Seller: e.g. 15% off bundles of 3 items or more."""

    class Arguments:
        input = UpdateBundleDiscountInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        services.update_seller_discounts(
            seller=user, bundle_percent=input.bundle_percent, bundle_min_items=input.bundle_min_items
        )
        return cls(seller_discounts=selectors.seller_terms(user.pk), errors=[])


class UpdateShippingDiscountInput(graphene.InputObjectType):
    shipping_percent = graphene.Int(required=True, description="Of the label fee you pay on every order, 0 to 100.")


class UpdateShippingDiscount(SellerDiscountsPayload, BaseMutation):
    """Seller: pay part (or all) of your buyers' label fee."""

    class Arguments:
        input = UpdateShippingDiscountInput(required=True)

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        user = info.context.user
        services.update_seller_discounts(seller=user, shipping_percent=input.shipping_percent)
        return cls(seller_discounts=selectors.seller_terms(user.pk), errors=[])


class UpdateCurationTermsInput(graphene.InputObjectType):
    allow_curation = graphene.Boolean(description="Others may add your listings to their shows.")
    allow_auctions = graphene.Boolean(description="Others may auction your listings.")
    auction_floor_percent = graphene.Int(description="1 to 100 percent of the list price.")


class UpdateCurationTerms(BaseMutation):
    """Seller: on what terms others may curate and auction your listings in their live shows."""

    class Arguments:
        input = UpdateCurationTermsInput(required=True)

    access = Access.AUTHENTICATED
    curation_terms = graphene.Field(CurationTermsType)

    @classmethod
    def perform(cls, info, input):
        terms = services.update_curation_terms(
            seller=info.context.user,
            allow_curation=input.allow_curation,
            allow_auctions=input.allow_auctions,
            auction_floor_percent=input.auction_floor_percent,
        )
        return cls(curation_terms=terms, errors=[])


class CheckoutMutation(graphene.ObjectType):
    add_shipping_address = AddShippingAddress.Field()
    update_shipping_address = UpdateShippingAddress.Field()
    remove_shipping_address = RemoveShippingAddress.Field()
    purchase_listing = PurchaseListing.Field()
    checkout_bundle = CheckoutBundle.Field()
    add_to_order = AddToOrder.Field()
    ship_order = ShipOrder.Field()
    mark_order_delivered = MarkOrderDelivered.Field()
    accept_order = AcceptOrder.Field()
    cancel_order = CancelOrder.Field()
    rate_order = RateOrder.Field()
    make_offer = MakeOffer.Field()
    respond_to_offer = RespondToOffer.Field()
    withdraw_offer = WithdrawOffer.Field()
    add_to_bundle = AddToBundle.Field()
    remove_from_bundle = RemoveFromBundle.Field()
    update_bundle_discount = UpdateBundleDiscount.Field()
    update_shipping_discount = UpdateShippingDiscount.Field()
    update_curation_terms = UpdateCurationTerms.Field()


class Query(ListingQuery, CheckoutQuery, graphene.ObjectType):
    pass


class Mutation(ListingMutation, CheckoutMutation, graphene.ObjectType):
    pass

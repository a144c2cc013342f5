import graphene
from django.conf import settings
from django.core.files.storage import default_storage
from graphene_django import DjangoObjectType

from accounts.schema import UserType
from config.errors import ErrorCode, ServiceError
from config.graphql.mutations import BaseMutation
from config.graphql.node import Node, decode_id
from config.graphql.pagination import connection_args, keyset_page, offset_page
from config.graphql.permissions import Access, require_owner, require_user, viewer
from config.graphql.upload import Upload
from marketplace import selectors, services
from marketplace.models import Category, Listing, ListingImage
from sellers import selectors as seller_selectors

ListingCondition = graphene.Enum.from_enum(Listing.Condition, name="ListingCondition")
ListingStatus = graphene.Enum.from_enum(Listing.Status, name="ListingStatus")
ImageSize = graphene.Enum("ImageSize", [(name.upper(), name) for name in ("original", *settings.LISTING_IMAGE_WIDTHS)],
                          description="Display sizes; ORIGINAL is the normalised upload.")


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

    url = graphene.String(required=True, size=ImageSize(default_value=ImageSize.LARGE),
                          description="Until a size is made, the original is served.")

    @classmethod
    def get_queryset(cls, queryset, info):
        return queryset.filter(listing__in=selectors.visible_listings(viewer(info)))

    def resolve_url(image, info, size):
        return default_storage.url(image.renditions.get(size.value, image.original))


class ListingType(DjangoObjectType):
    class Meta:
        model = Listing
        name = "Listing"
        interfaces = (Node,)
        fields = ("title", "description", "brand", "size", "colour", "quantity", "category", "listed_at", "created_at",
                  "updated_at")

    seller = graphene.Field(UserType, required=True)
    condition = ListingCondition(required=True)
    status = ListingStatus(required=True)
    price = graphene.Field(Money, required=True)
    original_price = graphene.Field(Money, description="The retail price, when the seller gave one.")
    images = graphene.List(graphene.NonNull(ListingImageType), required=True,
                           description="In order; the first is the cover.")
    cover_image = graphene.Field(ListingImageType)
    like_count = graphene.Int(required=True)
    viewer_has_liked = graphene.Boolean(required=True)

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


class Query(graphene.ObjectType):
    listing = graphene.Field(ListingType, id=graphene.ID(required=True),
                             description="A listing; null when it does not exist or is hidden from you.")
    listings = graphene.Field(ListingConnection, **connection_args(
        search=graphene.String(description="Words of the title, brand or description."),
        category_id=graphene.ID(description="A category and everything below it."),
        brand=graphene.String(),
        size=graphene.String(),
        colour=graphene.String(),
        conditions=graphene.List(graphene.NonNull(ListingCondition)),
        price=PriceRangeInput(),
        seller_id=graphene.ID(description="One closet."),
        available_only=graphene.Boolean(default_value=True,
                                        description="False shows sold items too; only within a closet."),
        sort=ListingSort(description="NEWEST without `search`, RELEVANCE with it; FOR_YOU ranks by your likes, "
                                     "follows, sizes and brands; PRICE_LOW and PRICE_HIGH order by price."),
    ), description="Search and browse available listings.")
    feed = graphene.Field(ListingConnection, **connection_args(),
                          description="New listings and shares of the closets you follow, newest first.")
    my_likes = graphene.Field(ListingConnection, **connection_args(),
                              description="Listings you liked, most recent like first.")
    categories = graphene.List(graphene.NonNull(CategoryType), required=True, description="The whole tree.")

    def resolve_listing(root, info, id):
        listing_id = decode_id(id, "Listing")
        try:
            return selectors.get_listing(viewer(info), listing_id)
        except ServiceError:
            return None

    def resolve_listings(root, info, first=None, after=None, sort=None, seller_id=None, category_id=None,
                         price=None, **filters):
        price = price or {}
        listings, keyset = selectors.browse(
            viewer(info), sort=sort.value if sort else None,
            seller_id=decode_id(seller_id, "User", "sellerId") if seller_id else None,
            category_id=decode_id(category_id, "Category", "categoryId") if category_id else None,
            min_price=price.get("min"), max_price=price.get("max"),
            currency=(price.get("currency") or settings.MARKETPLACE_DEFAULT_CURRENCY).upper(), **filters)
        return page(listings, first=first, after=after, keyset=keyset)

    def resolve_feed(root, info, first=None, after=None):
        current = require_user(info)
        return page(selectors.listing_cards(selectors.feed(current), current), first=first, after=after,
                    keyset=("-feed_at", "-pk"))

    def resolve_my_likes(root, info, first=None, after=None):
        current = require_user(info)
        return page(selectors.listing_cards(selectors.liked_by(current), current), first=first, after=after,
                    keyset=("-liked_at", "-pk"))

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
    changes = {name: value for name, value in input.items()
               if value is not None and name not in ("listing_id", "draft", "status")}
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
    likers_reached = graphene.Int(description="Likers told of this price drop; null when the update notified "
                                              "nobody (no drop of at least the threshold).")

    access = Access.AUTHENTICATED

    @classmethod
    def perform(cls, info, input):
        listing = owned_listing(info, decode_id(input.listing_id, "Listing", "listingId"))
        services.update_listing(listing=listing, status=input.status, **listing_changes(input))
        updated = selectors.get_listing(info.context.user, listing.pk)
        price_changed = updated.price != listing.price  # `listing` is as it was before the update
        reached = seller_selectors.likers_reached_by_last_price_change(updated) if price_changed else None
        return cls(listing=updated, likers_reached=reached, errors=[])


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
    image_ids = graphene.List(graphene.NonNull(graphene.ID), required=True,
                              description="Every photo of the listing, in the new order; the first is the cover.")


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
            raise ServiceError(ErrorCode.NOT_FOUND, "This photo does not exist.", "imageId")
        listing = owned_listing(info, image.listing_id, "imageId")
        services.remove_listing_image(image=image)
        return cls(listing=selectors.get_listing(info.context.user, listing.pk), errors=[])


class Mutation(graphene.ObjectType):
    create_listing = CreateListing.Field()
    update_listing = UpdateListing.Field()
    remove_listing = RemoveListing.Field()
    upload_listing_image = UploadListingImage.Field()
    reorder_listing_images = ReorderListingImages.Field()
    remove_listing_image = RemoveListingImage.Field()

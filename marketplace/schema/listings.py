"""Listings over GraphQL: the listing queries (one, a closet, browse) and the mutations that
create, edit and remove listings and their images.
"""

import graphene
from django.conf import settings

from config.errors import CommonError, ServiceError
from config.graphql.mutations import BaseMutation
from config.graphql.node import decode_id
from config.graphql.pagination import connection_args
from config.graphql.permissions import Access, require_owner, require_user, viewer
from config.graphql.upload import Upload
from discovery import selectors as discovery
from marketplace import selectors, services
from marketplace.models import Listing, ListingImage
from marketplace.schema.types import (
    CategoryType,
    ListingCondition,
    ListingConnection,
    ListingImageType,
    ListingSort,
    ListingStatus,
    ListingType,
    PriceRangeInput,
    page,
)
from sellers.models import PriceDropNotice


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

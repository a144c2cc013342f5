"""Listing photos over the GraphQL multipart request spec, with real files made by Pillow."""

import io
import struct
import zlib

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from marketplace.models import ListingImage
from tests.helpers import add_photo, gid, photo
from tests.marketplace.conftest import upload

pytestmark = pytest.mark.django_db

REORDER = """mutation($input: ReorderListingImagesInput!) {
  reorderListingImages(input: $input) { listing { images { id } coverImage { id } } errors { field code } } }"""
REMOVE = """mutation($input: RemoveListingImageInput!) {
  removeListingImage(input: $input) { listing { images { id } } errors { field code } } }"""


@pytest.fixture
def seller(make_user, make_listing):
    user, token = make_user("ava")
    return make_listing(user), token


def stored(path) -> Image.Image:
    with default_storage.open(path) as file:
        image = Image.open(io.BytesIO(file.read()))
        image.load()
        return image


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_accepted_formats_are_stored_as_clean_jpeg_with_display_sizes(
    gql, seller, fmt, django_capture_on_commit_callbacks
):
    listing, token = seller
    with django_capture_on_commit_callbacks(execute=True):
        payload = upload(gql, token, listing, photo(fmt, size=(2000, 1500)), name=f"photo.{fmt.lower()}")
    assert payload["errors"] == []
    assert payload["image"]["width"] == 2000 and payload["image"]["height"] == 1500
    image = ListingImage.objects.get()
    assert stored(image.original).format == "JPEG"
    # The task made each display size narrower than the photo, off the request path.
    widths = {name: stored(path).width for name, path in image.renditions.items()}
    assert widths == {"small": 150, "medium": 640, "large": 1280}
    assert stored(image.renditions["small"]).height == 112


def test_small_photos_are_never_upscaled(gql, seller, django_capture_on_commit_callbacks):
    listing, token = seller
    with django_capture_on_commit_callbacks(execute=True):
        upload(gql, token, listing, photo(size=(400, 300)))
    image = ListingImage.objects.get()
    assert image.renditions == {"small": image.renditions["small"], "medium": image.original, "large": image.original}
    query = "query($id: ID!) { listing(id: $id) { coverImage { large: url small: url(size: SMALL) } } }"
    cover = gql(query, {"id": gid(listing)})["data"]["listing"]["coverImage"]
    assert cover["large"].endswith(image.original) and cover["small"].endswith("-150w.jpg")


def test_gps_and_other_exif_are_removed_and_orientation_applied(gql, seller):
    listing, token = seller
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x010F] = "Camera maker"
    exif.get_ifd(0x8825).update({1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)})  # GPS
    payload = upload(gql, token, listing, photo(size=(80, 40), exif=exif.tobytes()))
    assert payload["errors"] == []
    image = stored(ListingImage.objects.get().original)
    assert image.size == (40, 80)  # turned upright
    assert not image.getexif() and "exif" not in image.info


@pytest.mark.parametrize(
    "name, content",
    [
        ("photo.jpg", b"this is not an image at all"),
        ("photo.gif", photo("GIF")),
        ("photo.bmp", photo("BMP")),
        ("photo.jpg", photo(size=(400, 400))[:600]),  # truncated
    ],
)
def test_non_images_other_formats_and_damaged_files_are_refused(gql, seller, name, content):
    listing, token = seller
    payload = upload(gql, token, listing, content, name=name)
    assert payload["image"] is None
    assert payload["errors"] == [
        {"field": "image", "code": "UNSUPPORTED_IMAGE", "message": "Send a complete JPEG, PNG, WebP or HEIC photo."}
    ]
    assert not ListingImage.objects.exists()


def decompression_bomb() -> bytes:
    """A tiny PNG whose header claims 60,000 × 60,000 pixels."""
    png = bytearray(photo("PNG", size=(1, 1)))
    header = b"IHDR" + struct.pack(">II", 60_000, 60_000) + bytes(png[24:29])
    png[12:29] = header
    png[29:33] = struct.pack(">I", zlib.crc32(header))
    return bytes(png)


def test_decompression_bomb_is_refused_before_decoding(gql, seller):
    listing, token = seller
    payload = upload(gql, token, listing, decompression_bomb(), name="bomb.png")
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("image", "IMAGE_TOO_LARGE")]
    assert not ListingImage.objects.exists()


def test_too_many_pixels_is_refused(gql, seller, settings):
    settings.LISTING_IMAGE_MAX_PIXELS = 100 * 100
    listing, token = seller
    payload = upload(gql, token, listing, photo(size=(101, 100)))
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("image", "IMAGE_TOO_LARGE")]


def test_oversized_file_is_refused(gql, seller, settings):
    settings.LISTING_IMAGE_MAX_BYTES = 1000
    listing, token = seller
    payload = upload(gql, token, listing, photo(size=(300, 300), quality=100))
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("image", "IMAGE_TOO_LARGE")]
    assert not ListingImage.objects.exists()


def test_only_the_seller_uploads(gql, seller, make_user):
    listing, _ = seller
    _, marco = make_user("marco")
    assert upload(gql, marco, listing, photo())["errors"] == [
        {"field": None, "code": "FORBIDDEN", "message": "Only the owner can do this."}
    ]
    assert not default_storage.exists("listings")


def test_photo_count_is_bounded(gql, seller, settings):
    settings.LISTING_MAX_IMAGES = 2
    listing, token = seller
    for _ in range(2):
        assert upload(gql, token, listing, photo())["errors"] == []
    payload = upload(gql, token, listing, photo())
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("image", "TOO_MANY_IMAGES")]
    assert ListingImage.objects.count() == 2
    assert len(default_storage.listdir(f"listings/{listing.pk}")[1]) == 2  # the refused file was not kept


def test_photos_are_ordered_with_one_cover(gql, seller):
    listing, token = seller
    first = upload(gql, token, listing, photo())["image"]["id"]
    second = upload(gql, token, listing, photo())["image"]["id"]
    cover = upload(gql, token, listing, photo(), cover=True)
    assert [i["id"] for i in cover["listing"]["images"]] == [cover["image"]["id"], first, second]
    assert cover["listing"]["coverImage"]["id"] == cover["image"]["id"]

    reordered = gql(
        REORDER, {"input": {"listingId": gid(listing), "imageIds": [second, first, cover["image"]["id"]]}}, token=token
    )["data"]["reorderListingImages"]
    assert reordered["errors"] == []
    assert [i["id"] for i in reordered["listing"]["images"]] == [second, first, cover["image"]["id"]]
    assert reordered["listing"]["coverImage"] == {"id": second}

    incomplete = gql(REORDER, {"input": {"listingId": gid(listing), "imageIds": [second]}}, token=token)
    assert incomplete["data"]["reorderListingImages"]["errors"] == [{"field": "imageIds", "code": "INVALID"}]


def test_removing_a_photo_deletes_its_files(gql, seller, make_user, django_capture_on_commit_callbacks):
    listing, token = seller
    with django_capture_on_commit_callbacks(execute=True):
        image = add_photo(listing)
    image.refresh_from_db()
    _, marco = make_user("marco")
    refused = gql(REMOVE, {"input": {"imageId": gid(image)}}, token=marco)["data"]["removeListingImage"]
    assert refused["errors"] == [{"field": None, "code": "FORBIDDEN"}]
    with django_capture_on_commit_callbacks(execute=True):
        payload = gql(REMOVE, {"input": {"imageId": gid(image)}}, token=token)["data"]["removeListingImage"]
    assert payload == {"listing": {"images": []}, "errors": []}
    assert not any(default_storage.exists(path) for path in [image.original, *image.renditions.values()])

"""Listing photos with Pillow: accept, orient, strip metadata, re-encode, and make display sizes.

Everything is re-encoded as JPEG from the decoded pixels, so no EXIF (GPS, camera serials) or
other metadata of the upload survives; only the colour profile is carried over.
"""

import io
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from config.errors import ServiceError
from marketplace.errors import ListingError

register_heif_opener()

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
JPEG_QUALITY = 88


@dataclass(frozen=True)
class EncodedImage:
    content: bytes
    width: int
    height: int


def normalise(upload, field: str = "image") -> EncodedImage:
    """The upload as a clean JPEG, upright; a typed error for anything else or anything too big."""
    if upload.size > settings.LISTING_IMAGE_MAX_BYTES:
        raise _too_large(f"Photos can be at most {settings.LISTING_IMAGE_MAX_BYTES // (1024 * 1024)} MB.", field)
    try:
        image = Image.open(upload, formats=ACCEPTED_FORMATS)
        # The header alone gives the size: refuse before decoding a single pixel.
        if image.width * image.height > settings.LISTING_IMAGE_MAX_PIXELS:
            raise _too_large(f"Photos can have at most {settings.LISTING_IMAGE_MAX_PIXELS:,} pixels.", field)
        image.load()
        image = _flatten(ImageOps.exif_transpose(image))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large(f"Photos can have at most {settings.LISTING_IMAGE_MAX_PIXELS:,} pixels.", field) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        # Not an image, a refused format, or a damaged/truncated file.
        raise ServiceError(
            ListingError.UNSUPPORTED_IMAGE, "Send a complete JPEG, PNG, WebP or HEIC photo.", field
        ) from None
    return _encode(image)


def resize_to_width(content: bytes, width: int) -> EncodedImage | None:
    """A copy `width` pixels wide, or None when the photo is not wider than that."""
    with Image.open(io.BytesIO(content)) as image:
        if image.width <= width:
            return None
        height = max(1, round(image.height * width / image.width))
        image.draft("RGB", (width, height))  # JPEG decodes at a reduced scale: much less work
        return _encode(image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS))


def _flatten(image: Image.Image) -> Image.Image:
    """RGB for JPEG; transparency is laid on white, as product photos are shown."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _encode(image: Image.Image) -> EncodedImage:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, icc_profile=image.info.get("icc_profile"))
    return EncodedImage(buffer.getvalue(), image.width, image.height)


def _too_large(message: str, field: str) -> ServiceError:
    return ServiceError(ListingError.IMAGE_TOO_LARGE, message, field)

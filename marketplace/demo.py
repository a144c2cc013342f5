"""Demo closets: a few listings per demo user, each with generated photos (see accounts/demo.py), a
shipping address for everyone so GraphiQL can buy at once, and ava's bundle discount."""

import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from accounts.models import User
from marketplace import services
from marketplace.models import Category, Listing, ShippingAddress

CLOSETS = {
    "ava": [
        ("90s denim jacket", "Levi's", "M", "women/coats-jackets", "48.00", "#4a6fa5"),
        ("High-rise mom jeans", "Levi's", "28", "women/jeans", "35.00", "#6b8cc7"),
        ("Corduroy blazer", "Everlane", "S", "women/coats-jackets", "62.00", "#a0522d"),
    ],
    "marco": [
        ("Retro runners, barely worn", "Nike", "10", "men/shoes", "85.00", "#d94f3d"),
        ("Box logo tee", "Supreme", "L", "men/shirts", "120.00", "#222222"),
        ("Canvas high-tops", "Converse", "9", "men/shoes", "30.00", "#f2f2f2"),
    ],
    "priya": [
        ("Leather tote, authenticated", "Coach", "OS", "women/bags", "240.00", "#7b3f00"),
        ("Silk wrap dress", "Reformation", "M", "women/dresses", "95.00", "#c2185b"),
    ],
    "sam": [
        ("Wool scarf", "Acne Studios", "OS", "women/accessories", "40.00", "#8e9aaf"),
    ],
}

ADDRESSES = {
    "ava": ("Ava Chen", "12 Bleecker St", "New York", "NY", "10012", "US"),
    "marco": ("Marco Rossi", "Via Roma 5", "Rome", "RM", "00184", "IT"),
    "priya": ("Priya Patel", "800 Sunset Blvd", "Los Angeles", "CA", "90028", "US"),
    "sam": ("Sam Okafor", "1 Camden High St", "London", "", "NW1 7JE", "GB"),
}


def load(stdout):
    created = 0
    for username, items in CLOSETS.items():
        seller = User.objects.get(username=username)
        for title, brand, size, category_path, price, color in items:
            if Listing.objects.filter(seller=seller, title=title).exists():
                continue
            listing = services.create_listing(
                seller=seller,
                title=title,
                brand=brand,
                size=size,
                price=Decimal(price),
                category_id=Category.objects.get(path=category_path).pk,
                description=f"{title} from {seller.display_name or username}'s closet.",
            )
            for shade in (color, "#ffffff"):
                services.add_listing_image(listing=listing, upload=_photo(title, shade))
            created += 1
    for username, (name, line1, city, region, postal_code, country) in ADDRESSES.items():
        user = User.objects.get(username=username)
        if not ShippingAddress.objects.filter(user=user).exists():
            services.add_shipping_address(
                user=user,
                recipient_name=name,
                line1=line1,
                city=city,
                region=region,
                postal_code=postal_code,
                country=country,
            )
    services.update_seller_discounts(seller=User.objects.get(username="ava"), bundle_percent=15, bundle_min_items=3)
    stdout.write(
        f"Listings: {created} new, {Listing.objects.count()} in all; a shipping address each; ava takes 15% "
        "off bundles of 3+."
    )


def _photo(title: str, color: str) -> SimpleUploadedFile:
    image = Image.new("RGB", (900, 1200), color)
    ImageDraw.Draw(image).text((40, 40), title, fill="#888888")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return SimpleUploadedFile("demo.jpg", buffer.getvalue(), content_type="image/jpeg")

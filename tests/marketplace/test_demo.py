import io

import pytest
from django.core.management import call_command

from accounts.models import User
from marketplace.models import Listing, ListingImage, SellerDiscounts, ShippingAddress
from social.models import Follow, Like

pytestmark = pytest.mark.django_db


def test_demo_data_loads_twice_without_duplicates(django_capture_on_commit_callbacks):
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):  # the photos' display sizes
            call_command("load_demo_data", stdout=io.StringIO())
    assert Listing.objects.count() == 9
    assert ListingImage.objects.filter(renditions__has_key="small").count() == 18
    assert Like.objects.count() == 6 and Follow.objects.count() == 6
    assert Listing.objects.get(title="90s denim jacket").like_count == 3
    assert ShippingAddress.objects.filter(is_default=True).count() == 4
    assert SellerDiscounts.objects.get().bundle_percent == 15


@pytest.mark.parametrize(
    "page",
    [
        "marketplace/listing",
        "marketplace/category",
        "marketplace/listingimage",
        "social/like",
        "social/follow",
        "social/share",
        "social/comment",
        "social/block",
        "social/closetvisit",
    ],
)
def test_admin_pages_work_on_demo_data(client, page):
    call_command("load_demo_data", stdout=io.StringIO())
    client.force_login(User.objects.get(username="admin"))
    assert client.get(f"/admin/{page}/", {"q": "ava"}).status_code == 200
    listing = Listing.objects.first()
    assert client.get(f"/admin/marketplace/listing/{listing.pk}/change/").status_code == 200

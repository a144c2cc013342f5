"""Delete my account (personal data erased, listings removed, the other party's orders kept) and
export my data (every app's part, downloaded by a signed link), through GraphQL and HTTP."""

import io
import json
import re
import zipfile
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from accounts.models import AccountToken, AuthToken, DataExport, User
from marketplace import services as marketplace_services
from marketplace.models import Listing, Offer, ShippingAddress
from notifications import services as notification_services
from notifications.models import Device
from social import services as social_services
from social.models import Comment, Follow, Like
from tests.helpers import gid
from tests.mailbox import body_of, mails_to

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-passphrase"
DELETE = """mutation($input: DeleteAccountInput!) {
  deleteAccount(input: $input) { deleted errors { field code message } }
}"""
EXPORT = """mutation { requestDataExport { dataExport { status downloadUrl } errors { code } } }"""
LATEST = "{ latestDataExport { status size expiresAt downloadUrl } }"
MY_SALES_AND_PURCHASES = """query($role: Party!) { myOrders(role: $role, first: 10) { edges { node {
  status total { amount currency } buyer { username } seller { username displayName } lines { title } } } } }"""
LISTING = "query($id: ID!) { listing(id: $id) { title } }"
LOGIN = """mutation($input: LoginInput!) { login(input: $input) { token errors { code } } }"""
ME = "{ me { username } }"


@pytest.fixture
def closet(make_user, make_buyer, make_listing):
    """Ava sold Marco a dress (accepted), has another listing on sale that Sam made an offer on, a
    saved address, a comment, a like, a follow, a device and some notifications."""
    ava, ava_token = make_buyer("ava", password=PASSWORD, display_name="Ava Chen")
    User.objects.filter(pk=ava.pk).update(bio="Vintage denim")
    marco, marco_token = make_buyer("marco")
    sam, _ = make_buyer("sam")
    sold = make_listing(ava, title="Sold dress", price="30.00")
    order = marketplace_services.purchase_listing(buyer=marco, listing=sold, idempotency_key="k-1")
    marketplace_services.ship_order(order=order, actor=ava, tracking_number="1Z999AA10123456784")
    marketplace_services.mark_order_delivered(order=order, actor=marco)
    marketplace_services.accept_order(order=order, actor=marco)
    on_sale = make_listing(ava, title="Denim jacket", price="50.00")
    offer = marketplace_services.create_offer(buyer=sam, listing=on_sale, amount=on_sale.price - 10)
    marco_listing = make_listing(marco, title="Sneakers")
    social_services.like_listing(user=ava, listing=marco_listing)
    social_services.follow_user(follower=ava, followee=marco)
    social_services.add_comment(author=ava, listing=marco_listing, body="Love these, what size?")
    notification_services.register_device(user=ava, platform="fcm", token="ava-phone-token")
    return {
        "ava": ava,
        "ava_token": ava_token,
        "marco": marco,
        "marco_token": marco_token,
        "on_sale": on_sale,
        "offer": offer,
        "sam": sam,
    }


def test_deleting_erases_the_member_and_the_other_party_keeps_their_order(api, gql, closet):
    ava, token, marco_token = closet["ava"], closet["ava_token"], closet["marco_token"]
    wrong = api(DELETE, {"input": {"password": "not-my-password"}}, token=token)["data"]["deleteAccount"]
    assert wrong == {
        "deleted": None,
        "errors": [{"field": "password", "code": "INVALID_CREDENTIALS", "message": "Wrong password."}],
    }
    assert User.objects.get(pk=ava.pk).username == "ava"

    assert api(DELETE, {"input": {"password": PASSWORD}}, token=token)["data"]["deleteAccount"] == {
        "deleted": True,
        "errors": [],
    }

    # Ava is gone: her token, her login, her profile, her listing on sale and her traces.
    assert gql.post({"query": ME}, token=token).status_code == 401
    assert api(LOGIN, {"input": {"username": "ava", "password": PASSWORD}})["data"]["login"]["token"] is None
    tombstone = User.objects.get(pk=ava.pk)
    assert (tombstone.username, tombstone.email, tombstone.display_name, tombstone.bio, tombstone.is_active) == (
        f"deleted-{ava.pk}",
        f"deleted-{ava.pk}@deleted.invalid",
        "",
        "",
        False,
    )
    assert tombstone.deleted_at and not tombstone.has_usable_password()
    assert gql(LISTING, {"id": gid(closet["on_sale"])})["data"]["listing"] is None
    assert Listing.objects.get(pk=closet["on_sale"].pk).status == Listing.Status.REMOVED
    assert not (
        Like.objects.filter(user=ava).exists()
        or Follow.objects.filter(follower=ava).exists()
        or Comment.objects.filter(author=ava).exists()
        or ShippingAddress.objects.filter(user=ava).exists()
        or Device.objects.filter(user=ava).exists()
        or AuthToken.objects.filter(user=ava, revoked_at=None).exists()
    )
    # Sam's pending offer on the removed listing ended (as any removal ends it).
    assert Offer.objects.get(pk=closet["offer"].pk).status == Offer.Status.CANCELLED

    # Marco still has his purchase, with what he paid; the seller is anonymous now.
    [edge] = gql(MY_SALES_AND_PURCHASES, {"role": "BUYER"}, token=marco_token)["data"]["myOrders"]["edges"]
    assert edge["node"] == {
        "status": "ACCEPTED",
        "total": {"amount": "36.49", "currency": "USD"},
        "buyer": {"username": "marco"},
        "seller": {"username": f"deleted-{ava.pk}", "displayName": ""},
        "lines": [{"title": "Sold dress"}],
    }
    [goodbye] = mails_to(mail.outbox, "ava@example.com")
    assert goodbye.subject == "Your Closetline account was deleted" and "Hi Ava Chen" in body_of(goodbye)
    # The username is free again: Ava may come back as a new member one day.
    assert not User.objects.filter(username__iexact="ava").exists()


def test_deleting_is_refused_while_an_order_is_in_progress(api, make_buyer, make_listing):
    seller, seller_token = make_buyer("ava", password=PASSWORD)
    buyer, buyer_token = make_buyer("marco", password=PASSWORD)
    marketplace_services.purchase_listing(buyer=buyer, listing=make_listing(seller), idempotency_key="k-2")
    for token in (seller_token, buyer_token):
        payload = api(DELETE, {"input": {"password": PASSWORD}}, token=token)["data"]["deleteAccount"]
        assert payload["deleted"] is None and [e["code"] for e in payload["errors"]] == ["ACCOUNT_HAS_OPEN_ORDERS"]
    assert User.objects.filter(is_active=True).count() == 2
    assert api(ME, token=seller_token)["data"]["me"] == {"username": "ava"}


def test_export_builds_a_zip_of_every_app_downloaded_by_a_signed_link_for_the_member_only(api, gql, closet):
    token = closet["ava_token"]
    requested = api(EXPORT, token=token)["data"]["requestDataExport"]
    assert requested["errors"] == [] and requested["dataExport"]["status"] == "PENDING"

    latest = gql(LATEST, token=token)["data"]["latestDataExport"]
    assert latest["status"] == "READY" and latest["size"] > 0
    url = latest["downloadUrl"]
    [ready_mail] = [m for m in mails_to(mail.outbox, "ava@example.com") if "ready" in m.subject]
    # The mail's link names the same export; it was signed earlier, perhaps in another second.
    [mailed] = re.findall(r"http\S+/accounts/exports/\S+/", body_of(ready_mail))
    assert mailed.split(":")[:-2] == url.split(":")[:-2]

    response = Client().get(urlparse(mailed).path)  # from the mail, in any browser: no bearer header
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "no-store" in response["Cache-Control"]
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        document = json.loads(archive.read("closetline-data.json"))
    assert document["format"] == "closetline-export/1"
    assert set(document) >= {"accounts", "marketplace", "social", "notifications", "live", "sellers"}
    assert document["accounts"]["username"] == "ava" and document["accounts"]["bio"] == "Vintage denim"
    assert {listing["title"] for listing in document["marketplace"]["listings"]} == {"Sold dress", "Denim jacket"}
    assert [sale["otherParty"] for sale in document["marketplace"]["sales"]] == ["marco"]
    assert [comment["body"] for comment in document["social"]["comments"]] == ["Love these, what size?"]
    assert [device["platform"] for device in document["notifications"]["devices"]] == ["fcm"]

    # Nobody else sees the link; an altered one and an expired one open nothing.
    assert gql(LATEST, token=closet["marco_token"])["data"]["latestDataExport"] is None
    assert Client().get(urlparse(url).path.replace("/exports/", "/exports/x")).status_code == 404
    DataExport.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert Client().get(urlparse(url).path).status_code == 404
    assert gql(LATEST, token=token)["data"]["latestDataExport"] is None


def test_expired_exports_are_purged_with_their_files(api, gql, closet):
    from accounts import tasks

    api(EXPORT, token=closet["ava_token"])
    name = DataExport.objects.get().file.name
    assert default_storage.exists(name)
    DataExport.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert tasks.purge_expired_exports() == 1
    assert not default_storage.exists(name) and not DataExport.objects.exists()


def test_deleting_also_removes_the_members_exports_and_pending_links(api, closet):
    token = closet["ava_token"]
    api(EXPORT, token=token)
    name = DataExport.objects.get().file.name
    assert api(DELETE, {"input": {"password": PASSWORD}}, token=token)["data"]["deleteAccount"]["deleted"]
    assert not DataExport.objects.exists() and not default_storage.exists(name)
    assert not AccountToken.objects.filter(user=closet["ava"]).exists()

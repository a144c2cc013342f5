"""Buyers open cases within the acceptance window; the funds stay held; sellers answer; staff
resolve in the admin by refunding (with a return label) or releasing to the seller."""

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from cases import hooks
from cases import services as case_services
from cases.models import Case, CaseEvent, CasePhoto
from marketplace import services
from marketplace.models import DomainEvent, Order, Payment
from notifications.models import Notification
from reviews import services as review_services
from tests.cases.conftest import open_case
from tests.helpers import assert_constant_queries, gid, photo, race

pytestmark = pytest.mark.django_db

ANSWER = """mutation($input: CaseMessageInput!) { answerCase(input: $input) {
  case { status sellerAnsweredAt messages { body author { username } } } errors { field code } } }"""
MESSAGE = """mutation($input: CaseMessageInput!) { addCaseMessage(input: $input) {
  case { messages { body author { username } } } errors { field code } } }"""
ORDER = """query($id: ID!) { order(id: $id) { status case { status reason returnLabelUrl events { kind } } } }"""
MY_CASES = """query($role: Party!, $first: Int) { myCases(role: $role, first: $first) { edges { node {
  reason status photos { url } messages { body author { username followerCount } } events { kind }
  order { status total { amount } lines { title } } buyer { username reviewCount } } } } }"""


def write(gql, mutation, token, case, body):
    name = "answerCase" if mutation is ANSWER else "addCaseMessage"
    return gql(mutation, {"input": {"caseId": gid(case), "body": body}}, token=token)["data"][name]


def resolve(staff_client, action, case, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post("/admin/cases/case/", {"action": action, "_selected_action": [case.pk]})
    assert response.status_code == 302


def kinds(case):
    return list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))


def test_open_answer_and_staff_refund_with_a_return_label(
    api, gql, parties, delivered_order, staff_client, django_capture_on_commit_callbacks, monkeypatch
):
    seller, buyer = parties
    order = delivered_order(seller, buyer)
    with django_capture_on_commit_callbacks(execute=True):
        opened = open_case(gql, buyer.token, order, photos=[photo(size=(80, 60)), photo(fmt="PNG")])
    assert opened["errors"] == []
    assert opened["case"]["reason"] == "DAMAGED" and opened["case"]["status"] == "OPEN"
    assert [(each["width"], each["height"]) for each in opened["case"]["photos"]] == [(80, 60), (64, 48)]
    assert opened["case"]["order"] == {"status": "DELIVERED"}
    assert Notification.objects.get(kind="case").recipient_id == seller.pk
    case = Case.objects.get()

    # While it is open, the platform never accepts the order, however late.
    Order.objects.filter(pk=order.pk).update(delivered_at=timezone.now() - timedelta(days=30))
    assert services.auto_accept_orders(now=timezone.now()) == 0
    assert Order.objects.get().status == Order.Status.DELIVERED

    answered = write(api, ANSWER, seller.token, case, "  It left here intact, see the photos.  ")
    assert answered["errors"] == [] and answered["case"]["sellerAnsweredAt"]
    assert answered["case"]["messages"] == [
        {"body": "It left here intact, see the photos.", "author": {"username": "ava"}}
    ]
    assert write(api, MESSAGE, buyer.token, case, "The torn zip is in photo 2.")["errors"] == []
    assert Notification.objects.filter(kind="case", recipient_id=buyer.pk).exists()

    monkeypatch.setattr(hooks, "RETURN_LABEL", [lambda order: f"https://labels.test/return/{order.pk}.pdf"])
    resolve(staff_client, "refund_with_return_label", case, django_capture_on_commit_callbacks)
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert Payment.objects.get().status == Payment.Status.REFUNDED
    shown = gql(ORDER, {"id": gid(order)}, token=buyer.token)["data"]["order"]
    assert shown["case"]["status"] == "REFUNDED"
    assert shown["case"]["returnLabelUrl"] == f"https://labels.test/return/{order.pk}.pdf"
    assert kinds(case) == ["opened", "seller_answered", "message", "refunded", "return_label"]
    assert CaseEvent.objects.get(kind="refunded").actor == staff_client.user  # the audit names staff
    # Closed: no more messages, no second resolution.
    assert write(gql, MESSAGE, buyer.token, case, "Thanks")["errors"] == [{"field": "caseId", "code": "CASE_CLOSED"}]
    resolve(staff_client, "release_to_seller", case, django_capture_on_commit_callbacks)
    assert Order.objects.get().status == Order.Status.REFUNDED


def test_open_then_staff_release_to_the_seller(
    gql, parties, delivered_order, staff_client, django_capture_on_commit_callbacks
):
    seller, buyer = parties
    order = delivered_order(seller, buyer)
    assert open_case(gql, buyer.token, order, reason="NOT_AS_DESCRIBED")["errors"] == []
    case = Case.objects.get()
    resolve(staff_client, "release_to_seller", case, django_capture_on_commit_callbacks)
    order.refresh_from_db()
    assert order.status == Order.Status.ACCEPTED
    assert Payment.objects.get().status == Payment.Status.CAPTURED
    assert Case.objects.get().status == Case.Status.RELEASED and kinds(case) == ["opened", "released"]
    assert set(Notification.objects.filter(kind="case").values_list("recipient_id", flat=True)) == {
        seller.pk,
        buyer.pk,
    }


def test_without_a_carrier_app_the_refunded_case_has_no_label_yet(
    gql, parties, delivered_order, staff_client, django_capture_on_commit_callbacks
):
    seller, buyer = parties
    open_case(gql, buyer.token, delivered_order(seller, buyer))
    resolve(staff_client, "refund_with_return_label", Case.objects.get(), django_capture_on_commit_callbacks)
    case = Case.objects.get()
    assert (case.status, case.return_label_url) == (Case.Status.REFUNDED, "")


def test_the_window_closes_three_days_after_delivery(gql, parties, delivered_order, make_listing):
    seller, buyer = parties
    late = delivered_order(seller, buyer)
    Order.objects.filter(pk=late.pk).update(delivered_at=timezone.now() - timedelta(days=3, minutes=1))
    assert open_case(gql, buyer.token, late)["errors"] == [{"field": "orderId", "code": "CASE_WINDOW_CLOSED"}]
    unshipped = services.purchase_listing(buyer=buyer, listing=make_listing(seller), idempotency_key="unshipped")
    assert open_case(gql, buyer.token, unshipped, reason="MISSING")["errors"] == [
        {"field": "orderId", "code": "CASE_WINDOW_CLOSED"}
    ]
    accepted = services.accept_order(order=delivered_order(seller, buyer), actor=buyer)
    assert open_case(gql, buyer.token, accepted)["errors"] == [{"field": "orderId", "code": "CASE_WINDOW_CLOSED"}]
    assert not Case.objects.exists()


def test_a_parcel_on_its_way_can_only_be_reported_missing(gql, parties, delivered_order):
    seller, buyer = parties
    shipped = delivered_order(seller, buyer, delivered=False)
    assert open_case(gql, buyer.token, shipped)["errors"] == [{"field": "orderId", "code": "CASE_WINDOW_CLOSED"}]
    opened = open_case(gql, buyer.token, shipped, reason="MISSING", description="Nothing came.")
    assert opened["errors"] == [] and opened["case"]["order"] == {"status": "SHIPPED"}


def test_only_the_buyer_opens_a_case_and_only_one_at_a_time(gql, parties, delivered_order, make_user):
    seller, buyer = parties
    order = delivered_order(seller, buyer)
    stranger_token = make_user("nosy")[1]
    assert open_case(gql, stranger_token, order)["errors"] == [{"field": "orderId", "code": "NOT_FOUND"}]
    assert open_case(gql, seller.token, order)["errors"] == [{"field": "orderId", "code": "CASE_NOT_THE_BUYER"}]
    assert open_case(gql, buyer.token, order)["errors"] == []
    assert open_case(gql, buyer.token, order, reason="COUNTERFEIT")["errors"] == [
        {"field": "orderId", "code": "CASE_ALREADY_OPEN"}
    ]
    case = Case.objects.get()
    assert write(gql, ANSWER, buyer.token, case, "Hi")["errors"] == [{"field": "caseId", "code": "CASE_NOT_THE_SELLER"}]
    assert write(gql, MESSAGE, stranger_token, case, "Hi")["errors"] == [{"field": "caseId", "code": "NOT_FOUND"}]
    assert write(gql, MESSAGE, seller.token, case, "  ")["errors"] == [{"field": "body", "code": "REQUIRED"}]
    assert write(gql, MESSAGE, seller.token, case, "x" * 2001)["errors"] == [{"field": "body", "code": "INVALID"}]
    assert kinds(case) == ["opened"]


def test_bad_input_changes_nothing_and_leaves_no_file(gql, parties, delivered_order, settings):
    seller, buyer = parties
    order = delivered_order(seller, buyer)
    assert open_case(gql, buyer.token, order, description="  ")["errors"] == [
        {"field": "description", "code": "REQUIRED"}
    ]
    assert open_case(gql, buyer.token, order, photos=[photo(), b"not an image"])["errors"] == [
        {"field": "photos", "code": "UNSUPPORTED_IMAGE"}
    ]
    settings.CASE_MAX_PHOTOS = 1
    assert open_case(gql, buyer.token, order, photos=[photo(), photo()])["errors"] == [
        {"field": "photos", "code": "TOO_MANY_CASE_PHOTOS"}
    ]
    assert not Case.objects.exists() and not CasePhoto.objects.exists()
    assert not default_storage.exists(f"cases/{order.pk}") or default_storage.listdir(f"cases/{order.pk}")[1] == []


def test_accepting_the_order_withdraws_the_case(gql, parties, delivered_order, django_capture_on_commit_callbacks):
    seller, buyer = parties
    order = delivered_order(seller, buyer)
    open_case(gql, buyer.token, order)
    with django_capture_on_commit_callbacks(execute=True):
        services.accept_order(order=order, actor=buyer)
    case = Case.objects.get()
    assert case.status == Case.Status.WITHDRAWN and kinds(case) == ["opened", "withdrawn"]
    # The event delivered twice changes nothing twice.
    case_services.close_with_order(DomainEvent.objects.get(name=DomainEvent.Name.ORDER_ACCEPTED))
    assert CaseEvent.objects.filter(kind="withdrawn").count() == 1


def test_the_hold_keeps_auto_accept_off_only_for_orders_with_an_open_case(gql, parties, delivered_order):
    seller, buyer = parties
    held, free = delivered_order(seller, buyer), delivered_order(seller, buyer)
    open_case(gql, buyer.token, held)
    Order.objects.update(delivered_at=timezone.now() - timedelta(days=4))  # both past the window
    assert services.auto_accept_orders(now=timezone.now()) == 1
    assert dict(Order.objects.values_list("pk", "status")) == {held.pk: "delivered", free.pk: "accepted"}


@pytest.mark.parametrize("role", ["BUYER", "SELLER"])
def test_my_cases_cost_fixed_queries(gql, parties, delivered_order, role):
    seller, buyer = parties

    def grow(count):
        for _ in range(count):
            case = case_services.open_case(
                order=delivered_order(seller, buyer), buyer=buyer, reason="damaged", description="Torn"
            )
            case_services.answer_case(case=case, seller=seller, body="Sorry to hear")

    token = buyer.token if role == "BUYER" else seller.token
    assert_constant_queries(gql, MY_CASES, {"role": role, "first": 50}, token, grow, sizes=(4, 20), path=("myCases",))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_cases_on_one_order_open_once(parties, delivered_order):
    seller, buyer = parties
    order = delivered_order(seller, buyer)

    def attempt(reason):
        def call():
            try:
                return case_services.open_case(order=order, buyer=buyer, reason=reason, description="Bad").reason
            except Exception as exc:  # noqa: BLE001 - the typed refusal is asserted below
                return getattr(exc, "errors", [exc])[0].code.name
            finally:
                connection.close()

        return call

    results = race([attempt("damaged"), attempt("counterfeit"), attempt("not_as_described")])
    assert sorted(results).count("CASE_ALREADY_OPEN") == 2
    assert Case.objects.filter(status=Case.Status.OPEN).count() == 1


DELETE = """mutation($input: DeleteAccountInput!) { deleteAccount(input: $input) { deleted errors { code } } }"""


def test_an_open_case_keeps_the_account_a_resolved_one_keeps_no_words(
    api, gql, parties, delivered_order, staff_client, django_capture_on_commit_callbacks
):
    seller, buyer = parties
    open_case(gql, buyer.token, delivered_order(seller, buyer), photos=[photo()], description="My own words")
    delete = {"input": {"password": "a-long-enough-passphrase"}}
    assert api(DELETE, delete, token=buyer.token)["data"]["deleteAccount"]["errors"] == [
        {"code": "ACCOUNT_HAS_OPEN_ORDERS"}
    ]
    case = Case.objects.get()
    case_services.add_case_message(case=case, author=buyer, body="More of my words")
    resolve(staff_client, "release_to_seller", case, django_capture_on_commit_callbacks)
    assert api(DELETE, delete, token=buyer.token)["data"]["deleteAccount"] == {"deleted": True, "errors": []}
    case.refresh_from_db()
    assert (case.description, case.status) == ("", Case.Status.RELEASED)
    assert list(case.messages.values_list("body", flat=True)) == [""] and not case.photos.exists()


MY_ORDERS = """query($first: Int) { myOrders(role: BUYER, first: $first) { edges { node {
  status review { rating } case { status reason photos { url } messages { body } } } } } }"""


def test_orders_carry_their_case_and_review_in_fixed_queries(gql, parties, delivered_order):
    seller, buyer = parties

    def grow(count):
        for index in range(count):
            order = delivered_order(seller, buyer)
            if index % 2:
                case_services.open_case(order=order, buyer=buyer, reason="missing", description="Nothing came")
            else:
                services.accept_order(order=order, actor=buyer)
                review_services.leave_review(order=order, buyer=buyer, rating=5, note="Lovely")

    assert_constant_queries(gql, MY_ORDERS, {"first": 50}, buyer.token, grow, sizes=(4, 20), path=("myOrders",))
    nodes = [edge["node"] for edge in gql(MY_ORDERS, {"first": 50}, token=buyer.token)["data"]["myOrders"]["edges"]]
    assert {(node["status"], bool(node["review"]), bool(node["case"])) for node in nodes} == {
        ("ACCEPTED", True, False),
        ("DELIVERED", False, True),
    }


def test_staff_read_a_case_its_photos_messages_and_history(gql, parties, delivered_order, staff_client):
    seller, buyer = parties
    open_case(gql, buyer.token, delivered_order(seller, buyer), photos=[photo()])
    case = Case.objects.get()
    case_services.answer_case(case=case, seller=seller, body="It left intact.")
    assert staff_client.get("/admin/cases/case/", {"q": "marco"}).status_code == 200
    page = staff_client.get(f"/admin/cases/case/{case.pk}/change/")
    assert page.status_code == 200
    assert b"It left intact." in page.content and b"photo 1" in page.content
    assert b"Answered by the seller" in page.content

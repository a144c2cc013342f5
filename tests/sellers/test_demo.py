"""The demo shows every community program working, as a new user would find it in GraphiQL: each
demo account logs in and sees its part (issue 20, item 5)."""

import io

import pytest
from django.core.management import call_command
from graphql_relay import to_global_id

from accounts.demo import DEMO_PASSWORD
from accounts.models import User
from live.models import Show
from marketplace.models import Order
from sellers.models import Ambassador, FirstSaleNudge, MentoringGroup, ProgramChange, ShippingSubsidy
from social.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(django_capture_on_commit_callbacks, category):
    """The demo loaded twice (as two `make run`s would), with its output."""
    outputs = []
    for _ in range(2):
        out = io.StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("load_demo_data", stdout=out)
        outputs.append(out.getvalue())
    return outputs


def login(gql, username):
    body = gql(
        "mutation($input: LoginInput!) { login(input: $input) { token errors { code } } }",
        {"input": {"username": username, "password": DEMO_PASSWORD}},
    )
    assert body["data"]["login"]["errors"] == [], body
    return body["data"]["login"]["token"]


def test_staff_see_all_four_programs_running_with_a_budget_and_their_audit(demo, gql):
    token = login(gql, "admin")
    body = gql(
        """{ communityPrograms {
        firstSaleShipping { running budget { amount currency } spent { amount } remaining { amount } }
        firstSaleNudges { running } ambassadors { running } mentoring { running } }
      programChanges(first: 10) { edges { node { program changes { field oldValue newValue } } } } }""",
        token=token,
    )
    assert "errors" not in body, body
    programs = body["data"]["communityPrograms"]
    assert all(
        programs[name]["running"] for name in ("firstSaleShipping", "firstSaleNudges", "ambassadors", "mentoring")
    )
    shipping = programs["firstSaleShipping"]
    assert shipping["budget"] == {"amount": "500.00", "currency": "USD"}
    assert shipping["spent"]["amount"] == "10.00" and shipping["remaining"]["amount"] == "490.00"  # two first sales
    changes = [edge["node"] for edge in body["data"]["programChanges"]["edges"]]
    assert {change["program"] for change in changes} == {
        "FIRST_SALE_SHIPPING",
        "FIRST_SALE_NUDGES",
        "AMBASSADORS",
        "MENTORING",
    }
    assert len(changes) == 4  # the second load changed nothing, so logged nothing
    shipping_change = next(change for change in changes if change["program"] == "FIRST_SALE_SHIPPING")
    assert {"field": "budget", "oldValue": "0.00", "newValue": "500.00"} in shipping_change["changes"]


LISTINGS = """query($seller: ID!) { listings(sellerId: $seller) { edges { node { title
    firstSaleShippingDiscount { amount currency } } } } }"""


def test_sellers_before_their_first_sale_have_the_banner_and_the_others_not(demo, gql):
    token = login(gql, "sam")
    banners = {}
    for username in ("ava", "marco", "priya", "sam"):
        seller = User.objects.get(username=username)
        body = gql(LISTINGS, {"seller": to_global_id("User", seller.pk)}, token=token)
        assert "errors" not in body, body
        banners[username] = {
            edge["node"]["firstSaleShippingDiscount"] and edge["node"]["firstSaleShippingDiscount"]["amount"]
            for edge in body["data"]["listings"]["edges"]
        }
    assert banners["priya"] == {"5.00"} and banners["sam"] == {"5.00"}
    assert banners["ava"] == {None} and banners["marco"] == {None}  # their first sale is made


def test_ava_and_marco_are_ambassadors_who_mentor(demo, gql):
    for username in ("ava", "marco"):
        body = gql("{ ambassadorStatus { isAmbassador mentoringOptIn since } }", token=login(gql, username))
        status = body["data"]["ambassadorStatus"]
        assert status["isAmbassador"] and status["mentoringOptIn"] and status["since"], body
    body = gql("{ ambassadorStatus { isAmbassador } }", token=login(gql, "priya"))
    assert body["data"]["ambassadorStatus"]["isAmbassador"] is False


MENTORING = """{ mentoringGroups { edges { node { status viewerRole mentee { username } mentors { username }
    conversation { kind title lastMessage { body sender { username } } } } } } }"""


def test_sam_is_mentored_by_the_ambassadors_in_a_group_conversation(demo, gql):
    body = gql(MENTORING, token=login(gql, "sam"))
    assert "errors" not in body, body
    [edge] = body["data"]["mentoringGroups"]["edges"]
    group = edge["node"]
    assert (group["status"], group["viewerRole"], group["mentee"]["username"]) == ("OPEN", "MENTEE", "sam")
    assert sorted(mentor["username"] for mentor in group["mentors"]) == ["ava", "marco"]
    assert group["conversation"]["kind"] == "GROUP"
    assert group["conversation"]["lastMessage"]["sender"]["username"] == "sam"
    assert "price my wool scarf" in group["conversation"]["lastMessage"]["body"]
    mentor_view = gql(MENTORING, token=login(gql, "ava"))["data"]["mentoringGroups"]["edges"]
    assert [edge["node"]["viewerRole"] for edge in mentor_view] == ["MENTOR"]


NOTIFICATIONS = "{ notifications(first: 20) { edges { node { kind title listing { title } } } } }"


@pytest.mark.parametrize(
    ("username", "nudge"), [("priya", "Someone likes “Leather tote, authenticated”"), ("sam", "Share “Wool scarf”")]
)
def test_sellers_without_a_sale_got_a_first_sale_nudge_once(demo, gql, username, nudge):
    body = gql(NOTIFICATIONS, token=login(gql, username))
    nudges = [
        edge["node"]["title"]
        for edge in body["data"]["notifications"]["edges"]
        if edge["node"]["kind"] == "PROGRAM_NUDGE"
    ]
    assert nudges == [nudge], body


def test_ambassadors_were_told_and_asked_to_mentor(demo, gql):
    body = gql(NOTIFICATIONS, token=login(gql, "marco"))
    titles = {
        edge["node"]["title"]
        for edge in body["data"]["notifications"]["edges"]
        if edge["node"]["kind"] == "PROGRAM_NUDGE"
    }
    assert titles == {"You are a Closetline ambassador", "A new seller to mentor: @sam"}


def test_a_scheduled_show_is_upcoming_and_saved(demo, gql):
    body = gql(
        "{ upcomingShows { edges { node { title state host { username } viewerHasSaved lineUp { listing "
        "{ title } } } } } }",
        token=login(gql, "sam"),
    )
    assert "errors" not in body, body
    [edge] = body["data"]["upcomingShows"]["edges"]
    show = edge["node"]
    assert (show["title"], show["state"], show["host"]["username"]) == ("Sneaker Saturday", "SCHEDULED", "marco")
    assert show["viewerHasSaved"] and [entry["listing"]["title"] for entry in show["lineUp"]] == ["Box logo tee"]
    live = gql("{ liveShows { edges { node { title } } } }", token=login(gql, "sam"))
    assert [edge["node"]["title"] for edge in live["data"]["liveShows"]["edges"]] == ["Sunday bags & vintage"]


def test_the_first_sales_were_real_orders_rated_by_their_buyers(demo, gql):
    body = gql(
        "{ myOrders(role: SELLER) { edges { node { status buyer { username } review { rating } "
        "discounts { source appliesTo amount { amount } } } } } }",
        token=login(gql, "ava"),
    )
    assert "errors" not in body, body
    [edge] = body["data"]["myOrders"]["edges"]
    order = edge["node"]
    assert (order["status"], order["buyer"]["username"], order["review"]["rating"]) == ("ACCEPTED", "sam", 5)
    assert [
        (discount["source"], discount["appliesTo"], discount["amount"]["amount"]) for discount in order["discounts"]
    ] == [("PROGRAM", "SHIPPING", "5.00")]  # the first-sale discount


def test_loading_twice_adds_nothing(demo):
    assert Order.objects.count() == 2 and ShippingSubsidy.objects.count() == 2
    assert Ambassador.objects.count() == 2 and MentoringGroup.objects.count() == 1
    assert FirstSaleNudge.objects.count() == 2 and ProgramChange.objects.count() == 4
    assert Show.objects.count() == 2 and Message.objects.filter(conversation__kind="group").count() == 1


def test_the_output_is_one_line_a_step_then_the_demo_accounts(demo):
    first, second = (output.splitlines() for output in demo)
    assert len(first) == len(second) <= 12
    accounts = first[first.index(f"Demo accounts, each with the password {DEMO_PASSWORD!r}:") + 1 :]
    assert [line.split()[0] for line in accounts] == ["admin", "ava", "marco", "priya", "sam"]
    assert "mentoring group" in accounts[-1] and "ambassador" in accounts[1]
    assert any(line.startswith("Programs: all four running") for line in first)

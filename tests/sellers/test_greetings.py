"""Greetings of closet visitors: by hand or automatically, once per period, opt-outs honoured."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from config.errors import ServiceError
from notifications.models import Notification
from sellers import services
from sellers.models import Greeting, GreetingTemplate, LastGreeting, ScheduledGreeting, SellerToolSettings
from social import services as social_services
from social.models import ClosetVisit, Message
from tests.helpers import gid

pytestmark = pytest.mark.django_db

GREET = """mutation($input: SendGreetingInput!) { sendGreeting(input: $input) {
  greeting { automatic visitor { username } message { body kind listings { title } } } errors { field code } } }"""
SAVE_TEMPLATE = """mutation($input: SaveGreetingTemplateInput!) { saveGreetingTemplate(input: $input) {
  template { id name body } errors { field code } } }"""
DELETE_TEMPLATE = """mutation($input: TemplateIdInput!) { deleteGreetingTemplate(input: $input) {
  deletedTemplateId errors { field code } } }"""
TEMPLATES = "{ greetingTemplates { name body } }"
AUTO = """mutation($input: SetAutoGreetingInput!) { setAutoGreeting(input: $input) {
  autoGreeting { enabled delayMinutes template { name } listing { title } } errors { field code } } }"""
GREETINGS_ENABLED = """mutation($input: SetGreetingsEnabledInput!) { setGreetingsEnabled(input: $input) {
  greetingsEnabled errors { field code } } }"""
VISIT = "mutation($input: UserIdInput!) { recordClosetVisit(input: $input) { recorded errors { field code } } }"
MUTE = "mutation($input: UserIdInput!) { muteUser(input: $input) { errors { field code } } }"


def named(user, display_name):
    user.display_name = display_name
    user.save(update_fields=["display_name"])
    return user


@pytest.fixture
def seller(member):
    return named(member("seller"), "Sasha")


@pytest.fixture
def visitor(member, seller):
    """Marco, who visited the seller's closet a minute ago."""
    marco = named(member("marco"), "Marco")
    social_services.record_closet_visit(visitor=marco, closet_owner=seller, at=timezone.now() - timedelta(minutes=1))
    return marco


def greet(api, seller, visitor, **fields):
    variables = {"input": {"visitorId": gid(visitor), **fields}}
    return api(GREET, variables, token=seller.token)["data"]["sendGreeting"]


def greetings_of(user):
    return list(
        Message.objects.filter(kind=Message.Kind.GREETING, conversation__participants__user=user).values_list(
            "body", flat=True
        )
    )


def test_a_seller_greets_a_recent_visitor_with_a_direct_message(api, gql, seller, visitor, pushes):
    payload = greet(api, seller, visitor, text="Hi {visitor_name}, thanks for stopping by! Sale tomorrow.")
    assert payload == {
        "greeting": {
            "automatic": False,
            "visitor": {"username": "marco"},
            "message": {"body": "Hi Marco, thanks for stopping by! Sale tomorrow.", "kind": "GREETING", "listings": []},
        },
        "errors": [],
    }
    notification = Notification.objects.get(recipient=visitor)
    assert (notification.kind, notification.title) == ("greeting", "@seller says hi")
    assert [device.user_id for device, _ in pushes.sent] == [visitor.pk]
    inbox = gql("{ conversations { edges { node { unreadCount lastMessage { kind } } } } }", token=visitor.token)
    assert inbox["data"]["conversations"]["edges"] == [
        {"node": {"unreadCount": 1, "lastMessage": {"kind": "GREETING"}}}
    ]


def test_templates_fill_in_the_visitor_and_a_listing(api, seller, visitor, make_listing):
    listing = make_listing(seller, title="Linen shirt")
    template = api(
        SAVE_TEMPLATE,
        {"input": {"name": "Welcome", "body": "Hey {visitor_name}! {listing_title} is negotiable."}},
        token=seller.token,
    )["data"]["saveGreetingTemplate"]
    assert template["errors"] == []
    missing = greet(api, seller, visitor, templateId=template["template"]["id"])
    assert missing["errors"] == [{"field": "listingId", "code": "REQUIRED"}]

    payload = greet(api, seller, visitor, templateId=template["template"]["id"], listingId=gid(listing))
    assert payload["greeting"]["message"] == {
        "body": "Hey Marco! Linen shirt is negotiable.",
        "kind": "GREETING",
        "listings": [{"title": "Linen shirt"}],
    }


def test_placeholders_are_filled_once_with_plain_text(api, seller, member):
    sneaky = named(member("sneaky"), "{listing_title}")
    social_services.record_closet_visit(visitor=sneaky, closet_owner=seller)
    assert (
        greet(api, seller, sneaky, text="Hi {visitor_name}, {visitor_name.__class__}")["greeting"]["message"]["body"]
        == "Hi {listing_title}, {visitor_name.__class__}"
    )
    for bad in ("{0}", "Hi {}", "Hi {password}"):
        errors = api(SAVE_TEMPLATE, {"input": {"name": bad, "body": bad}}, token=seller.token)["data"][
            "saveGreetingTemplate"
        ]["errors"]
        assert errors == [{"field": "body", "code": "INVALID"}]


def test_only_recent_visitors_can_be_greeted(api, seller, member, settings):
    stranger = member("stranger")
    assert greet(api, seller, stranger, text="Hi")["errors"] == [{"field": "visitorId", "code": "NOT_A_RECENT_VISITOR"}]
    days = SellerToolSettings.current().greeting_visit_days
    social_services.record_closet_visit(
        visitor=stranger, closet_owner=seller, at=timezone.now() - timedelta(days=days, minutes=1)
    )
    assert greet(api, seller, stranger, text="Hi")["errors"] == [{"field": "visitorId", "code": "NOT_A_RECENT_VISITOR"}]
    assert greet(api, seller, seller, text="Hi")["errors"] == [{"field": "visitorId", "code": "NOT_A_RECENT_VISITOR"}]
    assert not Greeting.objects.exists()


def test_one_greeting_per_visitor_per_period(api, seller, visitor):
    assert greet(api, seller, visitor, text="Hi")["errors"] == []
    social_services.record_closet_visit(visitor=visitor, closet_owner=seller, at=timezone.now() + timedelta(hours=2))
    assert greet(api, seller, visitor, text="Hi again")["errors"] == [{"field": "visitorId", "code": "ALREADY_GREETED"}]
    assert greetings_of(visitor) == ["Hi"]

    period = SellerToolSettings.current().greeting_period
    LastGreeting.objects.update(greeted_at=timezone.now() - period - timedelta(minutes=1))
    assert greet(api, seller, visitor, text="Welcome back")["errors"] == []
    assert Greeting.objects.count() == 2


def test_buyers_turn_greetings_off_or_mute_a_seller(api, seller, visitor, member):
    assert api(GREETINGS_ENABLED, {"input": {"enabled": False}}, token=visitor.token)["data"][
        "setGreetingsEnabled"
    ] == {"greetingsEnabled": False, "errors": []}
    assert greet(api, seller, visitor, text="Hi")["errors"] == [{"field": "visitorId", "code": "GREETINGS_OFF"}]
    api(GREETINGS_ENABLED, {"input": {"enabled": True}}, token=visitor.token)

    api(MUTE, {"input": {"userId": gid(seller)}}, token=visitor.token)
    assert greet(api, seller, visitor, text="Hi")["errors"] == [{"field": "visitorId", "code": "GREETINGS_OFF"}]
    other_seller = member("other")
    social_services.record_closet_visit(visitor=visitor, closet_owner=other_seller)
    assert greet(api, other_seller, visitor, text="Hi")["errors"] == []  # muting one seller mutes only them

    social_services.block_user(blocker=visitor, blocked=other_seller)
    LastGreeting.objects.update(greeted_at=None)
    assert greet(api, other_seller, visitor, text="Hi")["errors"] == [{"field": "recipientId", "code": "BLOCKED"}]
    assert greetings_of(visitor) == ["Hi"] and LastGreeting.objects.get(seller=other_seller).greeted_at is None


def test_templates_are_managed_by_their_seller(api, gql, seller, member):
    def save(body, name="Hello", template_id=None, token=seller.token):
        return api(SAVE_TEMPLATE, {"input": {"name": name, "body": body, "templateId": template_id}}, token=token)[
            "data"
        ]["saveGreetingTemplate"]

    created = save("Hi {visitor_name}")["template"]
    assert save("Other", name="hello")["errors"] == [{"field": "name", "code": "INVALID"}]  # names ignore case
    assert save("Hi there {visitor_name}", template_id=created["id"])["template"]["body"] == "Hi there {visitor_name}"
    other = member("other")
    assert save("Mine now", template_id=created["id"], token=other.token)["errors"] == [
        {"field": "templateId", "code": "NOT_FOUND"}
    ]
    for number in range(services.MAX_TEMPLATES - 1):
        save("Hi", name=f"Template {number}")
    assert save("Hi", name="One too many")["errors"] == [{"field": "name", "code": "TOO_MANY_TEMPLATES"}]
    assert len(gql(TEMPLATES, token=seller.token)["data"]["greetingTemplates"]) == services.MAX_TEMPLATES

    api(AUTO, {"input": {"enabled": True, "templateId": created["id"]}}, token=seller.token)
    deleted = api(DELETE_TEMPLATE, {"input": {"templateId": created["id"]}}, token=seller.token)["data"][
        "deleteGreetingTemplate"
    ]
    assert deleted["errors"] == [{"field": "templateId", "code": "TEMPLATE_IN_USE"}]
    spare = GreetingTemplate.objects.get(name="Template 0")
    deleted = api(DELETE_TEMPLATE, {"input": {"templateId": gid(spare)}}, token=seller.token)["data"][
        "deleteGreetingTemplate"
    ]
    assert deleted == {"deletedTemplateId": gid(spare), "errors": []}


def auto_greeting(api, seller, body="Thanks for visiting, {visitor_name}!", **fields):
    template = api(SAVE_TEMPLATE, {"input": {"name": "Auto", "body": body}}, token=seller.token)["data"][
        "saveGreetingTemplate"
    ]["template"]
    payload = api(AUTO, {"input": {"enabled": True, "templateId": template["id"], **fields}}, token=seller.token)
    return payload["data"]["setAutoGreeting"]


def visit(api, visitor, seller):
    return api(VISIT, {"input": {"userId": gid(seller)}}, token=visitor.token)["data"]["recordClosetVisit"]


def test_auto_greetings_go_out_after_their_delay(api, seller, member, pushes):
    assert auto_greeting(api, seller, delayMinutes=10) == {
        "autoGreeting": {"enabled": True, "delayMinutes": 10, "template": {"name": "Auto"}, "listing": None},
        "errors": [],
    }
    marco = named(member("marco"), "Marco")
    assert visit(api, marco, seller)["recorded"] is True
    scheduled = ScheduledGreeting.objects.get()
    assert greetings_of(marco) == []  # its task ran at commit and found it not due yet

    assert services.send_due_greetings(now=scheduled.due_at - timedelta(seconds=1)) == 0
    assert services.send_due_greetings(now=scheduled.due_at) == 1
    assert greetings_of(marco) == ["Thanks for visiting, Marco!"]
    assert Greeting.objects.get().automatic is True
    scheduled.refresh_from_db()
    assert scheduled.outcome == ScheduledGreeting.Outcome.SENT
    assert services.send_due_greetings(now=scheduled.due_at + timedelta(hours=1)) == 0  # processed once


def test_without_delay_the_task_greets_once_the_visit_is_committed(api, seller, member):
    auto_greeting(api, seller, delayMinutes=0)
    marco = member("marco")
    visit(api, marco, seller)
    assert greetings_of(marco) == ["Thanks for visiting, marco!"]


def test_repeated_visits_bring_one_auto_greeting_per_period(api, seller, member):
    auto_greeting(api, seller, delayMinutes=5)
    marco = member("marco")
    start = timezone.now()
    for hours in range(4):  # a visit each hour (each recorded), the sweep running in between
        social_services.record_closet_visit(visitor=marco, closet_owner=seller, at=start + timedelta(hours=hours))
        services.send_due_greetings(now=start + timedelta(hours=hours, minutes=30))
    assert ClosetVisit.objects.count() == 4
    assert Greeting.objects.count() == 1 and ScheduledGreeting.objects.count() == 1


def test_pending_auto_greetings_are_one_per_visitor(api, seller, member):
    auto_greeting(api, seller, delayMinutes=30)
    marco = member("marco")
    start = timezone.now()
    for minutes in (0, 61, 122):  # visits recorded faster than the greeting is due... of a 30 min delay
        social_services.record_closet_visit(visitor=marco, closet_owner=seller, at=start + timedelta(minutes=minutes))
    assert ScheduledGreeting.objects.filter(processed_at__isnull=True).count() == 1


def test_auto_greetings_skip_opted_out_visitors_quietly(api, seller, member):
    auto_greeting(api, seller, delayMinutes=5)
    marco = member("marco")
    visit(api, marco, seller)
    api(GREETINGS_ENABLED, {"input": {"enabled": False}}, token=marco.token)  # after the visit, before the greeting
    assert services.send_due_greetings(now=timezone.now() + timedelta(minutes=5)) == 0
    scheduled = ScheduledGreeting.objects.get()
    assert scheduled.outcome == ScheduledGreeting.Outcome.SKIPPED and "greetings" in scheduled.detail
    assert greetings_of(marco) == []

    sam = member("sam")
    api(GREETINGS_ENABLED, {"input": {"enabled": False}}, token=sam.token)
    visit(api, sam, seller)  # opted out before: nothing is even scheduled
    assert ScheduledGreeting.objects.count() == 1


def test_auto_greeting_rules_are_checked(api, seller, member, make_listing):
    assert api(AUTO, {"input": {"enabled": True}}, token=seller.token)["data"]["setAutoGreeting"]["errors"] == [
        {"field": "templateId", "code": "REQUIRED"}
    ]
    assert auto_greeting(api, seller, body="See {listing_title}")["errors"] == [
        {"field": "listingId", "code": "REQUIRED"}
    ]
    listing = make_listing(seller, title="Wool scarf")
    template_id = gid(GreetingTemplate.objects.get())
    payload = api(
        AUTO,
        {"input": {"enabled": True, "templateId": template_id, "listingId": gid(listing), "delayMinutes": 31}},
        token=seller.token,
    )["data"]["setAutoGreeting"]
    assert payload["errors"] == [{"field": "delayMinutes", "code": "INVALID"}]
    payload = api(
        AUTO, {"input": {"enabled": True, "templateId": template_id, "listingId": gid(listing)}}, token=seller.token
    )["data"]["setAutoGreeting"]
    assert payload["autoGreeting"]["listing"] == {"title": "Wool scarf"}
    marco = named(member("marco"), "Marco")
    visit(api, marco, seller)
    services.send_due_greetings(now=timezone.now() + timedelta(minutes=5))
    assert greetings_of(marco) == ["See Wool scarf"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_greetings_of_one_visitor_send_one(make_user):
    seller, _ = make_user("seller")
    marco, _ = make_user("marco")
    social_services.record_closet_visit(visitor=marco, closet_owner=seller)
    barrier = threading.Barrier(10)
    outcomes = []

    def greet_once(number):
        try:
            barrier.wait()
            services.send_greeting(seller=seller, visitor=marco, text=f"Hi #{number}")
            outcomes.append("sent")
        except ServiceError as refusal:
            outcomes.append(refusal.errors[0].code.value)
        finally:
            connection.close()

    threads = [threading.Thread(target=greet_once, args=(number,)) for number in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already_greeted"] * 9 + ["sent"]
    assert Greeting.objects.count() == 1 and Message.objects.count() == 1

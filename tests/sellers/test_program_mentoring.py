"""First-sale mentoring: a new seller is matched with 4-5 distinct eligible ambassadors (balanced
load, shared categories, time zone region) in a group conversation whose questions notify the
mentors; the group closes after the first sale and a grace period."""

from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace import services as marketplace_services
from marketplace.models import Category
from notifications.models import Notification
from sellers import services, tasks
from sellers.models import Ambassador, MentoringGroup, MentoringProgram, MentoringSeat
from social import services as social_services
from social.models import Participant
from tests.helpers import assert_constant_queries, gid
from tests.sellers.programs import run_program

pytestmark = pytest.mark.django_db

JOIN = """mutation($input: JoinMentoringInput!) { joinMentoring(input: $input) {
  mentoringGroup { id status viewerRole mentee { username } mentors { username }
                   conversation { kind title unreadCount lastMessage { body } } }
  errors { field code } } }"""
GROUPS = """query($first: Int) { mentoringGroups(first: $first) { edges { node { status viewerRole
  mentee { username followerCount } mentors { username }
  conversation { title unreadCount lastMessage { body sender { username } } } } } } }"""
SEND = """mutation($input: SendMessageInput!) { sendMessage(input: $input) { errors { field code } } }"""


@pytest.fixture
def mentoring(staff):
    return run_program(
        MentoringProgram,
        staff,
        mentors_per_group_min=4,
        mentors_per_group_max=5,
        max_groups_per_mentor=5,
        grace_days=14,
    )


@pytest.fixture
def ambassador(member):
    """An ambassador opted in to mentoring: `ambassador("ava", time_zone="Europe/Paris")`."""

    def make(name, *, opted_in=True, revoked=False, **fields):
        user = member(name, **fields)
        Ambassador.objects.create(user=user, mentoring_opt_in=opted_in, revoked_at=timezone.now() if revoked else None)
        return user

    return make


def join(api, user, question=None):
    return api(JOIN, {"input": {"question": question}}, token=user.token)["data"]["joinMentoring"]


def loads():
    """Open groups per opted-in ambassador."""
    ambassadors = Ambassador.objects.filter(mentoring_opt_in=True, revoked_at__isnull=True).values_list(
        "user_id", flat=True
    )
    return {
        user_id: MentoringSeat.objects.filter(mentor_id=user_id, group__status="open").count()
        for user_id in ambassadors
    }


def test_a_new_seller_is_matched_with_five_distinct_eligible_ambassadors(api, mentoring, ambassador, member):
    eligible = [ambassador(f"mentor{number}") for number in range(6)]
    ambassador("not_opted_in", opted_in=False)
    ambassador("revoked", revoked=True)
    nina = member("nina")
    social_services.block_user(blocker=eligible[0], blocked=nina)  # blocked either way: never matched

    joined = join(api, nina)
    group = joined["mentoringGroup"]
    assert joined["errors"] == [] and group["status"] == "OPEN" and group["viewerRole"] == "MENTEE"
    mentors = [mentor["username"] for mentor in group["mentors"]]
    assert len(mentors) == len(set(mentors)) == 5
    assert sorted(mentors) == [f"mentor{number}" for number in range(1, 6)]
    assert group["conversation"] == {"kind": "GROUP", "title": "Mentoring @nina", "unreadCount": 0, "lastMessage": None}
    conversation = MentoringGroup.objects.get().conversation
    assert sorted(
        Participant.objects.filter(conversation=conversation).values_list("user__username", flat=True)
    ) == sorted(["nina", *mentors])
    assert Notification.objects.filter(kind="program_nudge", title="A new seller to mentor: @nina").count() == 5

    assert join(api, nina)["mentoringGroup"]["id"] == group["id"]  # joining again: the same group
    assert MentoringGroup.objects.count() == 1


def test_matching_balances_the_load_across_newcomers(api, mentoring, ambassador, member):
    for number in range(10):
        ambassador(f"mentor{number}")
    for number in range(6):
        joined = join(api, member(f"newcomer{number}"))
        assert len(joined["mentoringGroup"]["mentors"]) == 5
        counts = loads().values()
        assert max(counts) - min(counts) <= 1  # fewest open groups first
    assert sorted(loads().values()) == [3] * 10


def test_among_equal_loads_shared_categories_then_the_time_zone_region_then_id_decide(
    api, staff, ambassador, member, make_listing
):
    run_program(MentoringProgram, staff, mentors_per_group_min=1, mentors_per_group_max=2)
    shoes = Category.objects.get(path="women/shoes")
    ambassador("first_by_id")
    ambassador("same_region", time_zone="Europe/Berlin")
    same_category = ambassador("same_category", time_zone="America/Chicago")
    make_listing(same_category, category_id=shoes.pk)
    nina = member("nina", time_zone="Europe/Paris")
    make_listing(nina, category_id=shoes.pk)
    assert {mentor["username"] for mentor in join(api, nina)["mentoringGroup"]["mentors"]} == {
        "same_category",
        "same_region",
    }
    # Next newcomer: the two are busier now, so the least loaded goes first whatever fits best.
    olga = member("olga", time_zone="Europe/Paris")
    make_listing(olga, category_id=shoes.pk)
    assert {mentor["username"] for mentor in join(api, olga)["mentoringGroup"]["mentors"]} == {
        "first_by_id",
        "same_category",
    }


def test_who_cannot_join(api, staff, mentoring, ambassador, member, make_listing, make_buyer):
    for number in range(3):
        ambassador(f"mentor{number}")
    nina = member("nina")
    assert join(api, nina)["errors"] == [{"field": None, "code": "NO_MENTORS_AVAILABLE"}]  # 3 of the 4 needed
    ambassador("mentor3")
    sold = member("sold")
    marketplace_services.purchase_listing(buyer=make_buyer("marco")[0], listing=make_listing(sold), idempotency_key="k")
    assert join(api, sold)["errors"] == [{"field": None, "code": "FIRST_SALE_ALREADY_MADE"}]
    run_program(MentoringProgram, staff, active=False)
    assert join(api, nina)["errors"] == [{"field": None, "code": "PROGRAM_NOT_RUNNING"}]
    assert not MentoringGroup.objects.exists()


def test_a_question_in_the_group_notifies_the_mentors_who_answer_there(api, gql, mentoring, ambassador, member):
    mentors = [ambassador(f"mentor{number}") for number in range(4)]
    nina = member("nina")
    joined = join(api, nina, question="How should I price a used coat?")
    assert joined["mentoringGroup"]["conversation"]["lastMessage"] == {"body": "How should I price a used coat?"}
    for mentor in mentors:
        assert Notification.objects.filter(
            recipient=mentor, kind="message", title="@nina wrote in Mentoring @nina"
        ).exists()
    conversation = MentoringGroup.objects.get().conversation
    answer = {"input": {"conversationId": gid(conversation), "body": "Check what similar coats sold for."}}
    assert api(SEND, answer, token=mentors[0].token)["data"]["sendMessage"]["errors"] == []
    [seen] = gql(GROUPS, token=nina.token)["data"]["mentoringGroups"]["edges"]
    assert seen["node"]["conversation"]["unreadCount"] == 1
    assert seen["node"]["conversation"]["lastMessage"]["sender"] == {"username": "mentor0"}
    [mentored] = gql(GROUPS, token=mentors[1].token)["data"]["mentoringGroups"]["edges"]
    assert mentored["node"]["viewerRole"] == "MENTOR" and mentored["node"]["mentee"]["username"] == "nina"
    assert gql(GROUPS, token=member("outsider").token)["data"]["mentoringGroups"]["edges"] == []


def test_the_group_closes_after_the_first_sale_and_the_grace_period(
    api, mentoring, ambassador, member, make_listing, make_buyer
):
    mentors = [ambassador(f"mentor{number}") for number in range(4)]
    nina = member("nina")
    join(api, nina)
    other = member("olga")
    join(api, other)  # no sale: stays open
    marketplace_services.purchase_listing(buyer=make_buyer("marco")[0], listing=make_listing(nina), idempotency_key="k")
    now = timezone.now()
    assert services.close_mentoring_groups(now=now + timedelta(days=13)) == 0
    assert services.close_mentoring_groups(now=now + timedelta(days=15)) == 1
    group = MentoringGroup.objects.get(mentee=nina)
    assert group.status == "closed" and group.closed_at and group.conversation.closed_at
    answer = {"input": {"conversationId": gid(group.conversation), "body": "Congratulations!"}}
    assert api(SEND, answer, token=mentors[0].token)["data"]["sendMessage"]["errors"] == [
        {"field": "conversationId", "code": "CONVERSATION_CLOSED"}
    ]
    assert MentoringGroup.objects.get(mentee=other).status == "open"
    tasks.close_mentoring_groups()
    assert MentoringGroup.objects.filter(status="open").count() == 1


def test_the_group_list_runs_a_fixed_number_of_queries(gql, staff, ambassador, member):
    run_program(MentoringProgram, staff, mentors_per_group_min=2, mentors_per_group_max=2, max_groups_per_mentor=50)
    mentor = ambassador("mentor")
    ambassador("second")

    def grow(count):
        for _ in range(count):
            services.join_mentoring(mentee=member(f"newcomer{MentoringGroup.objects.count()}"), question="Hello?")

    assert_constant_queries(gql, GROUPS, {"first": 100}, mentor.token, grow, path=["mentoringGroups"])

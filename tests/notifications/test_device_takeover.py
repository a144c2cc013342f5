"""A device cannot be taken over by knowing its token (issue 14, finding 8).

The rule: a push token is held by the signed-in session (bearer token) that registered it.
Another account registering it is refused (`DEVICE_TOKEN_IN_USE`) while that session is live; it
moves once the session has ended (logout, expiry, the account deactivated) or the device was
deactivated, which is what a real second login on the same phone looks like."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuthToken
from notifications.models import Device
from tests.conftest import GraphQLClient
from tests.helpers import race

REGISTER = """mutation($input: RegisterDeviceInput!) {
  registerDevice(input: $input) { device { isActive } errors { field code } } }"""
LOGOUT = "mutation { logout { revokedCount errors { code } } }"
LOGIN = "mutation($input: LoginInput!) { login(input: $input) { token errors { code } } }"
IN_USE = [{"field": "token", "code": "DEVICE_TOKEN_IN_USE"}]


def register(gql, person, token="victim-phone"):
    return gql(REGISTER, {"input": {"platform": "FCM", "token": token}}, token=person.token)["data"]["registerDevice"]


def pushed_to(pushes):
    return sorted((device.user_id, device.token) for device, _ in pushes.sent)


@pytest.mark.django_db
def test_an_attacker_registering_the_victims_token_gets_none_of_her_pushes(gql, member, notify, pushes):
    ava, mallory = member("ava", devices=0), member("mallory", devices=0)
    assert register(gql, ava)["errors"] == []
    assert register(gql, mallory) == {"device": None, "errors": IN_USE}
    assert Device.objects.get().user == ava

    notify(ava, dedupe_key="for-ava")
    notify(mallory, dedupe_key="for-mallory")
    assert pushed_to(pushes) == [(ava.pk, "victim-phone")]  # she still gets hers; he gets nothing


@pytest.mark.django_db
def test_a_legitimate_login_on_the_phone_after_logout_moves_the_token(gql, member, notify, pushes):
    ava, marco = member("ava", devices=0), member("marco", devices=0)
    register(gql, ava)
    assert gql(LOGOUT, token=ava.token)["data"]["logout"] == {"revokedCount": 1, "errors": []}
    assert not Device.objects.get().is_active  # signed out there: no more of her pushes on it
    notify(ava, dedupe_key="after-logout")
    assert pushes.sent == []

    marco.token = gql(LOGIN, {"input": {"username": "marco", "password": "a-long-enough-passphrase"}})["data"]["login"][
        "token"
    ]
    assert register(gql, marco) == {"device": {"isActive": True}, "errors": []}
    notify(marco, dedupe_key="for-marco")
    notify(ava, dedupe_key="for-ava")
    assert pushed_to(pushes) == [(marco.pk, "victim-phone")]


@pytest.mark.django_db
def test_an_expired_session_lets_go_of_its_device(gql, member):
    ava, marco = member("ava", devices=0), member("marco", devices=0)
    register(gql, ava)
    AuthToken.objects.filter(user=ava).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert register(gql, marco)["errors"] == []
    assert Device.objects.get().user == marco


@pytest.mark.django_db
def test_the_same_member_re_registering_from_a_new_session_keeps_the_device(gql, member):
    ava, mallory = member("ava", devices=0), member("mallory", devices=0)
    register(gql, ava)
    ava.token = gql(LOGIN, {"input": {"username": "ava", "password": "a-long-enough-passphrase"}})["data"]["login"][
        "token"
    ]
    assert register(gql, ava)["errors"] == []
    first = AuthToken.objects.filter(user=ava).order_by("pk").first()
    AuthToken.objects.filter(pk=first.pk).update(revoked_at=timezone.now())  # the old session ends
    assert register(gql, mallory) == {"device": None, "errors": IN_USE}  # the new one holds it


@pytest.mark.django_db
def test_a_device_registered_before_sessions_were_recorded_is_held_while_its_member_is_signed_in(gql, member):
    ava, mallory = member("ava", devices=1), member("mallory", devices=0)  # a row with no session
    assert register(gql, mallory, token="ava-device-0") == {"device": None, "errors": IN_USE}
    gql("mutation { logout(input: {allDevices: true}) { errors { code } } }", token=ava.token)
    assert register(gql, mallory, token="ava-device-0")["errors"] == []
    assert Device.objects.get().user == mallory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_accounts_racing_for_a_new_token_leave_it_with_one(member):
    people = [member(f"racer{number}", devices=0) for number in range(6)]
    payloads = race([lambda person=person: register(GraphQLClient(), person, token="fresh-token") for person in people])
    assert sorted(str(payload["errors"]) for payload in payloads) == sorted([str([])] + [str(IN_USE)] * 5)
    assert Device.objects.count() == 1

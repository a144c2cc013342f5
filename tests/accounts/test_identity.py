"""One identity per person (issue 14, finding 5): look-alike spellings of a name are one account
with one login limit, a look-alike of a taken name cannot be registered, and failing logins on
someone's name from one address does not lock them out from another."""

import pytest
from django.utils import timezone

from accounts import login_limits
from accounts.models import AuthToken, User
from tests.conftest import GraphQLClient
from tests.helpers import race

REGISTER = """mutation($input: RegisterInput!) {
  register(input: $input) { token user { username } errors { field code } } }"""
LOGIN = """mutation($input: LoginInput!) { login(input: $input) { token errors { code } } }"""
PASSWORD = "saffron-trench-coat-9"
ATTACKER = "203.0.113.66"

# What the attacker of the finding typed after 10 failures on `priya`, each with the right password.
LOOK_ALIKES = {
    "dotless i": "prıya",
    "upper case": "PRIYA",
    "fullwidth": "ｐｒｉｙａ",
    "cyrillic i": "prіya",
    "zero-width space": "pri\u200bya",
    "email": "priya@example.com",
    "email in capitals": "PRIYA@EXAMPLE.COM",
    "fullwidth email": "ｐｒｉｙａ@example.com",
}


@pytest.fixture(autouse=True)
def _hour_windows(settings):
    """Ten failures a window, as in production, in hour windows: a minute's fixed window could
    turn over in the middle of a test."""
    settings.LOGIN_RATE_LIMIT = "10/h"


def register(gql, username, email=None, **extra):
    """Sign up over the API and follow the mailed link (an unverified account does not log in)."""
    variables = {"input": {"username": username, "email": email or "priya@example.com", "password": PASSWORD}}
    payload = gql(REGISTER, variables, **extra)["data"]["register"]
    User.objects.filter(username=username).update(email_verified_at=timezone.now())
    return payload


def login(gql, identifier, password=PASSWORD, address=ATTACKER):
    return gql(LOGIN, {"input": {"username": identifier, "password": password}}, REMOTE_ADDR=address)["data"]["login"]


def fail_ten_times(gql, name="priya", address=ATTACKER):
    codes = [login(gql, name, "not-the-password-0", address)["errors"][0]["code"] for _ in range(10)]
    assert codes == ["INVALID_CREDENTIALS"] * 10


@pytest.mark.django_db
@pytest.mark.parametrize("identifier", LOOK_ALIKES.values(), ids=LOOK_ALIKES.keys())
def test_look_alikes_of_a_limited_name_get_no_token_and_no_fresh_limit(gql, identifier):
    register(gql, "priya")
    fail_ten_times(gql)
    payload = login(gql, identifier)
    assert payload == {"token": None, "errors": [{"code": "RATE_LIMITED"}]}
    assert AuthToken.objects.count() == 0  # no look-alike signed in


@pytest.mark.django_db
@pytest.mark.parametrize("identifier", LOOK_ALIKES.values(), ids=LOOK_ALIKES.keys())
def test_look_alikes_name_one_account_when_nothing_is_limited(gql, identifier):
    register(gql, "priya")
    payload = login(gql, identifier)
    assert payload["errors"] == [] and payload["token"]
    assert {token.user.username for token in AuthToken.objects.select_related("user")} == {"priya"}


@pytest.mark.django_db
def test_the_victim_logs_in_from_another_address_while_the_attacker_is_limited(gql):
    register(gql, "priya")
    fail_ten_times(gql)
    assert login(gql, "prıya")["errors"] == [{"code": "RATE_LIMITED"}]
    victim = login(gql, "priya", address="198.51.100.7")  # an address the attacker never used
    assert victim["errors"] == [] and victim["token"]
    assert login(gql, "PRIYA")["errors"] == [{"code": "RATE_LIMITED"}]  # and the attacker still waits


@pytest.mark.django_db
def test_one_address_failing_on_many_names_is_limited(gql, settings):
    settings.LOGIN_ADDRESS_RATE_LIMIT = "5/h"
    register(gql, "priya")
    codes = [login(gql, f"member{number}", "wrong-password-00")["errors"][0]["code"] for number in range(6)]
    assert codes == ["INVALID_CREDENTIALS"] * 5 + ["RATE_LIMITED"]
    assert login(gql, "priya", address="198.51.100.7")["token"]


@pytest.mark.django_db
def test_failures_from_many_addresses_back_off_new_addresses_but_never_the_members_own(gql, settings, monkeypatch):
    settings.LOGIN_ACCOUNT_BACKOFF_ADDRESSES = 3
    register(gql, "priya")
    assert login(gql, "priya", address="198.51.100.7")["token"]  # home: known from now on
    now = [1_000_000.0]
    monkeypatch.setattr(login_limits, "_now", lambda: now[0])
    for number in range(6):  # a distributed guess: one failure from each of six addresses
        login(gql, "Priya", "not-the-password-0", address=f"192.0.2.{number}")
    assert login(gql, "priya", address="192.0.2.200")["errors"] == [{"code": "RATE_LIMITED"}]
    assert login(gql, "priya", address="198.51.100.7")["token"]  # home is never held
    now[0] += 4  # the third failure past the threshold asked for 4 s (1, 2, 4): waited out
    assert login(gql, "priya", address="192.0.2.200")["token"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "username, code",
    [
        ("PRIYA", "DUPLICATE_USERNAME"),
        ("ｐｒｉｙａ", "DUPLICATE_USERNAME"),
        ("prıya", "USERNAME_LOOKS_TAKEN"),
        ("prіya", "USERNAME_LOOKS_TAKEN"),
        ("рriyа", "USERNAME_LOOKS_TAKEN"),
    ],
)
def test_registering_a_look_alike_of_a_taken_username_is_refused(gql, username, code):
    assert register(gql, "priya")["errors"] == []
    payload = register(gql, username, email="someone.else@example.com")
    assert payload == {"token": None, "user": None, "errors": [{"field": "username", "code": code}]}
    assert list(User.objects.values_list("username", flat=True)) == ["priya"]


@pytest.mark.django_db
def test_an_email_differing_only_in_case_or_width_is_taken(gql):
    register(gql, "priya")
    for email in ("PRIYA@EXAMPLE.COM", "ＰＲＩＹＡ@EXAMPLE.COM"):
        payload = register(gql, "another", email=email)
        assert not payload["token"]  # answered as any sign-up with that address (finding 7): never "taken"
        assert "DUPLICATE_EMAIL" not in {error["code"] for error in payload["errors"]}
    assert User.objects.count() == 1  # ...but the address was priya's: no second account


@pytest.mark.django_db
def test_keys_follow_renames_saved_with_update_fields(make_user):
    user, _ = make_user("ava")
    user.username, user.email = "Ava_C", "Ava.C@Example.com"
    user.save(update_fields=["username", "email"])
    user.refresh_from_db()
    assert (user.username_key, user.email_key) == ("ava_c", "ava.c@example.com")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_look_alike_registrations_racing_make_one_account():
    names = ["priya", "prіya", "PRIYA", "prıya", "ｐｒｉｙａ", "рriyа"]
    payloads = race(
        [
            lambda name=name, number=number: register(
                GraphQLClient(), name, email=f"p{number}@example.com", REMOTE_ADDR=f"198.51.100.{number}"
            )
            for number, name in enumerate(names)
        ]
    )
    winners = [payload for payload in payloads if not payload["errors"]]
    assert len(winners) == 1 and User.objects.count() == 1
    assert all(
        payload["errors"][0]["code"] in {"DUPLICATE_USERNAME", "USERNAME_LOOKS_TAKEN"}
        for payload in payloads
        if payload["errors"]
    )

"""Sign-up with email verification, and finding 7: `register` no longer tells which addresses have
accounts. Mail leaves through a real SMTP server on 127.0.0.1 (aiosmtpd) where the flow is the
point, through locmem elsewhere."""

from datetime import timedelta
from typing import ClassVar

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import AccountToken, AuthToken, User
from tests.mailbox import body_of, mailed_token, mails_to

pytestmark = pytest.mark.django_db

REGISTER = """mutation($input: RegisterInput!) {
  register(input: $input) { checkEmail token user { username } errors { field code message } } }"""
VERIFY = """mutation($input: VerifyEmailInput!) {
  verifyEmail(input: $input) { token user { username email } errors { field code message } } }"""
REQUEST_VERIFICATION = """mutation($input: EmailInput!) {
  requestEmailVerification(input: $input) { errors { field code message } } }"""
LOGIN = """mutation($input: LoginInput!) { login(input: $input) { token errors { field code message } } }"""
ME = "{ me { username email } }"
PASSWORD = "corduroy-jacket-77"


class CountingHasher(MD5PasswordHasher):
    passwords: ClassVar[list] = []

    def encode(self, password, salt):
        self.passwords.append(password)
        return super().encode(password, salt)


def sign_up(api, username="ava", email=None, **fields):
    data = {"username": username, "email": email or f"{username}@example.com", "password": PASSWORD} | fields
    return api(REGISTER, {"input": data})["data"]["register"]


def test_sign_up_mails_a_link_over_smtp_and_following_it_logs_in(api, smtp_server):
    payload = sign_up(api, displayName="Ava")
    assert payload == {"checkEmail": True, "token": None, "user": None, "errors": []}
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "ava@example.com" and "Confirm your email" in message["Subject"]
    assert smtp_server.envelopes[0].rcpt_tos == ["ava@example.com"]
    token = mailed_token(smtp_server.messages, "ava@example.com", "verify-email")
    assert token and "Hi Ava," in body_of(message)

    # Before the link, the account does not log in, even with the right password.
    refused = api(LOGIN, {"input": {"username": "ava", "password": PASSWORD}})["data"]["login"]
    assert refused["token"] is None and refused["errors"][0]["code"] == "EMAIL_NOT_VERIFIED"

    verified = api(VERIFY, {"input": {"token": token, "deviceName": "phone"}})["data"]["verifyEmail"]
    assert verified["errors"] == [] and verified["user"]["username"] == "ava"
    assert api(ME, token=verified["token"])["data"]["me"] == {"username": "ava", "email": "ava@example.com"}
    assert AuthToken.objects.get().device_name == "phone"
    assert api(LOGIN, {"input": {"username": "ava", "password": PASSWORD}})["data"]["login"]["token"]

    again = api(VERIFY, {"input": {"token": token}})["data"]["verifyEmail"]
    assert again["token"] is None and again["errors"][0] == {
        "field": "token",
        "code": "INVALID_TOKEN",
        "message": "This link is not valid (or was used already).",
    }


def test_an_existing_email_answers_as_a_sign_up_and_mails_its_owner(api, smtp_server):
    """Finding 7 as an attacker sends it: the same answer as for a new address, no account made,
    and the address's owner is told instead."""
    owner = sign_up(api, "ava")
    smtp_server.wait_for(1)
    probe = sign_up(api, "mallory", email="AVA@example.com")
    fresh = sign_up(api, "newcomer")
    assert probe == owner == fresh == {"checkEmail": True, "token": None, "user": None, "errors": []}
    assert not User.objects.filter(username="mallory").exists()

    smtp_server.wait_for(3)
    to_ava = mails_to(smtp_server.messages, "ava@example.com")
    assert [message["Subject"] for message in to_ava] == [
        "Confirm your email for Closetline",
        "Someone tried to sign up with your email",
    ]
    notice = body_of(to_ava[1])
    assert "username ava" in notice and "reset your password" in notice and "?token=" not in notice
    assert mailed_token(smtp_server.messages, "newcomer@example.com", "verify-email")


def test_an_existing_email_costs_the_same_work_as_a_sign_up(
    gql, make_user, django_capture_on_commit_callbacks, settings
):
    """Both answers hash the password and leave one mail task for after the commit."""
    hashed = CountingHasher.passwords
    make_user("ava")
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    callbacks = {}
    for label, email in (("taken", "ava@example.com"), ("new", "fresh@example.com")):
        hashed.clear()
        with django_capture_on_commit_callbacks() as captured:
            payload = gql(REGISTER, {"input": {"username": f"user-{label}", "email": email, "password": PASSWORD}})
        assert payload["data"]["register"]["errors"] == []
        callbacks[label] = (len(captured), len(hashed))
    assert callbacks["taken"] == callbacks["new"] == (1, 1)


@pytest.mark.parametrize("username", ["ava", "AVA"])
def test_a_taken_username_is_still_a_typed_error_and_says_nothing_of_the_email(api, make_user, username):
    make_user("ava")
    for email in ("ava@example.com", "someone-else@example.com"):
        payload = sign_up(api, username, email=email)
        assert payload["checkEmail"] is None and payload["token"] is None
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [("username", "DUPLICATE_USERNAME")]
    assert User.objects.count() == 1


def test_a_weak_password_with_a_taken_email_is_refused_for_the_password_only(api, make_user):
    make_user("ava")
    payload = sign_up(api, "newcomer", email="ava@example.com", password="k7#q2x")
    assert {(e["field"], e["code"]) for e in payload["errors"]} == {("password", "PASSWORD_TOO_SHORT")}
    assert len(mail.outbox) == 0


def test_request_email_verification_answers_the_same_for_every_address(
    api, make_user, gql, django_capture_on_commit_callbacks
):
    make_user("ava")  # verified already
    sign_up(api, "sam")
    mail.outbox.clear()
    answers, work = [], []
    for email in ("sam@example.com", "ava@example.com", "nobody@example.com"):
        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks() as captured:
            answers.append(gql(REQUEST_VERIFICATION, {"input": {"email": email}})["data"]["requestEmailVerification"])
        work.append((len(captured), len(queries.captured_queries)))
        for callback in captured:
            callback()  # the worker's part: the lookup, the token, the mail
    assert answers == [{"errors": []}] * 3
    assert work[0] == work[1] == work[2] and work[0][0] == 1  # same queries, one task each: the lookup is the task's
    assert [message.to for message in mail.outbox] == [["sam@example.com"]]  # only the unverified one
    token = mailed_token(mail.outbox, "sam@example.com", "verify-email")
    assert api(VERIFY, {"input": {"token": token}})["data"]["verifyEmail"]["errors"] == []


def test_an_expired_verification_link_is_refused_and_a_new_one_works(api):
    sign_up(api, "sam")
    old = mailed_token(mail.outbox, "sam@example.com", "verify-email")
    AccountToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = api(VERIFY, {"input": {"token": old}})["data"]["verifyEmail"]
    assert expired["errors"][0]["code"] == "TOKEN_EXPIRED" and expired["token"] is None
    assert User.objects.get().email_verified_at is None

    api(REQUEST_VERIFICATION, {"input": {"email": "SAM@example.com"}})
    new = mailed_token(mail.outbox, "sam@example.com", "verify-email")
    assert new != old
    assert api(VERIFY, {"input": {"token": new}})["data"]["verifyEmail"]["errors"] == []
    assert User.objects.get().email_verified_at is not None


@pytest.mark.parametrize("token", ["", "x" * 5000, "not-a-token"])
def test_garbage_verification_tokens_are_typed_errors(gql, token):
    payload = gql(VERIFY, {"input": {"token": token}})["data"]["verifyEmail"]
    assert payload["token"] is None and [e["code"] for e in payload["errors"]] == ["INVALID_TOKEN"]


def test_mail_asked_for_one_address_is_capped_without_a_different_answer(api, settings):
    settings.ACCOUNT_MAIL_RATE_LIMIT = "2/h"
    sign_up(api, "sam")
    mail.outbox.clear()
    answers = [
        api(REQUEST_VERIFICATION, {"input": {"email": "sam@example.com"}})["data"]["requestEmailVerification"]
        for _ in range(4)
    ]
    assert answers == [{"errors": []}] * 4
    assert len(mail.outbox) == 2


def test_mail_is_sent_only_when_the_sign_up_commits(gql):
    """Without the commit (the test's transaction is never committed) no task runs, no mail leaves."""
    assert (
        gql(REGISTER, {"input": {"username": "ava", "email": "ava@example.com", "password": PASSWORD}})["data"][
            "register"
        ]["errors"]
        == []
    )
    assert mail.outbox == []

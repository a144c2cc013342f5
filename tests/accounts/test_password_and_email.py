"""Password reset (single-use, expiring, the same answer for every address), change password and
change email (the old address told, the new one verified first), through GraphQL with the mail
read from a real SMTP server or locmem's outbox."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import AccountToken, User
from tests.mailbox import body_of, mailed_token, mails_to

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-passphrase"
REQUEST_RESET = """mutation($input: EmailInput!) { requestPasswordReset(input: $input) { errors { field code } } }"""
RESET = """mutation($input: ResetPasswordInput!) {
  resetPassword(input: $input) { token user { username } errors { field code message } } }"""
CHANGE_PASSWORD = """mutation($input: ChangePasswordInput!) {
  changePassword(input: $input) { signedOutCount errors { field code message } } }"""
CHANGE_EMAIL = """mutation($input: ChangeEmailInput!) {
  changeEmail(input: $input) { pendingEmail errors { field code message } } }"""
CONFIRM = """mutation($input: TokenInput!) {
  confirmEmailChange(input: $input) { user { username email } errors { field code message } } }"""
LOGIN = """mutation($input: LoginInput!) { login(input: $input) { token errors { code } } }"""
ME = "{ me { username email } }"


def log_in(api, username, password):
    return api(LOGIN, {"input": {"username": username, "password": password}})["data"]["login"]


def test_password_reset_over_smtp_signs_every_device_out_and_works_once(api, gql, make_user, smtp_server):
    _, phone = make_user("ava", password=PASSWORD)
    tablet = log_in(api, "ava", PASSWORD)["token"]
    assert api(REQUEST_RESET, {"input": {"email": "AVA@example.com"}})["data"]["requestPasswordReset"] == {"errors": []}
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "ava@example.com" and message["Subject"] == "Reset your Closetline password"
    token = mailed_token(smtp_server.messages, "ava@example.com", "reset-password")

    reset = api(RESET, {"input": {"token": token, "newPassword": "velvet-blazer-2026"}})["data"]["resetPassword"]
    assert reset["errors"] == [] and reset["user"] == {"username": "ava"} and reset["token"]
    for old in (phone, tablet):
        assert gql.post({"query": ME}, token=old).status_code == 401
    assert api(ME, token=reset["token"])["data"]["me"]["username"] == "ava"
    assert log_in(api, "ava", PASSWORD)["errors"] == [{"code": "INVALID_CREDENTIALS"}]
    assert log_in(api, "ava", "velvet-blazer-2026")["token"]
    smtp_server.wait_for(2)
    assert smtp_server.messages[1]["Subject"] == "Your Closetline password was changed"

    again = api(RESET, {"input": {"token": token, "newPassword": "another-try-2027"}})["data"]["resetPassword"]
    assert again["token"] is None and [e["code"] for e in again["errors"]] == ["INVALID_TOKEN"]
    assert log_in(api, "ava", "velvet-blazer-2026")["token"]


def test_reset_answers_the_same_on_the_same_path_whether_or_not_the_email_exists(
    gql, make_user, django_capture_on_commit_callbacks
):
    make_user("ava")
    seen = []
    for email in ("ava@example.com", "nobody@example.com", "not an address"):
        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks() as callbacks:
            body = gql(REQUEST_RESET, {"input": {"email": email}})
        seen.append((body, len(queries.captured_queries), len(callbacks)))
        for callback in callbacks:
            callback()  # the worker's part: lookup, token, mail
    assert seen[0] == seen[1] == seen[2]
    assert seen[0][0] == {"data": {"requestPasswordReset": {"errors": []}}} and seen[0][2] == 1
    assert [message.to for message in mail.outbox] == [["ava@example.com"]]


def test_an_expired_reset_link_is_refused_and_changes_nothing(api, make_user):
    make_user("ava", password=PASSWORD)
    api(REQUEST_RESET, {"input": {"email": "ava@example.com"}})
    token = mailed_token(mail.outbox, "ava@example.com", "reset-password")
    AccountToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    payload = api(RESET, {"input": {"token": token, "newPassword": "velvet-blazer-2026"}})["data"]["resetPassword"]
    assert [e["code"] for e in payload["errors"]] == ["TOKEN_EXPIRED"]
    assert log_in(api, "ava", PASSWORD)["token"]


def test_a_weak_new_password_is_refused_and_the_link_still_works(api, make_user):
    make_user("ava", password=PASSWORD)
    api(REQUEST_RESET, {"input": {"email": "ava@example.com"}})
    token = mailed_token(mail.outbox, "ava@example.com", "reset-password")
    weak = api(RESET, {"input": {"token": token, "newPassword": "password123"}})["data"]["resetPassword"]
    assert ("newPassword", "PASSWORD_TOO_COMMON") in {(e["field"], e["code"]) for e in weak["errors"]}
    assert log_in(api, "ava", PASSWORD)["token"]
    ok = api(RESET, {"input": {"token": token, "newPassword": "velvet-blazer-2026"}})["data"]["resetPassword"]
    assert ok["errors"] == []


def test_a_password_change_kills_outstanding_reset_links(api, make_user):
    _, token = make_user("ava", password=PASSWORD)
    api(REQUEST_RESET, {"input": {"email": "ava@example.com"}})
    link = mailed_token(mail.outbox, "ava@example.com", "reset-password")
    api(CHANGE_PASSWORD, {"input": {"currentPassword": PASSWORD, "newPassword": "velvet-blazer-2026"}}, token=token)
    late = api(RESET, {"input": {"token": link, "newPassword": "another-try-2027"}})["data"]["resetPassword"]
    assert [e["code"] for e in late["errors"]] == ["INVALID_TOKEN"]


def test_change_password_needs_the_current_one_and_signs_out_the_other_devices(api, gql, make_user):
    _, phone = make_user("ava", password=PASSWORD)
    tablet = log_in(api, "ava", PASSWORD)["token"]
    wrong = api(
        CHANGE_PASSWORD,
        {"input": {"currentPassword": "guess-guess-guess", "newPassword": "velvet-blazer-2026"}},
        token=phone,
    )["data"]["changePassword"]
    assert wrong == {
        "signedOutCount": None,
        "errors": [{"field": "currentPassword", "code": "INVALID_CREDENTIALS", "message": "Wrong password."}],
    }
    assert gql(ME, token=tablet)["data"]["me"]["username"] == "ava"

    ok = api(
        CHANGE_PASSWORD, {"input": {"currentPassword": PASSWORD, "newPassword": "velvet-blazer-2026"}}, token=phone
    )["data"]["changePassword"]
    assert ok == {"signedOutCount": 1, "errors": []}
    assert gql(ME, token=phone)["data"]["me"]["username"] == "ava"  # this device stays
    assert gql.post({"query": ME}, token=tablet).status_code == 401
    assert log_in(api, "ava", "velvet-blazer-2026")["token"]
    assert [m.subject for m in mails_to(mail.outbox, "ava@example.com")] == ["Your Closetline password was changed"]


def test_change_email_takes_effect_once_the_new_address_confirms_and_the_old_is_told(api, make_user, smtp_server):
    _, token = make_user("ava", password=PASSWORD)
    wrong = api(CHANGE_EMAIL, {"input": {"password": "guess-guess-guess", "newEmail": "ava@new.example"}}, token=token)[
        "data"
    ]["changeEmail"]
    assert [(e["field"], e["code"]) for e in wrong["errors"]] == [("password", "INVALID_CREDENTIALS")]
    asked = api(CHANGE_EMAIL, {"input": {"password": PASSWORD, "newEmail": "Ava@NEW.example"}}, token=token)["data"][
        "changeEmail"
    ]
    assert asked == {"pendingEmail": "Ava@new.example", "errors": []}
    assert api(ME, token=token)["data"]["me"]["email"] == "ava@example.com"  # not before the confirmation

    smtp_server.wait_for(2)
    [told] = mails_to(smtp_server.messages, "ava@example.com")
    assert "Ava@new.example" in body_of(told)
    link = mailed_token(smtp_server.messages, "Ava@new.example", "confirm-email-change")
    confirmed = api(CONFIRM, {"input": {"token": link}})["data"]["confirmEmailChange"]
    assert confirmed == {"user": {"username": "ava", "email": None}, "errors": []}  # anonymous sees no email
    assert api(ME, token=token)["data"]["me"]["email"] == "Ava@new.example"
    assert log_in(api, "ava@new.example", PASSWORD)["token"]

    smtp_server.wait_for(3)
    assert [m["Subject"] for m in mails_to(smtp_server.messages, "ava@example.com")] == [
        "Your Closetline email is about to change",
        "Your Closetline email was changed",
    ]
    again = api(CONFIRM, {"input": {"token": link}})["data"]["confirmEmailChange"]
    assert [e["code"] for e in again["errors"]] == ["INVALID_TOKEN"]


def test_changing_to_a_taken_email_answers_the_same_and_mails_that_address_a_note(api, make_user):
    _, token = make_user("ava", password=PASSWORD)
    make_user("marco")
    taken = api(CHANGE_EMAIL, {"input": {"password": PASSWORD, "newEmail": "marco@example.com"}}, token=token)["data"][
        "changeEmail"
    ]
    free = api(CHANGE_EMAIL, {"input": {"password": PASSWORD, "newEmail": "free@example.com"}}, token=token)["data"][
        "changeEmail"
    ]
    assert taken["errors"] == free["errors"] == []
    [note] = mails_to(mail.outbox, "marco@example.com")
    assert "?token=" not in note.body
    assert mailed_token(mail.outbox, "free@example.com", "confirm-email-change")
    assert User.objects.get(username="ava").email == "ava@example.com"


@pytest.mark.parametrize("new_email, code", [("not-an-address", "INVALID"), ("AVA@example.com", "INVALID")])
def test_change_email_refuses_bad_or_same_addresses(api, make_user, new_email, code):
    _, token = make_user("ava", password=PASSWORD)
    payload = api(CHANGE_EMAIL, {"input": {"password": PASSWORD, "newEmail": new_email}}, token=token)["data"][
        "changeEmail"
    ]
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("newEmail", code)]
    assert mail.outbox == []

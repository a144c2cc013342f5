"""What the fault tests check in every answer a client gets while something is down."""

import json

# Text that must never reach a client: tracebacks, driver and server messages.
INTERNAL_TEXT = (
    "Traceback",
    'File "',
    "redis",
    "Redis",
    "psycopg",
    "Connection refused",
    "Error 111",
    "terminating connection",
    "administrator command",
    "connection already closed",
)


def assert_clean(status: int, body: str) -> dict | None:
    """A response the app can show: success, or typed errors without internal text. Returns the
    mutation's payload, or None when the request was refused as a whole."""
    assert status != 500, body
    assert_clean_text(body)
    answer = json.loads(body)
    for error in answer.get("errors", []):
        assert error["extensions"]["code"] != "INTERNAL_SERVER_ERROR", body
    if answer.get("data"):
        payload = next(iter(answer["data"].values()))
        if payload is not None:
            return payload
    assert answer["errors"], body
    return None


def assert_clean_text(body: str) -> None:
    for text in INTERNAL_TEXT:
        assert text not in body, body

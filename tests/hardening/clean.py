"""What every answer of /graphql/ to a hostile or generated request must look like."""

import json
import re

# Internal text a client must never see: tracebacks, exception classes, driver and ORM names, the
# masked message of an unexpected exception (which means a bug was hit), file paths.
LEAKS = re.compile(
    r"Traceback|Internal server error|INTERNAL_SERVER_ERROR|[A-Za-z]+(Error|Exception)\b|DoesNotExist|"
    r"psycopg|sqlite|django\.|graphene\.|graphql\.|\.py\b|File \"|line \d+, in"
)


def assert_clean(status: int, content: bytes) -> dict | list:
    """A 2xx/4xx JSON answer whose every error carries `extensions.code` and no internal text."""
    assert status < 500, (status, content[:2000])
    text = content.decode()
    body = json.loads(text)
    for entry in body if isinstance(body, list) else [body]:
        assert isinstance(entry, dict) and ("data" in entry or "errors" in entry), text[:2000]
        for error in entry.get("errors", []):
            assert error.get("extensions", {}).get("code"), error
            assert isinstance(error.get("message"), str) and error["message"], error
            leak = LEAKS.search(error["message"])
            assert leak is None, (leak.group(0), error)
    return body

"""Generated queries and mutations (schemathesis in GraphQL mode over hypothesis-graphql) for every
root field, as an anonymous client, a member and staff: in process from the committed schema, and
against a running daphne from its introspection (schemathesis's URL loader). No answer is a 5xx,
leaks internal text or has an untyped error, and no unexpected exception is logged.

CI runs a few examples per field; `make fuzz` (FUZZ_EXAMPLES) runs many more, with new seeds.
"""

import os
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
import schemathesis
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, note
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.graphql import nodes

from live import services as live_services
from tests.hardening.clean import assert_clean
from tests.helpers import gid
from tests.processes import PROJECT

# Examples per root field and identity mix: in process, then over HTTP to daphne.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2"))
EXAMPLES_OVER_HTTP = int(os.environ.get("FUZZ_EXAMPLES_OVER_HTTP", "1"))
# CI replays the same examples every run (derandomized); a long run by hand explores new ones.
LONG_RUN = "FUZZ_EXAMPLES" in os.environ
GENEROUS_RATE_LIMIT = "100000/m"
SCHEMA = schemathesis.graphql.from_path(PROJECT / "schema.graphql")
OPERATIONS = {operation.label: operation for operation in (result.ok() for result in SCHEMA.get_all_operations())}

# Global IDs of the objects a test made, so that generated arguments reach past decode_id into
# services and selectors; filled by the `identities` fixture, read when a value is drawn.
KNOWN_IDS: list[str] = []
MALFORMED_IDS = [
    "",
    "garbage",
    "VXNlcjp4",
    "Tm9wZTox",
    "VXNlcjotMQ==",
    "TGlzdGluZzo5OTk5OTk5OTk5OTk5OTk5OTk5",
    "U2hvdzox\x00",
    "TGlzdGluZzox" * 50,
]


def _known_id(index: int) -> str:
    return KNOWN_IDS[index % len(KNOWN_IDS)] if KNOWN_IDS else "garbage"


schemathesis.graphql.scalar(
    "ID",
    st.one_of(st.integers(0, 1_000).map(_known_id), st.sampled_from(MALFORMED_IDS), st.text(max_size=40)).map(
        nodes.String
    ),
)
schemathesis.graphql.scalar(
    "Decimal",
    st.one_of(
        st.decimals(min_value=Decimal("-1e6"), max_value=Decimal("1e12"), places=2).map(str),
        st.sampled_from(["NaN", "Infinity", "-0", "1e999", "0.001", "12,50", "", " 5 "]),
        st.text(max_size=12),
    ).map(nodes.String),
)
schemathesis.graphql.scalar(
    "JSONString",
    st.one_of(st.sampled_from(['{"a": 1}', "[]", "null", "{", "1e999", '"x"']), st.text(max_size=20)).map(nodes.String),
)
schemathesis.graphql.scalar("Upload", st.one_of(st.just(nodes.Null), st.text(max_size=10).map(nodes.String)))


@pytest.fixture
def identities(make_user, make_listing):
    """Bearer tokens of an anonymous client, a member and staff, with a few real objects to aim at."""
    member, member_token = make_user("ava")
    other, _ = make_user("marco")
    staff, staff_token = make_user("admin")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    listings = [make_listing(member, title="Own dress"), make_listing(other, title="Their coat")]
    show = live_services.create_show(
        host=other, title="Vintage night", scheduled_start=timezone.now() + timedelta(hours=1)
    )
    KNOWN_IDS[:] = [gid(thing) for thing in (member, other, staff, *listings, show)]
    yield {"anonymous": None, "member": member_token, "staff": staff_token}
    KNOWN_IDS.clear()


def examples(count):
    return hypothesis_settings(
        max_examples=count,
        deadline=None,
        derandomize=not LONG_RUN,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


def generated(operation):
    """Valid documents and documents with invalid arguments, half and half."""
    return st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_generated_operations_in_process(label, gql, identities, settings, caplog):
    settings.MUTATION_RATE_LIMIT = settings.LOGIN_RATE_LIMIT = settings.MESSAGE_RATE_LIMIT = GENEROUS_RATE_LIMIT

    @examples(EXAMPLES)
    @given(case=generated(OPERATIONS[label]), identity=st.sampled_from(sorted(identities)))
    def answers_cleanly(case, identity):
        note(f"as {identity}: {case.body}")
        # Each example rolls back, so a generated logout or deletion does not change the next one.
        with transaction.atomic():
            response = gql.post({"query": case.body}, token=identities[identity])
            transaction.set_rollback(True)
        unexpected = [record for record in caplog.records if record.name == "closetline.graphql"]
        assert not unexpected, unexpected[0].exc_text
        assert_clean(response.status_code, response.content)

    answers_cleanly()


@pytest.fixture
def daphne(processes, transactional_db):
    """A daphne process on the test database (DEBUG off, introspection on for the URL loader);
    yields its /graphql/ URL and the path of its log."""
    port = processes.daphne(
        DB_CONN_MAX_AGE="0",
        DEBUG="false",
        GRAPHQL_INTROSPECTION="true",
        MUTATION_RATE_LIMIT=GENEROUS_RATE_LIMIT,
        LOGIN_RATE_LIMIT=GENEROUS_RATE_LIMIT,
        MESSAGE_RATE_LIMIT=GENEROUS_RATE_LIMIT,
    )
    return f"http://127.0.0.1:{port}/graphql/", processes.started[-1].log


@pytest.mark.postgres
def test_generated_operations_against_daphne(daphne, identities):
    url, log = daphne
    served = schemathesis.graphql.from_url(url, wait_for_schema=10, timeout=10)
    with requests.Session() as session:
        for result in served.get_all_operations():
            operation = result.ok()

            @examples(EXAMPLES_OVER_HTTP)
            @given(case=generated(operation), identity=st.sampled_from(sorted(identities)))
            def answers_cleanly(case, identity):
                note(f"as {identity}: {case.body}")
                token = identities[identity]
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                response = case.call(session=session, headers=headers, timeout=10)
                assert_clean(response.status_code, response.content)

            answers_cleanly()
    assert "Unexpected error" not in log.read_text(), log.read_text()[-5000:]

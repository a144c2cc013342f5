"""The fan-out machinery a room of a thousand viewers relies on (config.graphql.consumers and
config.realtime): events of many subscriptions executed in a few trips to the ORM thread, one
parsed document for all who send it, and an embedded channel layer that does not copy or sweep
per member."""

import asyncio
import time

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from graphql import ExecutionResult

from config.graphql import consumers
from config.transport.channel_layer import InMemoryChannelLayer
from live import events, services
from tests.live.helpers import EVENTS, Viewer


async def _count_executions(monkeypatch, batch_size=consumers.EXECUTION_BATCH) -> list[int]:
    """Trips to the ORM thread, as the number of executions in each."""
    monkeypatch.setattr(consumers, "EXECUTION_BATCH", batch_size)
    batches = []
    execute_all = consumers._execute_all
    monkeypatch.setattr(consumers, "_execute_all", lambda batch: batches.append(len(batch)) or execute_all(batch))
    return batches


@pytest.mark.django_db(transaction=True)
async def test_events_of_many_subscriptions_go_to_the_orm_thread_in_batches(member, show_of, monkeypatch):
    batches = await _count_executions(monkeypatch, batch_size=4)
    priya = await database_sync_to_async(member)("priya")
    show = await database_sync_to_async(show_of)(priya)
    # Ten different selections: ten executions of each event.
    viewers = [
        await Viewer.watch(priya.token, show, query=EVENTS.replace("seq type", f"seq type n{number}: seq"))
        for number in range(10)
    ]
    for viewer in viewers:
        await viewer.event()
    batches.clear()
    await database_sync_to_async(services.set_slow_mode)(show=show, user=priya, seconds=5)
    for viewer in viewers:
        assert (await viewer.event())["slowModeSeconds"] == 5
        await viewer.close()
    assert sum(batches) >= 10 and max(batches) == 4 and len(batches) < 10


@pytest.mark.django_db(transaction=True)
async def test_viewers_sending_one_selection_share_one_execution_of_each_event(member, show_of, monkeypatch):
    batches = await _count_executions(monkeypatch)
    priya = await database_sync_to_async(member)("priya")
    show = await database_sync_to_async(show_of)(priya)
    viewers = [await Viewer.watch(priya.token, show) for _ in range(5)]
    snapshots = [await viewer.event() for viewer in viewers]
    # Viewers who resumed from a sequence number send other variables but the same selection (and
    # get the last event again, so they are in the room).
    viewers += [await Viewer.watch(priya.token, show, after_seq=snapshots[0]["seq"] - 1) for _ in range(5)]
    for viewer in viewers[5:]:
        assert (await viewer.event())["seq"] == snapshots[0]["seq"]
    batches.clear()
    await database_sync_to_async(services.set_slow_mode)(show=show, user=priya, seconds=5)
    received = [await viewer.event() for viewer in viewers]
    assert received == [received[0]] * 10 and received[0]["slowModeSeconds"] == 5
    assert sum(batches) <= 2  # one execution, or two when the last viewers asked after it had run
    for viewer in viewers:
        await viewer.close()


@pytest.mark.django_db(transaction=True)
async def test_a_process_is_one_member_of_a_show_group_however_many_watch(member, show_of, settings):
    if settings.REDIS_URL:
        pytest.skip("reads the embedded layer's groups")
    priya = await database_sync_to_async(member)("priya")
    show = await database_sync_to_async(show_of)(priya)
    layer, group = get_channel_layer(), events.show_group(show.pk)
    viewers = [await Viewer.watch(priya.token, show) for _ in range(3)]
    for viewer in viewers:
        await viewer.event()
    assert len(layer.groups[group]) == 1

    await viewers[0].close()
    await database_sync_to_async(services.set_slow_mode)(show=show, user=priya, seconds=5)
    for viewer in viewers[1:]:
        assert (await viewer.event())["slowModeSeconds"] == 5
        await viewer.close()
    assert not layer.groups.get(group)  # the last one out takes the process out of the group


def test_variables_of_the_subscription_field_alone_do_not_split_a_shared_selection():
    document, _ = consumers._prepare(
        "subscription($showId: ID!, $afterSeq: Int, $withItem: Boolean!) { showEvents(showId: $showId, "
        "afterSeq: $afterSeq) { seq item @include(if: $withItem) { title } } }",
        None,
    )
    key = consumers._selection_key(document, None, {"showId": "U2hvdzox", "afterSeq": 3, "withItem": True})
    assert key == consumers._selection_key(document, None, {"showId": "U2hvdzox", "withItem": True})
    assert key != consumers._selection_key(document, None, {"showId": "U2hvdzox", "withItem": False})


def test_a_failing_execution_fails_only_its_own_subscription(monkeypatch):
    def run(schema, document, context, variables, operation_name, root_value):
        if root_value == "bad":
            raise RuntimeError("boom")
        return ExecutionResult(data={"value": root_value})

    monkeypatch.setattr(consumers, "run", run)
    outcomes = consumers._execute_all([(None, None, None, None, "good"), (None, None, None, None, "bad")])
    assert outcomes[0] == ('{"data":{"value":"good"}}', None)
    assert outcomes[1][0] is None and isinstance(outcomes[1][1], RuntimeError)


def test_one_parsed_document_serves_every_subscription_that_sends_it(settings):
    first, _ = consumers._prepare(EVENTS, None)
    assert consumers._prepare(EVENTS, None)[0] is first
    settings.GRAPHQL_MAX_DEPTH = 2  # limits changed: documents are checked again
    with pytest.raises(consumers.OperationRejected):
        consumers._prepare(EVENTS, None)
    with pytest.raises(consumers.OperationRejected):
        consumers._prepare({"not": "a string"}, None)


async def test_the_embedded_layer_hands_a_group_one_copy_and_still_expires_messages():
    layer = InMemoryChannelLayer(expiry=0.2)
    members = [await layer.new_channel() for _ in range(3)]
    for channel in members:
        await layer.group_add("room", channel)
    await layer.group_send("room", {"type": "graphql.event", "event": {"seq": 1}})
    received = [await layer.receive(channel) for channel in members]
    assert received[0] == {"type": "graphql.event", "event": {"seq": 1}}
    assert received[0] is received[1] is received[2]

    await layer.group_send("room", {"type": "graphql.event", "event": {"seq": 2}})
    await asyncio.sleep(0.25)
    layer.next_sweep = time.monotonic()  # the once-a-second sweep is due
    layer._clean_expired()
    assert not any(layer.channels.get(channel) for channel in members)


def test_the_embedded_runtime_uses_the_room_ready_layer(settings):
    if settings.REDIS_URL:
        pytest.skip("REDIS_URL selects the Redis pub/sub layer")
    assert isinstance(get_channel_layer(), InMemoryChannelLayer)

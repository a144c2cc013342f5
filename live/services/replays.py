"""Replays: a show's recordings, once it has ended, become one MP4 in media storage with the
listings featured in it and where (chapters).

The provider reports each recording (RECORDING_READY, one per publish) through
`streams.apply_signal`, which holds the show's lock and calls `add_recording`. When the show
has ended (a recording reported after the end, or the end of a show that has some), the
`build_replay` task remuxes them all (live.recordings, outside any transaction: it takes
seconds) and then, under the replay's lock, keeps the result only if no recording arrived
meanwhile (the task that recording enqueued builds again), so concurrent builds settle on the
one made of every part. Chapters come from the show's FEATURED and SOLD events, which the log's
pruning keeps until the replay has been built (shows.prune_events).
"""

import logging
import secrets
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from graphql_relay import from_global_id

from live import recordings, tasks
from live.models import Replay, ReplayChapter, Show, ShowEvent, ShowStream
from marketplace.models import Listing

logger = logging.getLogger("closetline.live")
Type = ShowEvent.Type
# The events chapters are made of: what was featured and sold, and when the recording paused.
CHAPTER_EVENTS = (Type.FEATURED, Type.SOLD, Type.STREAM_INTERRUPTED, Type.STREAM_RESUMED, Type.STREAM_ENDED)


def add_recording(show: Show, recording: str) -> None:
    """A recording of the show is ready (the caller holds the show's lock)."""
    if not recordings.is_acceptable(recording):
        logger.warning("Recording of show %s refused: not in the recordings folder nor an http(s) URL", show.pk)
        return
    replay, _ = Replay.objects.select_for_update().get_or_create(show_id=show.pk)
    if recording in replay.recordings:
        return  # the provider repeated itself
    replay.recordings = [*replay.recordings, recording]
    replay.save(update_fields=["recordings"])
    if show.state == Show.State.ENDED:
        _build_on_commit(show.pk)


def replay_due(show: Show) -> None:
    """The show ended (the caller holds its lock): build its replay if it has recordings."""
    if Replay.objects.filter(show_id=show.pk).exclude(recordings=[]).exists():
        _build_on_commit(show.pk)


def build_replay(*, show_id: int, now=None) -> Replay | None:
    """Make the replay of an ended show from every recording reported so far (idempotent)."""
    replay = Replay.objects.filter(show_id=show_id, show__state=Show.State.ENDED).first()
    if replay is None or not replay.recordings:
        return replay
    parts = list(replay.recordings)
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "replay.mp4"
        try:
            seconds = recordings.remux(parts, target)
        except recordings.RecordingError as error:
            logger.error("Replay of show %s not built: %s", show_id, error.reason)
            return replay
        with target.open("rb") as made:
            name = default_storage.save(f"replays/{secrets.token_urlsafe(16)}.mp4", File(made))
    with transaction.atomic():
        replay = Replay.objects.select_for_update().get(pk=replay.pk)
        if replay.recordings != parts:
            transaction.on_commit(lambda: default_storage.delete(name))
            return replay  # a recording arrived meanwhile: its task builds with it
        previous = replay.file
        replay.file, replay.duration_seconds = name, seconds
        replay.ready, replay.ready_at = True, now or timezone.now()
        replay.save(update_fields=["file", "duration_seconds", "ready", "ready_at"])
        _write_chapters(replay)
        if previous:
            transaction.on_commit(lambda: default_storage.delete(previous))
    return replay


def forget_recordings(*, now) -> int:
    """(beat) The media server's recordings of replays built for shows over for more than
    LIVE_REPLAY_CHAPTERS_KEPT are deleted: the MP4 holds them, and no late part comes any more.
    A provider's files (URLs) are its storage's to keep. Returns how many replays let go."""
    done = Replay.objects.filter(ready=True, show__ended_at__lt=now - settings.LIVE_REPLAY_CHAPTERS_KEPT).exclude(
        recordings=[]
    )
    count = 0
    for replay in done:
        for recording in replay.recordings:
            if not urlsplit(recording).scheme:
                Path(recording).unlink(missing_ok=True)
        count += Replay.objects.filter(pk=replay.pk, recordings=replay.recordings).update(recordings=[])
    return count


def chapters_of(show_id: int) -> list[ReplayChapter]:
    """The show's featured listings as chapters of its recording (unsaved), in order.

    The recording starts when the stream first went live and leaves out the time the stream was
    interrupted: a listing featured at wall-clock `t` is at `t - start - (downtime before t)`,
    and one featured while the stream was down at the point where it came back."""
    stream = ShowStream.objects.filter(show_id=show_id).first()
    show = Show.objects.get(pk=show_id)
    log = list(ShowEvent.objects.filter(show_id=show_id, type__in=CHAPTER_EVENTS).order_by("seq"))
    start = (stream.went_live_at if stream else None) or show.started_at
    if start is None:
        return []
    sold = {_listing_pk(event) for event in log if event.type == Type.SOLD}
    chapters, downtime, down_since = [], 0.0, None
    for event in log:
        if event.type == Type.STREAM_INTERRUPTED and down_since is None:
            down_since = event.created_at
        elif event.type in (Type.STREAM_RESUMED, Type.STREAM_ENDED) and down_since is not None:
            downtime += (event.created_at - down_since).total_seconds()
            down_since = None
        elif event.type == Type.FEATURED and (listing_pk := _listing_pk(event)) is not None:
            at = down_since or event.created_at
            offset = max((at - start).total_seconds() - downtime, 0.0)
            chapters.append(
                ReplayChapter(
                    listing_id=listing_pk,
                    offset_seconds=offset,
                    featured_at=event.created_at,
                    sold_in_show=listing_pk in sold,
                )
            )
    return chapters


def _write_chapters(replay: Replay) -> None:
    replay.chapters.all().delete()
    chapters = chapters_of(replay.show_id)
    existing = set(Listing.objects.filter(pk__in={c.listing_id for c in chapters}).values_list("pk", flat=True))
    for chapter in chapters:
        chapter.replay = replay
    ReplayChapter.objects.bulk_create([chapter for chapter in chapters if chapter.listing_id in existing])


def _listing_pk(event: ShowEvent) -> int | None:
    item = event.data.get("item")
    return int(from_global_id(item["listing_id"])[1]) if item else None


def _build_on_commit(show_id: int) -> None:
    transaction.on_commit(lambda: tasks.build_replay.delay(show_id), robust=True)

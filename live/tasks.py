"""Auction timers and the log's upkeep: small idempotent tasks calling live.services.

An auction's timer is a `close_auction` task due at its end (LIVE_AUCTION_TIMER = "celery"). A
late bid moves the end without enqueuing anything: the task, when it comes, sees the new end and
arms itself again. Tasks are idempotent (closing locks the auction and checks its state), and
the beat sweep `close_due_auctions` closes whatever a lost message or a restart left overdue.
"""

import asyncio
import contextvars

from asgiref.sync import async_to_sync
from celery import shared_task
from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from live import services
from live.models import Auction
from live.room_stream import spawn


@shared_task
def close_auction(auction_id: int):
    """The auction's timer went off: close it, or wait again if a late bid extended it."""
    auction = services.close_auction_if_due(auction_id=auction_id, now=timezone.now())
    if auction is not None and auction.state == Auction.State.RUNNING and auction.paused_at is None:
        arm_auction_timer(auction.pk, auction.ends_at)  # a paused auction is re-armed as it resumes


@shared_task
def close_due_auctions():
    services.close_due_auctions(now=timezone.now())


@shared_task
def prune_show_events():
    services.prune_events(now=timezone.now())


def arm_auction_timer(auction_id: int, ends_at) -> None:
    """Have `close_auction` run at `ends_at` (see LIVE_AUCTION_TIMER in settings)."""
    if settings.LIVE_AUCTION_TIMER == "celery":
        close_auction.apply_async((auction_id,), eta=ends_at)
    elif settings.LIVE_AUCTION_TIMER == "in_process":
        # Called from a request (or a timer) that daphne runs in a thread: async_to_sync reaches
        # daphne's event loop, where the timer lives and where channel-layer sends belong.
        async_to_sync(_call_later)(auction_id, ends_at)


async def _call_later(auction_id: int, ends_at) -> None:
    delay = max((ends_at - timezone.now()).total_seconds(), 0)
    # A fresh context: the request's would send the close to that request's thread, gone by then.
    asyncio.get_running_loop().call_later(
        delay, lambda: spawn(database_sync_to_async(close_auction)(auction_id)), context=contextvars.Context()
    )


@shared_task
def build_replay(show_id: int):
    """The show ended with recordings, or one arrived after its end: make (or remake) its replay."""
    services.build_replay(show_id=show_id)


@shared_task
def forget_recordings():
    services.forget_recordings(now=timezone.now())

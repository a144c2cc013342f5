"""What deleting an account and exporting its data mean for live shows (accounts.hooks).

Refused while the member hosts a show on air. Deleting cancels their scheduled shows, and removes
their co-host seats, saved shows, show passes, chat lines and restrictions; bids stay with their
auctions (an auction's record, and its order's).
"""

from accounts.errors import AccountError
from config.errors import ServiceError
from live import services
from live.models import Bid, CoHost, SavedShow, Show, ShowMessage, ShowPass, ShowRestriction


def check_deletion(user) -> None:
    if Show.objects.filter(host=user, state=Show.State.LIVE).exists():
        raise ServiceError(AccountError.ACCOUNT_HAS_LIVE_SHOW, "End your live show before deleting your account.")


def erase(user) -> None:
    for show in Show.objects.filter(host=user, state=Show.State.SCHEDULED):
        services.end_show(show=show, user=user)
    CoHost.objects.filter(user=user).delete()
    SavedShow.objects.filter(user=user).delete()
    ShowPass.objects.filter(user=user).delete()
    ShowMessage.objects.filter(author=user).delete()
    ShowRestriction.objects.filter(user=user).delete()


def export(user) -> dict:
    return {
        "hostedShows": list(
            Show.objects.filter(host=user)
            .order_by("created_at")
            .values("id", "title", "description", "state", "scheduled_start", "started_at", "ended_at")
        ),
        "chat": list(
            ShowMessage.objects.filter(author=user).order_by("created_at").values("show_id", "body", "created_at")
        ),
        "bids": list(
            Bid.objects.filter(bidder=user).order_by("created_at").values("auction_id", "amount", "created_at")
        ),
        "savedShows": list(SavedShow.objects.filter(user=user).values("show_id")),
    }

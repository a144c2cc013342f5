"""Demo social graph: follows, likes, a share and a comment between the demo users (idempotent)."""

from accounts.models import User
from marketplace.models import Listing
from social import services
from social.models import Comment, Share

FOLLOWS = [("ava", "marco"), ("ava", "priya"), ("marco", "ava"), ("priya", "ava"), ("sam", "ava"), ("sam", "priya")]
LIKES = [
    ("ava", "Leather tote, authenticated"),
    ("ava", "Retro runners, barely worn"),
    ("marco", "90s denim jacket"),
    ("priya", "90s denim jacket"),
    ("sam", "90s denim jacket"),
    ("sam", "Silk wrap dress"),
]


def load(stdout):
    users = {user.username: user for user in User.objects.filter(username__in=["ava", "marco", "priya", "sam"])}
    listings = {listing.title: listing for listing in Listing.objects.filter(seller__in=users.values())}
    for follower, followee in FOLLOWS:
        services.follow_user(follower=users[follower], followee=users[followee])
    for username, title in LIKES:
        services.like_listing(user=users[username], listing=listings[title])
    tote = listings["Leather tote, authenticated"]
    if not Share.objects.filter(sharer=users["ava"], listing=tote).exists():
        services.share_listing(sharer=users["ava"], listing=tote)
    jacket = listings["90s denim jacket"]
    if not Comment.objects.filter(listing=jacket).exists():
        services.add_comment(author=users["sam"], listing=jacket, body="Would this fit a size 8? @ava")
    stdout.write(f"Social: {len(FOLLOWS)} follows, {len(LIKES)} likes, a share and a comment.")

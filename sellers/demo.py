"""Demo community programs, each running and visible (idempotent, after the other apps' demos).

- All four programs run, set by staff 'admin' through services.update_program (so the admin shows
  their audit): the first-sale shipping discount with a budget, nudges from the first day, and an
  ambassadors' bar and mentoring groups sized for four demo members.
- ava and marco each made a first sale (to sam and priya: shipped, accepted, rated 5), paid for in
  part by the shipping discount; with a share of another member's listing each they meet the bar,
  the beat task's refresh_ambassadors makes them ambassadors, and they opt in to mentoring.
- priya and sam have no sale yet: their listings carry the first-sale shipping banner, and the
  nudge task sends each a nudge. sam joined mentoring (ava and marco mentor him) with a question.
"""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from marketplace import services as marketplace_services
from marketplace.models import Listing
from reviews import services as review_services
from sellers import selectors, services
from sellers.models import (
    Ambassador,
    AmbassadorProgram,
    FirstSaleNudgeProgram,
    FirstSaleShippingProgram,
    MentoringGroup,
    MentoringProgram,
)
from social import services as social_services
from social.models import Share

# What staff set for the demo: every program running, the bars sized for four members.
PROGRAMS = {
    FirstSaleShippingProgram: {
        "currency": "USD",
        "amount": Decimal("5.00"),
        "per_order_cap": Decimal("6.49"),
        "budget": Decimal("500.00"),
    },
    FirstSaleNudgeProgram: {"first_nudge_after_days": 0, "days_between_nudges": 3},
    AmbassadorProgram: {
        "min_shares_of_others": 1,
        "min_available_listings": 2,
        "min_sales": 1,
        "min_rating": Decimal("4.00"),
        "max_average_ship_days": Decimal("3.0"),
    },
    MentoringProgram: {"mentors_per_group_min": 2, "mentors_per_group_max": 3},
}
# (seller, listing sold, buyer, a listing of another member the seller shares)
FIRST_SALES = [
    ("ava", "Corduroy blazer", "sam", "Leather tote, authenticated"),
    ("marco", "Canvas high-tops", "priya", "Silk wrap dress"),
]
MENTEE, QUESTION = "sam", "Hi! How should I price my wool scarf to sell it this week?"

# What each demo account shows (printed with the accounts at the end of load_demo_data).
ROLES = {
    "ava": "ambassador and mentor (first sale made)",
    "marco": "ambassador and mentor (first sale made)",
    "priya": "before her first sale: shipping banner on her listings, a nudge",
    "sam": "before his first sale: shipping banner, a nudge, a mentoring group",
    "admin": "staff: Sellers › programs, their audit, Program results",
}


def load(stdout):
    now = timezone.now()
    users = {
        user.username: user for user in User.objects.filter(username__in=["admin", "ava", "marco", "priya", "sam"])
    }
    for program_class, program_settings in PROGRAMS.items():
        program = program_class.current()
        window = (
            {}
            if program.is_running(now)
            else {"active": True, "starts_at": now - timedelta(days=7), "ends_at": now + timedelta(days=365)}
        )
        services.update_program(program_class=program_class, changed_by=users["admin"], **program_settings, **window)
    for seller, title, buyer, shared in FIRST_SALES:
        _first_sale(users[seller], users[buyer], title)
        listing = Listing.objects.get(title=shared)
        if not Share.objects.filter(sharer=users[seller], listing=listing).exists():
            social_services.share_listing(sharer=users[seller], listing=listing)
    services.refresh_ambassadors(now=now)
    for seller, *_ in FIRST_SALES:
        services.set_ambassador_opt_in(user=users[seller], opt_in=True)
    services.send_first_sale_nudges(now=now)
    mentee = users[MENTEE]
    group = MentoringGroup.objects.filter(mentee=mentee).order_by("-created_at", "-pk").first()
    if group is None:
        group = services.join_mentoring(mentee=mentee, question=QUESTION)
    program = FirstSaleShippingProgram.current()
    ambassadors = sorted(Ambassador.objects.filter(revoked_at__isnull=True).values_list("user__username", flat=True))
    mentors = sorted(group.mentors.values_list("username", flat=True))
    stdout.write(
        f"Programs: all four running; shipping discount {program.spent} of {program.budget} "
        f"{program.currency} spent; ambassadors {', '.join(ambassadors)}; {', '.join(mentors)} mentor "
        f"{MENTEE}."
    )


def _first_sale(seller, buyer, title):
    """The seller's first order, as its buyer and seller would make it: bought, shipped, accepted, reviewed."""
    if selectors.completed_orders().filter(seller=seller).exists():
        return
    listing = Listing.objects.get(seller=seller, title=title)
    order = marketplace_services.purchase_listing(
        buyer=buyer, listing=listing, idempotency_key=f"demo-first-sale-{seller.username}"
    )
    order = marketplace_services.ship_order(order=order, actor=seller, tracking_number=f"DEMO{order.pk:08d}")
    order = marketplace_services.accept_order(order=order, actor=buyer)
    review_services.leave_review(order=order, buyer=buyer, rating=5, note="Exactly as described, lovely packing.")

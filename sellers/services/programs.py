"""Writes of the community programs: their settings (staff, each change audited), the first-sale
shipping discount (a pricing rule, its budget and its return on refund), first-sale nudges,
ambassadors and first-sale mentoring."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Subquery
from django.utils import timezone
from graphql_relay import to_global_id

from accounts.models import User
from config.errors import ServiceError
from marketplace import pricing
from marketplace.errors import DJANGO_CODES, CheckoutError
from marketplace.models import DiscountSource, DomainEvent, Listing, Order
from notifications import services as notification_services
from notifications.models import Kind
from sellers import selectors
from sellers.errors import ProgramError
from sellers.models import (
    PROGRAM_ROW,
    Ambassador,
    AmbassadorProgram,
    FirstSaleNudge,
    FirstSaleNudgeProgram,
    FirstSaleShippingProgram,
    MentoringGroup,
    MentoringProgram,
    MentoringSeat,
    Program,
    ProgramChange,
    ShippingSubsidy,
)
from sellers.services.tools import at_least_below
from social import services as social_services

# Community programs: settings ------------------------------------------------------------------


@transaction.atomic
def update_program(*, program_class: type[Program], changed_by: User, **changes) -> Program:
    """Change a program's settings (staff, in the admin or through GraphQL): validated against the
    model's fields and constraints, saved and audited in one transaction, the program's row locked
    meanwhile. The ProgramChange holds each field that really changed with its old and new value;
    a change to nothing is not logged."""
    program_class.current()
    program = program_class.locked()
    before = {name: getattr(program, name) for name in changes}
    for name, value in changes.items():
        if name not in program_class.settings_fields():
            raise ValueError(f"{name} is not a setting of {program_class.__name__}")
        setattr(program, name, value)
    try:
        program.full_clean()
    except ValidationError as exc:
        raise ServiceError.from_validation_error(exc, codes=DJANGO_CODES) from None
    changed = {
        name: {"old": _as_text(before[name]), "new": _as_text(getattr(program, name))}
        for name in changes
        if before[name] != getattr(program, name)
    }
    if changed:
        program.save()
        ProgramChange.objects.create(program=program_class.KEY, changed_by=changed_by, changes=changed)
    return program


def _as_text(value):
    """A setting as the audit keeps it: JSON-ready, exact (decimals and times as text)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


# Community programs: first-sale shipping discount ----------------------------------------------

FIRST_SALE_SHIPPING_DESCRIPTION = "First sale: shipping discount from Closetline"


def first_sale_shipping_discount(basket: pricing.Basket) -> list[pricing.Discount]:
    """The program's pricing rule (in marketplace.pricing.DISCOUNT_RULES): while the seller has no
    sale, their order's shipping is discounted by the program's offer, funded from its budget.

    Checkout prices an order twice, to authorize the payment and then in the order's transaction
    with the seller's row locked; the second reading is exact (no other order of the seller is
    being written), so of two buyers racing for a new seller's first sale one gets the discount
    and the other's charge no longer matches its quote (PRICE_CHANGED, nothing bought)."""
    offer = selectors.first_sale_shipping_offer(
        seller_id=basket.seller_id, currency=basket.currency, now=timezone.now()
    )
    if offer is None:
        return []
    return [
        pricing.Discount(
            DiscountSource.PROGRAM,
            offer,
            pricing.SHIPPING,
            FIRST_SALE_SHIPPING_DESCRIPTION,
            fund=fund_first_sale_shipping,
        )
    ]


def fund_first_sale_shipping(order: Order, amount: Decimal) -> None:
    """Pay a first order's shipping discount from the budget, in the order's transaction: a debit
    in the ledger and `spent` raised by a conditional UPDATE. That UPDATE is the budget's guard:
    concurrent first orders queue on the program's row and each re-checks `spent + amount <=
    budget` once the one before it committed, so the budget is never overspent. An order that no
    longer fits is refused (PRICE_CHANGED; its retry is quoted without the discount)."""
    # Half a cent of slack: whole-cent amounts compare exactly even where decimals are floats (SQLite).
    funded = FirstSaleShippingProgram.objects.filter(
        pk=PROGRAM_ROW, active=True, currency=order.currency, spent__lt=F("budget") - amount + Decimal("0.005")
    ).update(spent=F("spent") + amount)
    if not funded:
        raise ServiceError(
            CheckoutError.PRICE_CHANGED,
            "The first-sale shipping discount has just run out; review the price and try again.",
        )
    ShippingSubsidy.objects.create(
        program_id=PROGRAM_ROW, order=order, entry=ShippingSubsidy.Entry.DEBIT, amount=amount, currency=order.currency
    )


def return_first_sale_subsidy(event: DomainEvent) -> None:
    """order_cancelled: a subsidised order gives its subsidy back to the budget, once (the credit
    is unique per order, so a re-delivered event changes nothing). The seller has no sale again,
    so their listings show the banner again while the program runs."""
    debit = ShippingSubsidy.objects.filter(
        order_id=event.payload["order_id"], entry=ShippingSubsidy.Entry.DEBIT
    ).first()
    if debit is None:
        return
    with transaction.atomic():
        try:
            with transaction.atomic():
                ShippingSubsidy.objects.create(
                    program_id=debit.program_id,
                    order_id=debit.order_id,
                    entry=ShippingSubsidy.Entry.CREDIT,
                    amount=debit.amount,
                    currency=debit.currency,
                )
        except IntegrityError:
            return
        FirstSaleShippingProgram.objects.filter(pk=debit.program_id).update(spent=F("spent") - debit.amount)


# Community programs: first-sale nudges ---------------------------------------------------------


@dataclass(frozen=True)
class NudgeText:
    title: str
    body: str
    suggested_price: Decimal | None = None


@dataclass(frozen=True)
class NudgeRule:
    """One kind of first-sale nudge. `listing(kind, program, now)` is a subquery giving, for a
    seller (OuterRef "pk"), the listing this nudge would be about, or null when it does not apply;
    `text(listing, program)` words the nudge."""

    kind: str
    listing: Callable[[str, FirstSaleNudgeProgram, datetime], Subquery]
    text: Callable[[Listing, FirstSaleNudgeProgram], NudgeText]


def _offer_to_likers_text(listing: Listing, program: FirstSaleNudgeProgram) -> NudgeText:
    likers = f"{listing.like_count} people like" if listing.like_count > 1 else "Someone likes"
    return NudgeText(
        f"{likers} “{listing.title}”",
        "Send them a private offer: an offer to likers is the quickest way to a first sale.",
    )


def _reprice_text(listing: Listing, program: FirstSaleNudgeProgram) -> NudgeText:
    price = at_least_below(listing.price, program.reprice_percent)
    return NudgeText(
        f"Give “{listing.title}” a fresh start",
        f"No new likes or price changes in {program.stale_after_days} days: try {price} "
        f"{listing.currency} to catch buyers' eyes.",
        price,
    )


def _share_text(listing: Listing, program: FirstSaleNudgeProgram) -> NudgeText:
    return NudgeText(
        f"Share “{listing.title}”", "A share puts it at the top of your followers' feeds, where buyers find it."
    )


def _first_show_text(listing: Listing, program: FirstSaleNudgeProgram) -> NudgeText:
    return NudgeText(
        f"Go live with “{listing.title}”",
        "Host a show: your followers are reminded when you go live, and buy while they watch.",
    )


# In priority order: a seller gets the first that applies.
NUDGE_RULES = [
    NudgeRule("offer_to_likers", selectors.listing_for_offer_to_likers, _offer_to_likers_text),
    NudgeRule("reprice", selectors.stale_listing, _reprice_text),
    NudgeRule("share", selectors.listing_to_share, _share_text),
    NudgeRule("show", selectors.listing_for_first_show, _first_show_text),
]


def send_first_sale_nudges(*, now: datetime, batch: int = 500) -> int:
    """The beat task: every seller due a nudge (selectors.sellers_to_nudge: no sale, joined long
    enough ago, none within the cadence) gets one, the first of NUDGE_RULES that applies to them,
    recorded and sent through notify() (kind program_nudge, category programs: the engine's caps,
    quiet hours and opt-outs apply). Each batch holds the program's row, so overlapping runs queue
    instead of breaking the cadence. Returns how many were sent."""
    sent = 0
    while True:
        with transaction.atomic():
            program = FirstSaleNudgeProgram.locked()
            if program is None or not program.is_running(now):
                return sent
            sellers = list(
                selectors.sellers_to_nudge(
                    program, now, {rule.kind: rule.listing(rule.kind, program, now) for rule in NUDGE_RULES}
                )[:batch]
            )
            chosen = [_first_nudge_for(seller) for seller in sellers]
            listings = Listing.objects.in_bulk([listing_id for _, listing_id in chosen])
            texts = [rule.text(listings[listing_id], program) for rule, listing_id in chosen]
            nudges = FirstSaleNudge.objects.bulk_create(
                FirstSaleNudge(
                    seller=seller,
                    kind=rule.kind,
                    listing=listings[listing_id],
                    suggested_price=text.suggested_price,
                    sent_at=now,
                )
                for seller, (rule, listing_id), text in zip(sellers, chosen, texts, strict=False)
            )
            for nudge, text in zip(nudges, texts, strict=False):
                _notify_nudge(nudge, text)
        sent += len(sellers)
        if len(sellers) < batch:
            return sent


def _first_nudge_for(seller: User) -> tuple[NudgeRule, int]:
    """The first rule that applies to an annotated seller of sellers_to_nudge, and its listing."""
    return next(
        (rule, getattr(seller, f"nudge_{rule.kind}"))
        for rule in NUDGE_RULES
        if getattr(seller, f"nudge_{rule.kind}") is not None
    )


def _notify_nudge(nudge: FirstSaleNudge, text: NudgeText) -> None:
    data = {"nudge": nudge.kind, "listingId": to_global_id("Listing", nudge.listing_id)}
    if text.suggested_price is not None:
        data |= {"suggestedPrice": str(text.suggested_price), "currency": nudge.listing.currency}
    notification_services.notify(
        recipient_ids=[nudge.seller_id],
        kind=Kind.PROGRAM_NUDGE,
        title=text.title,
        body=text.body,
        dedupe_key=f"first_sale_nudge:{nudge.pk}",
        target=nudge.listing,
        data=data,
    )


# Community programs: ambassadors ---------------------------------------------------------------


def refresh_ambassadors(*, now: datetime) -> tuple[int, int]:
    """The beat task: grant ambassador status to every member who meets the staff's bar and revoke
    it from those who no longer do, in set-based SQL over selectors.eligible_ambassadors; those
    granted it are told, and invited to opt in to mentoring. Holds the program's row, so two runs
    never overlap. Returns (granted, revoked)."""
    with transaction.atomic():
        program = AmbassadorProgram.locked()
        if program is None or not program.is_running(now):
            return 0, 0
        eligible = selectors.eligible_ambassadors(program).values("pk")
        revoked = (
            Ambassador.objects.filter(revoked_at__isnull=True).exclude(user_id__in=eligible).update(revoked_at=now)
        )
        returning = list(
            Ambassador.objects.filter(revoked_at__isnull=False, user_id__in=eligible).values_list("user_id", flat=True)
        )
        Ambassador.objects.filter(user_id__in=returning).update(revoked_at=None, granted_at=now)
        new = list(eligible.exclude(pk__in=Ambassador.objects.values("user_id")).values_list("pk", flat=True))
        Ambassador.objects.bulk_create(Ambassador(user_id=user_id, granted_at=now) for user_id in new)
        granted = returning + new
        notification_services.notify(
            recipient_ids=granted,
            kind=Kind.PROGRAM_NUDGE,
            title="You are a Closetline ambassador",
            body="Your closet sets the example. Opt in to mentoring to help new sellers reach their first sale.",
            dedupe_key=f"ambassador_granted:{now.isoformat()}",
        )
    return len(granted), revoked


def set_ambassador_opt_in(*, user: User, opt_in: bool) -> Ambassador:
    """An ambassador takes part in mentoring groups (or stops: no new group; current ones go on)."""
    if not Ambassador.objects.filter(user=user, revoked_at__isnull=True).update(mentoring_opt_in=opt_in):
        raise ServiceError(ProgramError.NOT_AN_AMBASSADOR, "Mentoring is for ambassadors.", "optIn")
    return Ambassador.objects.get(user=user)


# Community programs: first-sale mentoring ------------------------------------------------------


def join_mentoring(*, mentee: User, question: str = "") -> MentoringGroup:
    """A seller before their first sale joins mentoring: matched with as many of the best mentor
    candidates as a group takes (selectors.mentor_candidates: balanced load, then shared categories,
    then time zone region), all in a new group conversation; the mentors are told, and the
    mentee's first question, if any, opens the conversation (the mentors are notified of it as of
    every message). Joining again returns the open group. Matching holds the program's row, so
    concurrent joins queue and each sees the loads the one before it left."""
    now = timezone.now()
    with transaction.atomic():
        program = MentoringProgram.locked()
        group = MentoringGroup.objects.filter(mentee=mentee, status=MentoringGroup.Status.OPEN).first()
        if group is not None:
            return group
        if program is None or not program.is_running(now):
            raise ServiceError(ProgramError.PROGRAM_NOT_RUNNING, "Mentoring is not open at the moment.")
        if selectors.completed_orders().filter(seller_id=mentee.pk).exists():
            raise ServiceError(
                ProgramError.FIRST_SALE_ALREADY_MADE,
                "Mentoring is for sellers before their first sale: congratulations on yours!",
            )
        mentor_ids = list(
            selectors.mentor_candidates(mentee, program).values_list("user_id", flat=True)[
                : program.mentors_per_group_max
            ]
        )
        if len(mentor_ids) < program.mentors_per_group_min:
            raise ServiceError(ProgramError.NO_MENTORS_AVAILABLE, "No mentors are free right now; try again soon.")
        conversation = social_services.start_group_conversation(
            title=f"Mentoring @{mentee.username}", member_ids=[mentee.pk, *mentor_ids]
        )
        group = MentoringGroup.objects.create(mentee=mentee, conversation=conversation, created_at=now)
        MentoringSeat.objects.bulk_create(
            MentoringSeat(group=group, mentor_id=mentor_id, created_at=now) for mentor_id in mentor_ids
        )
        notification_services.notify(
            recipient_ids=mentor_ids,
            kind=Kind.PROGRAM_NUDGE,
            title=f"A new seller to mentor: @{mentee.username}",
            body="Say hello in your mentoring group and help them to their first sale.",
            dedupe_key=f"mentoring_group:{group.pk}",
            target=conversation,
            data={"conversationId": to_global_id("Conversation", conversation.pk)},
        )
        if question.strip():
            social_services.send_message(sender=mentee, conversation=conversation, body=question)
    return group


def close_mentoring_groups(*, now: datetime) -> int:
    """The beat task: close the open groups whose mentee made their first sale the program's grace
    ago; their conversations keep their history and take no new messages. Set-based: one UPDATE
    of the groups, one of their conversations."""
    due = selectors.mentoring_groups_due_to_close(now, MentoringProgram.current().grace)
    with transaction.atomic():
        MentoringGroup.objects.filter(pk__in=[group_id for group_id, _ in due]).update(
            status=MentoringGroup.Status.CLOSED, closed_at=now
        )
        social_services.close_group_conversations(
            conversation_ids=[conversation_id for _, conversation_id in due], at=now
        )
    return len(due)

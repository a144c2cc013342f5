"""Reads of cases: the parties' cases, shaped so that lists cost fixed queries, and the hold an
open case puts on an order's acceptance."""

from django.db.models import Prefetch, Q, QuerySet

from accounts.models import User
from cases.models import Case, CaseEvent, CaseMessage, CasePhoto
from config.errors import CommonError, ServiceError
from marketplace import hooks
from marketplace import selectors as marketplace_selectors
from marketplace.models import Order


def acceptance_held(order: Order) -> str | None:
    """marketplace.hooks.ACCEPTANCE_HELD: an open case keeps the funds held."""
    if Case.objects.filter(order_id=order.pk, status=Case.Status.OPEN).exists():
        return "A case about this order is open: staff resolve it first."
    return None


def case_cards(cases: QuerySet[Case], viewer: User) -> QuerySet[Case]:
    """What a case shows, in fixed queries: its order as orders show, and `_case_details`."""
    return _case_details(cases, viewer).prefetch_related(
        Prefetch("order", queryset=marketplace_selectors.order_cards(Order.objects.all(), viewer))
    )


def _case_details(cases: QuerySet[Case], viewer: User) -> QuerySet[Case]:
    """Parties, photos, messages with their authors, events (an order's cases: their order is it)."""
    members = hooks.members_as_shown(User.objects.all(), viewer)
    return cases.prefetch_related(
        Prefetch("buyer", queryset=members),
        Prefetch("seller", queryset=members),
        Prefetch("photos", queryset=CasePhoto.objects.order_by("position", "pk")),
        Prefetch(
            "messages",
            queryset=CaseMessage.objects.order_by("created_at", "pk").prefetch_related(
                Prefetch("author", queryset=members)
            ),
        ),
        Prefetch("events", queryset=CaseEvent.objects.order_by("at", "pk")),
    )


def visible_cases(viewer: User | None) -> QuerySet[Case]:
    """A case is its buyer's and its seller's business only (staff read them in the admin)."""
    if viewer is None:
        return Case.objects.none()
    return Case.objects.filter(Q(buyer_id=viewer.pk) | Q(seller_id=viewer.pk))


def cases_of(viewer: User, *, as_seller: bool) -> QuerySet[Case]:
    """The cases the viewer opened (or that were opened about their sales): keyset ("-opened_at", "-pk")."""
    return case_cards(Case.objects.filter(**{"seller_id" if as_seller else "buyer_id": viewer.pk}), viewer)


def get_case(viewer: User, case_id: int, field: str = "caseId") -> Case:
    case = case_cards(visible_cases(viewer), viewer).filter(pk=case_id).first()
    if case is None:
        raise ServiceError(CommonError.NOT_FOUND, "This case does not exist.", field)
    return case


def order_cases(viewer: User) -> Prefetch:
    """marketplace.hooks.ORDER_CARD_PREFETCHES: each order's cases, newest first (`cases_shown`)."""
    return Prefetch(
        "cases", queryset=_case_details(Case.objects.order_by("-opened_at", "-pk"), viewer), to_attr="cases_shown"
    )

"""Cases: a buyer reports a problem with an order within its acceptance window (a missing parcel
as soon as it is on its way), the funds stay held while the case is open (marketplace's
ACCEPTANCE_HELD), the parties exchange messages, and staff resolve it in the admin: refund (with
a return label) or release to the seller. Every step is a CaseEvent and a notification to the
other side.

Accepting the order withdraws an open case: the buyer who accepts says the problem is settled
(`close_with_order`, on the order's ORDER_ACCEPTED event).

Locks: opening locks the order (one open case per order; the constraint backs it); resolving locks
the order, then the case, as opening does; a message locks the case.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from graphql_relay import to_global_id

from accounts.models import User
from cases import hooks, tasks
from cases.errors import CaseError
from cases.models import Case, CaseEvent, CaseMessage, CasePhoto
from config.errors import CommonError, ServiceError
from marketplace import images
from marketplace import services as marketplace_services
from marketplace.models import DomainEvent, Order
from notifications import services as notification_services
from notifications.models import Kind

_ON_ITS_WAY = (Order.Status.SHIPPED, Order.Status.IN_TRANSIT)


def open_case(*, order: Order, buyer: User, reason: str, description: str, photos=()) -> Case:
    """The buyer reports a problem: photos normalised (upright, no EXIF) before any lock."""
    description = (description or "").strip()
    if reason not in Case.Reason.values:
        raise ServiceError(CommonError.INVALID, "Choose why you open a case.", "reason")
    if not description:
        raise ServiceError(CommonError.REQUIRED, "Describe the problem.", "description")
    if len(photos) > settings.CASE_MAX_PHOTOS:
        raise ServiceError(CaseError.TOO_MANY_CASE_PHOTOS, f"Send at most {settings.CASE_MAX_PHOTOS} photos.", "photos")
    _validate(Case(reason=reason, description=description))
    encoded = [images.normalise(photo, field="photos") for photo in photos]
    paths = [
        default_storage.save(f"cases/{order.pk}/{uuid.uuid4().hex}.jpg", ContentFile(photo.content))
        for photo in encoded
    ]
    try:
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=order.pk)
            if order.buyer_id != buyer.pk:
                raise ServiceError(
                    CaseError.CASE_NOT_THE_BUYER, "Only its buyer opens a case about an order.", "orderId"
                )
            _require_window(order, reason)
            if Case.objects.filter(order_id=order.pk, status=Case.Status.OPEN).exists():
                raise _already_open()
            try:
                with transaction.atomic():
                    case = Case.objects.create(
                        order=order,
                        buyer_id=buyer.pk,
                        seller_id=order.seller_id,
                        reason=reason,
                        description=description,
                    )
            except IntegrityError:
                raise _already_open() from None
            CasePhoto.objects.bulk_create(
                [
                    CasePhoto(case=case, position=position, original=path, width=photo.width, height=photo.height)
                    for position, (path, photo) in enumerate(zip(paths, encoded, strict=True))
                ]
            )
            _record(case, CaseEvent.Kind.OPENED, buyer)
            _notify(
                case,
                [case.seller_id],
                f"@{buyer.username} opened a case: {case.get_reason_display().lower()}",
                description,
                "opened",
            )
    except BaseException:
        for path in paths:
            default_storage.delete(path)
        raise
    return case


def answer_case(*, case: Case, seller: User, body: str) -> CaseMessage:
    """The seller's side of the story (any later message of theirs is a message too)."""
    if case.seller_id != seller.pk:
        raise ServiceError(CaseError.CASE_NOT_THE_SELLER, "Only the seller answers a case.", "caseId")
    return add_case_message(case=case, author=seller, body=body)


def add_case_message(*, case: Case, author: User, body: str) -> CaseMessage:
    """A message of the buyer or the seller on an open case; the other side hears of it."""
    body = (body or "").strip()
    if not body:
        raise ServiceError(CommonError.REQUIRED, "Write a message.", "body")
    if author.pk not in (case.buyer_id, case.seller_id):
        raise ServiceError(CommonError.NOT_FOUND, "This case does not exist.", "caseId")
    message = CaseMessage(case=case, author=author, body=body)
    try:
        message.full_clean(exclude=["case", "author"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise ServiceError.from_validation_error(exc) from None
    with transaction.atomic():
        case = _locked_open(case)
        message.save()
        by_seller = author.pk == case.seller_id
        if by_seller and case.seller_answered_at is None:
            case.seller_answered_at = message.created_at
            case.save(update_fields=["seller_answered_at"])
            _record(case, CaseEvent.Kind.SELLER_ANSWERED, author)
        else:
            _record(case, CaseEvent.Kind.MESSAGE, author)
        other = case.buyer_id if by_seller else case.seller_id
        _notify(case, [other], f"@{author.username} wrote on your case", body, f"message:{message.pk}")
    return message


def refund_case(*, case: Case, staff: User, note: str = "") -> Case:
    """Staff side with the buyer: the order is refunded and, once committed, a return label bought."""
    with transaction.atomic():
        case = _resolving(case, staff)
        marketplace_services.refund_order(
            order=case.order, actor=staff, reason=f"Case {case.pk}: {case.get_reason_display().lower()}"
        )
        case = _close(case, Case.Status.REFUNDED, CaseEvent.Kind.REFUNDED, staff, note)
        _notify(
            case,
            [case.buyer_id, case.seller_id],
            "Case resolved: the buyer is refunded",
            note or "A return label follows for the item to go back to the seller.",
            "refunded",
        )
        transaction.on_commit(lambda: tasks.buy_return_label.delay(case.pk))
    return case


def release_case(*, case: Case, staff: User, note: str = "") -> Case:
    """Staff side with the seller: the order is accepted for the buyer and the funds released."""
    with transaction.atomic():
        case = _resolving(case, staff)
        marketplace_services.release_order(order=case.order, actor=staff)
        case = _close(case, Case.Status.RELEASED, CaseEvent.Kind.RELEASED, staff, note)
        _notify(
            case,
            [case.buyer_id, case.seller_id],
            "Case resolved: the payment goes to the seller",
            note or "Our team reviewed the case and released the payment.",
            "released",
        )
    return case


def attach_return_label(*, case_id: int) -> Case:
    """Buy the refunded order's return label (cases.hooks.RETURN_LABEL); idempotent."""
    case = Case.objects.select_related("order").get(pk=case_id)
    if case.status != Case.Status.REFUNDED or case.return_label_url:
        return case
    url = hooks.return_label_url(case.order)
    if url is None:
        return case  # no carrier app registered: staff arrange the return (the admin shows no label)
    with transaction.atomic():
        if Case.objects.filter(pk=case.pk, return_label_url="").update(return_label_url=url):
            case.return_label_url = url
            _record(case, CaseEvent.Kind.RETURN_LABEL, None)
            _notify(case, [case.buyer_id], "Your return label is ready", "Print it and send the item back.", "label")
    return case


def close_with_order(event: DomainEvent) -> None:
    """An order accepted by its buyer withdraws its open case; one refunded outside the case (staff
    in the orders admin) closes it as refunded. Idempotent: only an open case changes."""
    status, kind = {
        DomainEvent.Name.ORDER_ACCEPTED: (Case.Status.WITHDRAWN, CaseEvent.Kind.WITHDRAWN),
        DomainEvent.Name.ORDER_REFUNDED: (Case.Status.REFUNDED, CaseEvent.Kind.REFUNDED),
    }[event.name]
    with transaction.atomic():
        case = (
            Case.objects.select_for_update().filter(order_id=event.payload["order_id"], status=Case.Status.OPEN).first()
        )
        if case is None:
            return
        case = _close(case, status, kind, None, "The order was accepted." if status == Case.Status.WITHDRAWN else "")
        _notify(case, [case.seller_id], f"Case {status.label.lower()}", "The case about this order is closed.", status)


def _require_window(order: Order, reason: str) -> None:
    now = timezone.now()
    if order.status == Order.Status.DELIVERED and now < order.delivered_at + settings.ORDER_AUTO_ACCEPT_AFTER:
        return
    if order.status in _ON_ITS_WAY and reason == Case.Reason.MISSING:
        return
    days = settings.ORDER_AUTO_ACCEPT_AFTER.days
    raise ServiceError(
        CaseError.CASE_WINDOW_CLOSED,
        f"A case opens within {days} days of delivery (a missing parcel, while it is on its way).",
        "orderId",
    )


def _resolving(case: Case, staff: User) -> Case:
    if not staff.is_staff:
        raise ServiceError(CommonError.FORBIDDEN, "Only staff resolve a case.", "caseId")
    Order.objects.select_for_update().get(pk=case.order_id)
    return _locked_open(case)


def _locked_open(case: Case) -> Case:
    case = Case.objects.select_for_update().select_related("order").get(pk=case.pk)
    if case.status != Case.Status.OPEN:
        raise ServiceError(
            CaseError.CASE_CLOSED, f"This case is closed ({case.get_status_display().lower()}).", "caseId"
        )
    return case


def _close(case: Case, status: str, kind: str, actor: User | None, note: str) -> Case:
    case.status, case.closed_at, case.resolution_note = status, timezone.now(), (note or "").strip()[:200]
    case.save(update_fields=["status", "closed_at", "resolution_note"])
    _record(case, kind, actor, case.resolution_note)
    return case


def _record(case: Case, kind: str, actor: User | None, note: str = "") -> None:
    CaseEvent.objects.create(case=case, kind=kind, actor=actor, note=note)


def _notify(case: Case, recipient_ids: list[int], title: str, body: str, step: str) -> None:
    notification_services.notify(
        recipient_ids=recipient_ids,
        kind=Kind.CASE,
        title=title,
        body=body[:200],
        dedupe_key=f"case:{case.pk}:{step}",
        data={"caseId": to_global_id("Case", case.pk), "orderId": to_global_id("Order", case.order_id)},
    )


def _validate(case: Case) -> None:
    try:
        case.full_clean(exclude=["order", "buyer", "seller"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise ServiceError.from_validation_error(exc) from None


def _already_open() -> ServiceError:
    return ServiceError(CaseError.CASE_ALREADY_OPEN, "A case about this order is already open.", "orderId")

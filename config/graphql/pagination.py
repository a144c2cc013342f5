"""Cursor pagination for every list: forward-only (`first`, `after`), `first` capped at 100.

`keyset_page` suits chronological lists and infinite feeds: the cursor holds the ordering values
of the last row, so new rows arriving at the top never shift or repeat a page. `offset_page`
suits ranked lists whose order is computed (search relevance, "for you"). Both run one query for
the rows (plus the queryset's own prefetches) whatever the page size.
"""

import base64
import json
from datetime import date, datetime
from decimal import Decimal

import graphene
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Q
from graphene.relay import PageInfo

from config.errors import CommonError, ServiceError

DEFAULT_PAGE_SIZE = 20


def connection_args(**extra) -> dict:
    """Arguments of a list field: `first`, `after`, plus the list's own filters."""
    return {
        "first": graphene.Int(description=f"Page size, 1 to {max_page_size()} (default {DEFAULT_PAGE_SIZE})."),
        "after": graphene.String(description="The endCursor of the previous page."),
        **extra,
    }


def max_page_size() -> int:
    return settings.GRAPHENE["RELAY_CONNECTION_MAX_LIMIT"]


def keyset_page(queryset, connection_type, *, first, after, ordering: tuple[str, ...]):
    """A page ordered by `ordering` (model fields or annotations, non-null; the last one unique)."""
    size = _page_size(first)
    keys = [(name.lstrip("-"), name.startswith("-")) for name in ordering]
    queryset = queryset.order_by(*ordering)
    if after:
        queryset = queryset.filter(_after(keys, _decode_keys(after, keys, queryset.model)))
    rows = list(queryset[: size + 1])
    return _connection(
        connection_type,
        rows[:size],
        len(rows) > size,
        after is not None,
        lambda _index, row: _encode(["k", *[_plain(getattr(row, name)) for name, _ in keys]]),
    )


def offset_page(queryset, connection_type, *, first, after):
    """A page of an already ordered queryset, by position."""
    size = _page_size(first)
    start = _decode_offset(after) if after else 0
    rows = list(queryset[start : start + size + 1])
    return _connection(
        connection_type, rows[:size], len(rows) > size, start > 0, lambda index, _row: _encode(["o", start + index + 1])
    )


def _connection(connection_type, rows, has_next, has_previous, cursor_of):
    edges = [connection_type.Edge(node=row, cursor=cursor_of(index, row)) for index, row in enumerate(rows)]
    page_info = PageInfo(
        has_next_page=has_next,
        has_previous_page=has_previous,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return connection_type(edges=edges, page_info=page_info)


def _page_size(first) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= first <= max_page_size():
        raise ServiceError(CommonError.INVALID, f"first must be between 1 and {max_page_size()}.", "first")
    return first


def _after(keys, values) -> Q:
    """Rows strictly after `values` in the ordering: (a, b) > (x, y) as a disjunction."""
    condition = Q()
    for index, (name, descending) in enumerate(keys):
        step = Q(**{f"{name}__{'lt' if descending else 'gt'}": values[index]})
        for previous in range(index):
            step &= Q(**{keys[previous][0]: values[previous]})
        condition |= step
    return condition


def _plain(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()  # full precision: a trimmed timestamp would skip or repeat rows
    if isinstance(value, Decimal):
        return str(value)
    return value


def _encode(payload: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def _decode(cursor: str) -> list:
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError, UnicodeError):
        payload = None
    if not isinstance(payload, list) or not payload:
        raise _bad_cursor()
    return payload


def _decode_keys(cursor: str, keys, model) -> list:
    payload = _decode(cursor)
    if payload[0] != "k" or len(payload) != len(keys) + 1:
        raise _bad_cursor()
    values = []
    for (name, _), raw in zip(keys, payload[1:], strict=False):
        try:
            field = model._meta.pk if name == "pk" else model._meta.get_field(name)
            values.append(field.to_python(raw))
        except FieldDoesNotExist:
            values.append(raw)  # an annotation: JSON numbers and strings compare as they are
        except ValidationError:
            raise _bad_cursor() from None
        if values[-1] is None:
            raise _bad_cursor()
    return values


def _decode_offset(cursor: str) -> int:
    payload = _decode(cursor)
    if payload[0] != "o" or len(payload) != 2 or not isinstance(payload[1], int) or payload[1] < 0:
        raise _bad_cursor()
    return payload[1]


def _bad_cursor() -> ServiceError:
    return ServiceError(CommonError.INVALID, "This cursor is not valid for this list.", "after")

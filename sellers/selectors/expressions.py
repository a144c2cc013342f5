"""SQL expressions the sellers' reads share."""

from django.db.models import Case, DecimalField, IntegerField, Subquery, Value, When
from django.db.models.functions import Coalesce

MONEY = DecimalField(max_digits=10, decimal_places=2)


def per_member(rows, member_column: str, aggregate, output_field, empty=None):
    """A correlated subquery: `aggregate` of `rows` grouped by the member they belong to (`empty`
    for a member with no rows)."""
    value = Subquery(
        rows.order_by().values(member_column).annotate(value=aggregate).values("value"), output_field=output_field
    )
    return value if empty is None else Coalesce(value, Value(empty), output_field=output_field)


def points_if(condition, points: int):
    return Case(When(condition, then=Value(points)), default=Value(0), output_field=IntegerField())

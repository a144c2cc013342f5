"""Selectors of the admin's Program results charts: the figures of selectors.program_results, and
the subsidy's spending by week, shaped for Chart.js (labels and datasets, JSON-ready numbers)."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Case, DecimalField, F, Sum, When
from django.db.models.functions import TruncWeek

from sellers.models import ProgramKey, ShippingSubsidy
from sellers.selectors import PARTICIPATION, ProgramResults, program_results

MONEY = DecimalField(max_digits=12, decimal_places=2)


@dataclass(frozen=True)
class ProgramCharts:
    results: ProgramResults
    charts: dict  # for json_script: every chart's labels and datasets


def program_charts(*, now: datetime, weeks: int) -> ProgramCharts:
    """The results (seven queries) and the data of each chart (one more query, whatever the number
    of members or orders):

    - first_sale_rate: per program, the share of sellers who made a first sale, by join week, in
      and out of the program (null where a week had no such seller);
    - time_to_first_sale: per program, the average days from joining to a first sale in and out of
      it, over the weeks (each cohort weighted by its first sales);
    - subsidy: the shipping discount's spending (debits less credits) added up week by week,
      against its budget;
    - buyer_habit: by the week of their first order, buyers and how many placed 2, 3 and the habit
      point's number of orders within the habit window.
    """
    results = program_results(now=now, weeks=weeks)
    return ProgramCharts(
        results=results,
        charts={
            "first_sale_rate": _first_sale_rates(results),
            "time_to_first_sale": _times_to_first_sale(results),
            "subsidy": _subsidy_spending(results),
            "buyer_habit": _buyer_habit(results),
        },
    )


def _week(day: date) -> str:
    return day.isoformat()


def _first_sale_rates(results: ProgramResults) -> dict:
    charts = {}
    for program in PARTICIPATION:
        cohorts = [cohort for cohort in results.first_sale if cohort.program == program]
        labels = sorted({cohort.week_starting for cohort in cohorts})
        rates = {
            (cohort.week_starting, cohort.in_program): round(cohort.first_sale_rate * 100, 1) for cohort in cohorts
        }
        charts[program.value] = {
            "title": ProgramKey(program).label,
            "labels": [_week(week) for week in labels],
            "in_program": [rates.get((week, True)) for week in labels],
            "out_of_program": [rates.get((week, False)) for week in labels],
        }
    return charts


def _times_to_first_sale(results: ProgramResults) -> dict:
    days = {}
    for cohort in results.first_sale:
        if cohort.average_days_to_first_sale is not None:
            total, sales = days.get((cohort.program, cohort.in_program), (0.0, 0))
            days[cohort.program, cohort.in_program] = (
                total + cohort.average_days_to_first_sale * cohort.first_sales,
                sales + cohort.first_sales,
            )

    def average(program, in_program):
        total, sales = days.get((program, in_program), (0.0, 0))
        return round(total / sales, 1) if sales else None

    return {
        "labels": [ProgramKey(program).label for program in PARTICIPATION],
        "in_program": [average(program, True) for program in PARTICIPATION],
        "out_of_program": [average(program, False) for program in PARTICIPATION],
    }


def _subsidy_spending(results: ProgramResults) -> dict:
    program = results.subsidy.program
    net = Case(When(entry=ShippingSubsidy.Entry.CREDIT, then=-F("amount")), default=F("amount"), output_field=MONEY)
    rows = (
        ShippingSubsidy.objects.filter(program_id=program.pk)
        .annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(net=Sum(net))
        .order_by("week")
    )
    labels, spent, total = [], [], Decimal("0.00")
    for row in rows:
        total += row["net"]
        labels.append(_week(row["week"].date()))
        spent.append(float(total))
    return {
        "currency": program.currency,
        "budget": float(program.budget),
        "spent": float(program.spent),
        "remaining": float(program.remaining),
        "labels": labels,
        "spent_by_week": spent,
    }


def _buyer_habit(results: ProgramResults) -> dict:
    cohorts = results.buyer_habit
    return {
        "habit_orders": results.habit_orders,
        "habit_days": results.habit_days,
        "labels": [_week(cohort.week_starting) for cohort in cohorts],
        "buyers": [cohort.buyers for cohort in cohorts],
        "with_two_orders": [cohort.with_two_orders for cohort in cohorts],
        "with_three_orders": [cohort.with_three_orders for cohort in cohorts],
        "reached_habit": [cohort.reached_habit for cohort in cohorts],
    }

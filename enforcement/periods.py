"""Period arithmetic (期间计算): the one place where legal periods are counted.

Rules (Civil Procedure Law art. 85 and its interpretation):

* A period counted in days, months or years starts on the day after the event; the day of the
  event itself is not counted. A period of N days after event day D therefore ends on D + N.
* A month or year period ends on the day of the last month that corresponds to the event day; when
  that month has no such day, it ends on the month's last day (2024-02-29 + 1 year ends 2025-02-28,
  2025-01-31 + 1 month ends 2025-02-28).
* A deadline owed by a court or a party whose last day is a statutory holiday (including weekend
  rest days that are not adjusted working days) moves to the next working day. Measure expiry is
  *not* moved: callers choose with ``shift_holiday``.

The Chinese holiday calendar comes from the ``chinesecalendar`` package. For years it does not
cover yet (the State Council publishes each year's schedule late in the previous year), Saturdays
and Sundays are treated as rest days and nothing else.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import logging
from dataclasses import dataclass

import chinese_calendar

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Period:
    """A legal period: a number of days, months or years."""

    days: int = 0
    months: int = 0
    years: int = 0

    def __post_init__(self) -> None:
        if min(self.days, self.months, self.years) < 0:
            raise ValueError("a period cannot be negative")
        if sum(1 for v in (self.days, self.months, self.years) if v) > 1:
            raise ValueError("a period is counted in one unit: days, months or years")


def add_months(day: dt.date, months: int) -> dt.date:
    """The corresponding day ``months`` later, or that month's last day when there is none."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))


@functools.cache
def _warn_uncovered(year: int) -> None:
    logger.warning("holiday calendar has no data for %s; counting weekends only", year)


@functools.lru_cache(maxsize=4096)
def is_working_day(day: dt.date) -> bool:
    """True on a working day of the Chinese calendar (adjusted working days included). Kept per
    day: ``chinesecalendar`` scans its whole table for the range it covers on every question, and a
    list page asks it a hundred times."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        _warn_uncovered(day.year)
        return day.weekday() < 5


def next_working_day(day: dt.date) -> dt.date:
    """``day`` itself when it is a working day, otherwise the first working day after it."""
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def period_end(event: dt.date, period: Period, *, shift_holiday: bool = True) -> dt.date:
    """The last day of ``period`` counted from the day after ``event``.

    ``shift_holiday`` moves an end falling on a rest day to the next working day (deadlines owed
    by courts or parties). Statutory maximum durations of measures pass ``shift_holiday=False``.
    """
    if period.days:
        end = event + dt.timedelta(days=period.days)
    else:
        end = add_months(event, period.months + 12 * period.years)
    return next_working_day(end) if shift_holiday else end


def days_covered(after: dt.date, intervals) -> int:
    """Days after ``after`` covered by the union of the intervals (both ends inclusive).

    How much periods that do not count (art. 237 excluded periods) extend a period that runs from
    ``after``: days on or before ``after`` are outside it, overlapping intervals count once.
    """
    total, reach = 0, after
    for start, end in sorted(intervals):
        start = max(start, reach + dt.timedelta(days=1))
        if end >= start:
            total += (end - start).days + 1
            reach = end
    return total

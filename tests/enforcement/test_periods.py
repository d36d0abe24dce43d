"""Period arithmetic: the start day is not counted, month ends clamp, holidays shift deadlines."""

import datetime as dt

import pytest

from enforcement.periods import Period, add_months, is_working_day, next_working_day, period_end

D = dt.date


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2024, 2, 29), 12, D(2025, 2, 28)),  # leap day + 1 year: no Feb 29, month's last day
        (D(2024, 2, 29), 48, D(2028, 2, 29)),  # four years later the day exists again
        (D(2025, 1, 31), 1, D(2025, 2, 28)),
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2025, 8, 31), 6, D(2026, 2, 28)),
        (D(2025, 3, 15), 6, D(2025, 9, 15)),
        (D(2025, 12, 31), 2, D(2026, 2, 28)),
        (D(2025, 11, 30), 3, D(2026, 2, 28)),
    ],
)
def test_add_months_clamps_to_month_end(start, months, expected):
    assert add_months(start, months) == expected


def test_day_period_starts_the_day_after_the_event():
    # A 7-day period after Monday 2025-03-03 ends Monday 2025-03-10 (a working day).
    assert period_end(D(2025, 3, 3), Period(days=7)) == D(2025, 3, 10)
    # A 3-day period after Wednesday 2025-03-05 would end Saturday 03-08: moved to Monday 03-10.
    assert period_end(D(2025, 3, 5), Period(days=3)) == D(2025, 3, 10)
    assert period_end(D(2025, 3, 5), Period(days=3), shift_holiday=False) == D(2025, 3, 8)


def test_deadline_on_national_day_moves_past_the_golden_week():
    # 2025-10-01..08 is the National Day / Mid-Autumn holiday; 10-09 is the first working day.
    assert period_end(D(2025, 4, 1), Period(months=6)) == D(2025, 10, 9)
    assert period_end(D(2025, 4, 1), Period(months=6), shift_holiday=False) == D(2025, 10, 1)


def test_adjusted_working_weekend_counts_as_working_day():
    # Sunday 2025-09-28 is an adjusted working day (调休) in the 2025 schedule.
    assert D(2025, 9, 28).weekday() == 6
    assert is_working_day(D(2025, 9, 28))
    assert period_end(D(2025, 9, 21), Period(days=7)) == D(2025, 9, 28)


def test_spring_festival_2026_holiday_shift():
    # 2026-02-15..23 is the Spring Festival holiday; 02-24 is the first working day.
    assert not is_working_day(D(2026, 2, 17))
    assert next_working_day(D(2026, 2, 16)) == D(2026, 2, 24)


def test_year_period_leap_day():
    assert period_end(D(2024, 2, 29), Period(years=1), shift_holiday=False) == D(2025, 2, 28)
    # 2025-02-28 is a Friday and a working day: no shift.
    assert period_end(D(2024, 2, 29), Period(years=1)) == D(2025, 2, 28)


def test_years_without_calendar_data_fall_back_to_weekends():
    # The package has no schedule beyond its data; a Saturday still moves to Monday.
    assert next_working_day(D(2031, 3, 1)) == D(2031, 3, 3)
    assert is_working_day(D(2031, 3, 4))


def test_period_counts_in_one_unit_and_not_negative():
    with pytest.raises(ValueError):
        Period(days=1, months=1)
    with pytest.raises(ValueError):
        Period(days=-1)


def test_days_covered_counts_the_union_after_the_start():
    from enforcement.periods import days_covered

    start = D(2025, 3, 10)
    assert days_covered(start, []) == 0
    assert days_covered(start, [(D(2025, 4, 1), D(2025, 4, 10))]) == 10
    # overlapping intervals count once; days on or before the start do not count
    assert days_covered(start, [(D(2025, 4, 5), D(2025, 4, 16)), (D(2025, 4, 1), D(2025, 4, 10))]) == 16
    assert days_covered(start, [(D(2025, 3, 1), D(2025, 3, 12))]) == 2
    assert days_covered(start, [(D(2025, 2, 1), D(2025, 3, 10))]) == 0

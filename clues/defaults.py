"""Statutory maximum periods of measures in months (CPL interpretation 2022 art. 485; IP
preservation rules). Platform and payment balances follow the deposit rule (1 year) by default,
as DOMAIN.md says. Seeded into ``MeasurePeriodRule``, where operators may change them."""

DEFAULT_PERIOD_MONTHS = {
    "bank_deposit": 12,
    "platform_balance": 12,
    "payment_account": 12,
    "movable": 24,
    "real_estate": 36,
    "other_property_right": 36,
    "patent": 6,
    "trademark": 12,
}

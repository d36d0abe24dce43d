from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_period_rules(sender, using="default", **kwargs):
    """Reference data, not domain logic: the default periods exist after every migrate or flush
    (rows an operator changed are left as they are)."""
    from .defaults import DEFAULT_PERIOD_MONTHS
    from .models import MeasurePeriodRule

    for asset_kind, months in DEFAULT_PERIOD_MONTHS.items():
        MeasurePeriodRule.objects.using(using).get_or_create(asset_kind=asset_kind, defaults={"months": months})


class CluesConfig(AppConfig):
    name = "clues"

    def ready(self):
        post_migrate.connect(ensure_period_rules, sender=self)

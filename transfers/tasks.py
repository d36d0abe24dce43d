"""Celery tasks of the transfers app: thin wrappers around services, idempotent."""

from celery import shared_task

from . import services


@shared_task(name="transfers.tasks.flag_overdue_orders")
def flag_overdue_orders() -> int:
    return services.flag_overdue_orders()


@shared_task(name="transfers.tasks.remind_transfer_deadlines")
def remind_transfer_deadlines() -> int:
    return services.remind_transfer_deadlines()


@shared_task(name="transfers.tasks.expire_file_access")
def expire_file_access() -> int:
    return services.expire_file_access()


@shared_task(name="transfers.tasks.follow_trigger_defaults")
def follow_trigger_defaults() -> bool:
    return services.follow_trigger_defaults()

"""Celery tasks of the clues app: thin wrappers around services, idempotent."""

from celery import shared_task

from . import services


@shared_task(name="clues.tasks.expire_measures")
def expire_measures() -> int:
    return services.expire_measures()


@shared_task(name="clues.tasks.remind_expiring_measures")
def remind_expiring_measures() -> int:
    return services.remind_expiring()

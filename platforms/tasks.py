"""Celery tasks of the platforms app: thin, idempotent, ids only."""

from celery import shared_task

from . import services


@shared_task(name="platforms.tasks.deliver_notice", acks_late=True)
def deliver_notice(notice_id: int) -> str:
    return services.deliver(notice_id)


@shared_task(name="platforms.tasks.deliver_notices", acks_late=True)
def deliver_notices(notice_ids: list[int]) -> dict:
    """One request's notices (or a sweep's batch), delivered together."""
    return {str(pk): outcome for pk, outcome in services.deliver_many(notice_ids).items()}


@shared_task(name="platforms.tasks.sweep_notices")
def sweep_notices() -> int:
    return services.sweep()

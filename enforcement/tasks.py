"""Celery tasks of the enforcement app: thin wrappers around services."""

from celery import shared_task

from . import audit


@shared_task(name="enforcement.tasks.checkpoint_audit_chains")
def checkpoint_audit_chains() -> int:
    """Sign the heads of all audit chains (beat, every 10 minutes by default)."""
    return audit.checkpoint().pk

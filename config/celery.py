"""The Celery application: tasks are discovered in each app's tasks.py."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def close_old_connections(sender=None, **kwargs) -> None:
    """Around each task, what Django does around each request: close the database connections
    that are past ``CONN_MAX_AGE`` or unusable, keep the others (``CELERY_DB_REUSE_MAX`` stops the
    fixup's own close). Not for eager tasks, which run inside the caller's transaction."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections as close

    close()


@worker_process_init.connect
def freeze_loaded_objects(**kwargs) -> None:
    """A pool process has loaded the project: what it loaded lives as long as the process, so
    full collections need not walk it again (``gc.freeze``). Unlike web processes
    (``config.runtime.settle_heap``) the collector keeps its default thresholds: a higher first
    threshold made workers deliver ~25 % fewer notices per second (docs/PERFORMANCE.md)."""
    import gc

    gc.freeze()

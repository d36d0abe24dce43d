"""Run the same step from several threads at the same moment, each on its own database connection
(for tests of what two courts or two judges do at once; needs ``django_db(transaction=True)``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from django.db import connection


def run_at_once(target: Callable, args_list: Iterable[tuple], timeout: float = 60) -> tuple[list, list]:
    """Call ``target(*args)`` for each ``args`` in its own thread, all released by one barrier.
    Returns the results and the exceptions raised (both in no particular order)."""
    args_list = list(args_list)
    barrier = threading.Barrier(len(args_list))
    lock = threading.Lock()
    results: list = []
    failures: list[BaseException] = []

    def run(args):
        try:
            barrier.wait(timeout=timeout / 2)
            result = target(*args)
            with lock:
                results.append(result)
        except BaseException as exc:  # noqa: BLE001 - reported to the caller
            with lock:
                failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(args,)) for args in args_list]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results, failures

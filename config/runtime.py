"""Process-wide tuning applied once a web process has loaded the project."""

import gc

from django.conf import settings


def settle_heap() -> None:
    """Move everything loaded so far (modules, models, URL patterns: ~150,000 objects that live as
    long as the process) out of the cyclic garbage collector's reach, and collect young objects
    less often. Each full collection otherwise walked all of them again and freed the request's
    cyclic garbage in one go: 80–160 ms pauses every ten requests or so (docs/PERFORMANCE.md)."""
    gc.set_threshold(*settings.GC_THRESHOLD)
    gc.freeze()

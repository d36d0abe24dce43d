"""Process tuning of web and worker processes (config.runtime)."""

import json
import os
import subprocess
import sys

from django.conf import settings

PROBE = (
    "import gc, json; before = gc.get_freeze_count(); import config.wsgi; "
    "print(json.dumps([before, gc.get_freeze_count(), gc.get_threshold()]))"
)


def probe(**env) -> list:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": "sqlite://:memory:", **env},
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_web_process_freezes_what_it_loaded_and_collects_young_objects_less_often():
    before, after, threshold = probe()
    assert before == 0 and after > 20_000  # the project's modules, models and URL patterns
    assert tuple(threshold) == settings.GC_THRESHOLD == (20_000, 10, 10)


def test_the_collector_thresholds_come_from_the_environment():
    assert probe(GC_THRESHOLD="700,10,10")[2] == [700, 10, 10]

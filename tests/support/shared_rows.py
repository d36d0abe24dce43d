"""Rows built once for a class of tests, the way Django's ``TestCase.setUpTestData`` does it.

The permission matrices send one request per (user, page) against the same rows: building those
rows again for each of a few hundred parameters was most of the suite's time. A test class that
sets ``build_rows`` (a function of the class-scoped fixture request, for fixtures of the module or
the session such as a stand-in platform process, returning the rows' objects) gets them through
the ``shared_rows`` fixture of tests/conftest.py:

* ``built_once`` builds them inside a transaction that stays open while the class's tests run and
  is rolled back after its last test. Each test's own transaction (pytest-django's ``db``) nests in
  it as a savepoint, so whatever a test writes is undone before the next test starts, as before;
* every test gets its own deep copy of the Python objects (``TestCase`` does the same), so that a
  ``refresh_from_db()`` or an attribute set in one test never reaches the next one;
* files written while building (documents) go to a directory of the class, which is the test's
  ``MEDIA_ROOT`` for the tests of the class.

Only for tests on the non-transactional ``db``: a ``transactional_db`` or ``live_server`` test
cannot run inside the open transaction.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from django.db import transaction
from django.test import override_settings

T = TypeVar("T")


@contextmanager
def built_once(django_db_blocker, media_root: Path, build: Callable[[], T]) -> Iterator[T]:
    """``build()`` in a transaction that is open while the context is, then rolled back."""
    outer = transaction.atomic()
    with django_db_blocker.unblock():
        outer.__enter__()
        try:
            with override_settings(MEDIA_ROOT=media_root):
                rows = build()
        except BaseException:
            outer.__exit__(*sys.exc_info())  # rolls the partial rows back
            raise
    try:
        yield rows
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


class SharedCast:
    """``cast`` from the class's shared rows (a ``build_rows`` returning an object with ``cast``)."""

    @pytest.fixture
    def cast(self, shared_rows):
        return shared_rows.cast


class SharedCastAndWorld(SharedCast):
    """``cast`` and ``world`` from the class's shared rows."""

    @pytest.fixture
    def world(self, shared_rows):
        return shared_rows.world

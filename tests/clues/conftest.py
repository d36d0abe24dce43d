"""Fixtures of the clue and measure tests: platforms and a frozen clock."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.clues.factories import PlatformFactory


@pytest.fixture
def alipay(db):
    return PlatformFactory(code="alipay", name="支付宝", kind="payment")


@pytest.fixture
def taobao(db):
    return PlatformFactory(code="taobao", name="淘宝", kind="ecommerce")


@pytest.fixture
def freeze_today(monkeypatch):
    """Freeze ``timezone.localdate()`` (what services, queries and tasks call "today")."""
    real = timezone.localdate

    def _freeze(day: dt.date) -> dt.date:
        def fake(value=None, timezone=None):
            if value is None:
                return day
            return real(value, timezone)

        monkeypatch.setattr("django.utils.timezone.localdate", fake)
        return day

    return _freeze

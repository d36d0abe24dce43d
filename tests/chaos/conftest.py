"""The fault-injection scenario (``make chaos``) lives in ``chaos_scenario.py``: it does not match
``python_files``, so the default ``pytest`` run never collects it; ``make chaos`` names it."""

from tests.integration.conftest import case, company  # noqa: F401 - the same debtor and case


def pytest_configure(config):
    config.addinivalue_line("markers", "chaos: the fault-injection scenario of `make chaos` (minutes, own Redis)")

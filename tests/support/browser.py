"""Steps the browser tests share."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.factories import PASSWORD


def login(page, username: str) -> None:
    """Sign in as ``username`` (test password) in a fresh session; returns once the court's name
    shows in the navigation bar."""
    page.context.clear_cookies()
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    expect(page.locator("nav .court-name")).to_be_visible()

"""The UI opens in Chinese whatever the browser asks, and switches to English on request."""

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_english_browser_still_gets_chinese_until_the_user_switches(client, cast):
    client.force_login(cast.assigned)
    page = client.get(reverse("workbench"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "我的工作台" in page
    client.post(reverse("set_language"), {"language": "en", "next": "/workbench/"})
    page = client.get(reverse("workbench"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "My workbench" in page

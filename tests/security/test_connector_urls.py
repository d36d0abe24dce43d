"""Connector URLs (SSRF): a connector may point only at an http(s) host that is not link-local, a
cloud metadata service, an unspecified address or this server itself, unless CONNECTOR_ALLOWED_HOSTS
lists the host. Checked when the connector is saved and again before every request."""

from __future__ import annotations

import re
import socket

import pytest
import requests
from django.core.exceptions import ValidationError

from platforms import services, transport
from platforms.models import Connector
from tests.clues.factories import PlatformFactory

pytestmark = pytest.mark.django_db

HAS_CJK = re.compile(r"[\u4e00-\u9fff]")
SECRET = "secret-of-the-platform-0001"


@pytest.fixture
def platform(db):
    return PlatformFactory(code="jd", name="京东")


def save(actor, platform, base_url):
    return services.save_connector(
        actor, platform, base_url=base_url, key_id="k1", secret=SECRET, capabilities=["query"]
    )


def refused(actor, platform, base_url) -> str:
    before = Connector.objects.count()
    with pytest.raises(ValidationError) as exc:
        save(actor, platform, base_url)
    errors = exc.value.message_dict
    assert list(errors) == ["base_url"], errors
    assert all(HAS_CJK.search(m) for m in errors["base_url"]), errors
    assert Connector.objects.count() == before
    return errors["base_url"][0]


@pytest.fixture
def fake_dns(monkeypatch):
    """Names resolve to the given addresses; every other name resolves to a public address."""
    table: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in table:
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in table[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


@pytest.mark.parametrize(
    "url", ["ftp://platform.example/x", "file:///etc/passwd", "gopher://x", "http://", "https:///x"]
)
def test_only_http_urls_with_a_host(sysadmin, platform, url):
    refused(sysadmin, platform, url)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://169.254.169.254/latest/meta-data", "元数据"),
        ("http://169.254.170.2/v2/credentials", "元数据"),
        ("http://100.100.100.200/latest/meta-data", "元数据"),  # Alibaba Cloud
        ("http://metadata.google.internal/computeMetadata/v1", "元数据"),
        ("http://METADATA.tencentyun.com./x", "元数据"),
        ("http://[fd00:ec2::254]/latest", "元数据"),
        ("http://[::ffff:169.254.169.254]/x", "元数据"),
        ("http://2852039166/x", "元数据"),  # 169.254.169.254 written as one number
        ("http://169.254.1.1:8080/notices", "链路本地"),
        ("http://[fe80::1]/notices", "链路本地"),
        ("http://0.0.0.0:8000/notices", "未指定"),
        ("http://[::]/notices", "未指定"),
    ],
)
def test_link_local_metadata_and_unspecified_addresses_are_refused(sysadmin, platform, url, words):
    assert words in refused(sysadmin, platform, url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/notices",
        "http://127.0.0.2/notices",
        "http://[::1]:8000/notices",
        "http://localhost:8000/notices",
        "http://testserver/notices",  # one of ALLOWED_HOSTS
        "https://court.example/api",  # an ALLOWED_HOSTS name given in production
        "https://www.court.example/api",  # a ".court.example" ALLOWED_HOSTS wildcard
    ],
)
def test_the_server_itself_is_refused(sysadmin, platform, settings, url):
    settings.CONNECTOR_ALLOWED_HOSTS = []
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "court.example", ".court.example"]
    assert "本系统服务器自身" in refused(sysadmin, platform, url)


def test_the_stand_in_platforms_on_loopback_are_allowed_by_default_in_development(sysadmin, platform, settings):
    assert settings.CONNECTOR_ALLOWED_HOSTS == ["127.0.0.1", "localhost"]
    assert save(sysadmin, platform, "http://127.0.0.1:9/jd").base_url == "http://127.0.0.1:9/jd"
    assert save(sysadmin, platform, "http://localhost:9/jd").base_url == "http://localhost:9/jd"


def test_an_explicitly_allowed_host_is_accepted(sysadmin, platform, settings):
    settings.CONNECTOR_ALLOWED_HOSTS = ["169.254.10.10", "testserver"]
    assert save(sysadmin, platform, "http://169.254.10.10/jd").base_url == "http://169.254.10.10/jd"
    assert save(sysadmin, platform, "http://testserver/jd").base_url == "http://testserver/jd"
    refused(sysadmin, platform, "http://169.254.10.11/jd")  # only the host listed


@pytest.mark.parametrize(
    "url",
    ["https://203.0.113.10/api", "http://10.12.0.5:8443/jd", "https://192.168.3.4/api", "https://[2001:db8::5]/a"],
)
def test_ordinary_addresses_are_accepted(sysadmin, platform, settings, url):
    """Platforms reached over a court's private network (10/8, 192.168/16) are fine."""
    settings.CONNECTOR_ALLOWED_HOSTS = []
    assert save(sysadmin, platform, url).base_url == url


def test_a_name_is_resolved_and_every_address_checked(sysadmin, platform, settings, fake_dns):
    settings.CONNECTOR_ALLOWED_HOSTS = []
    fake_dns["platform.example"] = ["169.254.169.254"]
    assert "元数据" in refused(sysadmin, platform, "https://platform.example/api")
    fake_dns["rebind.example"] = ["203.0.113.7", "127.0.0.1"]
    assert "本系统服务器自身" in refused(sysadmin, platform, "https://rebind.example/api")
    fake_dns["v6.example"] = ["2001:db8::1", "fe80::1%eth0"]
    assert "链路本地" in refused(sysadmin, platform, "https://v6.example/api")
    fake_dns["good.example"] = ["203.0.113.7", "2001:db8::1"]
    assert save(sysadmin, platform, "https://good.example/api").base_url == "https://good.example/api"


def test_refused_through_the_api(sysadmin, platform, api_client):
    api_client.force_authenticate(sysadmin)
    before = Connector.objects.count()
    response = api_client.post(
        "/api/v1/connectors/",
        {
            "platform": platform.code,
            "base_url": "http://169.254.169.254/latest",
            "key_id": "k1",
            "secret": SECRET,
            "capabilities": ["query"],
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "base_url" in response.json(), response.json()
    assert Connector.objects.count() == before


# --------------------------------------------------------------------------------------------
# send time: the destination is checked again (DNS may have changed), nothing is connected to
# --------------------------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch):
    calls = []

    def refuse(*args, **kwargs):
        calls.append((args, kwargs))
        raise AssertionError("transport connected to a forbidden destination")

    monkeypatch.setattr(transport._session, "post", refuse)
    monkeypatch.setattr(transport._session, "get", refuse)
    return calls


def test_send_time_recheck_after_dns_change(sysadmin, platform, settings, fake_dns, no_network):
    settings.CONNECTOR_ALLOWED_HOSTS = []
    fake_dns["platform.example"] = ["203.0.113.7"]
    connector = save(sysadmin, platform, "https://platform.example/api")
    fake_dns["platform.example"] = ["169.254.169.254"]  # the name now points at the metadata service
    with pytest.raises(transport.DeliveryError) as exc:
        transport.post_signed(
            f"{connector.base_url}/notices", key_id="k1", secret=SECRET, msg_id="ntc_1", payload={}, timeout_s=1
        )
    assert exc.value.error_class == "forbidden_destination" and exc.value.retryable is False
    with pytest.raises(transport.DeliveryError):
        transport.get(f"{connector.base_url}/_health", timeout_s=1)
    assert no_network == []


def test_send_time_recheck_after_the_allowlist_shrinks(sysadmin, platform, settings, no_network):
    connector = save(sysadmin, platform, "http://127.0.0.1:9/jd")
    settings.CONNECTOR_ALLOWED_HOSTS = []
    with pytest.raises(transport.DeliveryError) as exc:
        transport.post_signed(
            f"{connector.base_url}/notices", key_id="k1", secret=SECRET, msg_id="ntc_1", payload={}, timeout_s=1
        )
    assert exc.value.error_class == "forbidden_destination" and exc.value.retryable is False
    assert no_network == []


def test_health_check_of_a_forbidden_destination_does_not_connect(sysadmin, platform, settings, no_network):
    connector = save(sysadmin, platform, "http://127.0.0.1:9/jd")
    settings.CONNECTOR_ALLOWED_HOSTS = []
    connector = services.check_connector_health(sysadmin, connector)
    assert connector.last_health_ok is False
    assert no_network == []


def test_redirects_are_not_followed(monkeypatch):
    """A platform answering 3xx cannot send us elsewhere: the answer is a permanent failure."""
    seen = {}

    def fake_send(self, request, **kwargs):
        seen["allow_redirects"] = kwargs.get("allow_redirects")
        response = transport.requests.Response()
        response.status_code = 302
        response.headers["Location"] = "http://169.254.169.254/latest/meta-data"
        response._content = b""
        response.url = request.url
        response.request = request
        return response

    monkeypatch.setattr(transport.requests.Session, "send", fake_send)
    with pytest.raises(transport.DeliveryError) as exc:
        transport.post_signed(
            "http://127.0.0.1:9/jd/notices", key_id="k1", secret=SECRET, msg_id="ntc_1", payload={}, timeout_s=1
        )
    assert exc.value.error_class == "http_302" and exc.value.retryable is False
    assert seen["allow_redirects"] is False


def test_outbound_requests_ignore_proxies_from_the_environment(mock_platforms, monkeypatch):
    """A proxy named in the environment would carry notices to a host nobody checked: requests go
    straight to the connector's host whatever *_PROXY says."""
    from tests.support.platforms import platform_config

    mock = mock_platforms({"jd": platform_config("jd")})
    dead = "http://127.0.0.1:9"  # nothing listens there: a request through it would fail
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, dead)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    cfg = mock.config["jd"]
    answer = transport.post_signed(
        f"{mock.base}/jd/notices",
        key_id=cfg["key_id"],
        secret=cfg["secret"],
        msg_id="ntc_proxy_test",
        payload={"notice_id": "ntc_proxy_test", "kind": "query", "holder_id": "x", "holder_name": "x"},
        timeout_s=2,
    )
    assert answer.http_status in (200, 202)
    with pytest.raises(requests.exceptions.ProxyError):  # a client that reads the environment fails
        requests.get(f"{mock.base}/_health", timeout=2)
    monkeypatch.undo()
    assert [r["idempotency_key"] for r in mock.ledger("jd")["requests"]] == ["ntc_proxy_test"]

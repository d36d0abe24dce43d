"""Hostile input through the API: oversize and mistyped uploads, path tricks in file names, huge JSON
bodies, unicode edge cases and injection strings. Each is refused with a clear 400 and nothing
stored, or stored verbatim and shown escaped; never a 500."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from clues.models import PropertyClue
from enforcement.models import AuditEntry, CaseDocument, CaseEvent, EnforcementCase, Party
from tests.clues.factories import PlatformFactory
from tests.factories import PartyFactory

pytestmark = pytest.mark.django_db

HAS_CJK = re.compile(r"[\u4e00-\u9fff]")


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def messages_of(body) -> list[str]:
    if isinstance(body, str):
        return [body]
    if isinstance(body, list):
        return [m for item in body for m in messages_of(item)]
    if isinstance(body, dict):
        return [m for value in body.values() for m in messages_of(value)]
    return []


def stored_files() -> list[str]:
    root = django_settings.MEDIA_ROOT
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def counts() -> tuple:
    return (
        CaseDocument.objects.count(),
        Party.objects.count(),
        EnforcementCase.objects.count(),
        PropertyClue.objects.count(),
        AuditEntry.objects.count(),
        CaseEvent.objects.count(),
    )


def multipart(fields: dict[str, str], filename: bytes, content: bytes, content_type: str = "application/pdf"):
    """A multipart body written by hand, so the file name reaches the server exactly as given (the
    test client would strip its directory part)."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="'.encode()
        + filename
        + f'"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def upload(user, case, filename: bytes, content: bytes = b"%PDF-1.4 x\n", content_type="application/pdf"):
    body, ctype = multipart({"doc_type": "ruling", "title": "执行裁定书"}, filename, content, content_type)
    return client_for(user).post(f"/api/v1/cases/{case.pk}/documents/", body, content_type=ctype)


# --------------------------------------------------------------------------------------------
# uploads
# --------------------------------------------------------------------------------------------


def assert_refused(response, field="file"):
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body, body
    assert all(HAS_CJK.search(m) for m in messages_of(body[field])), body


def test_oversize_upload_is_refused_and_nothing_stored(cast, settings):
    settings.CASE_DOCUMENT_MAX_BYTES = 1024
    before = counts()
    response = upload(cast.assigned, cast.case, b"big.pdf", b"%PDF-1.4\n" + b"x" * 2048)
    assert_refused(response)
    assert "不能超过" in " ".join(messages_of(response.json()))
    assert counts() == before and stored_files() == []


def test_upload_beyond_the_request_limit_is_refused_not_500(cast, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    settings.CASE_DOCUMENT_MAX_BYTES = 512
    before = counts()
    response = upload(cast.assigned, cast.case, b"big.pdf", b"%PDF-1.4\n" + b"x" * 4096)
    assert response.status_code in (400, 413), response.content
    assert counts() == before and stored_files() == []


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [
        (b"payload.exe", "application/x-msdownload"),
        (b"ruling.pdf.exe", "application/pdf"),
        (b"shell.php", "application/pdf"),
        (b"page.html", "text/html"),
        (b"page.svg", "image/svg+xml"),
        (b"noextension", "application/pdf"),
        (b".pdf", "application/pdf"),
        (b"ruling.pdf ", "application/pdf"),
    ],
)
def test_wrong_extension_is_refused_and_nothing_stored(cast, filename, content_type):
    before = counts()
    assert_refused(upload(cast.assigned, cast.case, filename, content_type=content_type))
    assert counts() == before and stored_files() == []


@pytest.mark.parametrize(
    "filename",
    [
        b"../../etc/passwd.pdf",
        b"..\\..\\windows\\win.ini.pdf",
        b"/etc/cron.d/evil.pdf",
        b"C:\\temp\\evil.pdf",
        b"evil\x00.exe.pdf",
        b"%2e%2e%2fevil.pdf",
        b"&#46;&#46;&#47;evil.pdf",
        ("长" * 300 + ".pdf").encode(),
        b"a" * 1000 + b".pdf",
    ],
    ids=["dotdot", "backslash", "absolute", "drive", "nul", "urlencoded", "html-entities", "long-cjk", "long"],
)
def test_path_tricks_in_file_names_stay_inside_media_root(cast, filename, tmp_path):
    """Either refused with a clear 400 and nothing stored, or stored under MEDIA_ROOT under a name of
    our own making, with the shown name free of any directory part."""
    before = counts()
    response = upload(cast.assigned, cast.case, filename)
    assert response.status_code in (201, 400), response.content
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and django_settings.MEDIA_ROOT not in p.parents]
    assert outside == []
    if response.status_code == 400:  # a clear message: on the file, or the parser's (header too long)
        assert "file" in response.json() or "detail" in response.json(), response.json()
        assert counts() == before and stored_files() == []
        return
    document = CaseDocument.objects.get()
    assert stored_files() == [document.file.name]
    assert re.fullmatch(rf"(?:[\w-]+/)*{cast.case.pk}-[0-9a-f]{{16}}\.pdf", document.file.name), document.file.name
    assert not re.search(r"[/\\\x00]", document.original_name), document.original_name
    assert document.original_name not in ("", ".", "..") and len(document.original_name) <= 255


def test_path_tricks_through_the_service(cast):
    """Callers other than the HTTP parser (commands, tasks) get the same protection."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from enforcement import services

    document = services.add_document(
        cast.assigned,
        cast.case,
        doc_type="ruling",
        title="执行裁定书",
        upload=SimpleUploadedFile("../../etc/passwd.pdf", b"%PDF-1.4 x\n", content_type="application/pdf"),
    )
    assert document.original_name == "passwd.pdf"
    assert stored_files() == [document.file.name] and ".." not in document.file.name


# --------------------------------------------------------------------------------------------
# huge and malformed JSON
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("megabytes", [5, 25])
def test_huge_json_body_is_refused_not_500(cast, megabytes):
    before = counts()
    body = json.dumps({"kind": "organization", "name": "甲" * 10, "address": "x" * (megabytes * 1024 * 1024)})
    response = client_for(cast.assigned).post("/api/v1/parties/", body, content_type="application/json")
    assert response.status_code in (400, 413), response.content[:500]
    assert counts() == before


def test_deeply_nested_json_is_refused_not_500(cast):
    before = counts()
    body = "[" * 100_000 + "]" * 100_000
    response = client_for(cast.assigned).post("/api/v1/parties/", body, content_type="application/json")
    assert response.status_code == 400, response.content[:500]
    assert counts() == before


@pytest.mark.parametrize(
    "body",
    ['{"kind": "organization", "name": ', "\xff\xfe", '["a", "b"]', "null", '"just a string"'],
    ids=["truncated", "not-utf8", "list", "null", "string"],
)
def test_malformed_json_is_refused_not_500(cast, body):
    before = counts()
    response = client_for(cast.assigned).post(
        "/api/v1/parties/", body.encode("latin-1"), content_type="application/json"
    )
    assert response.status_code == 400, response.content[:500]
    assert counts() == before


# --------------------------------------------------------------------------------------------
# unicode in names
# --------------------------------------------------------------------------------------------

UNICODE_NAMES = {
    "emoji": "张三😀👨‍👩‍👧",
    "combining": "Zoë Ångström e\u0301\u0302\u0303",
    "rtl-marks": "\u202eabc\u202c 李四 \u200fمحمد\u200e",
    "cjk-ext-b": "𠀀𠮷𡈽",  # outside the BMP
    "zero-width": "王\u200b五\u200d",
    "max-length": "龘" * 200,
}


@pytest.mark.parametrize("name", UNICODE_NAMES.values(), ids=UNICODE_NAMES.keys())
def test_unicode_names_are_stored_exactly(cast, name):
    response = client_for(cast.assigned).post(
        "/api/v1/parties/", {"kind": "organization", "name": name, "address": name}, format="json"
    )
    assert response.status_code == 201, response.content
    party = Party.objects.get(pk=response.json()["id"])
    assert party.name == name and party.address == name
    assert client_for(cast.assigned).get(f"/api/v1/parties/{party.pk}/").json()["name"] == name


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("龘" * 201, "name"),
        ("x" * 5000, "name"),
        ("张\x00三", "name"),
        ("\ud800张三", "name"),  # a lone surrogate: not valid Unicode text, PostgreSQL cannot store it
        ("   ", "name"),
    ],
    ids=["201-chars", "5000-chars", "nul", "lone-surrogate", "blank"],
)
def test_bad_names_are_refused_with_a_clear_message(cast, name, field):
    before = counts()
    body = json.dumps({"kind": "organization", "name": name}, ensure_ascii=True)
    response = client_for(cast.assigned).post("/api/v1/parties/", body, content_type="application/json")
    assert response.status_code == 400, response.content[:500]
    assert field in response.json(), response.json()
    assert counts() == before


# --------------------------------------------------------------------------------------------
# injection strings: stored verbatim, rendered escaped
# --------------------------------------------------------------------------------------------

SCRIPT = "<script>alert('x')</script>"
INJECTIONS = [
    SCRIPT,
    '"><img src=x onerror=alert(1)>',
    "'; DROP TABLE enforcement_party; --",
    "1' OR '1'='1",
    "{{ 7*7 }}{% debug %}",
    "${7*7}<svg/onload=alert(1)>",
]
PAYLOAD = " | ".join(INJECTIONS)


def assert_escaped(html: str):
    assert "<script>alert" not in html
    assert "<img src=x" not in html and "<svg/onload" not in html
    assert "&lt;script&gt;alert(" in html


def test_injection_strings_are_stored_verbatim_and_rendered_escaped(cast, client):
    PlatformFactory(code="alipay", name="支付宝", kind="payment")
    api = client_for(cast.assigned)
    response = api.post(
        "/api/v1/parties/", {"kind": "organization", "name": PAYLOAD[:200], "address": PAYLOAD}, format="json"
    )
    assert response.status_code == 201, response.content
    respondent = Party.objects.get(pk=response.json()["id"])
    assert respondent.name == PAYLOAD[:200] and respondent.address == PAYLOAD
    applicant = PartyFactory(name="申请人" + SCRIPT)

    response = api.post(
        "/api/v1/cases/",
        {
            "applicants": [applicant.pk],
            "respondents": [respondent.pk],
            "basis": {"document_number": SCRIPT + "'--", "issuing_court": '法院"><img src=x onerror=alert(1)>'},
            "amount_due": "1000.00",
            "assigned_judges": [cast.assigned.pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    case = EnforcementCase.objects.get(pk=response.json()["id"])
    assert case.basis_document_number == SCRIPT + "'--"

    response = api.post(
        f"/api/v1/cases/{case.pk}/clues/",
        {
            "respondent": respondent.pk,
            "category": "funds",
            "kind": "payment_account",
            "platform": "alipay",
            "registry": SCRIPT,
            "account": "acct" + SCRIPT + "' OR 1=1 --",
            "source": "applicant",
            "notes": PAYLOAD,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    clue = PropertyClue.objects.get(pk=response.json()["id"])
    assert clue.notes == PAYLOAD and clue.account == "acct" + SCRIPT + "' OR 1=1 --"

    client.force_login(cast.assigned)
    for url in (f"/cases/{case.pk}/", f"/cases/{case.pk}/parties/", f"/cases/{case.pk}/clues/", "/cases/", "/clues/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_escaped(response.content.decode())
    response = client.get("/cases/", {"q": SCRIPT})
    assert response.status_code == 200
    assert "<script>alert" not in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("account", "账" * 129),
        ("registry", "机" * 101),
        ("notes", "x" * 100_000),
        ("account", "a\x00b"),
    ],
    ids=["account-too-long", "registry-too-long", "long-notes", "nul"],
)
def test_clue_text_fields_at_their_limits_are_refused_or_stored_never_500(cast, field, value):
    PlatformFactory(code="alipay", name="支付宝", kind="payment")
    respondent = cast.case.case_parties.get(role="respondent").party
    before = counts()
    data = {
        "respondent": respondent.pk,
        "category": "funds",
        "kind": "payment_account",
        "platform": "alipay",
        "account": "acct-1",
        "source": "applicant",
        field: value,
    }
    response = client_for(cast.assigned).post(f"/api/v1/cases/{cast.case.pk}/clues/", data, format="json")
    assert response.status_code in (201, 400), response.content[:500]
    if response.status_code == 400:
        assert field in response.json(), response.json()
        assert all(HAS_CJK.search(m) for m in messages_of(response.json()[field])), response.json()
        assert counts() == before
    else:
        assert getattr(PropertyClue.objects.get(pk=response.json()["id"]), field) == value

"""The printable 协助执行通知书: a PDF in Chinese with the court, title by kind, document number,
addressee, case number, respondent, account, amount, freeze mode and legal basis; VIEW on the case."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from enforcement.models import AuditEntry, CaseParty, CasePartyRole, Role
from platforms import pdf, services
from platforms.models import Notice
from tests.clues.factories import PlatformFactory, respondent_of
from tests.factories import PartyFactory, UserFactory

pytestmark = pytest.mark.django_db


def text_of(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).replace("\n", "")


@pytest.fixture
def connected(db):
    admin = UserFactory(username="sysadmin", court=None, roles=[Role.SYSTEM_ADMIN])
    platforms = {}
    for code, name in (("alipay", "支付宝"), ("taobao", "淘宝")):
        platform = PlatformFactory(code=code, name=name)
        services.save_connector(
            admin,
            platform,
            base_url=f"http://127.0.0.1:9/{code}",
            key_id=f"k-{code}",
            secret=f"secret-of-{code}-0123456789",
            capabilities=["query", "freeze", "deduct"],
        )
        platforms[code] = platform
    return platforms


@pytest.fixture
def freeze(cast, connected):
    (notice,) = services.request_notices(
        cast.assigned,
        cast.case,
        kind="freeze",
        platforms=["alipay"],
        respondent=respondent_of(cast.case).pk,
        account="ZFB-2088-0001",
        amount="12345.60",
        freeze_mode="block_outflow",
    )
    return Notice.objects.select_related("case__court", "platform", "respondent").get(pk=notice.pk)


def test_freeze_notice_pdf_has_everything(client, cast, freeze):
    client.force_login(cast.assigned)
    response = client.get(reverse("notice_pdf", args=[freeze.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    data = response.content
    assert data.startswith(b"%PDF")
    text = text_of(data)
    respondent = respondent_of(cast.case)
    for expected in (
        cast.case.court.name,
        "协助冻结通知书",
        freeze.document_number,
        "支付宝：",
        cast.case.number,
        respondent.name,
        "身份证号码",
        respondent.id_number,
        "ZFB-2088-0001",
        "人民币12,345.60元",
        "只进不出",
        "《中华人民共和国民事诉讼法》第二百五十三条",
    ):
        assert expected in text, expected


@pytest.mark.parametrize(
    "kind,title,basis",
    [
        ("query", "协助查询通知书", pdf.BASIS_ENFORCEMENT),
        ("deduct", "协助扣划通知书", pdf.BASIS_ENFORCEMENT),
    ],
)
def test_title_and_basis_by_kind(cast, connected, kind, title, basis):
    company = PartyFactory(entity=True, name="湘潭鲜享家网络科技有限公司")
    CaseParty.objects.create(case=cast.case, party=company, role=CasePartyRole.RESPONDENT)
    extra = {"account": "TB-1", "amount": "10.00"} if kind == "deduct" else {}
    (notice,) = services.request_notices(
        cast.head, cast.case, kind=kind, platforms=["taobao"], respondent=company.pk, **extra
    )
    notice = Notice.objects.select_related("case__court", "platform", "respondent").get(pk=notice.pk)
    text = text_of(pdf.render_notice(notice))
    assert title in text and basis in text and "淘宝" in text and cast.case.number in text
    assert "统一社会信用代码" in text and company.uscc in text
    if kind == "deduct":
        assert "扣划金额" in text and "人民币10.00元" in text


def test_uncompressed_invariant_build_is_stable(freeze):
    first = pdf.render_notice(freeze, invariant=True, compress=False)
    assert first == pdf.render_notice(freeze, invariant=True, compress=False)
    assert first.startswith(b"%PDF") and b"STSong-Light" in first
    assert Decimal("12345.60") == freeze.amount


@pytest.mark.parametrize(
    "who,status",
    [
        ("assigned", 200),
        ("head", 200),
        ("supervisor", 200),
        ("high_supervisor", 200),
        ("colleague", 404),
        ("sibling_head", 404),
        ("outsider", 404),
        ("other_supervisor", 404),
        ("admin", 404),
        ("superuser", 404),
    ],
)
def test_pdf_needs_view_on_the_case(client, cast, freeze, who, status):
    client.force_login(getattr(cast, who))
    before = AuditEntry.objects.count()
    response = client.get(reverse("notice_pdf", args=[freeze.pk]))
    assert response.status_code == status
    if status == 200:
        assert response.content.startswith(b"%PDF")
    # the PDF carries the respondent's identity number: reads from outside the court are audited
    audited = status == 200 and getattr(cast, who).court_id != cast.case.court_id
    assert AuditEntry.objects.count() == before + (1 if audited else 0)


def test_pdf_of_unknown_notice_and_anonymous(client, cast, freeze):
    response = client.get(reverse("notice_pdf", args=[freeze.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(cast.assigned)
    assert client.get(reverse("notice_pdf", args=[999999])).status_code == 404

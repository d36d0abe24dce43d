"""The printable 协助执行通知书 of a notice, drawn with reportlab.

Chinese text uses reportlab's built-in CID font ``STSong-Light`` (Adobe's Song font, known to every
PDF viewer), so no font file has to be installed or shipped.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .models import FreezeMode, Notice, NoticeKind

FONT = "STSong-Light"

TITLES = {
    NoticeKind.QUERY: "协助查询通知书",
    NoticeKind.FREEZE: "协助冻结通知书",
    NoticeKind.UNFREEZE: "协助解除冻结通知书",
    NoticeKind.RENEW: "协助续行冻结通知书",
    NoticeKind.DEDUCT: "协助扣划通知书",
}

# 法律依据, by kind.
BASIS_ENFORCEMENT = "《中华人民共和国民事诉讼法》第二百五十三条"
BASIS_RENEW = "《最高人民法院关于适用〈中华人民共和国民事诉讼法〉的解释》第四百八十五条"
BASIS_UNFREEZE = "《最高人民法院关于人民法院民事执行中查封、扣押、冻结财产的规定》第二十八条"
LEGAL_BASIS = {
    NoticeKind.QUERY: BASIS_ENFORCEMENT,
    NoticeKind.FREEZE: BASIS_ENFORCEMENT,
    NoticeKind.DEDUCT: BASIS_ENFORCEMENT,
    NoticeKind.RENEW: BASIS_RENEW,
    NoticeKind.UNFREEZE: BASIS_UNFREEZE,
}

REQUESTS = {
    NoticeKind.QUERY: "请协助查询被执行人在你单位开立的账户及其余额、交易等财产情况，并将查询结果回复本院。",
    NoticeKind.FREEZE: "请协助冻结被执行人在你单位的下列账户内的资金。冻结期限届满前，未经本院通知不得解除。",
    NoticeKind.UNFREEZE: "请协助解除对被执行人下列账户的冻结。",
    NoticeKind.RENEW: "请协助对被执行人下列账户续行冻结，续行期间自原冻结期限届满之次日起计算。",
    NoticeKind.DEDUCT: "请协助将被执行人下列账户内的资金扣划至本院执行款专户。",
}


def _register_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=FONT, fontSize=12, leading=20, wordWrap="CJK", firstLineIndent=24)
    return {
        "court": ParagraphStyle("court", parent=base, fontSize=18, leading=26, alignment=TA_CENTER, firstLineIndent=0),
        "title": ParagraphStyle("title", parent=base, fontSize=22, leading=32, alignment=TA_CENTER, firstLineIndent=0),
        "number": ParagraphStyle("number", parent=base, alignment=TA_RIGHT, firstLineIndent=0),
        "to": ParagraphStyle("to", parent=base, firstLineIndent=0),
        "body": base,
        "cell": ParagraphStyle("cell", parent=base, fontSize=11, leading=16, firstLineIndent=0),
        "sign": ParagraphStyle("sign", parent=base, alignment=TA_RIGHT, firstLineIndent=0),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _yuan(value) -> str:
    return f"人民币{value:,.2f}元" if value is not None else ""


def _chinese_date(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def notice_facts(notice: Notice) -> list[tuple[str, str]]:
    """The rows of the table in the middle of the notice."""
    respondent = notice.respondent
    id_label = "统一社会信用代码" if respondent is not None and respondent.uscc else "身份证号码"
    rows = [
        ("案号", notice.case.number),
        ("被执行人", notice.holder_name),
        (id_label, notice.holder_id),
    ]
    if notice.account:
        rows.append(("账户", notice.account))
    if notice.kind in (NoticeKind.FREEZE, NoticeKind.DEDUCT) and notice.amount is not None:
        rows.append(("冻结金额" if notice.kind == NoticeKind.FREEZE else "扣划金额", _yuan(notice.amount)))
    elif notice.amount is not None and notice.kind != NoticeKind.QUERY:
        rows.append(("金额", _yuan(notice.amount)))
    if notice.kind == NoticeKind.FREEZE:
        rows.append(("冻结方式", FreezeMode(notice.freeze_mode or FreezeMode.AMOUNT).label))
    rows.append(("法律依据", LEGAL_BASIS[notice.kind]))
    return [(label, str(value)) for label, value in rows]


def render_notice(notice: Notice, *, invariant: bool = False, compress: bool = True) -> bytes:
    """The PDF of ``notice`` (its case, court, platform and respondent loaded)."""
    _register_font()
    styles = _styles()
    court = notice.case.court.name
    day = timezone.localdate(notice.approved_at or notice.created_at)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=28 * mm,
        rightMargin=26 * mm,
        topMargin=30 * mm,
        bottomMargin=30 * mm,
        title=f"{TITLES[notice.kind]} {notice.document_number}",
        author=court,
        subject=notice.case.number,
        invariant=int(invariant),
        pageCompression=int(compress),
    )
    table = Table(
        [[_p(label, styles["cell"]), _p(value, styles["cell"])] for label, value in notice_facts(notice)],
        colWidths=[36 * mm, None],
    )
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BACKGROUND", (0, 0), (0, -1), colors.Color(0.94, 0.94, 0.94)),
            ]
        )
    )
    intro = f"本院在执行{notice.case.number}案件中，依照{LEGAL_BASIS[notice.kind]}的规定，{REQUESTS[notice.kind]}"
    story = [
        _p(court, styles["court"]),
        _p(TITLES[notice.kind], styles["title"]),
        _p(notice.document_number, styles["number"]),
        Spacer(1, 4 * mm),
        _p(f"{notice.platform.name}：", styles["to"]),
        _p(intro, styles["body"]),
        Spacer(1, 3 * mm),
        table,
        Spacer(1, 3 * mm),
        _p("本通知书经电子签名通过协助执行平台送达，与纸质文书具有同等效力。", styles["body"]),
        _p("特此通知。", styles["body"]),
        Spacer(1, 14 * mm),
        _p(court, styles["sign"]),
        _p(_chinese_date(day), styles["sign"]),
        _p("（院印）", styles["sign"]),
    ]
    doc.build(story)
    return buffer.getvalue()

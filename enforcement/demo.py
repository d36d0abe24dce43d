"""Demo data: a real court hierarchy, users of each role, parties and cases.

Court codes follow GB/T 2260 division codes (扬州市广陵区 321002 → 苏1002). Identity numbers are
made valid by computing their check characters with python-stdnum. Loading is idempotent.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from stdnum.cn import ric, uscc

from . import audit, services
from .models import CaseStatus, Court, EnforcementCase, Party, Role, User

DEMO_PASSWORD = "demo-pass-2025"

# (code, name, level, parent code, region)
COURTS = [
    ("最高法", "最高人民法院", "supreme", None, ""),
    ("苏", "江苏省高级人民法院", "high", "最高法", "320000"),
    ("苏10", "江苏省扬州市中级人民法院", "intermediate", "苏", "321000"),
    ("苏1002", "扬州市广陵区人民法院", "basic", "苏10", "321002"),
    ("苏05", "江苏省苏州市中级人民法院", "intermediate", "苏", "320500"),
    ("苏09", "江苏省盐城市中级人民法院", "intermediate", "苏", "320900"),
    ("苏0981", "东台市人民法院", "basic", "苏09", "320981"),
    ("浙", "浙江省高级人民法院", "high", "最高法", "330000"),
    ("浙01", "浙江省杭州市中级人民法院", "intermediate", "浙", "330100"),
    ("浙0110", "杭州市余杭区人民法院", "basic", "浙01", "330110"),
    ("湘", "湖南省高级人民法院", "high", "最高法", "430000"),
    ("湘03", "湖南省湘潭市中级人民法院", "intermediate", "湘", "430300"),
    ("湘0302", "湘潭市雨湖区人民法院", "basic", "湘03", "430302"),
    ("湘0304", "湘潭市岳塘区人民法院", "basic", "湘03", "430304"),
    ("闽", "福建省高级人民法院", "high", "最高法", "350000"),
    ("闽09", "福建省宁德市中级人民法院", "intermediate", "闽", "350900"),
    ("闽0902", "宁德市蕉城区人民法院", "basic", "闽09", "350902"),
    ("黑", "黑龙江省高级人民法院", "high", "最高法", "230000"),
    ("黑02", "黑龙江省齐齐哈尔市中级人民法院", "intermediate", "黑", "230200"),
    ("黑0230", "克东县人民法院", "basic", "黑02", "230230"),
    ("京", "北京市高级人民法院", "high", "最高法", "110000"),
    ("京01", "北京市第一中级人民法院", "intermediate", "京", "110000"),
    ("京0108", "北京市海淀区人民法院", "basic", "京01", "110108"),
    ("京02", "北京市第二中级人民法院", "intermediate", "京", "110000"),
    ("京0115", "北京市大兴区人民法院", "basic", "京02", "110115"),
    ("沪", "上海市高级人民法院", "high", "最高法", "310000"),
    ("沪01", "上海市第一中级人民法院", "intermediate", "沪", "310000"),
    ("沪0105", "上海市长宁区人民法院", "basic", "沪01", "310105"),
    ("粤", "广东省高级人民法院", "high", "最高法", "440000"),
    ("粤03", "广东省深圳市中级人民法院", "intermediate", "粤", "440300"),
    ("粤0305", "深圳市南山区人民法院", "basic", "粤03", "440305"),
]

# (username, display name, court code, roles)
USERS = [
    ("judge_yuhu", "李明（执行法官）", "湘0302", [Role.JUDGE]),
    ("judge2_yuhu", "周静（执行法官）", "湘0302", [Role.JUDGE]),
    ("head_yuhu", "王强（执行局长）", "湘0302", [Role.BUREAU_HEAD, Role.JUDGE]),
    ("judge_jiaocheng", "陈芳（执行法官）", "闽0902", [Role.JUDGE]),
    ("judge_kedong", "赵刚（执行法官）", "黑0230", [Role.JUDGE]),
    ("supervisor_xiangtan", "刘洋（湘潭中院监督）", "湘03", [Role.SUPERVISOR]),
    ("supervisor_hunan", "孙丽（湖南高院监督）", "湘", [Role.SUPERVISOR]),
]


def _person_id(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")  # stdnum expects a placeholder check character


def _uscc(body17: str) -> str:
    return body17 + uscc.calc_check_digit(body17)


def logins() -> list[tuple[str, str, str]]:
    rows = [("admin", "系统管理员", "—")]
    names = dict(Court.objects.values_list("code", "name"))
    rows += [(u, d, names.get(c, c)) for u, d, c, _r in USERS]
    return rows


@transaction.atomic
def load() -> dict[str, int]:
    """Create whatever part of the demo data is missing."""
    admin = User.objects.filter(username="admin").first()
    if admin is None:
        admin = User.objects.create_superuser("admin", password=DEMO_PASSWORD, display_name="系统管理员")
        admin.roles.add(Role.SYSTEM_ADMIN)
        audit.record(None, "user.bootstrap", admin, payload={"username": "admin"})
    created = {"courts": 0, "users": 0, "cases": 0}
    for code, name, level, parent_code, region in COURTS:
        if not Court.objects.filter(code=code).exists():
            parent = Court.objects.get(code=parent_code) if parent_code else None
            services.create_court(admin, code=code, name=name, level=level, parent=parent, region=region)
            created["courts"] += 1
    for username, display, court_code, roles in USERS:
        if not User.objects.filter(username=username).exists():
            services.create_user(
                admin,
                username=username,
                password=DEMO_PASSWORD,
                display_name=display,
                court=Court.objects.get(code=court_code),
                roles=roles,
            )
            created["users"] += 1
    if not EnforcementCase.objects.exists():
        created["cases"] = _load_cases()
    return created


def _party(actor, kind, name, id_body="", uscc_body=""):
    existing = Party.objects.filter(name=name).first()
    if existing:
        return existing
    return services.create_party(
        actor,
        kind=kind,
        name=name,
        id_number=_person_id(id_body) if id_body else "",
        uscc=_uscc(uscc_body) if uscc_body else "",
    )


def _load_cases() -> int:
    today = timezone.localdate()
    judge = User.objects.get(username="judge_yuhu")
    head = User.objects.get(username="head_yuhu")
    kedong = User.objects.get(username="judge_kedong")
    jiaocheng = User.objects.get(username="judge_jiaocheng")

    xianxiang = _party(judge, "entity", "湘潭鲜享家网络科技有限公司", uscc_body="91430300MA4L0XXQ1")
    supplier = _party(judge, "entity", "湘潭绿源农产品有限公司", uscc_body="91430302MA4PB2K81")
    consumer = _party(judge, "person", "张晓燕", id_body="43030219850612001")
    shop_owner = _party(judge, "person", "黄志伟", id_body="43030219900315002")
    feed = _party(kedong, "entity", "克东县丰禾饲料有限公司", uscc_body="91230230MA1BQ3L21")
    farmer = _party(kedong, "person", "刘长山", id_body="23023019850102004")
    tea = _party(jiaocheng, "entity", "宁德市蕉城区山海茶业有限公司", uscc_body="91350902MA31RT4K1")
    seller = _party(jiaocheng, "person", "林海峰", id_body="35090219991120003")

    def case(actor, applicants, respondents, amount, days_ago, basis, issuer, judges=None, start=True):
        c = services.open_case(
            actor,
            applicants=[p.pk for p in applicants],
            respondents=[p.pk for p in respondents],
            basis_document_number=basis,
            basis_issuing_court=issuer,
            amount_due=amount,
            filed_on=today - dt.timedelta(days=days_ago),
            assigned_judges=[j.pk for j in (judges or [])] or None,
        )
        if start:
            services.transition_case(actor, c, CaseStatus.IN_PROGRESS)
        return c

    year = today.year - 1
    case(
        head, [supplier], [xianxiang], "6300000.00", 240, f"（{year}）湘0302民初1182号", "湘潭市雨湖区人民法院", [judge]
    )
    case(judge, [consumer], [xianxiang], "8650.00", 200, f"（{year}）湘0302民初1520号", "湘潭市雨湖区人民法院")
    case(judge, [consumer], [shop_owner], "42000.00", 30, f"（{today.year}）湘0302民初233号", "湘潭市雨湖区人民法院")
    case(
        judge,
        [supplier],
        [shop_owner],
        "15800.50",
        3,
        f"（{today.year}）湘03民终88号",
        "湘潭市中级人民法院",
        start=False,
    )
    case(kedong, [feed], [farmer], "93000.00", 130, f"（{year}）黑0230民初417号", "克东县人民法院")
    case(jiaocheng, [tea], [seller], "256000.00", 190, f"（{year}）闽0902民初2210号", "宁德市蕉城区人民法院")
    return 6

"""The scale generator of issue 6: fills a PostgreSQL database with years of cases, fast.

One pass over the cases in blocks; each block's rows of every table are formatted in Python as
COPY text and handed to a writer thread that streams them into PostgreSQL (``copy_expert``), so
the Python side and the database backend work at the same time on two cores.

Shape of the data (``--cases N``; every figure below scales with N, the courts do not):

* courts: the real hierarchy, read from python-stdnum's table of administrative divisions
  (GB/T 2260): 1 supreme court, 31 provincial high courts + the 兵团 branch, one intermediate
  court per prefecture (339) + a second intermediate court per province + 兵团 divisions
  (~384), one basic court per county (~2,890); codes in the official style (湘, 湘03, 湘0302)
  and the materialized ``path``;
* users: per basic court a bureau head and 2–30 judges (by the court's case load at the generated
  size), per intermediate and high court a bureau head, a judge and a supervisor (~13,000 users at
  1M);
* parties: one applicant per case and a pool of respondents (0.5 per case) picked with a skewed
  distribution, so that some respondents have cases in many courts; 60 % natural persons with
  valid 身份证号 (region, birth date, ISO 7064 check digit), the rest entities with valid
  统一社会信用代码 (GB 11714 organisation code check digit and GB 32100 check character);
* cases: filed over the last five years (Zipf-like load over the courts: big-city courts carry
  far more), case numbers in the official format with per court/type/year sequences (and the
  ``CaseNumberSequence`` rows to continue them), statuses by age (old cases mostly closed);
* per case: one ``handle_case`` guardian grant for a judge of the court (1 per case), 0–10
  property clues (5 on average; asset keys shared between cases of the same respondent, so the
  cross-court asset lookup finds other courts), measures on the clues under measure, 4–16
  notices (10 on average) in per-request batches over 12 platforms with 1–3 delivery attempts
  each, timeline events, and the audit entries of filing, clues and notices;
* the audit trail is a valid hash chain per case (``case:<id>``), computed here exactly as
  ``enforcement.audit`` does, with its ``AuditChainHead`` row. The database trigger on the audit
  table refuses UPDATE and DELETE only; COPY inserts, so the trigger stays on;
* one case (``special_case``) of the busiest court has 50 clues and 200 notices.

Load method: secondary indexes and unique constraints of the loaded tables are dropped before
the load and recreated after it (two index builds at a time); the load connection sets
``session_replication_role = replica`` so foreign-key triggers do not fire per row (the generator
produces consistent references; tests/bench checks them). Constraints remain declared and valid.
Then the identity sequences are moved past the generated ids, and VACUUM ANALYZE.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import queue
import random
import re
import subprocess
import sys
import threading
import time
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent

GENESIS = "0" * 64
SERIAL_OTHER_CASES = 30
TODAY = dt.date.today()
START = TODAY - dt.timedelta(days=5 * 365)
EPOCH = dt.date(1970, 1, 1)

PROVINCE_ABBR = {
    "11": "京", "12": "津", "13": "冀", "14": "晋", "15": "蒙", "21": "辽", "22": "吉", "23": "黑",
    "31": "沪", "32": "苏", "33": "浙", "34": "皖", "35": "闽", "36": "赣", "37": "鲁", "41": "豫",
    "42": "鄂", "43": "湘", "44": "粤", "45": "桂", "46": "琼", "50": "渝", "51": "川", "52": "贵",
    "53": "云", "54": "藏", "61": "陕", "62": "甘", "63": "青", "64": "宁", "65": "新",
}  # fmt: skip
PLATFORMS = [
    ("taobao", "淘宝", "ecommerce"), ("tmall", "天猫", "ecommerce"), ("jd", "京东", "ecommerce"),
    ("pinduoduo", "拼多多", "ecommerce"), ("douyin", "抖音电商", "ecommerce"), ("kuaishou", "快手电商", "ecommerce"),
    ("meituan", "美团", "ecommerce"), ("alipay", "支付宝", "payment"), ("tenpay", "财付通", "payment"),
    ("unionpay", "银联商务", "payment"), ("aliexpress", "速卖通", "cross_border"), ("shein", "希音", "cross_border"),
]  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰华红玉萍建国志文辉鹏飞斌宇浩凯健俊帆帅旭宁龙林欣雪梅琳晨阳海波峰春燕晶婷"  # noqa: E501
TRADE = [
    "贸易",
    "科技",
    "建设",
    "实业",
    "商贸",
    "电子商务",
    "物流",
    "投资",
    "餐饮",
    "服装",
    "农业",
    "网络",
    "置业",
    "机械",
]
STATUS_CHOICES = ("filed", "in_progress", "suspended", "closed")
CLOSINGS = (
    ["fully_enforced"] * 40 + ["closed_for_now"] * 45 + ["terminated"] * 8 + ["rejected"] * 4 + ["not_enforced"] * 3
)
TYPE_CODES = ["执"] * 85 + ["执恢"] * 5 + ["执保"] * 6 + ["执异"] * 2 + ["执复"] + ["执监"]
FUNDS_KINDS = [("platform_balance", True), ("payment_account", True), ("platform_deposit", True)]
OTHER_KINDS = [
    ("traditional", "real_estate", "不动产登记中心"),
    ("traditional", "vehicle", "车辆管理所"),
    ("traditional", "equity", "市场监督管理局"),
    ("funds", "bank_deposit", "中国工商银行"),
    ("rights", "trademark", "国家知识产权局商标局"),
    ("rights", "store_operating_right", ""),
    ("data", "operating_data", ""),
]


def database_url(name: str) -> str:
    base = os.environ.get("BENCH_SCALE_SERVER", "postgres://postgres@127.0.0.1:5432")
    return f"{base.rstrip('/')}/{name}"


def connect(url: str, dbname: str | None = None):
    import psycopg2

    u = urlparse(url)
    return psycopg2.connect(
        host=u.hostname or "127.0.0.1",
        port=u.port or 5432,
        user=u.username or "postgres",
        password=u.password,
        dbname=dbname or u.path.lstrip("/"),
    )


# --------------------------------------------------------------------------------------------
# identity numbers
# --------------------------------------------------------------------------------------------

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def ric_check(first17: str) -> str:
    """ISO 7064 MOD 11-2 check digit of a resident identity number (GB 11643)."""
    checksum = (1 - 2 * int(first17, 13)) % 11
    return "X" if checksum == 10 else str(checksum)


def org_code_check(first8: str) -> str:
    """GB 11714 check digit of the organisation code inside a USCC."""
    c = 11 - sum(int(d) * w for d, w in zip(first8, _ORG_WEIGHTS, strict=True)) % 11
    return "X" if c == 10 else ("0" if c == 11 else str(c))


def uscc_check(first17: str) -> str:
    """GB 32100 check character (mod 31) of a unified social credit code."""
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total) % 31]


def make_id_number(region: str, birth: dt.date, seq: int) -> str:
    first = f"{region}{birth:%Y%m%d}{seq % 1000:03d}"
    return first + ric_check(first)


def make_uscc(region: str, serial: int) -> str:
    org8 = f"{serial % 10**8:08d}"
    first = f"91{region}{org8}{org_code_check(org8)}"
    return first + uscc_check(first)


# --------------------------------------------------------------------------------------------
# the court hierarchy
# --------------------------------------------------------------------------------------------


@dataclass
class Court:
    id: int
    code: str
    name: str
    level: str
    parent: int | None
    region: str
    path: str = ""
    weight: float = 0.0
    head: int = 0
    judges: list[int] = field(default_factory=list)
    supervisor: int = 0


def divisions() -> dict:
    """Provinces → prefectures → counties currently in force, from stdnum's cn/loc.dat."""
    import stdnum

    provinces: dict[str, dict] = {}
    province = None
    with open(Path(stdnum.__file__).parent / "cn" / "loc.dat", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            if not line.startswith(" "):
                code, rest = line.split(" ", 1)
                province = code
                provinces[code] = {"name": re.search(r'province="([^"]*)"', rest).group(1), "prefs": {}}
                continue
            code, rest = line.strip().split(" ", 1)
            m = re.search(r'county="([^"]*)"', rest)
            if not m:
                continue
            current = None
            for alt in m.group(1).split(","):
                bracket = re.match(r"\[(\d*)-(\d*)\](.*)", alt)
                if bracket:
                    if not bracket.group(2):
                        current = (int(bracket.group(1) or 0), bracket.group(3))
                else:
                    current = (0, alt)
            if current is None:
                continue
            prefs = provinces[province]["prefs"]
            if code.endswith("00"):
                prefs.setdefault(code[:2], {"name": None, "counties": []})["name"] = current[1]
            elif current[1] != "市辖区":
                prefs.setdefault(code[:2], {"name": None, "counties": []})["counties"].append(
                    (province + code, current[1], current[0])
                )
    return {code: p for code, p in provinces.items() if code in PROVINCE_ABBR}


def build_courts() -> tuple[list[Court], list[str]]:
    """The hierarchy with ids assigned in path order, and the region codes valid for births ≥ 1950."""
    courts: list[Court] = []
    used: set[str] = set()

    def add(code, name, level, parent: Court | None, region) -> Court:
        if name in used:
            name = f"{name}（{code}）"
        used.add(name)
        court = Court(len(courts) + 1, code, name, level, parent.id if parent else None, region)
        court.path = f"{parent.path if parent else '/'}{court.id}/"
        courts.append(court)
        return court

    birth_regions: list[str] = []
    supreme = add("最高法", "最高人民法院", "supreme", None, "")
    for pcode, province in sorted(divisions().items()):
        abbr = PROVINCE_ABBR[pcode]
        high = add(abbr, f"{province['name']}高级人民法院", "high", supreme, f"{pcode}0000")
        n = 0
        for prefcode, pref in sorted(province["prefs"].items()):
            if not pref["counties"]:
                continue
            n += 1
            pname = pref["name"] or f"{province['name']}直辖"
            if pname in ("市辖区", "县"):
                pname = province["name"]
            mid = add(
                f"{abbr}{n:02d}",
                f"{province['name']}{pname}中级人民法院",
                "intermediate",
                high,
                pcode + prefcode + "00",
            )
            for m, (region, cname, start) in enumerate(pref["counties"], start=1):
                add(
                    f"{abbr}{n:02d}{m:02d}",
                    f"{pname}{cname}人民法院"[:90] + f"（{abbr}{n:02d}{m:02d}）",
                    "basic",
                    mid,
                    region,
                )
                if start <= 1950:
                    birth_regions.append(region)
        add(f"{abbr}{n + 1:02d}", f"{province['name']}第二中级人民法院", "intermediate", high, f"{pcode}0000")
    bingtuan = add("兵", "新疆维吾尔自治区高级人民法院生产建设兵团分院", "high", supreme, "650000")
    for d in range(1, 15):
        mid = add(f"兵{d:02d}", f"新疆生产建设兵团第{d}师中级人民法院", "intermediate", bingtuan, "659000")
        for k in range(1, 4):
            add(f"兵{d:02d}{k:02d}", f"新疆生产建设兵团第{d}师第{k}基层人民法院", "basic", mid, "659000")
    return courts, birth_regions


# --------------------------------------------------------------------------------------------
# COPY plumbing
# --------------------------------------------------------------------------------------------

COLUMNS = {
    "enforcement_court": "id code name level region path parent_id notice_approval_kinds",
    "enforcement_user": "id password last_login is_superuser username first_name last_name email is_staff "
    "is_active date_joined display_name court_id",
    "enforcement_user_roles": "id user_id role_id",
    "platforms_platform": "id code name kind region hq_court_id",
    "enforcement_party": "id kind name id_number uscc address region created_at created_by_id",
    "enforcement_enforcementcase": "id type_code year sequence number status closing_method closed_on "
    "basis_document_number basis_issuing_court amount_due amount_recovered filed_on created_at updated_at "
    "court_id created_by_id origin_case_id successor_case_id art237_excluded_days",
    "enforcement_caseparty": "id role case_id party_id",
    "enforcement_caseuserobjectpermission": "id permission_id user_id content_object_id",
    "enforcement_caseevent": "id at kind message data actor_id case_id",
    "enforcement_auditentry": "id chain seq at actor_name action object_type object_id payload payload_digest "
    "prev_hash entry_hash actor_id case_id",
    "enforcement_auditchainhead": "chain seq entry_hash",
    "enforcement_casenumbersequence": "id type_code year last_value court_id",
    "clues_propertyclue": "id category kind registry account estimated_value source urgent received_on verify_by "
    "status invalid_reason notes asset_key verified_at created_at case_id created_by_id platform_id respondent_id",
    "clues_measure": "id kind asset_kind amount effective_on expires_on status queue_position asset_key "
    "released_on release_reason requested_on created_at case_id clue_id created_by_id renewed_from_id",
    "platforms_notice": "id kind batch holder_name holder_id account amount freeze_mode document_number "
    "idempotency_key state attempts next_attempt_at last_error result cancel_reason created_at approved_at "
    "queued_at sent_at acknowledged_at completed_at ended_at approved_by_id case_id clue_id measure_id "
    "platform_id requested_by_id respondent_id",
    "platforms_deliveryattempt": "id number started_at duration_ms http_status error_class outcome "
    "response_excerpt notice_id",
}
# Tables whose secondary indexes are dropped for the load and rebuilt after it.
BULK_TABLES = [
    "enforcement_party",
    "enforcement_enforcementcase",
    "enforcement_caseparty",
    "enforcement_caseuserobjectpermission",
    "enforcement_caseevent",
    "enforcement_auditentry",
    "enforcement_auditchainhead",
    "clues_propertyclue",
    "clues_measure",
    "platforms_notice",
    "platforms_deliveryattempt",
]


class Loader:
    """A writer thread: COPY chunks from a bounded queue into the database."""

    def __init__(self, url: str):
        self.conn = connect(url)
        self.conn.autocommit = True
        with self.conn.cursor() as cur:
            cur.execute("SET session_replication_role = replica")  # no FK triggers per row (see above)
            cur.execute("SET synchronous_commit = off")
        self.queue: queue.Queue = queue.Queue(maxsize=6)
        self.rows: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            table, lines = item
            if self.error is not None:
                continue
            try:
                started = time.perf_counter()
                data = io.BytesIO(("\n".join(lines) + "\n").encode("utf-8"))
                with self.conn.cursor() as cur:
                    cols = ", ".join(COLUMNS[table].split())
                    cur.copy_expert(f"COPY {table} ({cols}) FROM STDIN", data, size=1 << 20)
                self.seconds[table] = self.seconds.get(table, 0.0) + time.perf_counter() - started
                self.rows[table] = self.rows.get(table, 0) + len(lines)
            except BaseException as exc:  # reported by put()/close()
                self.error = exc

    def put(self, table: str, lines: list[str]) -> None:
        if self.error is not None:
            raise self.error
        if lines:
            self.queue.put((table, lines))

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error
        self.conn.close()


def drop_secondary_indexes(conn, tables: list[str]) -> list[tuple[str, str, str]]:
    """Drop non-primary indexes and unique constraints; return how to rebuild them."""
    rebuild = []
    with conn.cursor() as cur:
        for table in tables:
            cur.execute(
                """
                SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), c.conname,
                       pg_get_constraintdef(c.oid)
                FROM pg_index i
                LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.contype = 'u'
                WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
                """,
                [table],
            )
            for index, indexdef, conname, condef in cur.fetchall():
                if conname:
                    cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{conname}"')
                    rebuild.append((table, conname, f'ALTER TABLE {table} ADD CONSTRAINT "{conname}" {condef}'))
                else:
                    cur.execute(f"DROP INDEX {index}")
                    rebuild.append((table, index, indexdef))
    conn.commit()
    return rebuild


def rebuild_indexes(url: str, statements: list[tuple[str, str, str]], log, parallel: int = 2) -> float:
    """Recreate the dropped indexes, ``parallel`` builds at a time (largest tables first)."""
    started = time.perf_counter()
    work: queue.Queue = queue.Queue()
    order = {t: i for i, t in enumerate(["platforms_notice", "enforcement_auditentry", "platforms_deliveryattempt"])}
    for item in sorted(statements, key=lambda s: order.get(s[0], 99)):
        work.put(item)
    errors: list[BaseException] = []

    def worker():
        conn = connect(url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SET maintenance_work_mem = '1GB'")
            cur.execute("SET max_parallel_maintenance_workers = 0")
            while True:
                try:
                    table, name, sql = work.get_nowait()
                except queue.Empty:
                    break
                t0 = time.perf_counter()
                try:
                    cur.execute(sql)
                except BaseException as exc:
                    errors.append(exc)
                    break
                log(f"  index {name} on {table}: {time.perf_counter() - t0:.1f} s")
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - started


# --------------------------------------------------------------------------------------------
# formatting helpers
# --------------------------------------------------------------------------------------------

_DAY_CACHE: dict[int, str] = {}


def ts(seconds: int) -> str:
    """Epoch seconds → a UTC timestamp literal for COPY."""
    day, rest = divmod(seconds, 86400)
    text = _DAY_CACHE.get(day)
    if text is None:
        text = _DAY_CACHE[day] = (EPOCH + dt.timedelta(days=day)).isoformat()
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    return f"{text} {h:02d}:{m:02d}:{s:02d}+00"


def iso(seconds: int) -> str:
    """Epoch seconds → ``datetime.isoformat()`` of the aware UTC value, as the audit hash has it."""
    day, rest = divmod(seconds, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    return f"{(EPOCH + dt.timedelta(days=day)).isoformat()}T{h:02d}:{m:02d}:{s:02d}+00:00"


def day_seconds(d: dt.date) -> int:
    return (d - EPOCH).days * 86400


def canonical(data) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


N = "\\N"


class Chain:
    """The audit chain of one case, hashed exactly as ``enforcement.audit.entry_hash``."""

    __slots__ = ("chain", "case_id", "seq", "prev", "lines", "ids")

    def __init__(self, case_id: int, lines: list[str], ids):
        self.chain = f"case:{case_id}"
        self.case_id = case_id
        self.seq = 0
        self.prev = GENESIS
        self.lines = lines
        self.ids = ids

    def add(self, at: int, actor_id: int, actor_name: str, action: str, object_type: str, object_id, payload: dict):
        self.seq += 1
        text = canonical(payload)
        digest = sha(text)
        fields = (
            f'{{"action":"{action}","actor":{actor_id},"actor_name":"{actor_name}","at":"{iso(at)}",'
            f'"case":{self.case_id},"chain":"{self.chain}","object_id":"{object_id}","object_type":"{object_type}",'
            f'"payload_digest":"{digest}","prev_hash":"{self.prev}","seq":{self.seq}}}'
        )
        entry = sha(fields)
        self.lines.append(
            f"{next(self.ids)}\t{self.chain}\t{self.seq}\t{ts(at)}\t{actor_name}\t{action}\t{object_type}\t"
            f"{object_id}\t{text}\t{digest}\t{self.prev}\t{entry}\t{actor_id}\t{self.case_id}"
        )
        self.prev = entry


class Counter:
    def __init__(self, start: int = 1):
        self.value = start - 1

    def __next__(self) -> int:
        self.value += 1
        return self.value

    def __iter__(self):
        return self


# --------------------------------------------------------------------------------------------
# the generator
# --------------------------------------------------------------------------------------------


def person_name(rnd: random.Random) -> str:
    return rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.choice((1, 2, 2))))


def generate(url: str, cases: int, *, seed: int = 6, block: int = 2000, vacuum: bool = True, log=print) -> dict:
    """Fill the (freshly migrated) database at ``url`` with ``cases`` cases. Returns the scenario
    (who and what to measure) and the timings."""
    rnd = random.Random(seed)
    timings: dict[str, float] = {}
    t_all = time.perf_counter()
    conn = connect(url)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT codename, id FROM auth_permission WHERE content_type_id = "
            "(SELECT id FROM django_content_type WHERE app_label='enforcement' AND model='enforcementcase')"
        )
        perms = dict(cur.fetchall())
    t0 = time.perf_counter()
    # below a few thousand cases the indexes are cheaper to keep than to rebuild
    rebuild = drop_secondary_indexes(conn, BULK_TABLES) if cases >= 5000 else []
    timings["drop_indexes_s"] = round(time.perf_counter() - t0, 2)
    conn.close()
    loader = Loader(url)
    handle_perm = perms["handle_case"]

    # --- courts ------------------------------------------------------------------------------
    courts, birth_regions = build_courts()
    basic = [c for c in courts if c.level == "basic"]
    mids = [c for c in courts if c.level == "intermediate"]
    highs = [c for c in courts if c.level == "high"]
    order = list(range(len(basic)))
    rnd.shuffle(order)
    for rank, i in enumerate(order):
        basic[i].weight = 0.90 / (rank + 8) ** 0.9
    for rank, c in enumerate(rnd.sample(mids, len(mids))):
        c.weight = 0.09 / (rank + 8) ** 0.9
    for rank, c in enumerate(rnd.sample(highs, len(highs))):
        c.weight = 0.01 / (rank + 4) ** 0.9
    loader.put(
        "enforcement_court",
        [
            f"{c.id}\t{c.code}\t{c.name}\t{c.level}\t{c.region}\t{c.path}\t{c.parent if c.parent else N}\t[]"
            for c in courts
        ],
    )

    # --- users ---------------------------------------------------------------------------------
    total_weight = sum(c.weight for c in courts)
    user_ids = Counter()
    role_ids = Counter()
    users, roles = [], []
    joined = ts(day_seconds(START) - 86400 * 30)
    names: dict[int, str] = {}

    def add_user(court: Court, kind: str, n: int, role_codes: tuple[str, ...]) -> int:
        uid = next(user_ids)
        username = f"c{court.id}-{kind}{n}"
        display = person_name(rnd)
        names[uid] = username
        users.append(f"{uid}\t!bench\t{N}\tf\t{username}\t\t\t\tf\tt\t{joined}\t{display}\t{court.id}")
        for code in role_codes:
            roles.append(f"{next(role_ids)}\t{uid}\t{code}")
        return uid

    for court in courts:
        if court.level == "supreme":
            court.supervisor = add_user(court, "sup", 1, ("supervisor",))
            continue
        # staffed for the court's load at the generated size (at 10k the busiest court had the 30
        # judges of its 1M load for 145 cases, so the measured judge held 5 cases)
        expected = court.weight / total_weight * cases
        judges = max(2, min(30, int(expected / 200) + 2)) if court.level == "basic" else 1
        court.head = add_user(court, "head", 1, ("bureau_head", "judge"))
        court.judges = [add_user(court, "judge", n, ("judge",)) for n in range(1, judges + 1)]
        if court.level in ("intermediate", "high"):
            court.supervisor = add_user(court, "sup", 1, ("supervisor",))
    loader.put("enforcement_user", users)
    loader.put("enforcement_user_roles", roles)
    loader.put(
        "platforms_platform",
        [f"{i}\t{code}\t{name}\t{kind}\t\t{N}" for i, (code, name, kind) in enumerate(PLATFORMS, start=1)],
    )
    timings["courts_users_s"] = round(time.perf_counter() - t_all, 2)

    # --- parties -------------------------------------------------------------------------------
    t0 = time.perf_counter()
    party_ids = Counter()
    n_respondents = max(50, cases // 2)
    respondents: list[tuple[int, str, str]] = []  # (id, name, identifier)
    party_lines: list[str] = []
    created_party = ts(day_seconds(START))
    serial = Counter()

    def new_party(person: bool, court: Court | None = None) -> tuple[int, str, str]:
        pid = next(party_ids)
        k = next(serial)
        if person:
            region = birth_regions[(k * 7919) % len(birth_regions)]
            m = k // len(birth_regions)
            birth = dt.date(1950, 1, 1) + dt.timedelta(days=(m * 37) % 19700)
            ident = make_id_number(region, birth, m // 533)
            name = person_name(rnd)
            party_lines.append(f"{pid}\tperson\t{name}\t{ident}\t\t{region}住所\t{region}\t{created_party}\t{N}")
        else:
            region = birth_regions[(k * 104729) % len(birth_regions)]
            ident = make_uscc(region, k * 7 + 1000)
            name = f"{person_name(rnd)[:2]}{rnd.choice(TRADE)}有限公司{k % 997 or ''}"
            party_lines.append(f"{pid}\tentity\t{name}\t\t{ident}\t{region}住所\t{region}\t{created_party}\t{N}")
        return pid, name, ident

    for _ in range(n_respondents):
        respondents.append(new_party(rnd.random() < 0.5))
        if len(party_lines) >= 20000:
            loader.put("enforcement_party", party_lines)
            party_lines = []
    loader.put("enforcement_party", party_lines)
    party_lines = []
    # 70 % of respondent picks are uniform over the pool; 30 % go to the 1 % "serial debtors"
    # (Zipf-like), who have cases all over the country. respondents[0] is the special case's
    # respondent: it is kept out of the random picks and put into exactly SERIAL_OTHER_CASES
    # other cases, so the cross-court lookup of the special case has the same size at any scale.
    serial_pool = max(20, n_respondents // 100)
    resp_cum = list(accumulate(1.0 / (i + 3) ** 0.7 for i in range(serial_pool)))

    def pick_respondent() -> tuple[int, str, str]:
        if rnd.random() < 0.3:
            return respondents[1 + bisect_right(resp_cum, rnd.random() * resp_cum[-1])]
        return respondents[1 + rnd.randrange(n_respondents - 1)]

    timings["respondents_s"] = round(time.perf_counter() - t0, 2)

    # --- cases and everything of a case ----------------------------------------------------------
    weighted = [c for c in courts if c.level != "supreme"]
    court_cum = list(accumulate(c.weight for c in weighted))
    hot = max(basic, key=lambda c: c.weight)
    hot_mid = next(c for c in mids if c.id == hot.parent)
    sequences: dict[tuple[int, str, int], int] = {}
    ids = {t: Counter() for t in COLUMNS}
    heads: list[str] = []
    today_s = day_seconds(TODAY)
    span_days = (TODAY - START).days
    platform_count = len(PLATFORMS)
    special: dict = {}
    t_cases = time.perf_counter()

    rows: dict[str, list[str]] = {t: [] for t in COLUMNS}

    def flush():
        for table, lines in rows.items():
            if lines:
                loader.put(table, lines)
                rows[table] = []

    for index in range(cases):
        is_special = index == 0
        if is_special:
            court = hot
            filed = TODAY - dt.timedelta(days=300)
        else:
            court = weighted[bisect_right(court_cum, rnd.random() * court_cum[-1])]
            filed = START + dt.timedelta(days=int(span_days * rnd.random() ** 0.8))
        age = (TODAY - filed).days
        judge = court.judges[0] if is_special else rnd.choice(court.judges)
        judge_name = names[judge]
        type_code = "执" if is_special else rnd.choice(TYPE_CODES)
        key = (court.id, type_code, filed.year)
        sequence = sequences[key] = sequences.get(key, 0) + 1
        number = f"（{filed.year}）{court.code}{type_code}{sequence}号"
        case_id = next(ids["enforcement_enforcementcase"])
        if is_special:
            status = "in_progress"
        else:
            p_closed = 0.88 if age > 720 else 0.7 if age > 365 else 0.45 if age > 120 else 0.1
            r = rnd.random()
            status = (
                "closed"
                if r < p_closed
                else rnd.choice(("filed", "in_progress", "in_progress", "in_progress", "suspended"))
            )
        amount_due = round(10 ** rnd.uniform(3.5, 7.5), 2)
        closing, closed_on, recovered = "", N, 0.0
        if status == "closed":
            closing = rnd.choice(CLOSINGS)
            closed_on = min(TODAY, filed + dt.timedelta(days=rnd.randint(20, 400))).isoformat()
            recovered = amount_due if closing == "fully_enforced" else round(amount_due * rnd.random() * 0.5, 2)
        created = day_seconds(filed) + 3600 + rnd.randint(0, 8 * 3600)  # 09:00–17:00 Beijing time
        updated = created if closed_on == N else day_seconds(dt.date.fromisoformat(closed_on)) + 7200
        rows["enforcement_enforcementcase"].append(
            f"{case_id}\t{type_code}\t{filed.year}\t{sequence}\t{number}\t{status}\t{closing}\t{closed_on}\t"
            f"（{filed.year - 1}）{court.code}民初{rnd.randint(1, 9999)}号\t{court.name}\t{amount_due:.2f}\t"
            f"{recovered:.2f}\t{filed.isoformat()}\t{ts(created)}\t{ts(updated)}\t{court.id}\t{judge}\t{N}\t{N}\t0"
        )
        applicant = new_party(rnd.random() < 0.6)
        rows["enforcement_caseparty"].append(
            f"{next(ids['enforcement_caseparty'])}\tapplicant\t{case_id}\t{applicant[0]}"
        )
        n_resp = 1 if rnd.random() < 0.8 else 2
        picked = {pick_respondent() for _ in range(n_resp)}
        if is_special:
            picked = {respondents[0]}
        elif index <= SERIAL_OTHER_CASES:
            picked.add(respondents[0])
        case_resps = sorted(picked)
        for resp in case_resps:
            rows["enforcement_caseparty"].append(
                f"{next(ids['enforcement_caseparty'])}\trespondent\t{case_id}\t{resp[0]}"
            )
        rows["enforcement_caseuserobjectpermission"].append(
            f"{next(ids['enforcement_caseuserobjectpermission'])}\t{handle_perm}\t{judge}\t{case_id}"
        )
        chain = Chain(case_id, rows["enforcement_auditentry"], ids["enforcement_auditentry"])
        chain.add(
            created,
            judge,
            judge_name,
            "case.open",
            "enforcement.enforcementcase",
            case_id,
            {
                "number": number,
                "amount_due": f"{amount_due:.2f}",
                "applicants": [applicant[0]],
                "respondents": [r[0] for r in case_resps],
                "assigned_judges": [judge],
            },
        )
        rows["enforcement_caseevent"].append(
            f"{next(ids['enforcement_caseevent'])}\t{ts(created)}\tfiled\t立案：{number}\t{{}}\t{judge}\t{case_id}"
        )
        last_day = today_s if closed_on == N else updated
        # clues
        n_clues = 50 if is_special else rnd.randint(3 if index <= SERIAL_OTHER_CASES else 0, 10)
        clue_ids: list[tuple[int, int, str, str]] = []  # (id, respondent id, platform code or "", account)
        for j in range(n_clues):
            resp = case_resps[j % len(case_resps)]
            at = min(last_day, created + 86400 * rnd.randint(1, 90) + j)
            received = dt.date(1970, 1, 1) + dt.timedelta(days=at // 86400)
            clue_id = next(ids["clues_propertyclue"])
            r = 0.0 if resp is respondents[0] and j < 3 else rnd.random()
            if r < 0.6:
                kind, _ = FUNDS_KINDS[j % 3]
                category = "funds"
                if resp is respondents[0]:  # three accounts, found again in its other cases
                    pidx = j % 3
                    account = f"{PLATFORMS[pidx][0]}-{resp[0]}-0"
                else:
                    pidx = rnd.randrange(platform_count)
                    account = f"{PLATFORMS[pidx][0]}-{resp[0]}-{rnd.randrange(3)}"
                pcode = PLATFORMS[pidx][0]
                registry, platform_id = "", str(pidx + 1)
                holder = f"p:{pcode}"
            else:
                category, kind, registry = OTHER_KINDS[rnd.randrange(len(OTHER_KINDS))]
                account = f"{kind[:3]}{resp[0]}{rnd.randrange(2)}"
                platform_id, pcode = N, ""
                holder = f"r:{registry.casefold()}"
            if status == "closed":
                cstatus = rnd.choice(("disposed", "invalid", "verified", "under_measure"))
            elif (today_s - at) < 7 * 86400:
                cstatus = "pending"
            else:
                cstatus = rnd.choice(("pending", "verified", "verified", "under_measure", "invalid"))
            if is_special:
                cstatus = ("pending", "verified", "under_measure")[j % 3]
            verified_at = ts(at + 86400 * 2) if cstatus in ("verified", "under_measure", "disposed") else N
            asset_key = f"{resp[2]}|{holder}|{account.casefold()}"
            value = f"{round(10 ** rnd.uniform(2, 6), 2):.2f}"
            rows["clues_propertyclue"].append(
                f"{clue_id}\t{category}\t{kind}\t{registry}\t{account}\t{value}\tapplicant\tf\t{received.isoformat()}\t"
                f"{(received + dt.timedelta(days=7)).isoformat()}\t{cstatus}\t"
                f"{'线索不实' if cstatus == 'invalid' else ''}\t\t{asset_key}\t{verified_at}\t{ts(at)}\t{case_id}\t"
                f"{judge}\t{platform_id}\t{resp[0]}"
            )
            chain.add(
                at,
                judge,
                judge_name,
                "clue.add",
                "clues.propertyclue",
                clue_id,
                {"kind": kind, "asset_key": asset_key, "source": "applicant", "urgent": False},
            )
            clue_ids.append((clue_id, resp[0], pcode, account))
            if cstatus == "under_measure":
                mid = next(ids["clues_measure"])
                eff = received + dt.timedelta(days=rnd.randint(3, 20))
                months = 12 if category == "funds" else 36
                expires = eff + dt.timedelta(days=months * 30)
                if status == "closed":
                    mstatus, released = "released", closed_on
                elif expires < TODAY:
                    mstatus, released = "expired", N
                else:
                    mstatus, released = "active", N
                mkind = "freeze" if category == "funds" else "seize"
                amount = value if mkind == "freeze" else N
                asset_kind = "platform_balance" if category == "funds" else "other_property_right"
                rows["clues_measure"].append(
                    f"{mid}\t{mkind}\t{asset_kind}\t{amount}\t{eff.isoformat()}\t{expires.isoformat()}\t{mstatus}\t"
                    f"{N}\t{asset_key}\t{released}\t{'结案解除' if released != N else ''}\t{eff.isoformat()}\t"
                    f"{ts(day_seconds(eff) + 3600)}\t{case_id}\t{clue_id}\t{judge}\t{N}"
                )
        if n_clues:
            rows["enforcement_caseevent"].append(
                f"{next(ids['enforcement_caseevent'])}\t{ts(min(last_day, created + 86400))}\tclue\t"
                f"登记财产线索：{n_clues}条\t{{}}\t{judge}\t{case_id}"
            )
        # notices, in per-request batches over the platforms
        n_notices = 200 if is_special else rnd.randint(4, 16)
        made = 0
        request_no = 0
        while made < n_notices:
            request_no += 1
            size = min(n_notices - made, rnd.randint(2, 6) if not is_special else 8)
            at = min(last_day, created + 86400 * (request_no * rnd.randint(2, 20)))
            resp = case_resps[request_no % len(case_resps)]
            freeze = clue_ids and rnd.random() < 0.2
            kind = "freeze" if freeze else "query"
            batch = f"{rnd.getrandbits(128):032x}"
            batch = f"{batch[:8]}-{batch[8:12]}-4{batch[13:16]}-a{batch[17:20]}-{batch[20:]}"
            recent = today_s - at < 2 * 86400
            first_pl = rnd.randrange(platform_count)
            for k in range(size):
                made += 1
                nid = next(ids["platforms_notice"])
                pidx = (first_pl + k) % platform_count
                key = f"ntc_{rnd.getrandbits(128):032x}"
                clue_ref, account, amount, mode = N, "", N, ""
                if freeze:
                    clue_ref_t = clue_ids[(request_no + k) % len(clue_ids)]
                    clue_ref, account, amount, mode = str(clue_ref_t[0]), clue_ref_t[3], "1000.00", "amount"
                r = rnd.random()
                if recent and r < 0.5:
                    state = rnd.choice(("queued", "sending", "acknowledged", "awaiting_approval"))
                elif r < 0.85:
                    state = "completed"
                elif r < 0.92:
                    state = "failed"
                elif r < 0.97:
                    state = "rejected"
                else:
                    state = "cancelled"
                attempts = 0 if state in ("queued", "awaiting_approval", "cancelled") else 1
                if state == "failed":
                    attempts = 3
                elif attempts and rnd.random() < 0.15:
                    attempts = 2
                approved = state != "awaiting_approval"
                sent = at + 2 if attempts else None
                done = at + 3 + rnd.randint(0, 30) if state in ("completed", "rejected", "failed") else None
                result = N
                if state == "completed":
                    result = (
                        f'{{"accounts": [{{"account": "{PLATFORMS[pidx][0]}-{resp[0]}-0", '
                        f'"asset_kind": "platform_balance", "balance": "{rnd.randint(0, 99999)}.00"}}]}}'
                        if kind == "query" and rnd.random() < 0.3
                        else '{"accounts": []}'
                    )
                elif state == "rejected":
                    result = '{"reason": "账户不存在"}'
                rows["platforms_notice"].append(
                    f"{nid}\t{kind}\t{batch}\t{resp[1]}\t{resp[2]}\t{account}\t{amount}\t{mode}\t"
                    f"{number[:-1]}之{made}号\t{key}\t{state}\t{attempts}\t{N}\t"
                    f"{'HTTP 503' if state == 'failed' else ''}\t{result}\t{'撤回' if state == 'cancelled' else ''}\t"
                    f"{ts(at)}\t{ts(at) if approved else N}\t{ts(at) if approved else N}\t"
                    f"{ts(sent) if sent else N}\t{ts(sent + 1) if state == 'acknowledged' else N}\t"
                    f"{ts(done) if state in ('completed', 'rejected') else N}\t"
                    f"{ts(done) if done else (ts(at + 5) if state == 'cancelled' else N)}\t"
                    f"{judge if approved else N}\t{case_id}\t{clue_ref}\t{N}\t{pidx + 1}\t{judge}\t{resp[0]}"
                )
                for number_ in range(1, attempts + 1):
                    last = number_ == attempts
                    outcome = (
                        "retry"
                        if not last
                        else {"failed": "failed", "acknowledged": "acknowledged", "sending": "retry"}.get(state, "done")
                    )
                    status_code = "503" if outcome in ("retry", "failed") else "200"
                    rows["platforms_deliveryattempt"].append(
                        f"{next(ids['platforms_deliveryattempt'])}\t{number_}\t{ts(at + 2 + number_ * 4)}\t"
                        f"{rnd.randint(20, 900)}\t{status_code}\t{'HTTPError' if status_code == '503' else ''}\t"
                        f"{outcome}\t\t{nid}"
                    )
                chain.add(
                    at,
                    judge,
                    judge_name,
                    "notice.request",
                    "platforms.notice",
                    nid,
                    {
                        "kind": kind,
                        "platform": PLATFORMS[pidx][0],
                        "respondent": resp[0],
                        "account": account,
                        "amount": None if amount == N else amount,
                        "key": key,
                        "state": "queued" if approved else "awaiting_approval",
                    },
                )
            rows["enforcement_caseevent"].append(
                f"{next(ids['enforcement_caseevent'])}\t{ts(at)}\tnotice\t"
                f'{"协助冻结" if freeze else "协助查询"}：{size}家平台\t{{"batch": "{batch}"}}\t{judge}\t{case_id}'
            )
        heads.append(f"{chain.chain}\t{chain.seq}\t{chain.prev}")
        if is_special:
            special = {"case_id": case_id, "number": number, "clues": n_clues, "notices": n_notices}
        if len(party_lines) >= 2000:
            loader.put("enforcement_party", party_lines)
            party_lines = []
        if (index + 1) % block == 0:
            flush()
            loader.put("enforcement_party", party_lines)
            party_lines = []
            loader.put("enforcement_auditchainhead", heads)
            heads = []
            if (index + 1) % (block * 25) == 0:
                rate = (index + 1) / (time.perf_counter() - t_cases)
                log(f"  {index + 1:,} cases ({rate:,.0f}/s)")
    flush()
    loader.put("enforcement_party", party_lines)
    loader.put("enforcement_auditchainhead", heads)
    loader.put(
        "enforcement_casenumbersequence",
        [f"{i}\t{t}\t{y}\t{v}\t{c}" for i, ((c, t, y), v) in enumerate(sorted(sequences.items()), start=1)],
    )
    loader.close()
    timings["cases_and_rows_s"] = round(time.perf_counter() - t_cases, 2)
    log(f"  rows loaded in {timings['cases_and_rows_s']:.0f} s; rebuilding {len(rebuild)} indexes")
    timings["rebuild_indexes_s"] = round(rebuild_indexes(url, rebuild, log), 2)
    t0 = time.perf_counter()
    manage(url, "rebuild_derived")  # derived data the case services keep (RespondentLoad, marks, activity)
    timings["derived_s"] = round(time.perf_counter() - t0, 2)

    t0 = time.perf_counter()
    conn = connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        for table in [*COLUMNS, "enforcement_auditchainhead"]:
            if "id" in COLUMNS.get(table, "").split():
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT max(id) FROM {table}), 1))"
                )
        if vacuum:
            cur.execute("SET maintenance_work_mem = '512MB'")
            cur.execute("VACUUM (ANALYZE)")
        cur.execute("CREATE TABLE IF NOT EXISTS bench_scale_meta (key text PRIMARY KEY, value jsonb NOT NULL)")
        scenario = {
            "cases": cases,
            "seed": seed,
            "generated_on": TODAY.isoformat(),
            "courts": len(courts),
            "courts_by_level": {
                lvl: sum(1 for c in courts if c.level == lvl) for lvl in ("supreme", "high", "intermediate", "basic")
            },
            "hot_court": {"id": hot.id, "code": hot.code, "name": hot.name},
            "judge": hot.judges[0],
            "head": hot.head,
            "supervisor": hot_mid.supervisor,
            "high_supervisor": next(c for c in highs if c.id == hot_mid.parent).supervisor,
            "special_case": special,
            "popular_respondent": {"id": respondents[0][0], "name": respondents[0][1], "identifier": respondents[0][2]},
            "rows": dict(sorted(loader.rows.items())),
        }
        cur.execute(
            "INSERT INTO bench_scale_meta VALUES ('scenario', %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [json.dumps(scenario, ensure_ascii=False)],
        )
    conn.close()
    timings["vacuum_analyze_s"] = round(time.perf_counter() - t0, 2)
    timings["copy_seconds_by_table"] = {k: round(v, 1) for k, v in sorted(loader.seconds.items())}
    timings["total_s"] = round(time.perf_counter() - t_all, 2)
    scenario["timings"] = timings
    return scenario


# --------------------------------------------------------------------------------------------
# database lifecycle
# --------------------------------------------------------------------------------------------


def recreate_database(url: str) -> None:
    name = urlparse(url).path.lstrip("/")
    conn = connect(url, dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def manage(url: str, *args: str) -> None:
    env = dict(os.environ, DATABASE_URL=url, LOG_LEVEL="WARNING")
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True, env=env)


def migrate(url: str) -> None:
    manage(url, "migrate", "-v0")


def existing_scenario(url: str) -> dict | None:
    """The scenario stored by a previous generation, or None (no database, no table)."""
    import psycopg2

    try:
        conn = connect(url)
    except psycopg2.OperationalError:
        return None
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT value FROM bench_scale_meta WHERE key = 'scenario'")
            row = cur.fetchone()
            return row[0] if row else None
    except psycopg2.Error:
        return None
    finally:
        conn.close()


def database_size(url: str) -> str:
    conn = connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cur.fetchone()[0]
    conn.close()
    return size

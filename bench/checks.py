"""Consistency checks of a generated database (used by tests/bench and ``python -m bench.checks``).

Every check returns a list of problems (empty when fine):

* audit chains: for a sample of cases, sequence numbers count up from 1, each entry's
  ``prev_hash`` is the previous ``entry_hash``, digests and hashes recompute with
  ``enforcement.audit`` and the chain head holds the last entry;
* identity numbers: a sample of 身份证号 and 统一社会信用代码 validate with python-stdnum;
* references: no row points to a missing row for every foreign key of the loaded tables (the
  load does not fire the foreign-key triggers, so this is what proves the references);
* the special case: 50 clues and 200 notices, open, handled by the measured judge;
* the respondent load (RespondentLoad) equals a recount from the cases;
* the same-respondent marks and each case's last activity and undisposed property equal what
  the rows give.
"""

from __future__ import annotations

import sys

from django.db import connection


def audit_chains(sample: int = 50) -> list[str]:
    from enforcement import audit
    from enforcement.models import AuditChainHead, AuditEntry

    problems = []
    chains = list(AuditChainHead.objects.order_by("?").values_list("chain", flat=True)[:sample])
    for chain in chains:
        head = AuditChainHead.objects.get(chain=chain)
        prev, seq = audit.GENESIS, 0
        for entry in AuditEntry.objects.filter(chain=chain).order_by("seq"):
            seq += 1
            if entry.seq != seq:
                problems.append(f"{chain}: expected seq {seq}, found {entry.seq}")
                break
            if entry.prev_hash != prev:
                problems.append(f"{chain}#{seq}: prev_hash does not link")
                break
            if entry.payload_digest != audit._digest(audit._canonical(entry.payload)):
                problems.append(f"{chain}#{seq}: payload digest")
                break
            if entry.entry_hash != audit.entry_hash(entry):
                problems.append(f"{chain}#{seq}: entry hash")
                break
            prev = entry.entry_hash
        if (head.seq, head.entry_hash) != (seq, prev):
            problems.append(f"{chain}: head says {head.seq}, chain has {seq}")
    return problems


def identifiers(sample: int = 2000) -> list[str]:
    from stdnum.cn import ric, uscc

    from enforcement.models import Party

    problems = []
    for party in Party.objects.order_by("?")[:sample]:
        if party.kind == "person" and not ric.is_valid(party.id_number):
            problems.append(f"party {party.pk}: invalid 身份证号 {party.id_number}")
        if party.kind == "entity" and not uscc.is_valid(party.uscc):
            problems.append(f"party {party.pk}: invalid USCC {party.uscc}")
    return problems


def references() -> list[str]:
    """Every foreign key of the public schema, checked with an anti-join."""
    problems = []
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, af.attname
            FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1]
            WHERE c.contype = 'f' AND array_length(c.conkey, 1) = 1
            """
        )
        for table, column, target, target_column in cur.fetchall():
            cur.execute(
                f'SELECT count(*) FROM {table} t WHERE t."{column}" IS NOT NULL AND NOT EXISTS '
                f'(SELECT 1 FROM {target} r WHERE r."{target_column}" = t."{column}")'
            )
            missing = cur.fetchone()[0]
            if missing:
                problems.append(f"{table}.{column}: {missing} rows point to no {target}")
    return problems


def special_case(scenario: dict) -> list[str]:
    from clues.models import PropertyClue
    from enforcement.models import CaseStatus, CaseUserObjectPermission, EnforcementCase
    from platforms.models import Notice

    problems = []
    case = EnforcementCase.objects.get(pk=scenario["special_case"]["case_id"])
    if PropertyClue.objects.filter(case=case).count() != 50:
        problems.append("special case: not 50 clues")
    if Notice.objects.filter(case=case).count() != 200:
        problems.append("special case: not 200 notices")
    if case.status == CaseStatus.CLOSED:
        problems.append("special case: closed")
    if not CaseUserObjectPermission.objects.filter(content_object=case, user_id=scenario["judge"]).exists():
        problems.append("special case: the measured judge holds no grant")
    return problems


def respondent_load() -> list[str]:
    """The table the case services keep (RespondentLoad) equals a recount from the cases."""
    from enforcement.models import RespondentLoad
    from enforcement.services import open_cases_per_identity

    kept = set(RespondentLoad.objects.values_list("identity", "open_cases", "open_courts"))
    counted = {(r["identity"], r["open_cases"], r["open_courts"]) for r in open_cases_per_identity()}
    if not counted:
        return ["respondent load: no open case has a respondent with an identity number"]
    return [f"respondent load: {row} kept, not counted" for row in sorted(kept - counted)[:10]] + [
        f"respondent load: {row} counted, not kept" for row in sorted(counted - kept)[:10]
    ]


def _differs(field: str, other: str):
    """``field IS DISTINCT FROM other`` as a Q."""
    from django.db.models import F, Q

    return (
        Q(**{f"{field}__isnull": True, f"{other}__isnull": False})
        | Q(**{f"{field}__isnull": False, f"{other}__isnull": True})
        | (Q(**{f"{field}__isnull": False, f"{other}__isnull": False}) & ~Q(**{field: F(other)}))
    )


def derived_marks() -> list[str]:
    """The same-respondent marks and each case's last activity and undisposed property, kept by the
    services, equal what the rows give (``rebuild_derived`` after the load; the eligible list reads
    them)."""
    from enforcement.models import CaseParty, EnforcementCase
    from enforcement.services import last_activity_expression, undisposed_since_expression
    from transfers.services import same_respondent_mismatches

    problems = [
        f"same-respondent mark: {n} respondent rows should be {value}"
        for wrong, value in same_respondent_mismatches(CaseParty.objects.all())
        if (n := wrong.count())
    ]
    if not CaseParty.objects.filter(over_trigger=True).exists():
        problems.append("same-respondent mark: no respondent reaches the trigger")
    for field, counted, what in (
        ("last_activity_at", last_activity_expression(), "their latest event"),
        ("undisposed_since", undisposed_since_expression(), "their clues and measures"),
    ):
        stale = EnforcementCase.objects.annotate(counted=counted).filter(_differs(field, "counted")).count()
        if stale:
            problems.append(f"{field}: {stale} cases differ from {what}")
    return problems


def run_all(scenario: dict) -> dict[str, list[str]]:
    return {
        "audit_chains": audit_chains(),
        "identifiers": identifiers(),
        "references": references(),
        "special_case": special_case(scenario),
        "respondent_load": respondent_load(),
        "derived_marks": derived_marks(),
    }


if __name__ == "__main__":
    import os

    from bench import generate, scale

    db = sys.argv[1] if len(sys.argv) > 1 else "bench_scale"
    url = generate.database_url(db)
    found = generate.existing_scenario(url)
    if not found:
        raise SystemExit(f"{db}: no generated data")
    scale.setup_django(url)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    report = run_all(found)
    for name, problems in report.items():
        print(f"{name}: {'ok' if not problems else problems[:10]}")
    sys.exit(1 if any(report.values()) else 0)

"""Access-log review (ログ点検) for the office's pages and the command line: log sources, imports,
rule sets, review rounds and their samples, the districts and households the rules use, and
the retention of imported logs. The work itself is framework-free (reports/accesslogs/); this module
adds the registers, the office's clock and the audit trail around it. Everything writes in the
caller's transaction.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from reports.accesslogs import importer, reader, rules, sampler
from reports.accesslogs.mapping import DEFAULT_PATTERN, FIELDS, Mapping
from reports.accesslogs.mapping import check as check_mapping
from reports.accesslogs.messages import Problem, ProblemsFound
from survey import clock
from survey.extensions import db
from survey.formatting import format_date
from survey.models import (
    Contract,
    Contractor,
    LogEntry,
    LogImport,
    LogSource,
    OrgUnit,
    ReviewRound,
    SampledEntry,
    SampleReason,
    SamplingRuleSet,
    ServedDistrict,
    StaffHousehold,
)
from survey.models.logs import RoundStatus
from survey.models.types import utcnow
from survey.services import trail, transitions, uploads
from survey.services.register_files import RegisterFileError, read_table

FIELD_NAMES = tuple(name for name, _required, _longest in FIELDS)
UNRESOLVED_SHOWN = 20  # the most frequent unresolved user ids listed on a preview


# --- sources ----------------------------------------------------------------------------------


def mapping(source: LogSource) -> Mapping:
    columns = {name: getattr(source, f"{name}_column") or "" for name in FIELD_NAMES}
    # A source not yet flushed has None where the columns' defaults will go.
    return Mapping(
        {name: heading for name, heading in columns.items() if heading},
        user_pattern=source.user_pattern or DEFAULT_PATTERN,
        encoding=source.encoding or "auto",
        delimiter=source.delimiter or ",",
        time_format=source.time_format or "",
    )


def sources() -> list[LogSource]:
    return list(db.session.scalars(sa.select(LogSource).order_by(LogSource.code)))


def source_by_code(code: str) -> LogSource | None:
    return db.session.scalar(sa.select(LogSource).where(LogSource.code == code))


def save_source(source: LogSource) -> None:
    """Store a new or changed source; ProblemsFound if its mapping cannot be used (each
    problem names the field) or its code is taken."""
    problems = check_mapping(mapping(source))
    stmt = sa.select(LogSource.id).where(LogSource.code == source.code)
    if source.id is not None:
        stmt = stmt.where(LogSource.id != source.id)
    with db.session.no_autoflush:  # a changed code must not reach the database before this
        taken = db.session.scalar(stmt)
    if taken is not None:
        problems.append(Problem("code", "source_code_taken", {"code": source.code}))
    if problems:
        raise ProblemsFound(problems)
    is_new = source.id is None
    db.session.add(source)
    db.session.flush()
    columns = {f"{n}_column": getattr(source, f"{n}_column") for n in FIELD_NAMES}
    trail.record(
        "log.source",
        source,
        summary=f"{source.code} {source.name}",
        after={"new": is_new, "user_pattern": source.user_pattern, **columns},
    )


# --- imports ----------------------------------------------------------------------------------


@dataclass
class Checked:
    """A file read against a source: what it holds, or why it is not imported."""

    facts: reader.FileFacts | None = None
    result: importer.Result | None = None
    problems: list[Problem] = field(default_factory=list)
    more: int = 0
    already: LogImport | None = None  # the same file, imported before
    log_import: LogImport | None = None  # the import this made

    @property
    def ok(self) -> bool:
        return not self.problems and self.already is None

    @property
    def unresolved(self) -> list[tuple[str, int]]:
        return self.result.unresolved.most_common(UNRESOLVED_SHOWN) if self.result else []


def _already(source: LogSource, sha256: str) -> LogImport | None:
    return db.session.scalar(
        sa.select(LogImport).where(LogImport.source_id == source.id, LogImport.sha256 == sha256)
    )


def _inspect(source: LogSource, stream: BinaryIO) -> Checked:
    if not source.active:
        return Checked(problems=[Problem("", "source_inactive", {"code": source.code})])
    try:
        facts = reader.inspect(stream, mapping(source).encoding)
    except ProblemsFound as found:
        return Checked(problems=found.problems)
    return Checked(facts=facts, already=_already(source, facts.sha256))


def _read(checked: Checked, source: LogSource, stream: BinaryIO, target) -> Checked:
    try:
        result = importer.load(
            db.session.connection(),
            stream,
            checked.facts,
            mapping(source),
            zone=clock.zone(),
            now=utcnow(),
            limits=uploads.workbook_limits("access_log"),
            target=target,
        )
    except ProblemsFound as found:
        checked.problems, checked.more = found.problems, found.more
        return checked
    checked.result, checked.problems, checked.more = result, result.problems, result.more
    return checked


def check_file(source: LogSource, stream: BinaryIO) -> Checked:
    """What importing the file would do, without writing: its rows, period and the user ids
    the registers do not hold, or every problem by row and column."""
    checked = _inspect(source, stream)
    if checked.facts is None or checked.already is not None:
        return checked
    return _read(checked, source, stream, None)


def import_file(source: LogSource, stream: BinaryIO, filename: str) -> Checked:
    """Import the file. When `ok` is false (problems, or the same file imported before) the
    caller rolls back: rows may have been written before a problem was met."""
    checked = _inspect(source, stream)
    if checked.facts is None or checked.already is not None:
        return checked
    facts = checked.facts
    actor_id, actor_name = trail.who()
    record = LogImport(
        source=source,
        sha256=facts.sha256,
        filename=uploads.clean_filename(filename, "log"),
        size=facts.size,
        file_format=facts.format,
        encoding=facts.encoding or "",
        imported_by_id=actor_id,
        imported_by_name=actor_name,
    )
    db.session.add(record)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:  # the same file, imported at this moment by someone else
        db.session.rollback()
        return Checked(facts=facts, already=_already(source, facts.sha256))
    _read(checked, source, stream, importer.Target(record.id, source.id))
    if not checked.ok:
        return checked
    result = checked.result
    record.row_count = result.rows
    record.unresolved_count = sum(result.unresolved.values())
    record.first_at, record.last_at = result.first_at, result.last_at
    trail.record(
        "log.import",
        record,
        summary=f"{source.code} {record.filename}: {result.rows}",
        after={
            "source": source.code,
            "sha256": facts.sha256,
            "rows": result.rows,
            "unresolved_rows": record.unresolved_count,
            "first_at": result.first_at,
            "last_at": result.last_at,
        },
    )
    checked.log_import = record
    return checked


def imports(source: LogSource | None = None) -> list[LogImport]:
    stmt = sa.select(LogImport).order_by(LogImport.imported_at.desc(), LogImport.id.desc())
    if source is not None:
        stmt = stmt.where(LogImport.source_id == source.id)
    return list(db.session.scalars(stmt))


# --- retention --------------------------------------------------------------------------------


def retention_days() -> int:
    return current_app.config["LOG_RETENTION_DAYS"]


def purge(today: date | None = None) -> list[LogImport]:
    """Delete the entries of every import whose newest entry is older than the retention
    period, each deletion recorded in the audit trail. Rounds keep their copies of the entries
    they sampled."""
    today = today or clock.today()
    cutoff = trail.day_start(today - timedelta(days=retention_days()))
    due = db.session.scalars(
        sa.select(LogImport)
        .where(LogImport.purged_at.is_(None), LogImport.last_at < cutoff)
        .order_by(LogImport.id)
    ).all()
    for record in due:
        deleted = db.session.execute(
            sa.delete(LogEntry).where(LogEntry.import_id == record.id)
        ).rowcount
        record.purged_at = utcnow()
        trail.record(
            "log.purge",
            record,
            summary=f"{record.source.code} {record.filename}: {deleted}",
            after={
                "deleted": deleted,
                "last_at": record.last_at,
                "retention_days": retention_days(),
            },
        )
    return list(due)


# --- rule sets --------------------------------------------------------------------------------


def rule_sets() -> list[SamplingRuleSet]:
    return list(
        db.session.scalars(
            sa.select(SamplingRuleSet).order_by(SamplingRuleSet.code, SamplingRuleSet.version)
        )
    )


def rule_set(label: str) -> SamplingRuleSet | None:
    """CODE@VERSION, or CODE for its newest version."""
    code, _, version = label.partition("@")
    stmt = sa.select(SamplingRuleSet).where(SamplingRuleSet.code == code)
    if version:
        if not version.isdigit():
            return None
        stmt = stmt.where(SamplingRuleSet.version == int(version))
    return db.session.scalar(stmt.order_by(SamplingRuleSet.version.desc()).limit(1))


def rules_of(stored: SamplingRuleSet) -> rules.RuleSet:
    return rules.from_canonical(stored.content)


def import_rules(data: bytes) -> tuple[SamplingRuleSet, bool]:
    """(the stored version, whether it is new). ProblemsFound for a file that cannot be used,
    or a version stored with other content, or older than the newest."""
    ruleset = rules.parse(data)
    digest = ruleset.content_hash()
    same = rule_set(f"{ruleset.code}@{ruleset.version}")
    if same is not None:
        if same.content_hash == digest:
            return same, False
        newest = rule_set(ruleset.code)
        raise ProblemsFound(
            [
                Problem(
                    "version",
                    "rules_version_exists",
                    {"code": ruleset.code, "version": ruleset.version, "next": newest.version + 1},
                )
            ]
        )
    newest = rule_set(ruleset.code)
    if newest is not None and newest.version > ruleset.version:
        raise ProblemsFound(
            [
                Problem(
                    "version",
                    "rules_version_not_newer",
                    {"code": ruleset.code, "newest": newest.version, "next": newest.version + 1},
                )
            ]
        )
    stored = SamplingRuleSet(
        code=ruleset.code,
        version=ruleset.version,
        title=ruleset.title,
        content=ruleset.canonical(),
        content_hash=digest,
        source_text=data.decode("utf-8-sig"),
        imported_by_name=trail.who()[1],
    )
    db.session.add(stored)
    db.session.flush()
    trail.record(
        "log.rules",
        stored,
        summary=f"{stored.label} {stored.title}",
        after={"content_hash": digest, "rules": [r.key for r in ruleset.rules]},
    )
    return stored, True


def shipped_rule_files() -> list[Path]:
    return sorted(rules.SHIPPED.glob("*.yaml"))


# --- districts and households ----------------------------------------------------------------

DISTRICT_HEADINGS = {
    "owner": ("組織コード・事業者コード", "組織コード", "事業者コード"),
    "district": ("地区",),
}
HOUSEHOLD_HEADINGS = {"user": ("利用者ID",), "record": ("宛名番号", "記録", "住民コード")}


def _table(data: bytes, filename: str, headings: dict[str, tuple[str, ...]]):
    """The rows of a small list file (a register file: CSV or .xlsx) as {name: text}."""
    try:
        table = read_table(data, filename)
    except RegisterFileError as error:
        raise ProblemsFound([Problem("", "list_unreadable", {"detail": str(error)})]) from None
    keys = {"".join(h.split()): i for i, h in enumerate(table.headers)}
    where = {}
    for name, names in headings.items():
        index = next((keys[n] for n in names if n in keys), None)
        if index is None:
            raise ProblemsFound([Problem(names[0], "list_heading", {"heading": names[0]}, row=1)])
        where[name] = index
    for number, cells in table.rows:
        values = {n: str(cells[i]).strip() if i < len(cells) else "" for n, i in where.items()}
        if any(values.values()):
            yield number, values


def replace_districts(data: bytes, filename: str) -> int:
    """The served districts, from a file that is the whole list (org unit or company code, and
    district): the stored list is replaced. ProblemsFound names each unknown code by row."""
    units = dict(db.session.execute(sa.select(OrgUnit.code, OrgUnit.id)).all())
    companies = dict(db.session.execute(sa.select(Contractor.code, Contractor.id)).all())
    rows, problems, seen = [], [], set()
    for number, values in _table(data, filename, DISTRICT_HEADINGS):
        owner, district = values["owner"], values["district"]
        if not owner or not district or len(district) > 32:
            problems.append(Problem("地区", "list_value", row=number))
            continue
        if owner not in units and owner not in companies:
            problems.append(
                Problem(DISTRICT_HEADINGS["owner"][0], "list_owner", {"code": owner}, row=number)
            )
            continue
        if (owner, district) in seen:
            continue
        seen.add((owner, district))
        rows.append(
            ServedDistrict(
                unit_id=units.get(owner),
                contractor_id=None if owner in units else companies[owner],
                district=district,
            )
        )
    if problems:
        raise ProblemsFound(problems)
    db.session.execute(sa.delete(ServedDistrict))
    db.session.add_all(rows)
    trail.record(
        "log.districts",
        object_type="served_district",
        summary=f"{filename}: {len(rows)}",
        after={"rows": len(rows)},
    )
    return len(rows)


def replace_households(source: LogSource, data: bytes, filename: str) -> int:
    """A source's staff households, from a file that is the whole list (user id as the log
    writes it, and the record of one member of the household)."""
    pairs = set()
    problems = []
    for number, values in _table(data, filename, HOUSEHOLD_HEADINGS):
        if not values["user"] or not values["record"] or max(map(len, values.values())) > 64:
            problems.append(Problem("", "list_value", row=number))
            continue
        pairs.add((values["user"], values["record"]))
    if problems:
        raise ProblemsFound(problems)
    db.session.execute(sa.delete(StaffHousehold).where(StaffHousehold.source_id == source.id))
    db.session.add_all(
        StaffHousehold(source_id=source.id, user_code=u, record_id=r) for u, r in sorted(pairs)
    )
    trail.record(
        "log.households",
        source,
        summary=f"{source.code} {filename}: {len(pairs)}",
        after={"rows": len(pairs)},
    )
    return len(pairs)


# --- review rounds ----------------------------------------------------------------------------


def rounds() -> list[ReviewRound]:
    return list(
        db.session.scalars(
            sa.select(ReviewRound).order_by(ReviewRound.period_from.desc(), ReviewRound.id.desc())
        )
    )


def sampled_counts() -> dict[int, int]:
    """round id -> entries sampled."""
    stmt = sa.select(SampledEntry.round_id, sa.func.count()).group_by(SampledEntry.round_id)
    return dict(db.session.execute(stmt).all())


def round_by_code(code: str) -> ReviewRound | None:
    return db.session.scalar(sa.select(ReviewRound).where(ReviewRound.code == code))


def new_seed() -> str:
    return secrets.token_hex(8)


def create_round(
    source: LogSource,
    stored: SamplingRuleSet,
    period_from: date,
    period_to: date,
    code: str,
    title: str,
    seed: str | None = None,
) -> ReviewRound:
    round_ = ReviewRound(
        code=code,
        title=title,
        source=source,
        rule_set=stored,
        period_from=period_from,
        period_to=period_to,
        seed=seed or new_seed(),
        created_by_name=trail.who()[1],
    )
    db.session.add(round_)
    db.session.flush()
    trail.record(
        "log.round",
        round_,
        summary=f"{code} {title}",
        after={
            "source": source.code,
            "rules": stored.label,
            "period_from": period_from,
            "period_to": period_to,
            "seed": round_.seed,
        },
    )
    return round_


def scope(round_: ReviewRound) -> sampler.Scope:
    return sampler.Scope(round_.source_id, round_.period_from, round_.period_to, clock.zone())


def draw(round_: ReviewRound) -> sampler.Sample:
    """The round's sample as its seed, rules and the stored entries give it (nothing written)."""
    return sampler.draw(
        db.session.connection(), scope(round_), rules_of(round_.rule_set), round_.seed
    )


COPIED = (
    "at",
    "user_code",
    "user_id",
    "unit_id",
    "contractor_id",
    "terminal",
    "operation",
    "record_id",
    "district",
    "reason",
    "request_no",
)


def contract_supervisors(owner_unit: int) -> dict[int, int]:
    """company id -> the unit that supervises its staff's work on the system: the unit of the
    company's active contract with the system's owning unit if there is one, else of its first
    active contract (by code)."""
    found: dict[int, int] = {}
    rows = db.session.execute(
        sa.select(Contract.contractor_id, Contract.unit_id)
        .where(Contract.active.is_(True))
        .order_by(Contract.contractor_id, (Contract.unit_id != owner_unit), Contract.code)
    )
    for company, unit in rows:
        found.setdefault(company, unit)
    return found


def _reviewer(entry: LogEntry, owner_unit: int, supervisors: dict[int, int]) -> int:
    """The unit whose head reviews an entry: the user's; for contractor staff, the unit
    supervising the company's contract (the registers' contracts); for user ids no register
    holds, and a company without a contract, the unit that owns the system."""
    if entry.contractor_id is not None:
        return supervisors.get(entry.contractor_id, owner_unit)
    return entry.unit_id if entry.unit_id is not None else owner_unit


def record_sample(round_: ReviewRound) -> int | None:
    """Draw the round's sample and keep it: a copy of each entry, the unit whose head reviews
    it, and why it was drawn. Returns how many entries were drawn; None if the round's sample
    was drawn already (by another request: the first one to move the round draws)."""
    if not transitions.move(
        round_, [RoundStatus.PLANNED], RoundStatus.SAMPLED, sampled_at=utcnow()
    ):
        return None
    sample = draw(round_)
    round_.entries_in_period = sample.in_period
    owner_unit = round_.source.system.unit_id
    supervisors = contract_supervisors(owner_unit)
    ids = sorted(sample.reasons)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for entry in db.session.scalars(sa.select(LogEntry).where(LogEntry.id.in_(chunk))):
            copy = SampledEntry(
                round=round_,
                entry_id=entry.id,
                review_unit_id=_reviewer(entry, owner_unit, supervisors),
                **{name: getattr(entry, name) for name in COPIED},
            )
            copy.reasons = [SampleReason(rule=rule) for rule in sorted(sample.reasons[entry.id])]
            db.session.add(copy)
    db.session.flush()
    counts = Counter(rule for found in sample.reasons.values() for rule in found)
    trail.record(
        "log.sample",
        round_,
        summary=f"{round_.code}: {len(ids)} / {sample.in_period}",
        after={
            "sampled": len(ids),
            "in_period": sample.in_period,
            "by_rule": dict(sorted(counts.items())),
        },
    )
    return len(ids)


def stored_sample(round_: ReviewRound) -> dict[int | None, set[str]]:
    """entry id -> reasons, as the round recorded them."""
    found: dict[int | None, set[str]] = {}
    rows = db.session.execute(
        sa.select(SampledEntry.entry_id, SampleReason.rule)
        .join(SampleReason, SampleReason.sampled_id == SampledEntry.id)
        .where(SampledEntry.round_id == round_.id)
    )
    for entry_id, rule in rows:
        found.setdefault(entry_id, set()).add(rule)
    return found


@dataclass
class Figures:
    """A round's sample counted per reviewing unit and reason (rule key or "random")."""

    cells: dict[tuple[int, str], int]  # (unit id, reason) -> entries
    units: list[OrgUnit]
    reasons: list[str]
    totals: dict[int, int]  # unit id -> entries (an entry drawn for two reasons counts once)

    def total(self) -> int:
        return sum(self.totals.values())

    def by_reason(self, reason: str) -> int:
        return sum(n for (_unit, r), n in self.cells.items() if r == reason)


def figures(round_: ReviewRound) -> Figures:
    by_rule = db.session.execute(
        sa.select(SampledEntry.review_unit_id, SampleReason.rule, sa.func.count())
        .join(SampleReason, SampleReason.sampled_id == SampledEntry.id)
        .where(SampledEntry.round_id == round_.id)
        .group_by(SampledEntry.review_unit_id, SampleReason.rule)
    ).all()
    totals = dict(
        db.session.execute(
            sa.select(SampledEntry.review_unit_id, sa.func.count())
            .where(SampledEntry.round_id == round_.id)
            .group_by(SampledEntry.review_unit_id)
        ).all()
    )
    units = db.session.scalars(
        sa.select(OrgUnit).where(OrgUnit.id.in_(totals)).order_by(OrgUnit.code)
    ).all()
    ruleset = rules_of(round_.rule_set)
    reasons = [r.key for r in ruleset.rules] + ([rules.RANDOM] if ruleset.per_unit else [])
    return Figures({(u, r): n for u, r, n in by_rule}, list(units), reasons, totals)


# --- what the pages show -----------------------------------------------------------------------


@dataclass
class SourceStats:
    source: LogSource
    imports: int
    rows: int
    first_at: datetime | None
    last_at: datetime | None
    households: int


def source_stats() -> list[SourceStats]:
    """Each source with what is kept of its logs (purged imports left out)."""
    kept = (
        sa.select(
            LogImport.source_id,
            sa.func.count(LogImport.id),
            sa.func.coalesce(sa.func.sum(LogImport.row_count), 0),
            sa.func.min(LogImport.first_at),
            sa.func.max(LogImport.last_at),
        )
        .where(LogImport.purged_at.is_(None))
        .group_by(LogImport.source_id)
    )
    found = {row[0]: row[1:] for row in db.session.execute(kept)}
    households = dict(
        db.session.execute(
            sa.select(StaffHousehold.source_id, sa.func.count()).group_by(StaffHousehold.source_id)
        ).all()
    )
    return [
        SourceStats(s, *found.get(s.id, (0, 0, None, None)), households.get(s.id, 0))
        for s in sources()
    ]


@dataclass
class Started:
    round: ReviewRound | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)  # (form field, message)


def _free_code(base: str) -> str:
    code, n = base, 1
    while round_by_code(code) is not None:
        n += 1
        code = f"{base}-{n}"
    return code


def start_round(
    source_id: int | None,
    rule_set_id: int | None,
    period_from: date,
    period_to: date,
    *,
    code: str = "",
    title: str = "",
    seed: str | None = None,
) -> Started:
    """Create a round and draw its sample at once (the office's page), or say what is wrong,
    field by field."""
    source = db.session.get(LogSource, source_id) if source_id else None
    stored = db.session.get(SamplingRuleSet, rule_set_id) if rule_set_id else None
    started = Started()
    if source is None or not source.active:
        started.problems.append(("source_id", _("ログの種類を選んでください。")))
    if stored is None:
        started.problems.append(
            ("rule_set_id", _("抽出ルールを選んでください（flask logs rules で登録します）。"))
        )
    if period_to < period_from:
        started.problems.append(("period_to", _("終了日は開始日以降にしてください。")))
    if code and round_by_code(code) is not None:
        started.problems.append(("code", _("コード「%(code)s」は使われています。", code=code)))
    if started.problems:
        return started
    window = sampler.Scope(source.id, period_from, period_to, clock.zone())
    if not db.session.scalar(sa.select(sa.literal(True)).where(sa.exists().where(window.where()))):
        started.problems.append(("period_from", _("この期間のログは取り込まれていません。")))
        return started
    code = code or _free_code(f"{source.code}-{period_from:%Y%m%d}-{period_to:%Y%m%d}")
    title = title or _(
        "%(source)s %(first)s〜%(last)s",
        source=source.name,
        first=format_date(period_from),
        last=format_date(period_to),
    )
    started.round = create_round(source, stored, period_from, period_to, code, title, seed)
    record_sample(started.round)
    return started

"""The heads' review of a round, framework-free: which answers a rule asks for, how a record
number is shown to those who do not need it, and the figures per unit and rule — sampled,
justified, flagged, overdue — with their Excel summary (in the inspections' style,
reports/excel.py) and CSV; and the trend across the rounds of one source and rule set, side by
side (推移)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO

from reports.accesslogs.rules import RANDOM, RuleSet
from reports.excel import Formats, SheetWriter, workbook
from reports.safe import csv_text
from reports.tables import Column, Table

JUSTIFIED, CHECKING, SUSPECT = "justified", "checking", "suspect"
VERDICTS = (JUSTIFIED, CHECKING, SUSPECT)
FINAL = (JUSTIFIED, SUSPECT)  # a sheet is handed in only when every entry has one of these
SHOWN_DIGITS = 3


def mask(record_id: str) -> str:
    """A record number as shown to all but its reviewer: only the last digits (enough to tell
    two entries apart, not to find the resident)."""
    if not record_id:
        return ""
    shown = record_id[-SHOWN_DIGITS:] if len(record_id) > SHOWN_DIGITS else ""
    return "＊" * (len(record_id) - len(shown)) + shown


def requires_request(ruleset: RuleSet, operation: str) -> bool:
    """Whether the rule set asks a request number (申請書番号) for this operation: a
    missing_request rule that lists it, or lists no operation at all."""
    for rule in ruleset.rules:
        if rule.kind == "missing_request":
            listed = rule.settings.get("operations") or []
            if not listed or operation in listed:
                return True
    return False


# --- figures ----------------------------------------------------------------------------------


@dataclass
class Counts:
    sampled: int = 0
    justified: int = 0
    checking: int = 0
    flagged: int = 0
    unanswered: int = 0
    overdue: int = 0

    def add(self, verdict: str, overdue: bool) -> None:
        self.sampled += 1
        if verdict == JUSTIFIED:
            self.justified += 1
        elif verdict == CHECKING:
            self.checking += 1
        elif verdict == SUSPECT:
            self.flagged += 1
        else:
            self.unanswered += 1
        self.overdue += overdue


@dataclass(frozen=True)
class Reviewed:
    """One sampled entry as the figures count it."""

    unit: str  # the reviewing unit's name
    reasons: tuple[str, ...]  # rule keys, "random"
    verdict: str  # "" unanswered
    overdue: bool  # its sheet is not handed in and the deadline has passed


@dataclass
class Figures:
    reasons: list[str]  # in the rule set's order, "random" last
    by_unit: dict[str, Counts] = field(default_factory=dict)
    by_reason: dict[str, Counts] = field(default_factory=dict)
    cells: dict[tuple[str, str], Counts] = field(default_factory=dict)  # (unit, reason)
    total: Counts = field(default_factory=Counts)

    @property
    def units(self) -> list[str]:
        return sorted(self.by_unit)


def tally(entries: Iterable[Reviewed], ruleset: RuleSet) -> Figures:
    """Count each entry once per unit and in total, and once under each reason it was drawn
    for (so the reasons' sums may pass the total)."""
    reasons = [r.key for r in ruleset.rules] + ([RANDOM] if ruleset.per_unit else [])
    figures = Figures(reasons, by_reason={r: Counts() for r in reasons})
    for entry in entries:
        figures.total.add(entry.verdict, entry.overdue)
        figures.by_unit.setdefault(entry.unit, Counts()).add(entry.verdict, entry.overdue)
        for reason in entry.reasons:
            figures.by_reason.setdefault(reason, Counts()).add(entry.verdict, entry.overdue)
            cell = figures.cells.setdefault((entry.unit, reason), Counts())
            cell.add(entry.verdict, entry.overdue)
    return figures


COUNTS = ("sampled", "justified", "checking", "flagged", "unanswered", "overdue")
COUNT_TITLES = {
    "sampled": ("抽出", "sampled"),
    "justified": ("業務上必要", "justified"),
    "checking": ("確認中", "checking"),
    "flagged": ("不適切な可能性", "flagged"),
    "unanswered": ("未回答", "unanswered"),
    "overdue": ("期限超過", "overdue"),
}


def _count_columns() -> list[Column]:
    return [
        Column(key, ja, kind="int", width=11, title_en=en) for key, (ja, en) in COUNT_TITLES.items()
    ]


def _values(counts: Counts) -> tuple[int, ...]:
    return tuple(getattr(counts, key) for key in COUNTS)


def reason_label(ruleset: RuleSet, reason: str) -> str:
    if reason == RANDOM:
        return "無作為抽出"
    rule = ruleset.rule(reason)
    return rule.title if rule else reason


def unit_rows(figures: Figures) -> list[tuple]:
    return [(unit, *_values(figures.by_unit[unit])) for unit in figures.units]


def reason_rows(figures: Figures, ruleset: RuleSet) -> list[tuple]:
    return [
        (reason, reason_label(ruleset, reason), *_values(figures.by_reason[reason]))
        for reason in figures.reasons
    ]


def cell_rows(figures: Figures, ruleset: RuleSet) -> list[tuple]:
    """One row per unit and reason that drew any entry: the long table (CSV, the third sheet)."""
    return [
        (unit, reason, reason_label(ruleset, reason), *_values(figures.cells[(unit, reason)]))
        for unit in figures.units
        for reason in figures.reasons
        if (unit, reason) in figures.cells
    ]


UNIT_COLUMNS = [Column("unit", "点検する所属", width=28), *_count_columns()]
REASON_COLUMNS = [
    Column("rule", "ルール", width=16),
    Column("title", "抽出の理由", width=32),
    *_count_columns(),
]
CELL_COLUMNS = [
    Column("unit", "点検する所属", width=28),
    Column("rule", "ルール", width=16),
    Column("title", "抽出の理由", width=32),
    *_count_columns(),
]


# --- the trend across rounds ---------------------------------------------------------------------

TREND_COUNTS = ("sampled", "justified", "flagged", "overdue")
TREND_KINDS = {"total": ("計", "total"), "unit": ("所属", "unit"), "reason": ("理由", "reason")}


@dataclass(frozen=True)
class RoundFigures:
    """One round of a trend: its code, period (as text) and figures."""

    code: str
    title: str
    period: str
    figures: Figures


def trend_rows(rounds: list[RoundFigures], ruleset: RuleSet) -> list[tuple]:
    """Rounds side by side, oldest first: per kind (計, each unit, each reason) and count
    (sampled, justified, flagged, overdue), one column per round. A unit or reason a round did
    not have is None there (blank), not 0. Reasons are named by `ruleset` (the newest)."""
    units = sorted({unit for r in rounds for unit in r.figures.by_unit})
    reasons: list[str] = []
    for r in reversed(rounds):  # the newest round's order first, then reasons since dropped
        reasons += [reason for reason in r.figures.reasons if reason not in reasons]
    groups: list[tuple[str, str, str, list]] = [
        ("total", "計", "", [r.figures.total for r in rounds])
    ]
    groups += [("unit", unit, "", [r.figures.by_unit.get(unit) for r in rounds]) for unit in units]
    groups += [
        (
            "reason",
            reason_label(ruleset, reason),
            reason,
            [
                r.figures.by_reason.get(reason) if reason in r.figures.reasons else None
                for r in rounds
            ],
        )
        for reason in reasons
    ]
    rows = []
    for kind, name, key, counts in groups:
        for count in TREND_COUNTS:
            values = [getattr(c, count) if c is not None else None for c in counts]
            rows.append((TREND_KINDS[kind][0], name, key, COUNT_TITLES[count][0], *values))
    return rows


def trend_columns(rounds: list[RoundFigures]) -> list[Column]:
    return [
        Column("kind", "区分", width=8),
        Column("name", "所属・抽出の理由", width=30),
        Column("rule", "ルール", width=14),
        Column("count", "件数", width=14),
        *[Column(r.code, r.code, kind="int", width=max(14, len(r.code) + 2)) for r in rounds],
    ]


def trend_csv_bytes(rounds: list[RoundFigures], ruleset: RuleSet, lang: str = "ja") -> bytes:
    """The trend as a long table, one row per round, kind, name and count: UTF-8 with a BOM."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    english = lang[:2] == "en"
    writer.writerow(
        ["round", "period", "kind", "name", "rule", *TREND_COUNTS]
        if english
        else [
            "点検",
            "期間",
            "区分",
            "所属・抽出の理由",
            "ルール",
            *(COUNT_TITLES[c][0] for c in TREND_COUNTS),
        ]
    )
    by_kind = {ja: en for ja, en in TREND_KINDS.values()}
    # trend_rows gives one row per (kind, name, count); the CSV one per (round, kind, name).
    grouped: dict[tuple, list[list]] = {}
    for kind, name, key, _count, *per_round in trend_rows(rounds, ruleset):
        grouped.setdefault((kind, name, key), []).append(per_round)
    for i, r in enumerate(rounds):
        for (kind, name, key), per_count in grouped.items():
            counts = [per_round[i] for per_round in per_count]
            if all(v is None for v in counts):
                continue  # a unit or reason this round did not have
            writer.writerow(
                [
                    csv_text(r.code),
                    csv_text(r.period),
                    by_kind[kind] if english else kind,
                    csv_text(name),
                    key,
                    *counts,
                ]
            )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@dataclass(frozen=True)
class Heading:
    """The title block: which round, its period and deadline, when and by whom."""

    title: str
    round_code: str
    period: str  # e.g. "令和8年10月1日〜令和8年10月31日"
    due: str  # the heads' deadline, as text
    generated_at: datetime  # aware, in the office's time zone
    generated_by: str

    def lines(self, figures: Figures) -> list[str]:
        total = figures.total
        return [
            f"{self.title} ログ点検 集計",
            f"点検: {self.round_code}　期間: {self.period}　回答期限: {self.due}",
            f"抽出 {total.sampled}件　業務上必要 {total.justified}件　"
            f"不適切な可能性 {total.flagged}件　期限超過 {total.overdue}件（出力日時点）",
            f"出力: {self.generated_at:%Y-%m-%d %H:%M} {self.generated_by}",
        ]


def write_xlsx(
    figures: Figures,
    ruleset: RuleSet,
    heading: Heading,
    out: str | IO[bytes],
    trend: list[RoundFigures] | None = None,
):
    """Three sheets: per unit, per reason, per unit and reason; and 推移 when `trend` has
    earlier rounds (as the inspections' summary has it)."""
    lines = heading.lines(figures)
    book = workbook(out, lines[0], heading.generated_at, author=heading.generated_by)
    formats = Formats(book)
    for name, sheet, columns, rows, totals in (
        ("units", "所属別", UNIT_COLUMNS, unit_rows(figures), ("計", *_values(figures.total))),
        ("rules", "理由別", REASON_COLUMNS, reason_rows(figures, ruleset), None),
        ("cells", "所属・理由別", CELL_COLUMNS, cell_rows(figures, ruleset), None),
    ):
        table = Table(name=name, sheet=sheet, columns=columns, rows=rows, freeze_columns=1)
        writer = SheetWriter(book, formats, table, lines, 1_048_576)
        writer.write_rows(rows)
        if totals:
            writer.write_totals(totals)
        writer.finish()
    if trend and len(trend) > 1:
        rows = trend_rows(trend, ruleset)
        table = Table(
            name="trend", sheet="推移", columns=trend_columns(trend), rows=rows, freeze_columns=4
        )
        periods = "　".join(f"{r.code}: {r.period}" for r in trend)
        writer = SheetWriter(book, formats, table, [*lines[:2], periods, lines[3]], 1_048_576)
        writer.write_rows(rows)
        writer.finish()
    book.close()


def write_csv(figures: Figures, ruleset: RuleSet, out: IO[str], lang: str = "ja") -> None:
    """The long table, one row per unit and reason, with a header in the page's language."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.title_en or c.key if lang[:2] == "en" else c.title for c in CELL_COLUMNS])
    for row in cell_rows(figures, ruleset):
        writer.writerow([csv_text(v) if isinstance(v, str) else v for v in row])


def csv_bytes(figures: Figures, ruleset: RuleSet, lang: str = "ja") -> bytes:
    """UTF-8 with a BOM, so that Japanese Excel opens it as UTF-8."""
    out = io.StringIO(newline="")
    write_csv(figures, ruleset, out, lang)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --- a unit's own rounds, as evidence -------------------------------------------------------------

UNIT_ROUND_COLUMNS = [
    Column("round", "点検", width=18),
    Column("title", "名称", width=36),
    Column("period", "期間", width=30),
    Column("status", "点検票の状態", width=12),
    *[
        Column(key, COUNT_TITLES[key][0], kind="int", width=12, title_en=COUNT_TITLES[key][1])
        for key in TREND_COUNTS
    ],
    Column("approved", "承認日", width=18),
]


def write_unit_rounds(lines: list[str], rows: list[tuple], created: datetime, out: IO[bytes]):
    """One unit's log review figures, round by round (UNIT_ROUND_COLUMNS), as a workbook to
    attach as evidence. Only counts: no look-up, no record number, no other unit. `created`
    (naive UTC) is the file's date: the same figures on the same day make the same bytes."""
    book = workbook(out, lines[0], created)
    table = Table(name="rounds", sheet="ログ点検の実施状況", columns=UNIT_ROUND_COLUMNS, rows=rows)
    writer = SheetWriter(book, Formats(book), table, lines, 1_048_576)
    writer.write_rows(rows)
    writer.finish()
    book.close()

"""The tables of a campaign's summary, the same for the Excel workbook, CSV and JSON.

A table is a list of columns and an iterable of row tuples. The small tables (per item, per
department) come from DataFrames; the long ones (one row per respondent, every いいえ and
comment, who has not handed in) are generators over server-side cursors, so a row goes from the
database to the file without the whole table ever being in memory.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import operator
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from typing import IO
from zoneinfo import ZoneInfo

import pandas as pd
import sqlalchemy as sa

from checklists import scoring
from reports import aggregate, escalation, queries, rounds
from reports.dates import wareki
from reports.formats import points
from reports.queries import Units
from reports.safe import csv_text

TOKYO = ZoneInfo("Asia/Tokyo")

STATUS_LABELS = {
    "ja": {
        "not_started": "未着手",
        "draft": "回答中",
        "submitted": "提出済",
        "returned": "差戻し",
        "approved": "承認済",
    },
    "en": {
        "not_started": "not started",
        "draft": "in progress",
        "submitted": "submitted",
        "returned": "returned",
        "approved": "approved",
    },
}


@dataclass(frozen=True)
class Column:
    key: str  # English: JSON keys and English CSV headers
    title: str  # Japanese header
    # text (typed by someone) | int | percent | ratio | points (a change in percentage points)
    # | datetime | date
    kind: str = "text"
    width: float | None = None  # Excel width in characters; None: fitted to the content
    wrap: bool = False
    title_en: str = ""


@dataclass
class Table:
    name: str  # items, departments, respondents, remarks, pending
    sheet: str  # the Excel sheet's name
    columns: list[Column]
    rows: Iterable[tuple]
    freeze_columns: int = 0  # key columns kept in view when scrolling right
    totals: tuple | None = None  # a closing row (per item: the whole checklist)
    notes: list[str] = field(default_factory=list)
    about: dict = field(default_factory=dict)  # more of the title block, for JSON


_LEFT_OUT = {False: "対象外は分母に含めません。", True: "対象外と参考の回答は分母に含めません。"}


def ratio_rule(extra_classes) -> str:
    """checklists.scoring's 該当率 rule in the workbook's words, naming only the classes the
    checklist offers: はい÷（はい＋いいえ） for a checklist shaped like tenken's own."""
    named = [
        CLASS_TITLES[k][0]
        for k in ("compliant", "partial", "noncompliant", "unknown")
        if k in ("compliant", "noncompliant", *extra_classes)
    ]
    return f"はい÷（{'＋'.join(named)}）"


@dataclass(frozen=True)
class Meta:
    """The title block: which campaign, which checklist, when and by whom, on what scope."""

    campaign: queries.CampaignInfo
    generated_at: datetime  # aware
    generated_by: str
    scope: str
    # partial and unknown as far as the checklist offers them: the 該当率 rule names them.
    extra_classes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        c = self.campaign
        period = (
            f"{wareki(c.opens_on)}〜{wareki(c.closes_on)}"
            f"（{c.opens_on.isoformat()}〜{c.closes_on.isoformat()}）"
            if c.opens_on and c.closes_on
            else ""
        )
        at = self.generated_at
        return [
            f"{c.title}　集計結果",
            f"チェックリスト：{c.checklist_title}（{c.checklist_code} 第{c.checklist_version}版）"
            f"　点検コード：{c.code}",
            f"実施期間：{period}",
            f"集計時点：{wareki(at)} {at:%H:%M}（{at:%Y-%m-%d %H:%M}）"
            f"　作成者：{self.generated_by}　集計範囲：{self.scope}",
            f"該当率＝{ratio_rule(self.extra_classes)}。{_LEFT_OUT[bool(self.extra_classes)]}"
            "提出済・承認済の回答だけを集計しています。",
        ]

    def as_json(self) -> dict:
        c = self.campaign
        return {
            "campaign": c.code,
            "title": c.title,
            "checklist": f"{c.checklist_code}@{c.checklist_version}",
            "checklist_title": c.checklist_title,
            "opens_on": c.opens_on.isoformat() if c.opens_on else None,
            "closes_on": c.closes_on.isoformat() if c.closes_on else None,
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
            "generated_by": self.generated_by,
            "scope": self.scope,
            "ratio_rule": f"該当率＝{ratio_rule(self.extra_classes)}",
        }


@dataclass
class Report:
    """One campaign's figures on one scope; the long tables are read from `conn` on demand."""

    conn: sa.Connection
    campaign: aggregate.Campaign
    units: Units
    meta: Meta
    tz: ZoneInfo
    items: pd.DataFrame
    departments: aggregate.DepartmentFigures
    parent: int | None = None  # the breakdown's level: None, the 部局; else this unit's children

    @property
    def info(self) -> queries.CampaignInfo:
        return self.campaign.info

    @cached_property
    def trend(self) -> rounds.Trend:
        """This round and the earlier ones, on the same scope (read when a table asks)."""
        return rounds.trend(self.conn, self.campaign, self.units, current=self.items)


def build(
    conn: sa.Connection,
    campaign_code: str,
    *,
    units: Units = None,
    generated_by: str = "",
    scope: str = "全体",
    now: datetime | None = None,
    tz: ZoneInfo = TOKYO,
    parent: int | None = None,
    figures: bool = True,
) -> Report:
    """The figures of `units`; the 部局別 table breaks them down by the level below `parent`
    (None: the 部局). Without `figures`, only the long tables can be read from it (the
    answers' download): the counts are not taken."""
    campaign = aggregate.load(conn, campaign_code)
    units = queries.unit_ids(conn, units)
    now = (now or datetime.now(UTC)).astimezone(tz)
    return Report(
        conn,
        campaign,
        units,
        Meta(campaign.info, now, generated_by, scope, tuple(campaign.extra_classes)),
        tz,
        aggregate.item_table(conn, campaign, units) if figures else pd.DataFrame(),
        aggregate.per_department(conn, campaign, units, parent) if figures else None,
        parent,
    )


@contextmanager
def snapshot(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection whose every query sees the same state of the database (on PostgreSQL a
    REPEATABLE READ transaction; SQLite's read transaction already does), so the sheets of one
    workbook agree with each other even while answers are being handed in."""
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as conn:
        yield conn


def local(moment: datetime | None, tz: ZoneInfo) -> datetime | None:
    """Naive local time (Excel has no time zones); stored times are UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite hands back naive datetimes; they were stored in UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz).replace(tzinfo=None)


def _none(value):
    missing = value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value))
    return None if missing else value


# --- the tables -------------------------------------------------------------------------------

ITEM_COLUMNS = [
    Column("number", "番号", "int", 6, title_en="No."),
    Column("category", "分類", "text", 20, wrap=True, title_en="category"),
    Column("text", "点検項目", "text", 56, wrap=True, title_en="item"),
    Column("ratio", "該当（はい／対象）", "ratio", 14, title_en="compliant/applicable"),
    Column("percent", "該当率", "percent", 9, title_en="percent"),
    Column("compliant", "はい", "int", 8, title_en="yes"),
    Column("noncompliant", "いいえ", "int", 8, title_en="no"),
    Column("excluded", "対象外", "int", 8, title_en="not applicable"),
    Column("unanswered", "未回答", "int", 8, title_en="unanswered"),
]


def item_columns(campaign: aggregate.Campaign) -> list[Column]:
    """ITEM_COLUMNS, with a column for partial and for unknown where the checklist offers them
    (after いいえ: the columns before stay where the chart and the formats expect them)."""
    at = [c.key for c in ITEM_COLUMNS].index("noncompliant") + 1
    extra = [_class_column(klass, 8) for klass in campaign.extra_classes]
    return [*ITEM_COLUMNS[:at], *extra, *ITEM_COLUMNS[at:]]


def items_table(report: Report) -> Table:
    frame = report.items
    columns = item_columns(report.campaign)
    rows = (
        tuple(_none(v) for v in row)
        for row in frame[[c.key for c in columns]].itertuples(index=False)
    )
    counted = [c.key for c in columns[5:]]
    sums = frame[aggregate.SUMMED].sum()
    applicable = int(sums[list(scoring.APPLICABLE)].sum())
    totals = (
        None,
        "",
        "全項目",
        f"{int(sums['compliant'])}/{applicable}",
        scoring.percent(int(sums["compliant"]), applicable),
        *(int(sums[k]) for k in counted),
    )
    return Table("items", "集計", columns, rows, freeze_columns=3, totals=totals)


def departments_table(report: Report) -> Table:
    """部局 (or, a level down, 所属) down, items across: the percentage of each item in each."""
    figures = report.departments
    matrix = figures.matrix()
    numbers = list(report.items["number"])
    level = "部局" if report.parent is None else "所属"
    columns = [
        Column("department", level, "text", None, title_en="department"),
        Column("assignments", "対象数", "int", 8, title_en="targets"),
        Column("handed_in", "提出数", "int", 8, title_en="handed in"),
        Column("ratio", "該当（はい／対象）", "ratio", 12, title_en="compliant/applicable"),
        Column("percent", "全項目", "percent", 9, title_en="all items"),
        *(Column(f"item_{n}", str(n), "percent", 7, title_en=f"item {n}") for n in numbers),
    ]

    def rows():
        for summary in figures.summary.itertuples(index=False):
            cells = matrix.loc[summary.department_id]
            yield (
                summary.department or "（所属未設定）",
                summary.assignments,
                summary.handed_in,
                summary.ratio,
                _none(summary.percent),
                *(_none(cells.get(n)) for n in numbers),
            )

    return Table(
        "departments",
        f"{level}別",
        columns,
        rows(),
        freeze_columns=1,
        notes=[
            f"各項目の値は該当率（{ratio_rule(report.campaign.extra_classes)}）。"
            "－は回答のない項目。"
        ],
    )


# --- rounds ---------------------------------------------------------------------------------

# A cell left empty on purpose: the round did not ask the item (None is "nothing applicable",
# which the workbook prints as －).
NOT_ASKED = ""
STATES = {"kept": "", "added": "新規", "removed": "削除"}


class NoPreviousRound(LookupError):
    """The campaign is the first round of its checklist: nothing to compare with."""


def round_headings(infos: list[queries.CampaignInfo]) -> list[str]:
    """Rounds as column headings: the month each opened (令和7年11月), with the campaign's code
    where two opened the same month."""
    months = [wareki(i.opens_on, with_day=False) if i.opens_on else i.code for i in infos]
    return [
        f"{m}（{i.code}）" if months.count(m) > 1 else m for m, i in zip(months, infos, strict=True)
    ]


def round_line(info: queries.CampaignInfo, heading: str) -> str:
    """A round named in full under a table, after its column heading."""
    period = (
        f"、{info.opens_on.isoformat()}〜{info.closes_on.isoformat()}"
        if info.opens_on and info.closes_on
        else ""
    )
    return (
        f"{heading}：{info.title}（{info.checklist_title} 第{info.checklist_version}版"
        f"{period}、点検コード {info.code}）"
    )


def _round_json(info: queries.CampaignInfo) -> dict:
    return {
        "campaign": info.code,
        "title": info.title,
        "checklist": f"{info.checklist_code}@{info.checklist_version}",
        "opens_on": info.opens_on.isoformat() if info.opens_on else None,
        "closes_on": info.closes_on.isoformat() if info.closes_on else None,
    }


def _figure(ratio, percent) -> tuple:
    """A round's (ratio, percent) of an item: NOT_ASKED where the round did not ask it."""
    if ratio is None or (isinstance(ratio, float) and pd.isna(ratio)):
        return NOT_ASKED, NOT_ASKED
    return ratio, _none(percent)


ROUND_NOTE = (
    "項目はキーで対応づけています。空欄はその回にない項目、－は回答のない項目。"
    "増減は該当率の差（ポイント）。"
)


def compare_table(report: Report) -> Table:
    """This round beside the previous one, item by item, with the change in points."""
    trend = report.trend
    if trend.previous is None:
        raise NoPreviousRound(report.info.code)
    columns = [
        Column("number", "番号", "int", 6, title_en="No."),
        Column("previous_number", "前回の番号", "int", 7, title_en="previous No."),
        Column("category", "分類", "text", 20, wrap=True, title_en="category"),
        Column("text", "点検項目", "text", 56, wrap=True, title_en="item"),
        Column("previous_ratio", "前回 該当", "ratio", 11, title_en="previous ratio"),
        Column("previous_percent", "前回 該当率", "percent", 9, title_en="previous percent"),
        Column("ratio", "今回 該当", "ratio", 11, title_en="ratio"),
        Column("percent", "今回 該当率", "percent", 9, title_en="percent"),
        Column("change", "増減（ポイント）", "points", 10, title_en="change (points)"),
        Column("state", "備考", "text", 9, title_en="note"),
    ]

    def rows() -> Iterator[tuple]:
        for row in trend.compared().itertuples(index=False):
            note = STATES[row.state] or ("文言変更" if row.renamed else None)
            yield (
                _none(row.number),
                _none(row.previous_number),
                row.category,
                row.text,
                *_figure(row.previous_ratio, row.previous_percent),
                *_figure(row.ratio, row.percent),
                _none(row.change),
                note,
            )

    before, now = trend.totals.iloc[-2], trend.totals.iloc[-1]
    change = now["percent"] - before["percent"]
    return Table(
        "compare",
        "前回比較",
        columns,
        rows(),
        freeze_columns=4,
        totals=(
            None,
            None,
            "",
            "全項目",
            before["ratio"],
            _none(before["percent"]),
            now["ratio"],
            _none(now["percent"]),
            _none(round(change, 1)),
            None,
        ),
        notes=[ROUND_NOTE, f"前回 {round_line(trend.previous, round_headings(trend.rounds)[-2])}"],
        about={"previous": _round_json(trend.previous)},
    )


def trend_table(report: Report) -> Table:
    """Every round of the checklist up to this one, side by side, oldest first."""
    trend = report.trend
    ratios, percents = trend.wide("ratio"), trend.wide("percent")
    columns = [
        Column("number", "番号", "int", 6, title_en="No."),
        Column("category", "分類", "text", 20, wrap=True, title_en="category"),
        Column("text", "点検項目", "text", 56, wrap=True, title_en="item"),
    ]
    headings = round_headings(trend.rounds)
    for info, heading in zip(trend.rounds, headings, strict=True):
        columns.append(Column(f"{info.code}_ratio", f"{heading}\n該当", "ratio", 11))
        columns.append(Column(f"{info.code}_percent", f"{heading}\n該当率", "percent", 9))
    with_change = trend.previous is not None
    if with_change:
        columns.append(Column("change", "増減（前回比）", "points", 10, title_en="change (points)"))
    columns.append(Column("key", "キー", "text", None, title_en="key"))

    def rows() -> Iterator[tuple]:
        for at, row in enumerate(trend.items.itertuples(index=False)):
            cells = [row.number, row.category, row.text]
            for code in trend.codes:
                cells += _figure(ratios.iloc[at][code], percents.iloc[at][code])
            if with_change:
                cells.append(_none(row.change))
            cells.append(row.key)
            yield tuple(cells)

    totals = [None, "", "全項目"]
    for total in trend.totals.itertuples(index=False):
        totals += [total.ratio, _none(total.percent)]
    if with_change:
        last = trend.totals["percent"].iloc[-2:]
        totals.append(_none(round(last.iloc[-1] - last.iloc[-2], 1)))
    totals.append("")
    return Table(
        "trend",
        "推移",
        columns,
        rows(),
        freeze_columns=3,
        totals=tuple(totals),
        notes=[ROUND_NOTE, *map(round_line, trend.rounds, headings)],
        about={
            "rounds": [
                {**_round_json(info), **_totals_json(total, "assignments")}
                for info, total in zip(trend.rounds, trend.totals.itertuples(), strict=True)
            ]
        },
    )


def _totals_json(total, count: str) -> dict:
    """A round's figures, every item (or every contract) added up; `count`: of what."""
    return {
        count: int(getattr(total, count)),
        "handed_in": int(total.handed_in),
        "ratio": total.ratio,
        "percent": _none(total.percent),
    }


def _answer_lookup(report: Report):
    options = report.campaign.options
    return (
        {o.id: o.label for o in options.values()},
        {o.id: o.klass for o in options.values()},
        {o.id: o.code for o in options.values()},
        {o.id: o.score for o in options.values()},
    )


CLASS_TITLES = {
    "compliant": ("はい", "yes"),
    "partial": ("一部実施", "partial"),
    "noncompliant": ("いいえ", "no"),
    "unknown": ("わからない", "unknown"),
    "excluded": ("対象外", "not applicable"),
    "informational": ("参考", "informational"),
}


def _class_column(klass: str, width: float) -> Column:
    title, title_en = CLASS_TITLES[klass]
    return Column(klass, title, "int", width, title_en=title_en)


def _asked(item_id: int, chosen: dict, conditions: dict, code: dict) -> bool:
    """Whether a respondent was asked `item_id`: its condition, if any, held."""
    if item_id not in conditions:
        return True
    parent_id, codes = conditions[item_id]
    parent = chosen.get(parent_id)
    return parent is not None and code.get(parent[2]) in codes


def respondents_table(report: Report, lang: str = "ja") -> Table:
    """One row per handed-in respondent: their figures (queries.respondent_figures, as on the
    results page), then one column per item with its comment beside it."""
    campaign = report.campaign
    items = campaign.items
    with_score = campaign.has_scores
    counted = ["compliant", "noncompliant", *campaign.extra_classes, "excluded"]
    columns = [
        Column("department", "部局", "text", None, title_en="department"),
        Column("unit", "担当所属", "text", None, title_en="unit"),
        Column("target", "対象", "text", None, title_en="target"),
        Column("status", "状態", "text", 8, title_en="status"),
        Column("submitted_at", "提出日時", "datetime", 16, title_en="submitted at"),
        *(_class_column(klass, 6) for klass in counted),
        Column("percent", "該当率", "percent", 8, title_en="percent"),
    ]
    if with_score:
        columns.append(Column("score", "得点", "int", 6, title_en="score"))
    if campaign.grades:
        columns.append(Column("grade", "評価", "text", 10, title_en="grade"))
    fixed = len(columns)
    for row in items:
        columns.append(Column(f"item_{row.number}", f"{row.number}", "text", 7))
        columns.append(
            Column(f"comment_{row.number}", f"{row.number} コメント", "text", 24, wrap=True)
        )
    position = {row.id: fixed + 2 * i for i, row in enumerate(items)}
    label, _, code, _ = _answer_lookup(report)
    # A conditional item counts only where its condition held (same rule as the figures).
    conditions = {c.item_id: (c.parent_id, frozenset(c.codes)) for c in campaign.conditions}
    statuses = STATUS_LABELS[lang]
    width = len(columns)
    tz = report.tz

    def rows() -> Iterator[tuple]:
        # Five million answers at prefecture scale: one pass over them, by position not name;
        # the counts, score and grade from the one scoring query, a row per respondent.
        cid = campaign.info.id
        answers = queries.stream_answers(report.conn, cid, units=report.units)
        groups = itertools.groupby(answers, key=operator.itemgetter(0))
        group = next(groups, None)
        figures = queries.stream_respondent_figures(
            report.conn, cid, campaign.conditions, units=report.units
        )
        tallied = next(figures, None)
        people = queries.stream_assignments(report.conn, cid, units=report.units)
        for person in people:
            while group is not None and group[0] < person.id:
                group = next(groups, None)  # not in this stream's scope (cannot happen)
            while tallied is not None and tallied.assignment_id < person.id:
                tallied = next(figures, None)
            mine = tallied if tallied is not None and tallied.assignment_id == person.id else None
            cells = [None] * width
            if group is not None and group[0] == person.id:
                given = list(group[1])
                group = next(groups, None)
                if conditions:
                    chosen = {row[1]: row for row in given}
                    given = [row for row in given if _asked(row[1], chosen, conditions, code)]
                for _, item_id, option_id, comment in given:
                    at = position.get(item_id)
                    if at is None:
                        continue
                    if option_id is not None:
                        cells[at] = label[option_id]
                    if comment:
                        cells[at + 1] = comment
            cells[0] = person.department
            cells[1] = person.unit
            cells[2] = person.target
            cells[3] = statuses.get(person.status, person.status)
            cells[4] = local(person.submitted_at, tz)
            for at, klass in enumerate(counted, start=5):
                cells[at] = getattr(mine, klass, 0) or 0
            at = 5 + len(counted)
            cells[at] = None if mine is None else scoring.percent(mine.compliant, mine.applicable)
            if with_score:
                at += 1
                cells[at] = mine.score if mine is not None and mine.score is not None else 0
            if campaign.grades:
                band = None if mine is None else campaign.grade(mine.score, mine.max_score)
                cells[at + 1] = None if band is None else band.label
            yield tuple(cells)

    return Table("respondents", "回答一覧", columns, rows(), freeze_columns=3)


def options_table(report: Report, scale: str | None = None) -> Table:
    """選択肢別: per item, how many chose each option of its scale, the scale's own labels as
    headings; every scale the checklist uses side by side (or only `scale`, by code), a cell
    left empty where the item is on another scale. aggregate.UnknownScale for another code."""
    counted = aggregate.option_counts(report.conn, report.campaign, report.units, scale)
    several = len(counted) > 1
    labels = [o.label for c in counted for o in c.options]
    columns = [
        Column("number", "番号", "int", 6, title_en="number"),
        Column("category", "分類", "text", 16, title_en="category"),
        Column("text", "点検項目", "text", 50, wrap=True, title_en="item"),
        Column("scale", "尺度", "text", 14, title_en="scale"),
    ]
    for c in counted:
        for o in c.options:
            title = o.label if labels.count(o.label) == 1 else f"{o.label}（{c.scale.title}）"
            key = f"{c.scale.code}.{o.code}" if several else o.code
            columns.append(Column(key, title, "int", 10, title_en=o.label_en or key))
    width = len(columns)
    rows = []
    at = 4
    for c in counted:
        ids = [o.id for o in c.options]
        for row in c.frame.itertuples(index=False):
            cells = [NOT_ASKED] * width
            cells[:4] = [row.number, row.category, row.text, c.scale.title]
            record = dict(zip(c.frame.columns, row, strict=True))
            for n, option_id in enumerate(ids):
                cells[at + n] = int(record[option_id])
            rows.append(tuple(cells))
        at += len(ids)
    rows.sort(key=lambda r: r[0])
    about = {
        "scales": [
            {
                "code": c.scale.code,
                "title": c.scale.title,
                "options": [
                    {"code": o.code, "label": o.label, "class": o.klass} for o in c.options
                ],
            }
            for c in counted
        ]
    }
    return Table("options", "選択肢別", columns, rows, freeze_columns=3, about=about)


class NoGrades(LookupError):
    """The campaign's checklist has no grades: there is no distribution of them."""


def grades_table(report: Report) -> Table:
    """評価段階: how many handed-in respondents' results fall in each grade of the checklist
    (the same band as on 回答一覧 and the results page); NoGrades without grades."""
    campaign = report.campaign
    if not campaign.grades:
        raise NoGrades(campaign.info.code)
    counts = dict.fromkeys(range(len(campaign.grades)), 0)
    figures = queries.stream_respondent_figures(
        report.conn, campaign.info.id, campaign.conditions, units=report.units
    )
    for mine in figures:
        band = campaign.grade(mine.score, mine.max_score)
        if band is not None:
            counts[campaign.grades.index(band)] += 1
    graded = sum(counts.values())
    columns = [
        Column("grade", "評価", "text", 12, title_en="grade"),
        Column("min", "下限", "int", 8, title_en="minimum"),
        Column("below_standard", "基準未満", "text", 8, title_en="below standard"),
        Column("respondents", "人数", "int", 8, title_en="respondents"),
        Column("percent", "割合", "percent", 8, title_en="percent"),
        Column("advice", "助言", "text", 60, wrap=True, title_en="advice"),
    ]
    rows = [
        (
            band.label,
            band.min,
            "○" if band.below_standard else "",
            counts[n],
            scoring.percent(counts[n], graded),
            band.advice,
        )
        for n, band in enumerate(campaign.grades)
    ]
    basis = "得点" if campaign.grades[0].basis == "points" else "得点率（得点÷満点、%）"
    notes = [f"評価は{basis}が下限以上となる最も高い段階。提出済・承認済の回答者 {graded} 人。"]
    return Table("grades", "評価段階", columns, rows, notes=notes)


def remarks_table(report: Report) -> Table:
    """Every いいえ, and every comment, handed in: what the manager reads first."""
    texts = {row.number: row.text for row in report.campaign.items}
    columns = [
        Column("number", "番号", "int", 6, title_en="No."),
        Column("item", "点検項目", "text", 40, wrap=True, title_en="item"),
        Column("department", "部局", "text", None, title_en="department"),
        Column("unit", "担当所属", "text", None, title_en="unit"),
        Column("target", "対象", "text", None, title_en="target"),
        Column("answer", "回答", "text", 8, title_en="answer"),
        Column("comment", "コメント", "text", 40, wrap=True, title_en="comment"),
        Column("answered_at", "回答日時", "datetime", 16, title_en="answered at"),
    ]
    tz = report.tz

    def rows() -> Iterator[tuple]:
        stream = queries.stream_remarks(
            report.conn, report.info.id, report.campaign.conditions, units=report.units
        )
        for r in stream:
            yield (
                r.number,
                texts.get(r.number, ""),
                r.department,
                r.unit,
                r.target,
                r.answer,
                r.comment or None,
                local(r.answered_at, tz),
            )

    return Table("remarks", "いいえ・コメント一覧", columns, rows(), freeze_columns=2)


def pending_table(report: Report, lang: str = "ja") -> Table:
    """Who has not handed in yet (not started, in progress, returned)."""
    statuses = STATUS_LABELS[lang]
    total = len(report.campaign.items)
    columns = [
        Column("department", "部局", "text", None, title_en="department"),
        Column("unit", "担当所属", "text", None, title_en="unit"),
        Column("target", "対象", "text", None, title_en="target"),
        Column("status", "状態", "text", 9, title_en="status"),
        Column("answered", "回答済項目数", "int", 12, title_en="items answered"),
        Column("items", "項目数", "int", 8, title_en="items"),
        Column("due_on", "回答期限", "date", 12, title_en="due on"),
        Column("step", "督促段階", "text", 10, title_en="escalation step"),
    ]
    info = report.info
    steps = escalation.Steps(
        info.remind_respondent_days, info.remind_unit_head_days, info.remind_department_head_days
    )
    today = report.meta.generated_at.astimezone(report.tz).date()

    def rows() -> Iterator[tuple]:
        stream = queries.stream_assignments(
            report.conn, report.info.id, units=report.units, handed_in=False
        )
        for r in stream:
            due = r.due_on or report.info.closes_on
            yield (
                r.department,
                r.unit,
                r.target,
                statuses.get(r.status, r.status),
                r.answered,
                total,
                due,
                escalation.label(steps.step(due, today), lang) or None,
            )

    return Table("pending", "未提出一覧", columns, rows(), freeze_columns=3)


# --- a company's contracts across rounds ---------------------------------------------------


def company_table(company: rounds.CompanyRounds) -> Table:
    """One row per contract of the company (as far as the reader's scope goes), the ratio of
    each round that asked about it, oldest first; the last row adds every contract up."""
    ratios, percents = company.wide("ratio"), company.wide("percent")
    columns = [
        Column("contract_code", "契約番号", "text", 10, title_en="contract code"),
        Column("contract", "契約", "text", 40, wrap=True, title_en="contract"),
        Column("unit", "所管", "text", None, title_en="unit"),
    ]
    headings = round_headings(company.rounds)
    for info, heading in zip(company.rounds, headings, strict=True):
        columns.append(Column(f"{info.code}_ratio", f"{heading}\n該当", "ratio", 12))
        columns.append(Column(f"{info.code}_percent", f"{heading}\n該当率", "percent", 10))

    def rows() -> Iterator[tuple]:
        for at, row in enumerate(company.contracts.itertuples(index=False)):
            cells = [row.contract_code, row.contract, row.unit]
            for code in ratios.columns:
                cells += _figure(ratios.iloc[at][code], percents.iloc[at][code])
            yield tuple(cells)

    totals = ["", "全契約", ""]
    for total in company.totals.itertuples(index=False):
        totals += [total.ratio, _none(total.percent)]
    return Table(
        "company_rounds",
        "委託先の自己点検",
        columns,
        rows(),
        freeze_columns=2,
        totals=tuple(totals),
        notes=[
            "各回の該当率は、その回に提出・承認された回答だけを集計しています。"
            "空欄はその回に点検しなかった契約、－は回答のない契約（未提出を含む）。",
            *map(round_line, company.rounds, headings),
        ],
        about={
            "rounds": [
                {**_round_json(info), **_totals_json(total, "contracts")}
                for info, total in zip(company.rounds, company.totals.itertuples(), strict=True)
            ]
        },
    )


def company_head(
    code: str, name: str, table: Table, tz: ZoneInfo, now: datetime | None = None
) -> dict:
    """The JSON title block of a company's table."""
    at = (now or datetime.now(UTC)).astimezone(tz)
    return {
        "contractor": code,
        "name": name,
        "generated_at": at.isoformat(timespec="seconds"),
        "table": table.name,
    }


TABLES = {
    "items": items_table,
    "departments": departments_table,
    "compare": compare_table,
    "trend": trend_table,
    "respondents": respondents_table,
    "options": options_table,
    "grades": grades_table,
    "remarks": remarks_table,
    "pending": pending_table,
}


# The tables read from the answers themselves, without the counts (build(figures=False)).
LISTS = ("respondents", "remarks", "pending")


def table(report: Report, name: str, scale: str | None = None) -> Table:
    if name == "options":
        return options_table(report, scale)
    return TABLES[name](report)


# --- CSV and JSON -----------------------------------------------------------------------------

# Characters Python's cp932 codec lacks that Japanese text often holds, and the ones it has.
CP932_FIXES = str.maketrans(
    {
        "\u301c": "\uff5e",  # 〜 WAVE DASH -> FULLWIDTH TILDE
        "\u2016": "\u2225",  # ‖ -> ∥
        "\u2212": "\uff0d",  # − MINUS SIGN -> FULLWIDTH HYPHEN-MINUS
        "\u00a2": "\uffe0",
        "\u00a3": "\uffe1",
        "\u00ac": "\uffe2",
        "\u2014": "\u2015",  # — EM DASH -> HORIZONTAL BAR
    }
)


def _csv_value(column: Column, value, lang: str) -> str:
    if value is None:
        return ""
    if column.kind == "text":
        return csv_text(str(value))
    if column.kind == "datetime":
        return value.strftime("%Y-%m-%d %H:%M")
    if column.kind == "date":
        return value.isoformat()
    if column.kind == "points" and value != NOT_ASKED:
        return points(value)
    return str(value)


def csv_lines(table: Table, lang: str = "ja") -> Iterator[str]:
    """The table as CSV lines (CRLF, as Excel writes them), streamed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    titles = [(c.title_en or c.key) if lang == "en" else c.title for c in table.columns]
    writer.writerow(csv_text(t) for t in titles)
    for count, row in enumerate(table.rows, start=1):
        writer.writerow(_csv_value(c, v, lang) for c, v in zip(table.columns, row, strict=True))
        if count % 1000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if table.totals is not None:
        writer.writerow(
            _csv_value(c, v, lang) for c, v in zip(table.columns, table.totals, strict=True)
        )
    yield buffer.getvalue()


def encode_csv(lines: Iterable[str], encoding: str = "utf-8") -> Iterator[bytes]:
    """UTF-8 with the BOM Excel needs to read it, or cp932 (Shift_JIS) for older tools;
    a character cp932 lacks becomes `?` rather than failing the download."""
    if encoding == "cp932":
        for text in lines:
            yield text.translate(CP932_FIXES).encode("cp932", errors="replace")
        return
    yield "\ufeff".encode()
    for text in lines:
        yield text.encode("utf-8")


def write_csv(table: Table, out: IO[bytes], encoding: str = "utf-8", lang: str = "ja") -> None:
    for chunk in encode_csv(csv_lines(table, lang), encoding):
        out.write(chunk)


def _json_value(value, tz: ZoneInfo):
    if isinstance(value, datetime):
        return value.replace(tzinfo=tz).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy numbers
        return value.item()
    return value


def json_chunks(report: Report, table: Table) -> Iterator[str]:
    """{"campaign": ..., "table": ..., "columns": [...], "rows": [{key: value}, ...]} streamed;
    English keys, as for the other JSON of tenken (read by programs, not people)."""
    return json_document({**report.meta.as_json(), "table": table.name}, table, report.tz)


def json_document(head: dict, table: Table, tz: ZoneInfo) -> Iterator[str]:
    """`head`, what the table says of itself and its columns, then its rows, streamed."""
    head = {
        **head,
        **table.about,
        "columns": [{"key": c.key, "title": c.title} for c in table.columns],
    }
    text = json.dumps(head, ensure_ascii=False)
    yield text[:-1] + ', "rows": ['
    keys = [c.key for c in table.columns]
    # A round that did not ask the item: null, as JSON has no "empty on purpose".
    blank = [c.kind != "text" for c in table.columns]
    for count, row in enumerate(table.rows):
        record = {
            k: None if b and v == NOT_ASKED else _json_value(v, tz)
            for k, b, v in zip(keys, blank, row, strict=True)
        }
        yield ("," if count else "") + json.dumps(record, ensure_ascii=False)
    yield "]}"

"""What the results pages show, shaped from the frames of aggregate and rounds: rows as plain
dicts (NaN as None) and numbers, ready for a template. The views read the request, call one of
these and render; nothing here knows of Flask.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import pandas as pd
import sqlalchemy as sa

from checklists import scoring
from reports import aggregate, rounds
from reports.aggregate import Campaign
from reports.queries import CampaignInfo, Units


def missing(value) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def records(frame: pd.DataFrame) -> list[dict]:
    """DataFrame rows as dicts, with NaN / NA as None."""
    return [
        {k: (None if missing(v) else v) for k, v in row.items()} for row in frame.to_dict("records")
    ]


# --- a campaign's page --------------------------------------------------------------------------


class UnknownCategory(LookupError):
    pass


@dataclass(frozen=True)
class CampaignPage:
    items: list[dict]  # the items shown, with the previous round's figures beside them
    categories: list[dict]
    figures: dict  # the numbers at the top of the page
    matrix_rows: list[dict]  # one per group of the level, with (number, percent, ratio) cells
    numbers: list[int]  # the items shown, the matrix's columns
    previous: CampaignInfo | None
    comparison: list[dict] | None  # every item of both rounds (rounds.COMPARE_COLUMNS)


def campaign_page(
    conn: sa.Connection,
    campaign: Campaign,
    units: Units,
    parent: int | None = None,
    category: str | None = None,
) -> CampaignPage:
    """The figures of the campaign's results page on `units`, the breakdown one level below
    `parent`, the items of one category (None: all); UnknownCategory for another code."""
    items = aggregate.item_table(conn, campaign, units)
    categories = aggregate.per_category(items)
    departments = aggregate.per_department(conn, campaign, units, parent)
    previous = rounds.previous_round(conn, campaign)
    comparison = None
    if previous is not None:
        comparison = rounds.compare(conn, campaign, previous.code, units, current=items)

    if category is not None and category not in set(categories["category_code"]):
        raise UnknownCategory(category)
    shown = items if category is None else items[items["category_code"] == category]
    if comparison is not None:
        shown = shown.merge(
            comparison[["key", "previous_ratio", "previous_percent", "change"]],
            on="key",
            how="left",
        )
        titles = set(shown["category"])
        comparison = comparison[comparison["category"].isin(titles) | (category is None)]
    numbers = list(shown["number"])
    return CampaignPage(
        items=records(shown),
        categories=records(categories),
        figures=_figures(shown, departments.summary),
        matrix_rows=_matrix_rows(departments, numbers),
        numbers=numbers,
        previous=previous,
        comparison=None if comparison is None else records(comparison),
    )


def _figures(shown: pd.DataFrame, summary: pd.DataFrame) -> dict:
    answered = shown[aggregate.SUMMED].sum()
    applicable = int(answered[list(scoring.APPLICABLE)].sum())
    return {
        "assignments": int(summary["assignments"].sum()),
        "handed_in": int(summary["handed_in"].sum()),
        "compliant": int(answered["compliant"]),
        "applicable": applicable,
        "noncompliant": int(answered["noncompliant"]),
        "partial": int(answered["partial"]),
        "unknown": int(answered["unknown"]),
        "percent": scoring.percent(int(answered["compliant"]), applicable),
    }


def _matrix_rows(departments: aggregate.DepartmentFigures, numbers: list[int]) -> list[dict]:
    # Read as plain arrays once: a row looked up in the frames per department cost more than
    # every query of the page together.
    percents = departments.matrix().reindex(columns=numbers).to_numpy(dtype=float)
    ratios = departments.matrix("ratio").reindex(columns=numbers).to_numpy(dtype=object)
    return [
        {
            "department_id": int(row["department_id"]),
            "department": row["department"],
            "assignments": row["assignments"],
            "handed_in": row["handed_in"],
            "ratio": row["ratio"],
            "percent": row["percent"],
            "cells": [
                (n, None if math.isnan(p) else float(p), r)
                for n, p, r in zip(numbers, percent_row, ratio_row, strict=True)
            ],
        }
        for row, percent_row, ratio_row in zip(
            records(departments.summary), percents, ratios, strict=True
        )
    ]


def option_sections(
    counted: list[aggregate.OptionCounts], category: str | None = None, lang: str = "ja"
) -> list[dict]:
    """The page's 選択肢別 tables, one per scale: its title, its options' labels (in `lang`
    where the file gives one) and, per item of `category` (None: all), the count of each."""
    sections = []
    for c in counted:
        frame = c.frame if category is None else c.frame[c.frame["category_code"] == category]
        if frame.empty:
            continue
        ids = [o.id for o in c.options]
        sections.append(
            {
                "code": c.scale.code,
                "title": c.scale.title,
                "labels": [
                    o.label_en if lang == "en" and o.label_en else o.label for o in c.options
                ],
                "rows": [
                    {
                        "number": int(r["number"]),
                        "text": r["text"],
                        "counts": [int(r[i]) for i in ids],
                    }
                    for _, r in frame.iterrows()
                ],
            }
        )
    return sections


def item_figures(conn: sa.Connection, campaign: Campaign, units: Units, number: int) -> dict:
    """One item's row of the per-item table."""
    figures = aggregate.item_table(conn, campaign, units)
    return records(figures[figures["number"] == number])[0]


# --- rounds side by side ------------------------------------------------------------------------

TREND_SORTS = ("number", "percent", "change")


@dataclass(frozen=True)
class TrendPage:
    rounds: list[dict]  # oldest first: the round's CampaignInfo fields and its totals
    rows: list[dict]  # one per item key: number, text, ..., cells (one per round: ratio, percent)
    compared: bool  # whether there is a previous round (a change column)
    change: float | None  # every item added up: the change since the previous round, in points


def trend_page(trend: rounds.Trend, sort: str = "number", descending: bool = False) -> TrendPage:
    """The trend's items sorted by number (as the newest round numbers them), the newest
    round's percentage, or the change since the previous round; no figure sorts last."""
    percents, ratios = trend.wide("percent"), trend.wide("ratio")
    rows = []
    for at, item in enumerate(records(trend.items)):
        cells = [
            None if missing(ratio) else {"ratio": ratio, "percent": None if missing(p) else p}
            for ratio, p in zip(ratios.iloc[at], percents.iloc[at], strict=True)
        ]
        rows.append({**item, "cells": cells, "latest": cells[-1] and cells[-1]["percent"]})
    if sort == "percent":
        rows = _sorted(rows, "latest", descending)
    elif sort == "change":
        rows = _sorted(rows, "change", descending)
    elif descending:
        rows.reverse()
    totals = records(trend.totals)
    last = [t["percent"] for t in totals[-2:]]
    change = None
    if len(last) == 2 and None not in last:
        change = round(last[1] - last[0], 1)
    return TrendPage(
        rounds=[
            {**asdict(info), **total} for info, total in zip(trend.rounds, totals, strict=True)
        ],
        rows=rows,
        compared=trend.previous is not None,
        change=change,
    )


def _sorted(rows: list[dict], key: str, descending: bool) -> list[dict]:
    known = [r for r in rows if r[key] is not None]
    known.sort(key=lambda r: r[key], reverse=descending)
    return known + [r for r in rows if r[key] is None]


# --- a company's contracts ----------------------------------------------------------------------


@dataclass(frozen=True)
class CompanyPage:
    rounds: list[dict]  # oldest first: the round's CampaignInfo fields and its totals
    contracts: list[dict]  # one per contract: code, title, unit, cells (one per round or None)


def company_page(company: rounds.CompanyRounds) -> CompanyPage:
    percents, ratios = company.wide("percent"), company.wide("ratio")
    handed = company.wide("handed_in")
    contracts = []
    for at, contract in enumerate(records(company.contracts)):
        cells = [
            None
            if missing(ratio)
            else {
                "ratio": ratio,
                "percent": None if missing(p) else p,
                "handed_in": bool(h),
            }
            for ratio, p, h in zip(ratios.iloc[at], percents.iloc[at], handed.iloc[at], strict=True)
        ]
        contracts.append({**contract, "cells": cells})
    totals = records(company.totals)
    return CompanyPage(
        rounds=[
            {**asdict(info), **total} for info, total in zip(company.rounds, totals, strict=True)
        ],
        contracts=contracts,
    )

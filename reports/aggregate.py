"""Counts into tables. Every figure a user sees of a campaign comes out of here."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from reports import queries

PER_ITEM_COLUMNS = [
    "number",
    "key",
    "category",
    "text",
    "compliant",
    "noncompliant",
    "applicable",
    "excluded",
    "unanswered",
    "ratio",
    "percent",
]


def per_item(conn: sa.Connection, campaign_code: str) -> tuple[queries.CampaignInfo, pd.DataFrame]:
    """Per item: compliant, noncompliant, applicable (their sum), excluded (対象外), unanswered,
    the ratio as the reports write it (`133/139`) and the percentage.

    対象外 is left out of both counts. A conditional item counts only the assignments where its
    condition held; where it did not, the item was never asked and is not "unanswered" either.
    """
    info = queries.campaign_info(conn, campaign_code)
    items = queries.items(conn, info.checklist_id)
    total = queries.assignment_count(conn, info.id)
    counts = {(row.item_id, row.klass): row.n for row in queries.class_counts(conn, info.id)}
    ids_by_number = {row.number: row.id for row in items}

    records = []
    for row in items:
        by_class = {
            k: counts.get((row.id, k), 0) for k in ("compliant", "noncompliant", "excluded")
        }
        asked = total
        if row.condition_number is not None:
            parent_id = ids_by_number[row.condition_number]
            codes = list(row.condition_options or [])
            by_class = {"compliant": 0, "noncompliant": 0, "excluded": 0} | {
                r.klass: r.n
                for r in queries.conditional_class_counts(conn, info.id, row.id, parent_id, codes)
            }
            asked -= queries.condition_unmet_count(conn, info.id, parent_id, codes)
        records.append(
            {
                "number": row.number,
                "key": row.key,
                "category": row.category_title,
                "text": row.text,
                **by_class,
                "unanswered": asked - sum(by_class.values()),
            }
        )
    frame = pd.DataFrame.from_records(
        records,
        columns=[
            "number",
            "key",
            "category",
            "text",
            "compliant",
            "noncompliant",
            "excluded",
            "unanswered",
        ],
    )
    return info, _with_ratios(frame)


def _with_ratios(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.astype(
        {c: "int64" for c in ("number", "compliant", "noncompliant", "excluded", "unanswered")}
    )
    frame["applicable"] = frame["compliant"] + frame["noncompliant"]
    frame["ratio"] = frame["compliant"].astype(str) + "/" + frame["applicable"].astype(str)
    share = frame["compliant"] / frame["applicable"].where(frame["applicable"] > 0)
    frame["percent"] = (share * 100).round(1)
    return frame[PER_ITEM_COLUMNS]

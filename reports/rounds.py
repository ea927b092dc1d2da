"""Rounds: the campaigns of one checklist over the years, side by side.

A round is a campaign of any version of a checklist (the checklist's code ties them together).
Items are matched by key, so an item renumbered or reworded between versions stays one row, and
an item a round did not ask is blank there, not 0. Each round's figures are the same item_table()
its own results page shows, computed on the caller's units: a manager's trend is his subtree's,
round by round.

A company's rounds are read the other way round: every campaign that asked about one of its
contracts, with its ratio over those contracts and per contract.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from reports import aggregate, queries
from reports.aggregate import Campaign
from reports.queries import CampaignInfo, Units

ITEM_COLUMNS = ["key", "number", "category", "text", "renamed", "first", "last", "change"]
CELL_COLUMNS = ["key", "number", "category", "text", "compliant", "noncompliant", "ratio"]
CELL_COLUMNS += ["percent"]
TOTAL_COLUMNS = ["code", "assignments", "handed_in", "compliant", "noncompliant", "applicable"]
TOTAL_COLUMNS += ["ratio", "percent"]
COMPARE_COLUMNS = [
    "key",
    "number",
    "previous_number",
    "category",
    "text",
    "previous_ratio",
    "previous_percent",
    "ratio",
    "percent",
    "change",
    "state",  # "kept", "added" (only in this round) or "removed" (only in the previous one)
    "renamed",  # kept, reworded since the previous round
]


@dataclass(frozen=True)
class Trend:
    """Rounds side by side. `cells` is long: one row per item per round it was asked in."""

    rounds: list[CampaignInfo]  # oldest first; the last is the round asked about
    cells: pd.DataFrame  # CELL_COLUMNS and "code", the round's campaign code
    items: pd.DataFrame  # one row per key (ITEM_COLUMNS), in the order of the newest rounds
    totals: pd.DataFrame  # one row per round (TOTAL_COLUMNS): every item added up

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.rounds]

    @property
    def previous(self) -> CampaignInfo | None:
        return self.rounds[-2] if len(self.rounds) > 1 else None

    def wide(self, value: str = "percent") -> pd.DataFrame:
        """Keys down (in `items` order), rounds across, oldest first; NaN where a round did
        not ask the item (and, for percent, where nothing was applicable)."""
        table = self.cells.pivot(index="key", columns="code", values=value)
        return table.reindex(index=self.items["key"], columns=self.codes)

    def compared(self) -> pd.DataFrame:
        """The last two rounds, item by item (COMPARE_COLUMNS): items only in the last are
        "added", only in the one before "removed"; `change` is in percentage points."""
        if self.previous is None:
            raise ValueError("one round only: nothing to compare with")
        before, now = self.codes[-2:]

        def of(code: str) -> pd.DataFrame:
            shown = self.cells[self.cells["code"] == code]
            return shown.set_index("key")[["number", "category", "text", "ratio", "percent"]]

        merged = self.items[["key"]].join(of(now), on="key")
        merged = merged.join(of(before).add_prefix("previous_"), on="key")
        now_in, before_in = merged["number"].notna(), merged["previous_number"].notna()
        merged = merged[now_in | before_in].copy()
        merged["state"] = "kept"
        merged.loc[~before_in, "state"] = "added"
        merged.loc[~now_in, "state"] = "removed"
        merged["renamed"] = (merged["state"] == "kept") & (
            merged["text"] != merged["previous_text"]
        )
        merged["text"] = merged["text"].fillna(merged["previous_text"])
        merged["category"] = merged["category"].fillna(merged["previous_category"])
        merged["change"] = (merged["percent"] - merged["previous_percent"]).round(1)
        for column in ("number", "previous_number"):
            merged[column] = merged[column].astype("Int64")
        return merged[COMPARE_COLUMNS].reset_index(drop=True)


def _campaign(conn: sa.Connection, campaign: str | Campaign) -> Campaign:
    return campaign if isinstance(campaign, Campaign) else aggregate.load(conn, campaign)


def _totals(
    conn: sa.Connection, rounds: list[CampaignInfo], tables: list[pd.DataFrame], units
) -> pd.DataFrame:
    """Per round, every item added up, and how many were asked and handed in on `units`."""
    rows = []
    for info, table in zip(rounds, tables, strict=True):
        counted = queries.assignment_counts(conn, info.id, units=units)[0]
        sums = table[aggregate.SUMMED].sum()
        rows.append(
            {
                "code": info.code,
                "assignments": counted.total,
                "handed_in": counted.handed_in or 0,
                **sums,
            }
        )
    frame = aggregate._with_ratios(pd.DataFrame.from_records(rows))
    frame[["assignments", "handed_in"]] = frame[["assignments", "handed_in"]].astype("int64")
    return frame[TOTAL_COLUMNS]


def _side_by_side(
    conn: sa.Connection, rounds: list[CampaignInfo], tables: list[pd.DataFrame], units
) -> Trend:
    cells = pd.concat(
        [
            t[CELL_COLUMNS].assign(code=r.code, round=i)
            for i, (r, t) in enumerate(zip(rounds, tables, strict=True))
        ],
        ignore_index=True,
    )
    by_key = cells.sort_values("round", kind="stable").groupby("key", sort=False)
    # Number, category and wording from the newest round that asked the item.
    items = by_key[["number", "category", "text"]].last()
    items["renamed"] = by_key["text"].nunique() > 1
    items["first"] = by_key["round"].min()
    items["last"] = by_key["round"].max()
    # An item dropped is listed where it stood, after the one that took its number.
    items = items.reset_index().sort_values(["number", "last"], ascending=[True, False])
    items = items.reset_index(drop=True)
    items["change"] = float("nan")
    if len(rounds) > 1:
        last = cells[cells["round"] == len(rounds) - 1].set_index("key")["percent"]
        before = cells[cells["round"] == len(rounds) - 2].set_index("key")["percent"]
        items["change"] = (items["key"].map(last) - items["key"].map(before)).round(1)
    return Trend(
        rounds,
        cells.drop(columns="round"),
        items[ITEM_COLUMNS],
        _totals(conn, rounds, tables, units),
    )


def trend(
    conn: sa.Connection,
    campaign: str | Campaign,
    units: Units = None,
    *,
    current: pd.DataFrame | None = None,
) -> Trend:
    """This round and every earlier round of its checklist, on `units`. `current`: this
    round's item_table() on the same scope, when the caller has it already."""
    campaign = _campaign(conn, campaign)
    units = queries.unit_ids(conn, units)
    rounds = queries.rounds(conn, campaign.info)
    tables = [aggregate.item_table(conn, r.code, units) for r in rounds[:-1]]
    tables.append(aggregate.item_table(conn, campaign, units) if current is None else current)
    return _side_by_side(conn, rounds, tables, units)


def compare(
    conn: sa.Connection,
    campaign: str | Campaign,
    previous: str | Campaign,
    units: Units = None,
    *,
    current: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """This round against an earlier one of the same checklist (Trend.compared()).
    `current`: this round's item_table() on the same scope, when the caller has it already."""
    now, before = _campaign(conn, campaign), _campaign(conn, previous)
    units = queries.unit_ids(conn, units)
    tables = [
        aggregate.item_table(conn, before, units),
        aggregate.item_table(conn, now, units) if current is None else current,
    ]
    return _side_by_side(conn, [before.info, now.info], tables, units).compared()


def previous_round(conn: sa.Connection, campaign: str | Campaign) -> CampaignInfo | None:
    """The latest earlier round of the same checklist (any version), or None."""
    earlier = queries.rounds(conn, _campaign(conn, campaign).info)[:-1]
    return earlier[-1] if earlier else None


# --- a company's contracts, across rounds ---------------------------------------------------

CONTRACT_COLUMNS = ["contract_id", "contract_code", "contract", "unit"]
COMPANY_CELL_COLUMNS = ["contract_id", "code", "handed_in", "compliant", "noncompliant"]
COMPANY_CELL_COLUMNS += ["applicable", "ratio", "percent"]
COMPANY_TOTAL_COLUMNS = ["code", "contracts", "handed_in", "compliant", "noncompliant"]
COMPANY_TOTAL_COLUMNS += ["applicable", "ratio", "percent"]


@dataclass(frozen=True)
class CompanyRounds:
    """One company's contracts in every round that asked about them."""

    rounds: list[CampaignInfo]  # oldest first
    contracts: pd.DataFrame  # CONTRACT_COLUMNS, by contract code
    cells: pd.DataFrame  # one row per contract per round that asked about it
    totals: pd.DataFrame  # one row per round: its contracts added up

    def wide(self, value: str = "percent") -> pd.DataFrame:
        """Contracts down, rounds across (oldest first); NaN where a round did not ask."""
        table = self.cells.pivot(index="contract_id", columns="code", values=value)
        return table.reindex(
            index=self.contracts["contract_id"], columns=[r.code for r in self.rounds]
        )


def _ratios(frame: pd.DataFrame) -> pd.DataFrame:
    """aggregate's ratio and percentage of the answers counted here (no unanswered count:
    only the ratio is read of a contract's answers)."""
    return aggregate._with_ratios(frame.assign(unanswered=0)).drop(columns="unanswered")


def _company_round(conn: sa.Connection, info: CampaignInfo, ids: list[int]) -> pd.DataFrame:
    campaign = aggregate.load(conn, info.code)
    rows = queries.contract_answer_counts(conn, info.id, campaign.conditions, ids)
    counts = aggregate._by_class(rows, ["contract_id"], campaign)
    asked = pd.DataFrame.from_records(
        [tuple(r) for r in queries.contract_assignment_counts(conn, info.id, ids)],
        columns=["contract_id", "assignments", "handed_in"],
    )
    frame = asked.join(counts, on="contract_id").fillna(0)
    return _ratios(frame).assign(code=info.code)


def company_rounds(conn: sa.Connection, contract_ids: list[int]) -> CompanyRounds:
    """The rounds that asked about these contracts (a company's, cut to the user's scope),
    with every handed-in answer about them counted: per round and per contract."""
    ids = [int(i) for i in contract_ids]
    rounds = queries.contract_rounds(conn, ids) if ids else []
    contracts = pd.DataFrame.from_records(
        [tuple(r) for r in queries.contracts(conn, ids)] if ids else [], columns=CONTRACT_COLUMNS
    )
    if not rounds:
        return CompanyRounds(
            rounds,
            contracts,
            pd.DataFrame(columns=COMPANY_CELL_COLUMNS),
            pd.DataFrame(columns=COMPANY_TOTAL_COLUMNS),
        )
    cells = pd.concat([_company_round(conn, r, ids) for r in rounds], ignore_index=True)
    by_round = cells.groupby("code", sort=False)
    totals = by_round[[*queries.CLASSES, "handed_in"]].sum()
    totals["contracts"] = by_round.size()
    totals = _ratios(totals.reindex([r.code for r in rounds]).reset_index())
    return CompanyRounds(
        rounds, contracts, cells[COMPANY_CELL_COLUMNS], totals[COMPANY_TOTAL_COLUMNS]
    )

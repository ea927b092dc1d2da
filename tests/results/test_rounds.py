"""Rounds of one checklist side by side, matched by item key: the reports functions, called
on a database connection without any view (reports/rounds.py)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from reports import aggregate, queries, rounds
from survey.extensions import db
from survey.models import Answer, Assignment, Campaign, Contract, Contractor, Option
from tests.results.conftest import REMOVED_KEY, REWORDED, unit

ASSETS = ["2017-emergency-assets", "2025-annual-assets", "2026-annual-assets"]
CONTRACTS = ["2017-emergency-contracts", "2025-annual-contracts", "2026-annual-contracts"]


def conn():
    return db.session.connection()


def codes(found) -> list[str]:
    return [r.code for r in found]


def test_rounds_are_the_campaigns_of_one_checklist_up_to_this_one_oldest_first(demo_app):
    info = queries.campaign_info(conn(), "2026-annual-assets")
    assert codes(queries.rounds(conn(), info)) == ASSETS
    assert rounds.previous_round(conn(), "2026-annual-assets").code == "2025-annual-assets"
    assert rounds.previous_round(conn(), "2025-annual-assets").code == "2017-emergency-assets"
    assert rounds.previous_round(conn(), "2017-emergency-assets") is None
    # One round only of the systems checklist; its campaigns are not the assets'.
    assert rounds.previous_round(conn(), "2017-emergency-systems") is None
    assert codes(rounds.trend(conn(), "2017-emergency-systems").rounds) == [
        "2017-emergency-systems"
    ]


def test_an_earlier_draft_asked_nothing_and_is_no_round(demo_app):
    checklist = db.session.scalar(sa.select(Campaign).where(Campaign.code == ASSETS[0])).checklist
    db.session.add(
        Campaign(
            code="2021-draft-assets",
            title="令和3年度（作成中）",
            checklist=checklist,
            opens_on=date(2021, 11, 1),
            closes_on=date(2021, 12, 1),
            status="draft",
        )
    )
    db.session.flush()
    assert codes(rounds.trend(conn(), "2026-annual-assets").rounds) == ASSETS


def test_three_rounds_stand_side_by_side_oldest_first(demo_app):
    trend = rounds.trend(conn(), "2026-annual-assets")
    assert trend.codes == ASSETS and trend.previous.code == "2025-annual-assets"
    ratios, percents = trend.wide("ratio"), trend.wide("percent")
    tables = {code: aggregate.item_table(conn(), code).set_index("key") for code in ASSETS}
    assert list(trend.items["key"]) == list(tables[ASSETS[-1]].index)
    for code in ASSETS:
        assert list(ratios[code]) == list(tables[code]["ratio"])
        assert list(percents[code]) == list(tables[code]["percent"])
    assert ratios.loc["training-all-staff", ASSETS[0]] == "133/139"  # seed 003's figure
    change = (percents[ASSETS[2]] - percents[ASSETS[1]]).round(1)
    assert list(trend.items["change"]) == list(change)
    assert not trend.items["renamed"].any()
    # Every item added up, round by round: what the 集計 sheet's 全項目 row says.
    for code, total in zip(ASSETS, trend.totals.itertuples(index=False), strict=True):
        compliant = int(tables[code]["compliant"].sum())
        applicable = int(tables[code]["applicable"].sum())
        assert (total.code, total.ratio) == (code, f"{compliant}/{applicable}")
        assert total.percent == round(100 * compliant / applicable, 1)
    assert list(trend.totals["assignments"]) == [139, 139, 139]
    assert trend.totals["handed_in"].iloc[-1] < 139  # this year's round is still open


def test_a_managers_trend_is_his_subtree_round_by_round(demo_app):
    kumin = queries.subtree(unit("区民部").id)
    mine = rounds.trend(conn(), "2026-annual-assets", kumin)
    whole = rounds.trend(conn(), "2026-annual-assets")
    for code in ASSETS:
        table = aggregate.item_table(conn(), code, kumin)
        assert list(mine.wide("ratio")[code]) == list(table["ratio"])
    handed = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Assignment)
        .join(Campaign)
        .where(
            Campaign.code == ASSETS[0],
            Assignment.responsible_unit_id.in_(queries.subtree(unit("区民部").id)),
        )
    )
    assert mine.totals["assignments"].iloc[0] == handed < 139
    assert (mine.totals["applicable"] < whole.totals["applicable"]).all()


# --- a second version of the checklist ----------------------------------------------------------


def test_items_are_matched_by_key_across_versions(second_version):
    trend = rounds.trend(conn(), second_version.code)
    assert trend.codes == [*ASSETS, "2027-annual-assets"]
    items = trend.items.set_index("key")
    ratios, percents = trend.wide("ratio"), trend.wide("percent")

    # Reworded: one row, the newest wording, flagged.
    assert items.loc["training-all-staff", "text"] == REWORDED
    assert items.loc["training-all-staff", "renamed"]
    assert items["renamed"].sum() == 1
    # Renumbered: each round's figure of the same key, whatever its number there.
    before = aggregate.item_table(conn(), ASSETS[-1]).set_index("key")
    assert (
        items.loc["locked-storage", "number"] == 4 and before.loc["locked-storage", "number"] == 3
    )
    assert ratios.loc["locked-storage", ASSETS[-1]] == before.loc["locked-storage", "ratio"]
    assert ratios.loc["locked-storage", "2027-annual-assets"] == "1/2"
    # Added: blank in the rounds that did not ask it, not 0 nor 0/0.
    assert ratios.loc["cloud-services"].isna().tolist() == [True, True, True, False]
    assert percents.loc["cloud-services"].isna().tolist() == [True, True, True, False]
    assert (items.loc["cloud-services", "first"], items.loc["cloud-services", "last"]) == (3, 3)
    # Removed: kept with its figures, blank in the round that dropped it.
    assert ratios.loc[REMOVED_KEY].isna().tolist() == [False, False, False, True]
    assert pd.isna(items.loc[REMOVED_KEY, "change"])
    # Listed where it stood, after the item that took its number.
    assert list(trend.items["key"])[-2:] == ["cloud-services", REMOVED_KEY]
    assert list(trend.items["number"])[:4] == [1, 2, 3, 4]


def test_two_rounds_are_compared_by_item_key_with_added_and_removed_items_shown(second_version):
    assert rounds.previous_round(conn(), second_version.code).code == "2026-annual-assets"
    compared = rounds.compare(conn(), second_version.code, "2026-annual-assets")
    states = dict(zip(compared["key"], compared["state"], strict=True))
    assert states["cloud-services"] == "added"
    assert states[REMOVED_KEY] == "removed"
    assert list(compared["state"]).count("kept") == 20
    assert list(compared["key"][compared["renamed"]]) == ["training-all-staff"]
    swapped = compared[compared["key"] == "area-entry-control"].iloc[0]
    assert (swapped["number"], swapped["previous_number"]) == (3, 4)
    kept = compared[compared["key"] == "no-personal-devices"].iloc[0]
    assert (kept["ratio"], kept["percent"]) == ("1/2", 50.0)
    assert kept["change"] == round(50.0 - kept["previous_percent"], 1)
    removed = compared[compared["state"] == "removed"].iloc[0]
    assert pd.isna(removed["number"]) and removed["previous_number"] == 21
    # The same as the last two columns of the whole trend.
    assert compared.equals(rounds.trend(conn(), second_version.code).compared())


def test_a_single_round_has_nothing_to_compare_with(demo_app):
    trend = rounds.trend(conn(), "2017-emergency-assets")
    assert trend.previous is None and trend.items["change"].isna().all()
    with pytest.raises(ValueError):
        trend.compared()


# --- a company's contracts ----------------------------------------------------------------------


def company_contracts(code: str) -> list[int]:
    return list(
        db.session.scalars(sa.select(Contract.id).join(Contractor).where(Contractor.code == code))
    )


def test_a_companys_contracts_are_rolled_up_per_round_and_per_contract(demo_app):
    ids = company_contracts("C001")
    assert len(ids) > 1
    company = rounds.company_rounds(conn(), ids)
    assert codes(company.rounds) == CONTRACTS
    assert sorted(company.contracts["contract_id"]) == sorted(ids)
    # One contract in one round, counted by hand.
    first = ids[0]
    campaign_id = db.session.scalar(sa.select(Campaign.id).where(Campaign.code == CONTRACTS[1]))
    by_hand = dict(
        db.session.execute(
            sa.select(Option.klass, sa.func.count())
            .join(Answer, Answer.option_id == Option.id)
            .join(Assignment, Assignment.id == Answer.assignment_id)
            .where(Assignment.campaign_id == campaign_id, Assignment.contract_id == first)
            .group_by(Option.klass)
        ).all()
    )
    applicable = by_hand.get("compliant", 0) + by_hand.get("noncompliant", 0)
    assert company.wide("ratio").loc[first, CONTRACTS[1]] == (
        f"{by_hand.get('compliant', 0)}/{applicable}"
    )
    # Each round's total is its contracts added up.
    for total in company.totals.itertuples(index=False):
        cells = company.cells[company.cells["code"] == total.code]
        assert total.compliant == cells["compliant"].sum()
        assert total.applicable == cells["applicable"].sum()
        assert total.contracts == len(ids)
    # Not handed in yet this year: counted as nothing, not as 0%.
    this_year = company.cells[company.cells["code"] == CONTRACTS[2]]
    waiting = this_year[this_year["handed_in"] == 0]
    assert waiting["percent"].isna().all()


def test_a_company_cut_to_some_contracts_counts_only_those(demo_app):
    ids = company_contracts("C001")
    some = rounds.company_rounds(conn(), ids[:1])
    assert list(some.contracts["contract_id"]) == ids[:1]
    assert (some.totals["contracts"] == 1).all()
    nothing = rounds.company_rounds(conn(), [])
    assert nothing.rounds == [] and nothing.cells.empty and nothing.totals.empty

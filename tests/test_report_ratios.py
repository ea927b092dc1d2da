"""A security officer asks for the per-item figures of a campaign, as the 2017 report gave them."""

import csv
import io
import json

import pytest
import sqlalchemy as sa

from reports import aggregate
from survey.extensions import db
from survey.models import Answer, Assignment, Campaign
from survey.services import transitions

# Seed 003 (別紙), 該当 / 対象 for items 1–4, written out here rather than imported from the demo
# so that a change in the demo builder cannot make this test agree with itself.
PUBLISHED = {
    "2017-emergency-assets": ["133/139", "134/139", "135/139", "138/139"],
    "2017-emergency-systems": ["107/135", "42/49", "116/127", "41/51"],
    "2017-emergency-contracts": ["69/74", "66/74", "56/74", "68/74"],
}


@pytest.mark.parametrize("campaign", sorted(PUBLISHED))
def test_csv_report_gives_the_published_figures(demo_runner, campaign):
    result = demo_runner.invoke(args=["report", "ratios", campaign, "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [row["該当/対象"] for row in rows[:4]] == PUBLISHED[campaign]
    assert [int(row["番号"]) for row in rows] == list(range(1, len(rows) + 1))


def test_every_item_of_a_closed_campaign_adds_up_to_the_respondents(demo_app):
    with db.engine.connect() as conn:
        _, frame = aggregate.per_item(conn, "2017-emergency-systems")
    assert len(frame) == 54
    # Closed and fully answered: each system either answered an item or was never asked it.
    asked = frame["applicable"] + frame["excluded"] + frame["unanswered"]
    assert (frame["unanswered"] == 0).all()
    assert (asked <= 151).all()
    assert frame.loc[0, "excluded"] == 16 and frame.loc[0, "percent"] == 79.3


def test_json_report_names_the_campaign_and_keeps_english_keys(demo_runner):
    result = demo_runner.invoke(
        args=["report", "ratios", "2017-emergency-contracts", "--format", "json"]
    )
    payload = json.loads(result.output)
    assert payload["campaign"] == "2017-emergency-contracts"
    assert payload["checklist"] == "emergency-contracts@1"
    first = payload["items"][0]
    assert (first["compliant"], first["applicable"], first["ratio"]) == (69, 74, "69/74")


def test_table_report_is_aligned_and_english_on_request(demo_runner):
    result = demo_runner.invoke(args=["report", "ratios", "2017-emergency-assets", "--lang", "en"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert "ratio" in lines[1] and "133/139" in lines[2]


def test_unknown_campaign_is_a_clear_error(demo_runner):
    result = demo_runner.invoke(args=["report", "ratios", "no-such-campaign"])
    assert result.exit_code == 1
    assert "no-such-campaign は登録されていません" in result.output


def test_drafts_are_not_counted_until_handed_in(demo_app):
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.code == "2026-annual-assets"))
    with db.engine.connect() as conn:
        _, before = aggregate.per_item(conn, campaign.code)
    draft = db.session.scalar(
        sa.select(Assignment)
        .where(Assignment.campaign_id == campaign.id, Assignment.status == "draft")
        .limit(1)
    )
    answered = db.session.scalar(
        sa.select(sa.func.count()).where(
            Answer.assignment_id == draft.id, Answer.item_id == campaign.checklist.items[0].id
        )
    )
    assert answered == 1  # the draft holds an answer to item 1 ...
    assert transitions.move(draft, ("draft",), "submitted")  # as every hand-in moves it
    db.session.commit()
    with db.engine.connect() as conn:
        _, after = aggregate.per_item(conn, campaign.code)
    # ... which enters the figures only once it is handed in.
    handed_in = after.loc[0, ["compliant", "noncompliant", "excluded"]].sum()
    assert handed_in == before.loc[0, ["compliant", "noncompliant", "excluded"]].sum() + 1
    assert after.loc[0, "unanswered"] == before.loc[0, "unanswered"] - 1


def test_postgresql_plans_the_reports_without_jit(app):
    """Compiling a large campaign's list of a thousand rows took longer than running it
    (reports.queries.engine_options): the app's connections ask PostgreSQL for no JIT."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("JIT is PostgreSQL's")
        assert db.session.execute(sa.text("SHOW jit")).scalar() == "off"

"""Drawing a review round's sample: each rule finds exactly its entries, the random draw is
reproducible from its seed, and the recorded sample says who reviews each entry and why."""

from __future__ import annotations

import io
from datetime import date

import sqlalchemy as sa

from reports.accesslogs import rules, sampler
from survey import clock
from survey.extensions import db
from survey.models import LogEntry, SampledEntry, ServedDistrict, StaffHousehold
from survey.services import logs
from tests.log_helpers import HEADER, build_ward, csv_bytes, row

OCTOBER = (date(2026, 10, 1), date(2026, 10, 31))


def _load(ward, rows) -> dict[int, int]:
    """Import the rows; {row number in the file: entry id}."""
    checked = logs.import_file(ward.source, io.BytesIO(csv_bytes([HEADER, *rows])), "log.csv")
    assert checked.ok, [p.render() for p in checked.problems]
    db.session.commit()
    return dict(db.session.execute(sa.select(LogEntry.row_number, LogEntry.id)).all())


def _rule(kind: str, **settings) -> rules.Rule:
    return rules.Rule(kind, kind, kind, settings=settings)


def _matched(ward, rule: rules.Rule, ids: dict[int, int]) -> list[int]:
    """The file rows (2 = first) whose entries the rule matches, in order."""
    scope = sampler.Scope(ward.source.id, *OCTOBER, clock.zone())
    found = set(sampler.MATCHES[rule.kind](db.session.connection(), scope, rule))
    return sorted(number for number, entry_id in ids.items() if entry_id in found)


def test_off_hours_nights_weekends_holidays_and_closed_days(app):
    ward = build_ward()
    ids = _load(
        ward,
        [
            row("2026/10/01 10:00", "D04-01-0001"),  # 2: a Thursday morning
            row("2026/10/01 20:00", "D04-01-0001"),  # 3: night starts
            row("2026/10/01 19:59", "D04-01-0001"),  # 4: not yet
            row("2026/10/02 06:59", "D04-01-0001"),  # 5: before 07:00
            row("2026/10/02 07:00", "D04-01-0001"),  # 6: the day has begun
            row("2026/10/03 12:00", "D04-01-0001"),  # 7: Saturday
            row("2026/10/12 10:00", "D04-01-0001"),  # 8: スポーツの日
            row("2026/10/29 10:00", "D04-01-0001"),  # 9: a closed day of the test's own
            row("2026/10/01 00:30", "D04-01-0001"),  # 10: 15:30 UTC the day before
        ],
    )
    rule = _rule("off_hours", night_starts=20, night_ends=7, closed_days=["10-29"])
    assert _matched(ward, rule, ids) == [3, 5, 7, 8, 9, 10]


def test_bursts_by_one_user_within_the_window(app):
    ward = build_ward()
    ids = _load(
        ward,
        [
            *(row(f"2026/10/05 10:0{m}", "D04-01-0001") for m in range(5)),  # 2-6: 5 in 4 min
            *(row(f"2026/10/05 11:{m * 10:02d}", "D04-01-0001") for m in range(5)),  # 7-11
            *(row(f"2026/10/05 10:0{m}", "D04-01-0002") for m in range(4)),  # 12-15: only 4
            *(row(f"2026/10/06 09:{m:02d}", "D04-01-0001") for m in (0, 2, 4, 6, 8, 10)),
        ],
    )
    rule = _rule("burst", count=5, minutes=10)
    # Rows 16-21: 09:00-09:08 and 09:02-09:10 each hold five within ten minutes: one run.
    assert _matched(ward, rule, ids) == [2, 3, 4, 5, 6, 16, 17, 18, 19, 20, 21]


def test_own_household_is_the_users_own_list(app):
    ward = build_ward()
    db.session.add(
        StaffHousehold(source_id=ward.source.id, user_code="D04-01-0001", record_id="R-HOME")
    )
    ids = _load(
        ward,
        [
            row("2026/10/05 10:00", "D04-01-0001", "R-HOME"),  # 2
            row("2026/10/05 10:01", "D04-01-0002", "R-HOME"),  # 3: someone else's household
            row("2026/10/05 10:02", "D04-01-0001", "R-OTHER"),  # 4
        ],
    )
    assert _matched(ward, _rule("own_household"), ids) == [2]


def test_other_district_for_units_and_companies_with_served_districts(app):
    ward = build_ward()
    db.session.add_all(
        [
            ServedDistrict(unit=ward.north, district="北部"),
            ServedDistrict(contractor=ward.company, district="北部"),
            ServedDistrict(contractor=ward.company, district="中央"),
        ]
    )
    ids = _load(
        ward,
        [
            row("2026/10/05 10:00", "D04-06-0001", district="北部"),  # 2: its own
            row("2026/10/05 10:01", "D04-06-0001", district="南部"),  # 3: another
            row("2026/10/05 10:02", "C003-001", district="中央"),  # 4: the company serves it
            row("2026/10/05 10:03", "C003-001", district="東部"),  # 5: it does not
            row("2026/10/05 10:04", "D04-01-0001", district="南部"),  # 6: serves every district
            row("2026/10/05 10:05", "D04-06-0001", district=""),  # 7: no district in the log
            row("2026/10/05 10:06", "X99-0001", district="南部"),  # 8: nobody known
        ],
    )
    assert _matched(ward, _rule("other_district"), ids) == [3, 5]


def test_a_record_looked_up_by_many_units(app):
    ward = build_ward()
    ids = _load(
        ward,
        [
            row("2026/10/05 10:00", "D04-01-0001", "R-1"),  # 2
            row("2026/10/05 10:01", "D04-01-0002", "R-1"),  # 3: the same unit again
            row("2026/10/05 10:02", "D04-06-0001", "R-1"),  # 4
            row("2026/10/05 10:03", "C003-001", "R-1"),  # 5: a company counts as one
            row("2026/10/05 10:04", "D04-01-0001", "R-2"),  # 6
            row("2026/10/05 10:05", "D04-06-0001", "R-2"),  # 7: two units only
            row("2026/10/05 10:06", "D07-01-0001", ""),  # 8
            row("2026/10/05 10:07", "D04-01-0001", ""),  # 9
            row("2026/10/05 10:08", "C003-001", ""),  # 10: no record: a list search
        ],
    )
    assert _matched(ward, _rule("many_units", units=3), ids) == [2, 3, 4, 5]


def test_a_missing_request_number_where_one_is_required(app):
    ward = build_ward()
    ids = _load(
        ward,
        [
            row("2026/10/05 10:00", "D04-01-0001", operation="証明書交付", request=""),  # 2
            row("2026/10/05 10:01", "D04-01-0001", operation="証明書交付", request="R-9"),  # 3
            row("2026/10/05 10:02", "D04-01-0001", operation="住民票照会", request=""),  # 4
        ],
    )
    assert _matched(ward, _rule("missing_request", operations=["証明書交付"]), ids) == [2]
    assert _matched(ward, _rule("missing_request", operations=[]), ids) == [2, 4]


def test_rules_see_only_the_rounds_source_and_period(app):
    ward = build_ward()
    ids = _load(
        ward,
        [
            row("2026/09/30 23:59", "D04-01-0001"),  # 2: September
            row("2026/10/31 23:59", "D04-01-0001"),  # 3
            row("2026/11/01 00:00", "D04-01-0001"),  # 4: November
        ],
    )
    assert _matched(ward, _rule("off_hours", night_starts=20, night_ends=7), ids) == [3]


STANDARD = """
code: test
version: 1
title: テスト
random: {per_unit: 2}
rules:
  - {key: night, kind: off_hours, title: 夜間, night_starts: 20, night_ends: 7}
"""


def _many_rows() -> list[list[str]]:
    """60 look-ups in office hours on working days, by three units, a company and an id the
    registers do not hold."""
    users = ["D04-01-0001", "D04-06-0001", "D07-01-0001", "C003-001", "X99-0001"]
    days = [d for d in range(1, 31) if date(2026, 10, d).weekday() < 5 and d != 12]
    return [
        row(f"2026/10/{days[n % len(days)]:02d} {9 + n % 8:02d}:{n:02d}", users[n % 5], f"R-{n}")
        for n in range(60)
    ]


def _round(ward, seed: str, code: str = "R1"):
    stored, _ = logs.import_rules(STANDARD.encode())
    return logs.create_round(ward.source, stored, *OCTOBER, code, "10月", seed)


def test_the_random_draw_takes_n_per_group_and_comes_out_the_same_from_its_seed(app):
    ward = build_ward()
    _load(ward, [*_many_rows(), row("2026/10/05 21:00", "D04-01-0001", "R-NIGHT")])
    first = logs.draw(_round(ward, "abc", "R1"))
    again = logs.draw(_round(ward, "abc", "R2"))
    other = logs.draw(_round(ward, "xyz", "R3"))
    randoms = [k for k, v in first.reasons.items() if rules.RANDOM in v]
    assert len(randoms) == 2 * 5  # five groups: three units, a company, the unresolved
    assert first.reasons == again.reasons
    assert first.reasons != other.reasons
    assert first.matched("night") == 1 and first.in_period == 61
    by_group = dict(first.population)
    assert by_group[(ward.resident.id, None)] == 13 and by_group[(None, None)] == 12


def test_the_recorded_sample_copies_each_entry_with_its_reviewer_and_reasons(app):
    ward = build_ward()
    _load(ward, _many_rows())
    round_ = _round(ward, "abc")
    drawn = logs.record_sample(round_)
    db.session.commit()
    sampled = db.session.scalars(sa.select(SampledEntry)).all()
    assert len(sampled) == drawn == 10 and round_.entries_in_period == 60
    reviewers = {(s.user_code[:3], s.review_unit_id) for s in sampled}
    assert reviewers == {
        ("D04", ward.resident.id),  # D04-01: its own unit
        ("D04", ward.north.id),  # D04-06
        ("D07", ward.welfare.id),
        ("C00", ward.resident.id),  # contractor staff: the unit owning the system
        ("X99", ward.resident.id),  # unknown ids: the same
    }
    entry = db.session.get(LogEntry, sampled[0].entry_id)
    assert (sampled[0].record_id, sampled[0].at) == (entry.record_id, entry.at)
    assert all([r.rule for r in s.reasons] == ["random"] for s in sampled)
    assert logs.stored_sample(round_) == logs.draw(round_).reasons


def test_figures_count_per_unit_and_rule(app):
    ward = build_ward()
    _load(ward, [*_many_rows(), row("2026/10/05 21:00", "D04-06-0001", "R-NIGHT")])
    round_ = _round(ward, "abc")
    logs.record_sample(round_)
    figures = logs.figures(round_)
    assert figures.reasons == ["night", "random"]
    assert figures.cells[(ward.north.id, "night")] == 1
    assert figures.by_reason("random") == 10
    assert figures.total() in (10, 11)  # the night entry may also be drawn at random
    assert [u.code for u in figures.units] == ["D04-01", "D04-06", "D07-01"]


def test_sampling_again_says_whether_it_reproduces(app):
    ward = build_ward()
    _load(ward, _many_rows())
    round_ = _round(ward, "abc")
    logs.record_sample(round_)
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["logs", "sample", "R1"])
    assert "再現できます" in result.output, result.output
    db.session.execute(sa.update(LogEntry).values(unit_id=None))  # the registers changed
    db.session.commit()
    result = runner.invoke(args=["logs", "sample", "R1"])
    assert result.exit_code == 1 and "異なります" in result.output


def test_a_round_is_drawn_once(app):
    ward = build_ward()
    _load(ward, _many_rows())
    round_ = _round(ward, "abc")
    db.session.commit()
    assert logs.record_sample(round_) == 10
    assert logs.record_sample(round_) is None  # a second request finds it drawn
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(SampledEntry.id))) == 10

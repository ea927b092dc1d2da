"""The demo ward has the shape of seed 003's inspection and comes out the same every time."""

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from survey import demo
from survey.extensions import db
from survey.models import (
    Answer,
    Assignment,
    Campaign,
    Contract,
    Contractor,
    InformationSystem,
    OrgUnit,
    User,
)


def count(model, *where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_ward_has_the_seed_counts(demo_app):
    assert count(OrgUnit, OrgUnit.kind == "department") == 15
    assert count(OrgUnit, OrgUnit.kind.in_(["division", "office"])) == 139
    assert count(InformationSystem) == 151
    assert count(Contract) == 74
    assert count(Contractor) == 40


def test_every_role_has_demo_accounts(demo_app):
    roles = dict(
        db.session.execute(sa.select(User.role, sa.func.count()).group_by(User.role)).all()
    )
    assert roles["admin"] >= 1 and roles["auditor"] >= 1
    # One respondent per division and office, the demo respondent, three temporary staff.
    assert roles["manager"] == 16 and roles["respondent"] == 143 and roles["contractor"] == 41
    assert count(User, User.temporary.is_(True)) == 3
    for username in demo.DEMO_LOGINS:
        assert count(User, User.username == username) == 1


def test_closed_campaigns_are_fully_approved(demo_app):
    for code, targets in [
        ("2017-emergency-assets", 139),
        ("2017-emergency-systems", 151),
        ("2017-emergency-contracts", 74),
        # Last year's rounds: this year's have two earlier rounds to stand beside.
        ("2025-annual-assets", 139),
        ("2025-annual-contracts", 74),
    ]:
        campaign = db.session.scalar(sa.select(Campaign).where(Campaign.code == code))
        assert campaign.status == "closed"
        statuses = {a.status for a in campaign.assignments}
        assert len(campaign.assignments) == targets and statuses == {"approved"}


def test_open_campaign_is_about_half_answered(demo_app):
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.code == "2026-annual-assets"))
    assert campaign.status == "open"
    by_status = dict(
        db.session.execute(
            sa.select(Assignment.status, sa.func.count())
            .where(Assignment.campaign_id == campaign.id)
            .group_by(Assignment.status)
        ).all()
    )
    handed_in = by_status["submitted"] + by_status["approved"]
    assert 0.35 < handed_in / 139 < 0.6
    assert by_status["draft"] > 0 and by_status["not_started"] > 0


def test_noncompliant_answers_carry_a_comment(demo_app):
    missing = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Answer)
        .join(Answer.option)
        .where(sa.text("scale_option.klass = 'noncompliant'"), Answer.comment == "")
    )
    assert missing == 0


def test_demo_is_deterministic(app):
    def fingerprint():
        # Natural keys, not ids: PostgreSQL sequences keep counting after a reset.
        answers = db.session.scalars(
            sa.select(Answer).options(
                selectinload(Answer.assignment).selectinload("*"),
                selectinload(Answer.item),
                selectinload(Answer.option),
            )
        )
        return sorted(
            (
                a.assignment.campaign.code,
                a.assignment.target_name,
                a.item.number,
                a.option.code,
                a.comment,
            )
            for a in answers
        )

    demo.load()
    first = fingerprint()
    demo.reset()
    assert count(Answer) == 0 and count(OrgUnit) == 0
    demo.load()
    assert fingerprint() == first


# --- a careful reader finds the demo consistent -----------------------------------------------


def _office_time(moment):
    from datetime import UTC

    from survey.demo_data import OFFICE

    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(OFFICE)


def test_answers_and_hand_ins_happen_in_office_hours(demo_app):
    moments = db.session.scalars(sa.select(Answer.answered_at)).all()
    moments += db.session.scalars(
        sa.select(Assignment.submitted_at).where(Assignment.submitted_at.is_not(None))
    ).all()
    late = [m for m in map(_office_time, moments) if not 9 <= m.hour + m.minute / 60 <= 17]
    assert not late, late[:5]


def test_every_contract_asked_about_runs_when_its_campaign_opens(demo_app):
    rows = db.session.execute(
        sa.select(Contract.code, Contract.start_date, Contract.end_date, Campaign.opens_on)
        .join(Assignment, Assignment.contract_id == Contract.id)
        .join(Campaign, Campaign.id == Assignment.campaign_id)
    ).all()
    assert rows
    ended = [r for r in rows if not r.start_date <= r.opens_on <= (r.end_date or r.opens_on)]
    assert not ended, ended[:5]


def test_an_actions_opening_in_its_history_is_the_time_on_its_header(demo_app):
    from survey.models import ActionEvent, CorrectiveAction

    rows = db.session.execute(
        sa.select(CorrectiveAction.created_at, ActionEvent.at)
        .join(ActionEvent, ActionEvent.action_id == CorrectiveAction.id)
        .where(ActionEvent.kind == "open")
    ).all()
    assert rows and all(created == opened for created, opened in rows)


# --- access logs (ログ点検) -------------------------------------------------------------------


def test_the_demo_log_rounds_sample_finds_every_planted_anomaly(demo_app):
    from survey import demo_logs
    from survey.models import ReviewRound, SampledEntry, SampleReason

    round_ = db.session.scalar(sa.select(ReviewRound).where(ReviewRound.code == demo_logs.ROUND))
    assert round_.status == "routed" and round_.rule_set.label == "standard@1"
    reasons: dict[int, set] = {}
    who: dict[int, tuple[str, str]] = {}
    rows = db.session.execute(
        sa.select(
            SampledEntry.id, SampledEntry.user_code, SampledEntry.record_id, SampleReason.rule
        )
        .join(SampleReason)
        .where(SampledEntry.round_id == round_.id)
    )
    for sampled_id, user_code, record_id, rule in rows:
        reasons.setdefault(sampled_id, set()).add(rule)
        who[sampled_id] = (user_code, record_id)

    def sampled(user=None, record=None):
        return [
            found
            for sampled_id, found in reasons.items()
            if user in (None, who[sampled_id][0]) and record in (None, who[sampled_id][1])
        ]

    night = sampled("D04-07-0012")
    assert len(night) == 45 and all({"burst", "off-hours"} <= r for r in night)
    assert [r for r in sampled("D04-01-0023", demo_logs.NEIGHBOUR) if "no-request" in r]
    assert "own-household" in sampled("D04-01-0008", demo_logs.HOME)[0]
    window = db.session.scalar(
        sa.select(Contract).where(Contract.title == demo_logs.WINDOW_CONTRACT)
    )
    east = [r for r in sampled(f"{window.contractor.code}-003") if "other-district" in r]
    assert len(east) == 6
    assert len([r for r in sampled(record=demo_logs.FAMOUS) if "many-units" in r]) == 5
    assert all("off-hours" in r for r in sampled("batch01"))
    randoms = sum(1 for r in reasons.values() if "random" in r)
    assert randoms == 5 * 10  # 8 units, the window company, the ids no register holds


def test_the_demo_log_sample_goes_to_each_users_unit_or_the_systems_owner(demo_app):
    from survey.models import SampledEntry

    rows = db.session.execute(
        sa.select(SampledEntry.user_code, OrgUnit.name).join(
            OrgUnit, OrgUnit.id == SampledEntry.review_unit_id
        )
    ).all()
    for user_code, unit in rows:
        if user_code.startswith("D04-07"):
            assert unit == "南部地域事務所"
        elif user_code.startswith("C") or user_code == "batch01":
            assert unit == "戸籍住民課"  # the unit that owns the resident system


def test_the_demo_log_round_is_routed_partly_answered_with_one_look_up_flagged(demo_app):
    from survey import demo_logs
    from survey.models import EntryReview, ReviewRound, ReviewSheet

    round_ = db.session.scalar(sa.select(ReviewRound).where(ReviewRound.code == demo_logs.ROUND))
    sheets = {
        s.unit.name: s
        for s in db.session.scalars(sa.select(ReviewSheet).where(ReviewSheet.round_id == round_.id))
    }
    assert sheets["国民年金課"].status == "approved" and sheets["戸籍住民課"].status == "open"
    resident = sheets["戸籍住民課"].reviews
    answered = [r for r in resident if r.verdict]
    assert 0 < len(answered) < len(resident)
    flagged = [r for r in resident if r.verdict == "suspect"]
    assert [r.sampled.record_id for r in flagged] == [demo_logs.NEIGHBOUR]
    asked = db.session.scalars(
        sa.select(EntryReview).where(EntryReview.explain_asked_at.is_not(None))
    ).all()
    assert len(asked) == 1 and asked[0].sampled.district == "東部"


def test_a_late_questionnaire_has_climbed_to_its_department_head(demo_app):
    from datetime import date

    from survey import demo_escalation
    from survey.services import escalation

    late = db.session.scalar(
        sa.select(Assignment).where(Assignment.due_on == demo_escalation.EARLY_DUE)
    )
    steps = escalation.campaign_steps(late.campaign)
    assert late.status in ("not_started", "draft")
    assert late.unit.parent.name == "区民部"
    assert steps.step(late.due_on, date(2026, 12, 1)) == "department_head"
    heads = escalation.heads(late.unit, "department_head")
    assert "manager" in {u.username for u in heads}


def test_a_training_round_is_under_way_with_a_test_being_taken(demo_app):
    from survey.demo_training import CODE
    from survey.models import Attempt, Course, Enrolment

    course = db.session.scalar(sa.select(Course).where(Course.code == CODE))
    assert course.status == "open" and course.test.code == "security-training-test"
    enrolments = course.enrolments
    assert any(e.passed_at for e in enrolments) and any(e.passed_at is None for e in enrolments)
    under_way = count(Attempt, Attempt.submitted_at.is_(None))
    failed = count(Attempt, Attempt.passed.is_(False))
    assert under_way >= 1 and failed >= 1
    respondent = db.session.scalar(sa.select(User).where(User.username == "respondent"))
    mine = db.session.scalar(
        sa.select(Enrolment).where(
            Enrolment.course_id == course.id, Enrolment.user_id == respondent.id
        )
    )
    assert mine.read_at is None and mine.attempts == []  # the browser journey starts from here

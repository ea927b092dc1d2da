"""The daily reminder run reminds the heads of the demo's review sheets not handed in — three
days before the deadline (20 November 2026) and every day once it has passed — and the window
contractor's company of the explanation its head waits for; once a day, whatever the clock
says, and never for a sheet handed in."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from survey import demo_logs
from survey.extensions import db
from survey.models import (
    Contract,
    EntryReview,
    OrgUnit,
    OutgoingMail,
    ReviewRound,
    ReviewSheet,
    User,
)
from survey.services import log_reviews, reminders

DUE = date(2026, 11, 20)


def _mails(address: str) -> list[OutgoingMail]:
    return list(
        db.session.scalars(
            sa.select(OutgoingMail)
            .where(OutgoingMail.recipient == address)
            .order_by(OutgoingMail.id)
        )
    )


def _sheet(unit_name: str) -> ReviewSheet:
    return db.session.scalar(
        sa.select(ReviewSheet)
        .join(ReviewRound)
        .join(OrgUnit, OrgUnit.id == ReviewSheet.unit_id)
        .where(ReviewRound.code == demo_logs.ROUND, OrgUnit.name == unit_name)
    )


def _log_lines(address: str) -> str:
    return "\n".join(m.body for m in _mails(address) if "■ ログ点検:" in m.body)


def test_nothing_is_sent_before_the_window(demo_app):
    reminders.send(date(2026, 11, 16))
    assert _log_lines("manager@example.jp") == ""
    assert _log_lines("contractor@example.jp") == ""


def test_the_head_is_reminded_of_the_sheets_not_handed_in(demo_app):
    reminders.send(date(2026, 11, 18))

    body = _log_lines("manager@example.jp")
    resident = _sheet("戸籍住民課")
    assert "■ ログ点検: 令和8年10月分 住民記録システム 照会ログ点検 — 戸籍住民課" in body
    assert "あと2日" in body and "回答中" in body
    assert f"/logs/reviews/{resident.id}" in body
    # 国民年金課's sheet is approved: nothing to remind.
    assert "— 国民年金課" not in body
    open_ = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(EntryReview)
        .where(
            EntryReview.sheet_id == resident.id,
            EntryReview.verdict.not_in(["justified", "suspect"]),
        )
    )
    assert f"未回答・確認中 {open_}件" in body


def _window_company_account() -> User:
    company = db.session.scalar(
        sa.select(Contract.contractor_id).where(Contract.title == demo_logs.WINDOW_CONTRACT)
    )
    return db.session.scalar(sa.select(User).where(User.contractor_id == company).order_by(User.id))


def _explanation_mails(address: str) -> list[OutgoingMail]:
    return [m for m in _mails(address) if "照会記録についての説明" in m.body]


def test_the_company_asked_to_explain_is_reminded_until_it_has(demo_app):
    account = _window_company_account()
    reminders.send(date(2026, 11, 18))
    asked = db.session.scalar(
        sa.select(EntryReview).where(EntryReview.explain_asked_at.is_not(None))
    )
    [mail] = _explanation_mails(account.email)
    assert f"/logs/explain/{asked.sampled_id}" in mail.body
    assert "所属長の回答期限" in mail.body
    # The company never gets the sheet itself.
    assert "/logs/reviews/" not in mail.body

    log_reviews.explain(asked, "東部の住民から電話で依頼があり、中央の窓口で受け付けた。", account)
    db.session.commit()
    reminders.send(date(2026, 11, 19))
    assert len(_explanation_mails(account.email)) == 1


def test_overdue_sheets_are_reminded_daily_but_once_a_day(demo_app):
    day = date(2026, 11, 23)
    reminders.send(day)
    reminders.send(day)  # the timer fired twice, or two nodes ran
    mails = [m for m in _mails("manager@example.jp") if "■ ログ点検:" in m.body]
    assert len(mails) == 1
    assert "期限を3日過ぎています" in mails[0].body

    reminders.send(date(2026, 11, 24))
    assert len([m for m in _mails("manager@example.jp") if "■ ログ点検:" in m.body]) == 2


def test_a_sheet_handed_in_is_no_longer_reminded(demo_app):
    head = db.session.scalar(sa.select(User).where(User.username == "manager"))
    for unit in ("戸籍住民課",):
        sheet = _sheet(unit)
        posted = {
            row.entry.id: log_reviews.Posted("justified", row.entry.request_no or "受付簿", "窓口")
            for row in log_reviews.rows(sheet, head)
        }
        log_reviews.save_answers(sheet, posted, head)
        assert log_reviews.submit(sheet, head)
    db.session.commit()

    reminders.send(DUE)

    assert "— 戸籍住民課" not in _log_lines("manager@example.jp")
    assert "本日が期限です" in _log_lines("manager@example.jp")  # its other sheets still are

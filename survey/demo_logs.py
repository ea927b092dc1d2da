"""Demo access logs: October 2026 (令和8年10月) of さくら区's resident system (住民記録システム),
some 20,000 look-ups generated deterministically, imported through the real importer, and a
review round drawn from them with the shipped rules and a fixed seed.

Most of the month is ordinary counter work in office hours: 戸籍住民課 and 税務課 look up
residents of any district, the four 地域事務所 those of their own district, the window
contractor's staff those of the districts they serve (中央, 北部), each certificate issued
with its request number. Planted in it, for the rules to find:

- a night-time burst: 南部地域事務所's D04-07-0012, 45 look-ups on Saturday 17 October from
  23:05 (off hours, a burst);
- a neighbour's record: 戸籍住民課's D04-01-0023 looks up the family next door, at lunch,
  without a request number (no request number);
- the user's own household: 戸籍住民課's D04-01-0008 looks up their own household;
- a contractor looking up another district: the window company's staff C0NN-003 looks up six
  東部 residents (other district);
- a record looked up by five units in the month (many units);
- besides, a Sunday opening (休日開庁) and a nightly batch account the registers do not hold
  (batch01): out of hours but legitimate, as reviewers will say.

The round is routed to the heads (区民部長 answers for its divisions and offices, the office
approves: no manager above a department), due 20 November: 戸籍住民課's sheet is half answered,
the neighbour's record flagged 不適切な可能性 and the window contractor asked to explain a
look-up in 東部; 国民年金課's sheet is answered in full, handed in and approved.

Before it, September's round (JUKI-2026-09, a quieter month of some 6,000 look-ups), so that
the figures show a trend: every sheet answered, handed in and approved; one look-up flagged and
confirmed — 戸籍住民課's D04-01-0019 looking up a record at night without a request number —
which opened a corrective action and which the office recorded as an incident (対応済).
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import jpholiday
import sqlalchemy as sa

from survey.demo_data import office_time
from survey.extensions import db
from survey.models import (
    Contract,
    InformationSystem,
    LogSource,
    OrgUnit,
    ServedDistrict,
    StaffHousehold,
    User,
)
from survey.services import log_reviews, logs

SOURCE = "JUKI"
ROUND = "JUKI-2026-10"
SEED = "sakura-2026-10"
MONTH = (date(2026, 10, 1), date(2026, 10, 31))
PREVIOUS = "JUKI-2026-09"  # the round before, all approved, with the incident
PREVIOUS_MONTH = (date(2026, 9, 1), date(2026, 9, 30))
PREVIOUS_PER_DAY = 300
NIGHT_RECORD = "0000042424"  # September's confirmed flag
HEADER = ["操作日時", "職員ID", "端末ID", "処理区分", "宛名番号", "地区", "事由", "申請書番号"]
PATTERN = r"(?P<unit>D\d{2}-\d{2})-\d{4}|(?P<contractor>C\d{3})-\d{3}|(?P<user>[a-z][a-z0-9-]*)"
DISTRICTS = ("中央", "北部", "南部", "東部", "西部")
OFFICES = {
    "北部地域事務所": "北部",
    "南部地域事務所": "南部",
    "東部地域事務所": "東部",
    "西部地域事務所": "西部",
}
WINDOW_CONTRACT = "住民異動届受付等窓口業務委託"
CONTRACTOR_DISTRICTS = ("中央", "北部")
RESIDENTS = 60_000
PER_DAY = 900  # look-ups on a working day
# (operation, share, reason code): certificates and look-ups carry a request number.
OPERATIONS = (
    ("住民票照会", 62, "01"),
    ("証明書交付", 20, "02"),
    ("異動届入力", 12, "03"),
    ("世帯照会", 6, "01"),
)
# (unit name, staff, share of the day's look-ups)
USERS = (("戸籍住民課", 24, 38), ("税務課", 10, 10), ("保険医療課", 6, 6), ("国民年金課", 4, 3))
OFFICE_STAFF = 6  # per 地域事務所, 7 % of the look-ups each
CONTRACTOR_STAFF = 8  # 15 % of the look-ups
NEIGHBOUR = "0000031416"
HOME = "0000027182"
FAMOUS = "0000050001"


@dataclass(frozen=True)
class Who:
    code: str  # the user id the log writes
    districts: tuple[str, ...]  # those it looks up


def _record(rng: random.Random, district: str | None = None) -> tuple[str, str]:
    """(宛名番号, 地区): a resident, in `district` if given (the district follows the number)."""
    while True:
        number = rng.randrange(1, RESIDENTS)
        found = DISTRICTS[number % len(DISTRICTS)]
        if district is None or found == district:
            return f"{number:010d}", found


def _staff(company_code: str) -> list[tuple[Who, int]]:
    """(who, weight) of every user id of the month's ordinary work."""
    units = dict(db.session.execute(sa.select(OrgUnit.name, OrgUnit.code)).all())
    people: list[tuple[Who, int]] = []
    for name, count, share in USERS:
        people += [
            (Who(f"{units[name]}-{n:04d}", DISTRICTS), share * 100 // count)
            for n in range(1, count + 1)
        ]
    for name, district in OFFICES.items():
        people += [
            (Who(f"{units[name]}-{n:04d}", (district,)), 700 // OFFICE_STAFF)
            for n in range(1, OFFICE_STAFF + 1)
        ]
    people += [
        (Who(f"{company_code}-{n:03d}", CONTRACTOR_DISTRICTS), 1500 // CONTRACTOR_STAFF)
        for n in range(1, CONTRACTOR_STAFF + 1)
    ]
    people.append((Who("respondent", DISTRICTS), 60))  # the demo's 住民 記録 signs in to tenken too
    return people


def _row(
    moment: datetime,
    who: str,
    record: str,
    district: str,
    request: str,
    operation: str = "住民票照会",
    reason: str = "01",
) -> list[str]:
    terminal = "TM-" + "".join(ch for ch in who if ch.isdigit())[-5:].rjust(5, "0")
    when = moment.strftime("%Y/%m/%d %H:%M:%S")
    return [when, who, terminal, operation, record, district, reason, request]


def _working_days(month: tuple[date, date] = MONTH) -> list[date]:
    first, last = month
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [d for d in days if d.weekday() < 5 and not jpholiday.is_holiday(d)]


def _ordinary(
    rng: random.Random,
    people: list[tuple[Who, int]],
    month: tuple[date, date] = MONTH,
    per_day: int = PER_DAY,
) -> list[list[str]]:
    rows = []
    request = 0
    weights = [w for _who, w in people]
    operations = [op for op, _share, _reason in OPERATIONS]
    reasons = {op: reason for op, _share, reason in OPERATIONS}
    shares = [share for _op, share, _reason in OPERATIONS]
    for day in _working_days(month):
        for _ in range(per_day):
            who = rng.choices(people, weights)[0][0]
            # 08:30-17:15, and one in twenty after hours until 19:30 (overtime, not night).
            start, span = (510, 525) if rng.random() > 0.05 else (1035, 135)
            moment = datetime.combine(day, time()) + timedelta(minutes=start + rng.random() * span)
            district = rng.choice(who.districts)
            record, district = _record(rng, district)
            operation = rng.choices(operations, shares)[0]
            request += 1
            number = f"R8-{request:06d}" if rng.random() > 0.001 else ""
            rows.append(
                _row(moment, who.code, record, district, number, operation, reasons[operation])
            )
    return rows


def _planted(rng: random.Random, company_code: str) -> list[list[str]]:
    rows = []
    night = datetime(2026, 10, 17, 23, 5)
    for n in range(45):  # 南部's counter clerk, Saturday night
        record, district = _record(rng)
        rows.append(
            _row(night + timedelta(seconds=13 * n), "D04-07-0012", record, district, f"R8-N{n:03d}")
        )
    neighbour = datetime(2026, 10, 14, 12, 40, 12)  # at lunch, no request
    rows.append(_row(neighbour, "D04-01-0023", NEIGHBOUR, "中央", ""))
    rows.append(
        _row(neighbour + timedelta(seconds=51), "D04-01-0023", NEIGHBOUR, "中央", "", "世帯照会")
    )
    rows.append(_row(datetime(2026, 10, 22, 16, 2, 40), "D04-01-0008", HOME, "中央", "R8-H001"))
    for n in range(6):  # the window contractor, in 東部
        record, _ = _record(rng, "東部")
        moment = datetime(2026, 10, 20, 14, 10 + n, 5)
        rows.append(_row(moment, f"{company_code}-003", record, "東部", f"R8-E{n:03d}"))
    looked_up_by = ("D04-01-0004", "D04-02-0003", "D04-04-0002", "D04-05-0001", "D04-06-0005")
    for n, (who, day) in enumerate(zip(looked_up_by, (5, 8, 14, 20, 27), strict=True)):
        rows.append(_row(datetime(2026, 10, day, 10, 30), who, FAMOUS, "中央", f"R8-F{n:03d}"))
    for n in range(30):  # 休日開庁, Sunday 25 October
        record, district = _record(rng)
        moment = datetime(2026, 10, 25, 9, 30) + timedelta(minutes=10 * n)
        who = f"D04-01-{1 + n % 4:04d}"
        rows.append(_row(moment, who, record, district, f"R8-S{n:03d}", "証明書交付", "02"))
    for day in _working_days()[:10]:  # the nightly batch, an id the registers do not hold
        rows.append(_row(datetime.combine(day, time(3, 0)), "batch01", "", "", "", "一括照会", ""))
    return rows


def _csv(rows: list[list[str]]) -> bytes:
    rows.sort(key=lambda r: (r[0], r[1]))
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("cp932")


def resident_log_csv(company_code: str) -> bytes:
    """The month's log as the resident system writes it: Shift_JIS (cp932) CSV in time order."""
    rng = random.Random("access-log-2026-10")
    return _csv(_ordinary(rng, _staff(company_code)) + _planted(rng, company_code))


def previous_log_csv(company_code: str) -> bytes:
    """September's log: ordinary work at a third of October's pace, and one look-up at night
    without a request number."""
    rng = random.Random("access-log-2026-09")
    rows = _ordinary(rng, _staff(company_code), PREVIOUS_MONTH, PREVIOUS_PER_DAY)
    rows.append(_row(datetime(2026, 9, 9, 22, 41, 7), "D04-01-0019", NIGHT_RECORD, "西部", ""))
    return _csv(rows)


def _districts(company_id: int) -> None:
    units = dict(db.session.execute(sa.select(OrgUnit.name, OrgUnit.id)).all())
    db.session.add_all(
        ServedDistrict(unit_id=units[name], district=d) for name, d in OFFICES.items()
    )
    db.session.add_all(
        ServedDistrict(contractor_id=company_id, district=d) for d in CONTRACTOR_DISTRICTS
    )


def load() -> None:
    system = db.session.scalar(
        sa.select(InformationSystem).where(InformationSystem.name == "住民記録システム")
    )
    window = db.session.scalar(sa.select(Contract).where(Contract.title == WINDOW_CONTRACT))
    admin = db.session.scalar(sa.select(User).where(User.username == "admin"))
    source = LogSource(
        code=SOURCE,
        name="住民記録システム 照会ログ",
        system=system,
        user_pattern=PATTERN,
        time_column="操作日時",
        user_column="職員ID",
        terminal_column="端末ID",
        operation_column="処理区分",
        record_column="宛名番号",
        district_column="地区",
        reason_column="事由",
        request_column="申請書番号",
    )
    logs.save_source(source)
    _districts(window.contractor_id)
    db.session.add(StaffHousehold(source_id=source.id, user_code="D04-01-0008", record_id=HOME))
    for path in logs.shipped_rule_files():
        logs.import_rules(path.read_bytes())
    _import(source, previous_log_csv(window.contractor.code), "202609", date(2026, 10, 2), admin)
    _previous_round(source, admin)
    _import(source, resident_log_csv(window.contractor.code), "202610", date(2026, 11, 4), admin)
    logs.create_round(
        source,
        logs.rule_set("standard"),
        *MONTH,
        ROUND,
        "令和8年10月分 住民記録システム 照会ログ点検",
        SEED,
    )
    round_ = logs.round_by_code(ROUND)
    logs.record_sample(round_)
    round_.created_at = round_.sampled_at = office_time(date(2026, 11, 5), 9, 30)
    _review(round_, admin)


def _import(source: LogSource, data: bytes, month: str, day: date, admin: User) -> None:
    checked = logs.import_file(source, io.BytesIO(data), f"住民記録_照会ログ_{month}.csv")
    if not checked.ok:
        raise RuntimeError("\n".join(p.render() for p in checked.problems))
    checked.log_import.imported_by = admin
    checked.log_import.imported_at = office_time(day, 10, 15)


def _previous_round(source: LogSource, admin: User) -> None:
    """September: routed on 5 October, every sheet answered by its head, handed in and
    approved by the office on the 16th; the night look-up flagged, confirmed, an incident."""
    from survey.models import ReviewSheet

    logs.create_round(
        source,
        logs.rule_set("standard"),
        *PREVIOUS_MONTH,
        PREVIOUS,
        "令和8年9月分 住民記録システム 照会ログ点検",
        "sakura-2026-09",
    )
    round_ = logs.round_by_code(PREVIOUS)
    logs.record_sample(round_)
    round_.created_at = round_.sampled_at = office_time(date(2026, 10, 5), 9, 30)
    log_reviews.route(round_, date(2026, 10, 20), today=date(2026, 10, 5))
    round_.routed_at = office_time(date(2026, 10, 5), 9, 40)
    sheets = db.session.scalars(sa.select(ReviewSheet).where(ReviewSheet.round_id == round_.id))
    for sheet in sheets:
        head = db.session.scalar(
            sa.select(User)
            .where(User.unit_id == sheet.head_unit_id, User.role == "manager")
            .order_by(User.id)
        )
        log_reviews.save_answers(sheet, _answers(sheet, head, {NIGHT_RECORD}), head)
        log_reviews.submit(sheet, head)
        log_reviews.decide(sheet, admin, approve=True)
        sheet.submitted_at = office_time(date(2026, 10, 14), 16, 0)
        sheet.decided_at = office_time(date(2026, 10, 16), 11, 0)
        for review in sheet.reviews:
            if review.sampled.record_id == NIGHT_RECORD:
                _dated(review.action_id, sheet.decided_at)
                incident = log_reviews.open_incident(
                    sheet,
                    review,
                    "夜間に申請書のない照会。本人は「翌日の窓口対応の下調べ」と説明。"
                    "業務上の必要は認められず、本人への指導と端末の夜間利用の制限を行った。",
                    admin,
                )
                log_reviews.advance_incident(incident, "handled", admin)
                incident.opened_at = office_time(date(2026, 10, 16), 14, 0)
                incident.changed_at = office_time(date(2026, 10, 30), 10, 0)


def _dated(action_id: int, at) -> None:
    """The action the approval opened, as opened on the day of the approval (not today)."""
    from survey.models import ActionEvent, CorrectiveAction

    action = db.session.get(CorrectiveAction, action_id)
    action.created_at = at
    action.due_on = at.date() + timedelta(days=log_reviews.ACTION_DAYS)
    for event in db.session.scalars(
        sa.select(ActionEvent).where(ActionEvent.action_id == action_id)
    ):
        event.at = at


def _sheet(round_, unit_name: str):
    from survey.models import ReviewSheet

    return db.session.scalar(
        sa.select(ReviewSheet)
        .join(OrgUnit, OrgUnit.id == ReviewSheet.unit_id)
        .where(ReviewSheet.round_id == round_.id, OrgUnit.name == unit_name)
    )


def _answers(sheet, head: User, flagged: set[str]) -> dict[int, log_reviews.Posted]:
    """Every entry of the sheet justified (the request number as logged, or the counter's
    register number), but the look-ups of records in `flagged`."""
    posted = {}
    for row in log_reviews.rows(sheet, head):
        if row.entry.record_id in flagged:
            posted[row.entry.id] = log_reviews.Posted(
                "suspect",
                "",
                "近隣住民の記録。窓口の申請はなく、本人に確認中。"
                if row.entry.record_id == NEIGHBOUR
                else "夜間の照会で申請書がなく、業務上の必要を確認できない。",
            )
        else:
            posted[row.entry.id] = log_reviews.Posted(
                "justified", row.entry.request_no or "窓口受付簿", "窓口での証明書交付・届出の受付"
            )
    return posted


def _review(round_, admin: User) -> None:
    head = db.session.scalar(sa.select(User).where(User.username == "manager"))
    log_reviews.route(round_, date(2026, 11, 20), today=date(2026, 11, 5))
    round_.routed_at = office_time(date(2026, 11, 5), 9, 40)
    pension = _sheet(round_, "国民年金課")
    log_reviews.save_answers(pension, _answers(pension, head, set()), head)
    log_reviews.submit(pension, head)
    log_reviews.decide(pension, admin, approve=True)
    resident = _sheet(round_, "戸籍住民課")
    answers = _answers(resident, head, {NEIGHBOUR})
    # Half the sheet answered: the flagged look-ups and the first others.
    kept = [i for i, a in answers.items() if a.verdict == "suspect"]
    kept += [i for i, a in answers.items() if a.verdict != "suspect"][: len(answers) // 2]
    log_reviews.save_answers(resident, {i: answers[i] for i in kept}, head)
    # The window contractor's look-up in 東部, which it does not serve: its company explains.
    elsewhere = next(
        r
        for r in log_reviews.rows(resident, head)
        if r.entry.contractor_id is not None and r.entry.district == "東部"
    )
    log_reviews.ask_explanation(resident, elsewhere.review, head)

"""Demo pledges (誓約書): the staff pledge in two versions — last year's, which everyone signed,
and this year's, which most have signed while the divisions of two departments and one
department head have not — and the contractors' pledge, which the contracts of two companies
require, signed by one of them.

Every account the README lists (and the browser tests sign in as) has signed what it owes, so
`make run` and the journeys start on the home page. Rows go in directly, as the other demo
modules write theirs: the audit trail holds what people did, not what the demo made up."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from survey import clock
from survey.demo_data import office_time
from survey.extensions import db
from survey.models import Contract, Contractor, OrgUnit, User
from survey.models.pledges import Audience, Pledge, PledgeAcknowledgement, PledgeVersion, Renewal
from survey.services.pledges import STAFF_ROLES, renewal_cutoff

# This year's staff pledge is not yet signed in these departments' divisions, nor by this head.
UNSIGNED_DEPARTMENTS = ("D10", "D11")
UNSIGNED_HEAD = "m-d10"
# The companies whose contracts require their staff to sign (C002's contact has not yet).
PLEDGED_COMPANIES = ("C001", "C002")
SIGNED_COMPANY_ACCOUNTS = ("contractor", "c-c001", "contractor-staff")

STAFF_V1 = """さくら区情報セキュリティポリシーを遵守し、\
職務上知り得た情報を適正に取り扱うことを誓約します。

- 個人情報その他の秘密情報を、業務の目的以外に利用し、又は第三者に提供しません。
- 情報資産を庁外に持ち出すときは、所属長の許可を得ます。
- パスワードその他の認証情報を他人に教えず、使い回しません。
- 情報セキュリティ上の事故又はそのおそれを知ったときは、直ちに所属長及び情報政策課に報告します。

この誓約は、退職し、又は異動した後も同様とします。"""

STAFF_V2 = """さくら区情報セキュリティポリシーを遵守し、\
職務上知り得た情報を適正に取り扱うことを誓約します。

- 個人情報その他の秘密情報を、業務の目的以外に利用し、又は第三者に提供しません。
- 住民の記録は、事務の処理に必要な場合に限り照会します（照会の記録は定期的に点検されます）。
- 情報資産を庁外に持ち出すときは、所属長の許可を得て、暗号化した媒体を使います。
- パスワードその他の認証情報を他人に教えず、使い回しません。
- 情報セキュリティ研修を毎年受講し、確認テストに合格します。
- 情報セキュリティ上の事故又はそのおそれを知ったときは、直ちに所属長及び情報政策課に報告します。

この誓約は、退職し、又は異動した後も同様とします。"""

CONTRACTORS_V1 = """委託業務の履行に当たり、さくら区の情報セキュリティポリシー及び\
委託契約の特記事項を遵守することを誓約します。

- 委託業務で取り扱う個人情報を、委託業務以外の目的に利用せず、複写し、又は第三者に提供しません。
- 区の承認なく再委託しません。
- 委託業務の終了後、区の指示に従い情報を返還し、又は消去します。
- 事故又はそのおそれを知ったときは、直ちに所管課に報告します。"""


def load() -> None:
    admin = db.session.scalar(sa.select(User).where(User.username == "admin"))
    staff = Pledge(
        code="staff",
        title="情報セキュリティに関する誓約書（職員用）",
        audience=Audience.STAFF,
        renewal=Renewal.VERSION,
        created_at=office_time(date(2025, 3, 20), 9),
    )
    last_year = _version(staff, 1, STAFF_V1, date(2025, 4, 1), admin)
    this_year = _version(staff, 2, STAFF_V2, date(2026, 10, 1), admin)
    companies = Pledge(
        code="contractors",
        title="個人情報の取扱いに関する誓約書（委託事業者用）",
        audience=Audience.CONTRACTORS,
        renewal=Renewal.YEARLY,
        created_at=office_time(date(2026, 3, 25), 9),
    )
    contractors_v1 = _version(companies, 1, CONTRACTORS_V1, date(2026, 4, 1), admin)
    db.session.add_all([staff, companies])

    pledged = sa.select(Contractor.id).where(Contractor.code.in_(PLEDGED_COMPANIES))
    db.session.execute(
        sa.update(Contract).where(Contract.contractor_id.in_(pledged)).values(pledge_required=True)
    )

    unsigned_units = {
        unit.id
        for unit in db.session.scalars(sa.select(OrgUnit))
        if unit.parent is not None and unit.parent.code in UNSIGNED_DEPARTMENTS
    }
    people = db.session.scalars(
        sa.select(User)
        .where(User.role.in_(STAFF_ROLES), User.contractor_id.is_(None))
        .order_by(User.id)
    ).all()
    for n, person in enumerate(people):
        _sign(last_year, person, date(2025, 4, 1 + n % 20))
        if person.unit_id in unsigned_units or person.username == UNSIGNED_HEAD:
            continue
        _sign(this_year, person, date(2026, 10, 1 + n % 28))
    for username in SIGNED_COMPANY_ACCOUNTS:
        person = db.session.scalar(sa.select(User).where(User.username == username))
        _sign(contractors_v1, person, _within_a_year(date(2026, 10, 20)))
    db.session.flush()


def _version(pledge: Pledge, number: int, body: str, day: date, by: User) -> PledgeVersion:
    version = PledgeVersion(
        version=number,
        body=body,
        created_at=office_time(day, 9),
        published_at=office_time(day, 10),
        published_by=by,
    )
    pledge.versions.append(version)
    return version


def _sign(version: PledgeVersion, person: User, day: date) -> None:
    db.session.add(
        PledgeAcknowledgement(
            version=version,
            user_id=person.id,
            signed_name=person.display_name,
            acknowledged_at=office_time(day, 9, 5),
            acknowledged_on=day,
        )
    )


def _within_a_year(day: date) -> date:
    """The demo's day for a yearly pledge, moved on by whole years when the demo is loaded so
    long after it that the signature would have lapsed: the demo accounts never start blocked."""
    while day <= renewal_cutoff(clock.today()):
        day = day.replace(year=day.year + 1)
    return day

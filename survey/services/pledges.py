"""Pledges (誓約書): the office writes a text in versions; each person it concerns acknowledges
the latest published version at sign-in, and again when a new version is published or, for a
yearly pledge, a year after their last acknowledgement.

Whom a pledge concerns (`Audience`): the staff pledge every active account of the ward's own
staff; the contractors' pledge the active accounts of a company (its contacts and its staff)
with an active contract whose `pledge_required` flag is set (the contracts register's 誓約書
column). The gate itself is in survey/auth/pledge.py: at sign-in, after the password and TOTP
steps, a person with something due gets a session that opens only the pledge page and sign-out
until it is acknowledged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from survey import clock
from survey.extensions import db
from survey.models import Contract, Contractor, OrgUnit, Role, User
from survey.models.pledges import Audience, Pledge, PledgeAcknowledgement, PledgeVersion, Renewal
from survey.models.types import utcnow
from survey.services import escalation, mail_texts, notify, trail, transitions
from survey.services.reminders import Reminder

STAFF_ROLES = (Role.ADMIN, Role.AUDITOR, Role.MANAGER, Role.RESPONDENT, Role.STAFF)
# The pages' own names under /pledges/, which a pledge's code would hide.
RESERVED_CODES = frozenset({"new", "mine", "acknowledgements"})


class PledgeError(ValueError):
    """A request the pledge rules refuse; the message is for the user."""


# --- whom a pledge concerns, and what is still valid ------------------------------------------


def pledged_companies() -> sa.Select:
    """The companies bound by an active contract to have their staff sign the pledge."""
    return sa.select(Contract.contractor_id).where(Contract.active, Contract.pledge_required)


def concerned(audience: str) -> sa.ColumnElement[bool]:
    """The accounts a pledge of this audience concerns, as a condition on User."""
    if audience == Audience.CONTRACTORS:
        # The company's contacts and its staff (Role.STAFF of the company) alike.
        return sa.and_(User.active, User.contractor_id.in_(pledged_companies()))
    return sa.and_(User.active, User.role.in_(STAFF_ROLES), User.contractor_id.is_(None))


def renewal_cutoff(today: date) -> date:
    """A yearly pledge acknowledged on a day after this one still holds today: acknowledged on
    2026-04-01, it is due again on 2027-04-01 (on 1 March after a 29 February)."""
    try:
        return today.replace(year=today.year - 1)
    except ValueError:  # today is 29 February
        return today.replace(year=today.year - 1, day=28)


def still_valid(pledge: Pledge, version_id: int, today: date) -> sa.ColumnElement[bool]:
    """A condition on PledgeAcknowledgement: it acknowledges this version and still holds."""
    condition = PledgeAcknowledgement.version_id == version_id
    if pledge.renewal == Renewal.YEARLY:
        condition = sa.and_(
            condition, PledgeAcknowledgement.acknowledged_on > renewal_cutoff(today)
        )
    return condition


def renewal_due(acknowledged_on: date) -> date:
    """When a yearly acknowledgement falls due again."""
    try:
        return acknowledged_on.replace(year=acknowledged_on.year + 1)
    except ValueError:
        return acknowledged_on.replace(year=acknowledged_on.year + 1, month=3, day=1)


def current_versions() -> list[PledgeVersion]:
    """The latest published version of every pledge, with its pledge (one query)."""
    latest = (
        sa.select(PledgeVersion.pledge_id, sa.func.max(PledgeVersion.version).label("version"))
        .where(PledgeVersion.published_at.is_not(None))
        .group_by(PledgeVersion.pledge_id)
        .subquery()
    )
    return list(
        db.session.scalars(
            sa.select(PledgeVersion)
            .join(
                latest,
                sa.and_(
                    PledgeVersion.pledge_id == latest.c.pledge_id,
                    PledgeVersion.version == latest.c.version,
                ),
            )
            .options(joinedload(PledgeVersion.pledge))
            .order_by(PledgeVersion.pledge_id)
        )
    )


def current_version(pledge: Pledge) -> PledgeVersion | None:
    published = [v for v in pledge.versions if v.published_at is not None]
    return published[-1] if published else None


def draft_of(pledge: Pledge) -> PledgeVersion | None:
    return next((v for v in pledge.versions if v.published_at is None), None)


def due(user: User, today: date | None = None) -> list[PledgeVersion]:
    """The versions `user` has yet to acknowledge. With no pledge published there is nothing
    to ask (one query), which is how a database without pledges (the tests') signs in."""
    versions = current_versions()
    if not versions:
        return []
    today = today or clock.today()
    owed = []
    for version in versions:
        pledge = version.pledge
        asked = sa.select(User.id).where(User.id == user.id, concerned(pledge.audience))
        done = sa.select(PledgeAcknowledgement.id).where(
            PledgeAcknowledgement.user_id == user.id, still_valid(pledge, version.id, today)
        )
        if db.session.scalar(sa.select(sa.exists(asked) & ~sa.exists(done))):
            owed.append(version)
    return owed


# --- acknowledging ----------------------------------------------------------------------------


def acknowledge(user: User, shown: Iterable[int]) -> list[PledgeAcknowledgement]:
    """Record that `user` acknowledged the versions the page showed (`shown`, their ids). Only
    what is due is stored: a second click finds nothing due and stores nothing. A version
    published since the page was shown is refused, so that nobody acknowledges a text they
    were not shown. The caller commits."""
    owed = due(user)
    if not owed:
        return []
    if {v.id for v in owed} - set(shown):
        raise PledgeError(_("誓約書が更新されました。表示された内容を確認してください。"))
    at = utcnow()
    made = []
    for version in owed:
        row = PledgeAcknowledgement(
            version=version,
            user_id=user.id,
            signed_name=user.display_name,
            acknowledged_at=at,
            acknowledged_on=clock.today(),
        )
        try:
            with db.session.begin_nested():  # the same day's twin from a parallel click
                db.session.add(row)
        except IntegrityError:
            continue
        trail.record(
            "pledge.acknowledge",
            row,
            user=user,
            summary=f"{version.pledge.title} 第{version.version}版",
            after={"pledge": version.pledge.code, "version": version.version},
        )
        made.append(row)
    return made


def own_acknowledgements(user: User) -> list[PledgeAcknowledgement]:
    """A person's own acknowledgements, the latest first: nobody else's are ever listed."""
    return list(
        db.session.scalars(
            sa.select(PledgeAcknowledgement)
            .where(PledgeAcknowledgement.user_id == user.id)
            .options(joinedload(PledgeAcknowledgement.version).joinedload(PledgeVersion.pledge))
            .order_by(PledgeAcknowledgement.acknowledged_at.desc(), PledgeAcknowledgement.id)
        )
    )


# --- the office's side: pledges and their versions --------------------------------------------


def _taken() -> PledgeError:
    return PledgeError(_("このコードの誓約書は既にあります。"))


def code_taken(code: str) -> bool:
    return bool(db.session.scalar(sa.select(sa.exists().where(Pledge.code == code))))


def create(code: str, title: str, audience: str, renewal: str, body: str) -> Pledge:
    """A new pledge with its first version as a draft. The caller commits."""
    if code in RESERVED_CODES:
        raise PledgeError(_("このコードは使えません。別のコードを入力してください。"))
    if code_taken(code):
        raise _taken()
    pledge = Pledge(code=code, title=title, audience=audience, renewal=renewal)
    pledge.versions.append(PledgeVersion(version=1, body=body))
    try:
        # The check above misses a pledge of the same code being saved at the same moment (two
        # of the office, a double click): the unique code refuses the second.
        with db.session.begin_nested():
            db.session.add(pledge)
    except IntegrityError:
        raise _taken() from None
    trail.record(
        "pledge.create",
        pledge,
        summary=title,
        after={"code": code, "audience": audience, "renewal": renewal},
    )
    return pledge


def save_draft(pledge: Pledge, body: str) -> PledgeVersion:
    """Write the draft's text; with no draft, start the next version. The caller commits."""
    draft = draft_of(pledge)
    if draft is None:
        number = max((v.version for v in pledge.versions), default=0) + 1
        draft = PledgeVersion(version=number, body=body)
        pledge.versions.append(draft)
    elif draft.body == body:
        return draft
    before = draft.body if draft.id else None
    draft.body = body
    trail.record(
        "pledge.draft",
        draft,
        summary=f"{pledge.title} 第{draft.version}版",
        before={"body": before} if before is not None else None,
        after={"body": body},
    )
    return draft


def publish(pledge: Pledge, by: User) -> PledgeVersion | None:
    """Publish the draft: from now on it is the version asked at sign-in. One UPDATE that only
    an unpublished draft matches, so a double click publishes once (None: nothing was left to
    publish). The caller commits."""
    draft = draft_of(pledge)
    if draft is None:
        return None
    if not transitions.claim(
        draft, PledgeVersion.published_at.is_(None), published_at=utcnow(), published_by_id=by.id
    ):
        return None
    trail.record(
        "pledge.publish",
        draft,
        summary=f"{pledge.title} 第{draft.version}版",
        after={"pledge": pledge.code, "version": draft.version},
    )
    return draft


# --- completion per unit ----------------------------------------------------------------------


@dataclass
class CompletionRow:
    group: str  # 部局, or 委託事業者 for the contractors' pledge
    name: str  # the unit or the company
    people: int = 0
    acknowledged: int = 0

    @property
    def missing(self) -> int:
        return self.people - self.acknowledged

    @property
    def ratio(self) -> float | None:
        return self.acknowledged / self.people if self.people else None


@dataclass
class Missing:
    group: str
    name: str  # the unit or the company
    display_name: str
    username: str


@dataclass
class Completion:
    pledge: Pledge
    version: PledgeVersion | None
    rows: list[CompletionRow] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)

    @property
    def total(self) -> CompletionRow:
        return CompletionRow(
            "",
            "",
            sum(r.people for r in self.rows),
            sum(r.acknowledged for r in self.rows),
        )


def _department(unit: OrgUnit, units: dict[int, OrgUnit]) -> OrgUnit:
    while unit.parent_id is not None and unit.parent_id in units:
        unit = units[unit.parent_id]
    return unit


UNITLESS = 1 << 30  # sorts after every unit's position


def completion(pledge: Pledge, people: sa.Select, today: date | None = None) -> Completion:
    """Who has acknowledged the current version, per unit (per company for the contractors'
    pledge), among `people` (a query over User already narrowed to the viewer's scope)."""
    version = current_version(pledge)
    found = Completion(pledge, version)
    if version is None:
        return found
    today = today or clock.today()
    acked = sa.exists().where(
        PledgeAcknowledgement.user_id == User.id, still_valid(pledge, version.id, today)
    )
    rows = db.session.execute(
        people.where(concerned(pledge.audience)).add_columns(acked.label("acked"))
    ).all()
    units = {u.id: u for u in db.session.scalars(sa.select(OrgUnit))}
    companies = {c.id: c for c in db.session.scalars(sa.select(Contractor))}
    groups: dict[tuple, CompletionRow] = defaultdict(lambda: CompletionRow("", ""))
    for user, done in rows:
        if pledge.audience == Audience.CONTRACTORS:
            company = companies[user.contractor_id]
            key, group, name = (company.code,), "委託事業者", company.name
        elif user.unit_id is None:
            # An account of no unit (a break-glass admin, an auditor): counted on a row of its
            # own, after the units.
            key, group, name = (UNITLESS,), _("所属なし"), _("所属なし")
        else:
            unit = units[user.unit_id]
            top = _department(unit, units)
            key, group, name = (top.position, top.code, unit.code), top.name, unit.name
        row = groups[key]
        row.group, row.name = group, name
        row.people += 1
        if done:
            row.acknowledged += 1
        else:
            found.missing.append(Missing(group, name, user.display_name, user.username))
    found.rows = [groups[key] for key in sorted(groups)]
    found.missing.sort(key=lambda m: (m.group, m.name, m.username))
    return found


# --- reminders (survey/services/reminders.py) -------------------------------------------------


@dataclass(frozen=True)
class Owed:
    version: PledgeVersion
    person: User
    since: date  # the day the version was first asked of the person


def owed(today: date) -> list[Owed]:
    """Everyone a current version is due from today, with the day it was first asked of them:
    a year after their signature for a yearly pledge that lapsed; the version's publication for
    whoever signed an earlier one (their account was there then); for someone who never signed,
    the publication or the day their account was made, whichever is later."""
    found = []
    for version in current_versions():
        pledge = version.pledge
        mine = PledgeAcknowledgement.user_id == User.id
        lapsed = (
            sa.select(sa.func.max(PledgeAcknowledgement.acknowledged_on))
            .where(mine, PledgeAcknowledgement.version_id == version.id)
            .scalar_subquery()
        )
        earlier = sa.exists().where(
            mine,
            PledgeAcknowledgement.version_id.in_(
                sa.select(PledgeVersion.id).where(PledgeVersion.pledge_id == pledge.id)
            ),
        )
        valid = sa.exists().where(mine, still_valid(pledge, version.id, today))
        published = clock.local(version.published_at).date()
        rows = db.session.execute(
            sa.select(User, lapsed, earlier)
            .where(concerned(pledge.audience), ~valid)
            .options(joinedload(User.unit))
            .order_by(User.id)
        )
        for person, signed_on, signed_before in rows:
            if signed_on is not None:
                since = renewal_due(signed_on)
            elif signed_before:
                since = published
            else:
                since = max(published, clock.local(person.created_at).date())
            if since <= today:
                found.append(Owed(version, person, since))
    return found


def reminders(today: date, steps: escalation.Steps) -> Iterable[Reminder]:
    """A pledge is asked at sign-in, so whoever owes one and has not signed in since is reminded
    in the daily digest, climbing the office's escalation steps from the day it was first asked
    of them as a course not passed does: the person first, then the head of their unit and the
    head above it (a company's staff have no unit: the person alone). A head's line leads to the
    pledge's completion page."""
    if not steps.enabled():
        return
    sign_in = notify.external_url("auth.login")
    for item in owed(today):
        person = item.person
        completion = notify.external_url("pledges.completion", code=item.version.pledge.code)
        for user, step in escalation.personal(steps, item.since, today, person, person.unit):
            yield Reminder(
                user.email.strip(),
                user.display_name,
                f"pledge:{item.version.id}:{person.id}",
                mail_texts.pledge_reminder_line(
                    item.version, person, item.since, today, completion if step else sign_in, step
                ),
                item.since,
            )

"""Escalation (督促段階): the steps a campaign follows, the office's defaults a new campaign and
every overdue corrective action take, and who stands at each step — the respondents (or an
action's owners), the managers of the responsible unit (所属長) and the managers of the unit
above it (部局長). The steps themselves are counted in reports.escalation; the daily digest
(survey.services.reminders) mails each person what has reached their step.

Heads are found in the organisation's own tree, so a manager is only ever reminded of work of
their own unit or of the units directly below it, which their scope covers (access.results_units).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from reports.escalation import (
    DEPARTMENT_HEAD,
    EARLIEST,
    LATEST,
    RESPONDENT,
    STEPS,
    UNIT_HEAD,
    Steps,
)
from survey import labels
from survey.extensions import db
from survey.models import Campaign, EscalationDefault, OrgUnit, Role, User
from survey.models.types import utcnow
from survey.services import notify, trail

BUILT_IN = Steps(respondent=-3, unit_head=3, department_head=7)
DEFAULT_ROW = 1  # the office's one row of defaults


class StepsError(ValueError):
    """The steps cannot be saved; `problems` holds a message per form field (a step's name)."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(" ".join(problems.values()))
        self.problems = problems


def office_steps() -> Steps:
    row = db.session.get(EscalationDefault, DEFAULT_ROW)
    if row is None:
        return BUILT_IN
    return Steps(row.respondent_days, row.unit_head_days, row.department_head_days)


def campaign_steps(campaign: Campaign) -> Steps:
    return Steps(
        campaign.remind_respondent_days,
        campaign.remind_unit_head_days,
        campaign.remind_department_head_days,
    )


def apply(campaign: Campaign, steps: Steps) -> None:
    campaign.remind_respondent_days = steps.respondent
    campaign.remind_unit_head_days = steps.unit_head
    campaign.remind_department_head_days = steps.department_head


def facts(steps: Steps) -> dict[str, int | None]:
    """The steps for an audit entry."""
    return {step: getattr(steps, step) for step in STEPS}


def problems(steps: Steps) -> dict[str, str]:
    """Every problem of the steps at once, by step: each within a quarter of the due date, and
    each enabled step later than the one before it (a head hears after the respondent)."""
    found: dict[str, str] = {}
    previous: tuple[str, int] | None = None
    for step, days in steps.enabled():
        name = labels.label(labels.ESCALATION_STEPS, step)
        if not EARLIEST <= days <= LATEST:
            found[step] = _(
                "「%(step)s」の日数は%(earliest)d から %(latest)d までの整数で入力してください。",
                step=name,
                earliest=EARLIEST,
                latest=LATEST,
            )
        elif previous is not None and days <= previous[1]:
            found[step] = _(
                "「%(step)s」は「%(before)s」（%(days)d日）より後の日数にしてください。",
                step=name,
                before=labels.label(labels.ESCALATION_STEPS, previous[0]),
                days=previous[1],
            )
        previous = (step, days)
    return found


def check(steps: Steps) -> None:
    found = problems(steps)
    if found:
        raise StepsError(found)


def save_defaults(steps: Steps, user: User) -> None:
    """The office's defaults, in the caller's transaction with their audit entry."""
    check(steps)
    before = office_steps()
    row = db.session.get(EscalationDefault, DEFAULT_ROW)
    if row is None:
        row = EscalationDefault(id=DEFAULT_ROW)
        db.session.add(row)
    row.respondent_days = steps.respondent
    row.unit_head_days = steps.unit_head
    row.department_head_days = steps.department_head
    row.updated_at = utcnow()
    row.updated_by_id = user.id
    trail.record(
        "escalation.defaults",
        summary=steps_summary(steps),
        before=facts(before),
        after=facts(steps),
    )


def change_campaign_steps(campaign: Campaign, steps: Steps) -> None:
    """A campaign's steps, in whatever state it is (a running one's late questionnaires follow
    the new steps from the next digest), in the caller's transaction with its audit entry."""
    check(steps)
    before = campaign_steps(campaign)
    apply(campaign, steps)
    trail.record(
        "campaign.escalation",
        campaign,
        summary=f"{campaign.code} {steps_summary(steps)}",
        before=facts(before),
        after=facts(steps),
    )


def steps_summary(steps: Steps) -> str:
    return ", ".join(f"{step} {days:+d}" for step, days in steps.enabled()) or "-"


def action_step(action, today: date, steps: Steps | None = None) -> str | None:
    """The step an overdue corrective action has reached under the office's steps (`steps`
    when the caller read them already); None when it is not overdue or waits for the office
    (reported or verified)."""
    from survey.models.followup import ActionStatus

    if action.status in (ActionStatus.REPORTED, ActionStatus.VERIFIED) or action.due_on >= today:
        return None
    return (steps or office_steps()).step(action.due_on, today)


# --- who stands at each step ---------------------------------------------------------------


def _managers(unit_id: int | None) -> list[User]:
    if unit_id is None:
        return []
    return notify.with_address(
        sa.select(User).where(User.unit_id == unit_id, User.role == Role.MANAGER)
    )


def heads(unit: OrgUnit | None, step: str) -> list[User]:
    """The unit head (the unit's own managers) or the department head (the managers of the unit
    above it); nobody when the unit has no such head registered."""
    if unit is None:
        return []
    if step == UNIT_HEAD:
        return _managers(unit.id)
    if step == DEPARTMENT_HEAD:
        return _managers(unit.parent_id)
    return []


@dataclass(frozen=True)
class Reached:
    """A late thing's highest step today and everyone to remind of it, step by step."""

    step: str
    people: list[User]


def personal(
    steps: Steps, due: date, today: date, person: User, unit: OrgUnit | None
) -> Iterator[tuple[User, str | None]]:
    """Whom a person's own obligation (a course to pass, a pledge to sign) reminds today, each
    with the step that reached them: the person (None: their own line) from the first step's
    day, then the heads of `unit` from theirs."""
    owners = [person] if (person.email or "").strip() else []
    found = reached(steps, due, today, unit, owners)
    if found is None:
        return
    for user in found.people:
        yield user, None if user.id == person.id else found.step


def reached(
    steps: Steps, due: date, today: date, unit: OrgUnit | None, owners: list[User]
) -> Reached | None:
    """Who is reminded today: the owners from the first step's day (`owners`: the respondents,
    an action's owners), then each head from theirs; None before the first step."""
    reached_steps = steps.reached(due, today)
    if not reached_steps:
        return None
    people: list[User] = []
    for step in reached_steps:
        people += owners if step == RESPONDENT else heads(unit, step)
    return Reached(reached_steps[-1], people)

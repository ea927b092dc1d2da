"""Opening a corrective action (是正措置): from an answer, a finding, a recommendation, by hand."""

from __future__ import annotations

from datetime import date

from survey.extensions import db
from survey.models import Contractor, OrgUnit, User
from survey.models.followup import ActionEvent, ActionSource, ActionStatus, CorrectiveAction
from survey.services import audit


def open_action(
    *,
    title: str,
    due_on: date,
    created_by: User | None,
    unit: OrgUnit | None = None,
    contractor: Contractor | None = None,
    description: str = "",
    source: str = ActionSource.MANUAL,
    assignment=None,
    item=None,
) -> CorrectiveAction:
    """Add an open action to the session (the caller commits), with its first event."""
    if unit is None and contractor is None:
        raise ValueError("an action needs a unit or a contractor to fix it")
    action = CorrectiveAction(
        title=title.strip(),
        description=description,
        due_on=due_on,
        unit=unit,
        contractor=contractor,
        source=source,
        assignment=assignment,
        campaign=assignment.campaign if assignment is not None else None,
        item=item,
        created_by=created_by,
        status=ActionStatus.OPEN,
    )
    db.session.add(action)
    db.session.add(
        ActionEvent(action=action, kind="open", to_status=ActionStatus.OPEN, user=created_by)
    )
    audit.record("action.open", action, summary=action.title)
    return action

"""Where in the organisation a breakdown by unit stands: the office starts at the 部局, a manager
at the children of their own unit, and `?dept=` steps to any unit within the user's scope
(部 → 課 → 係). The results and the progress pages read their level from here."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort
from flask_babel import gettext as _

from reports import queries
from survey.access import results_units
from survey.extensions import db
from survey.models import OrgUnit, User
from survey.services import trail


@dataclass(frozen=True)
class Level:
    units: list[int] | sa.Select | None  # the user's scope, cut to the chosen unit's subtree
    parent: int | None  # the breakdown shows this unit's children (None: the 部局)
    chosen: tuple[int, str] | None  # the unit asked for, if any
    path: tuple[tuple[int | None, str], ...]  # from the top of the user's scope down to parent


def level_or_404(user: User, dept: int | None) -> Level:
    """The level asked for; a unit that does not exist or lies outside the user's scope is a
    404, recorded as a refused access like a guessed id."""
    found = level(user, dept)
    if found is None:
        trail.record_denied("org_unit", dept, user, found=db.session.get(OrgUnit, dept))
        abort(404)
    return found


def level(user: User, dept: int | None) -> Level | None:
    """At most three queries, however deep the unit: the user's scope, the path, the subtree."""
    conn = db.session.connection()
    units = results_units(user)
    top = user.unit_id if units is not None else None
    parent = dept or top
    steps = [] if parent is None else queries.ancestors(conn, parent)
    chosen = None
    if dept:
        if not steps or dept not in (queries.unit_ids(conn, units) or [dept]):
            return None
        chosen = (steps[-1].id, steps[-1].name)
        # As ids: the scope's own query may be joined again by the caller's.
        units = queries.unit_ids(conn, queries.narrow(units, queries.subtree(dept)))
    # A manager climbs no higher than their own unit; the office starts from the whole ward.
    start = next((n for n, row in enumerate(steps) if row.id == top), 0)
    path = ((None, _("全体")),) if top is None else ()
    path += tuple((row.id, row.name) for row in steps[start:])
    return Level(units, parent, chosen, path)

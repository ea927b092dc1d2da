"""A respondent's own result: the score, grade and advice of one handed-in assignment and the
answers that lowered it. The figures are the results page's (queries.respondent_figures), so
the respondent reads what the office reads."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from checklists import scoring
from reports import aggregate, queries
from survey.extensions import db
from survey.models import Assignment


@dataclass(frozen=True)
class OwnResult:
    score: int | None
    max_score: int | None
    compliant: int
    applicable: int
    percent: float | None  # 該当率
    band: sa.Row | None  # the grade (queries.grades), None where the checklist has none
    shortfalls: list[sa.Row]  # number, text, label, klass, comment

    @property
    def score_percent(self) -> float | None:
        return scoring.percent(self.score or 0, self.max_score or 0)


def own_result(assignment: Assignment) -> OwnResult:
    conn = db.session.connection()
    campaign = aggregate.load(conn, assignment.campaign.code)
    mine = queries.own_figures(conn, campaign.info.id, campaign.conditions, assignment.id)
    score = None if mine is None else mine.score
    max_score = None if mine is None else mine.max_score
    compliant = 0 if mine is None else mine.compliant
    applicable = 0 if mine is None else mine.applicable
    return OwnResult(
        score=score,
        max_score=max_score,
        compliant=compliant,
        applicable=applicable,
        percent=scoring.percent(compliant, applicable),
        band=campaign.grade(score, max_score),
        shortfalls=queries.shortfalls(conn, campaign.conditions, assignment.id),
    )

"""Escalation steps (督促段階): who is reminded of a late questionnaire or corrective action, and
from which day, counted from its due date — the respondent first, then the head of the unit
(所属長), then the head of the unit above (部局長). Framework-free: the progress pages, the
未提出一覧 workbook and the daily digest (survey.services.escalation) all read the step here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

RESPONDENT = "respondent"
UNIT_HEAD = "unit_head"
DEPARTMENT_HEAD = "department_head"
STEPS = (RESPONDENT, UNIT_HEAD, DEPARTMENT_HEAD)
# For the workbooks and CSV, by language (the screens translate survey.labels').
LABELS = {
    "ja": {RESPONDENT: "回答者", UNIT_HEAD: "所属長", DEPARTMENT_HEAD: "部局長"},
    "en": {RESPONDENT: "respondent", UNIT_HEAD: "unit head", DEPARTMENT_HEAD: "department head"},
}
# The offsets an office may choose, in days from the due date (a quarter either way).
EARLIEST, LATEST = -90, 90


@dataclass(frozen=True)
class Steps:
    """Days from the due date on which each step starts (negative: before it); None: the step
    is left out. Enabled steps come in the order of STEPS, each strictly later than the last."""

    respondent: int | None
    unit_head: int | None
    department_head: int | None

    def enabled(self) -> list[tuple[str, int]]:
        return [(step, days) for step in STEPS if (days := getattr(self, step)) is not None]

    def reached(self, due: date, today: date) -> list[str]:
        """The steps whose day has come, in order: everyone of each is reminded."""
        return [step for step, days in self.enabled() if due + timedelta(days=days) <= today]

    def step(self, due: date, today: date) -> str | None:
        """The highest step reached, or None before the first one."""
        reached = self.reached(due, today)
        return reached[-1] if reached else None


def label(step: str | None, lang: str = "ja") -> str:
    return LABELS[lang].get(step, "") if step else ""

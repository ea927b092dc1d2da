"""How answers count: the one set of rules behind every figure, page and file of tenken.

An answer option has a class (checklists.schema.OPTION_CLASSES) and may have points.

- 該当率 = compliant ÷ (compliant + partial + noncompliant + unknown). Excluded (対象外) and
  informational answers leave both counts.
- A respondent's score adds the points of the options chosen on applicable answers only; the
  best possible adds, for each of those answers, the highest points of an applicable option
  of its scale. Excluded and informational options carry no points (the validator refuses
  them), so an item not asked, not applicable or only recording a fact never moves the score.
- The answers that lowered a result, and the ones listed for follow-up beside いいえ, are the
  partial, noncompliant and unknown ones, each listed under its own class.

The database applies them in SQL: reports/queries.py builds its sums from these tuples, in one
query (`respondent_figures`) behind the results page, the files and the CLI.
"""

from __future__ import annotations

APPLICABLE = ("compliant", "partial", "noncompliant", "unknown")
# Not fully compliant: what lowered a result, listed for follow-up (each class on its own).
SHORTFALL = ("partial", "noncompliant", "unknown")
# Never scored: 対象外, and a question that only branches or records a fact.
UNSCORED = ("excluded", "informational")


def percent(compliant: int, applicable: int) -> float | None:
    """The 該当率 in percent, one decimal, or None where nothing was applicable."""
    return round(100 * compliant / applicable, 1) if applicable else None


"""How answers count: the one set of rules behind every figure, page and file of tenken.

An answer option has a class (checklists.schema.OPTION_CLASSES) and may have points.

- 該当率 = compliant ÷ (compliant + partial + noncompliant + unknown). Excluded (対象外) and
  informational answers leave both counts.
- A respondent's score adds the points of the options chosen on applicable answers only; the
  best possible adds, for each of those answers, the highest points of an applicable option
  of its scale. Excluded and informational options carry no points (the validator refuses
  them), so an item not asked, not applicable or only recording a fact never moves the score.
- A checklist's grades (checklists.schema.Grades) band a respondent's result: on its points,
  or on the percentage of the best possible (score ÷ max_score); the highest band whose
  `min` the result reaches, the lowest band for anything below it.
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


def graded_value(basis: str, score: int | None, max_score: int | None) -> float | None:
    """What the bands are compared with: the points, or their percentage of the best possible
    (one decimal, as shown); None where nothing was scored."""
    if score is None:
        return None
    if basis == "points":
        return score
    return percent(score, max_score or 0)


def grade(bands, basis: str, score: int | None, max_score: int | None):
    """The band (anything with `min`, highest first) a result falls in; None without bands or
    without a scored answer."""
    value = graded_value(basis, score, max_score)
    if value is None or not bands:
        return None
    return next((band for band in bands if value >= band.min), bands[-1])


# --- comprehension tests --------------------------------------------------------------------
# A test (target person) is marked apart from the classes above: each item has one right
# option (`correct`); the score is the number of items answered with it, and a person passes
# when that is at least `pass_mark` percent of the items. An unanswered item counts as wrong.


def marked(answers: dict[str, str], correct: dict[str, str], pass_mark: int) -> tuple[int, bool]:
    """(items answered right, passed) for `answers` {item key: option code}, against `correct`
    {item key: right option code} of every item of the test."""
    right = sum(1 for key, code in correct.items() if answers.get(key) == code)
    return right, right * 100 >= pass_mark * len(correct)

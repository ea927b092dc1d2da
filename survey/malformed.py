"""Malformed requests are refused before a view sees them: a 400 or a 404, never a 500.

- An id in a URL that no row can have: ids are INTEGER columns (int4 on PostgreSQL, which
  refuses to compare with 2**31; SQLite refuses 2**63, and int() refuses thousands of digits).
  The `int` converter hands such a value on as `OutOfRange`, and `refuse_out_of_range` answers
  404 once the session has been checked, recording the attempt as any guessed id is.
- The same in a query string: `db_int` reads every number from a query string or a form.
- A JSON body: tenken's pages post forms, but Flask-WTF reads a JSON body as form data without
  looking at its shape (nested past Python's recursion limit, or a list, or a number): refused.
"""

from __future__ import annotations

from flask import Flask, abort, request
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from survey.services import trail

DB_INT_MAX = 2**31 - 1
_DIGITS_MAX = len(str(DB_INT_MAX))


class OutOfRange(str):
    """A number from a URL that cannot be an id (kept as text, cut to a readable length)."""


class IdConverter(IntegerConverter):
    """`<int:…>` (digits only, as Werkzeug's) with the values no id can have set apart."""

    def to_python(self, value: str) -> int | OutOfRange:
        if len(value.lstrip("0")) > _DIGITS_MAX or int(value) > DB_INT_MAX:
            return OutOfRange(value[:40])
        return super().to_python(value)


def db_int(value: str | int) -> int:
    """A number from a query string or a form (`request.args.get(name, default, type=db_int)`):
    one outside what the database holds is as unreadable (ValueError: the default) as "abc"."""
    text = str(value).strip()
    if len(text.lstrip("+-").lstrip("0")) > _DIGITS_MAX:
        raise ValueError("out of range")
    number = int(text)
    if not -DB_INT_MAX <= number <= DB_INT_MAX:
        raise ValueError("out of range")
    return number


def refuse_out_of_range():
    for name, value in (request.view_args or {}).items():
        if isinstance(value, OutOfRange):
            if current_user.is_authenticated:
                trail.record_denied(
                    name.removesuffix("_id"), value, current_user, reason="out_of_range"
                )
            abort(404)


def refuse_json():
    # The pages take forms only; JSON is the API's (survey.api reads it with its schemas).
    from survey.api import is_api_request

    if request.is_json and not is_api_request(request):
        abort(400)


def init_app(app: Flask) -> None:
    """After the blueprints: a session that has ended sends its user to sign in first. (The
    converter is installed by create_app before any route is made.)"""
    app.before_request(refuse_json)
    app.before_request(refuse_out_of_range)

"""Links to list pages, whose filters and sort travel in the query string."""

from __future__ import annotations

from flask import Flask, url_for


def list_url(endpoint: str, **values) -> str:
    """A link that leaves out the arguments left empty (no filter, the default sort), so that
    a list's URL says only what was chosen."""
    return url_for(endpoint, **{k: v for k, v in values.items() if v not in (None, "")})


def init_app(app: Flask) -> None:
    app.add_template_global(list_url, "list_url")

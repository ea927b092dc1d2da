"""The REST API at /api/v1 (flask-smorest): thin views over survey/services and survey/access.

Who calls: a program holding a personal access token (survey.services.tokens), sent as
`Authorization: Bearer tenken_…`. Session cookies are never accepted here (the request loader
in survey/__init__.py reads only the token on these paths), so a page of another site cannot
make a signed-in browser call the API: that is why these views need no CSRF token.

Every call acts as the token's user through the same survey.access decisions as the pages; the
token's scopes only take away (`needs`). Every call is recorded in the audit trail as
`api.call` (after the response, in a transaction of its own), and each token has its own rate
limit.
"""

from __future__ import annotations

import json
from functools import wraps

from flask import Flask, current_app, g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Api, Blueprint, abort
from limits import parse_many
from werkzeug.exceptions import HTTPException

from survey import malformed
from survey.extensions import csrf, db, limiter
from survey.services import tokens, trail

PREFIX = "/api/v1"
TITLE = "tenken API"
VERSION = "1"

# Said once per status; the message is for people, `status` for programs.
MESSAGES = {
    400: _l("リクエストの内容が正しくありません。"),
    401: _l("有効なアクセストークンが必要です。"),
    403: _l("この操作を行う権限がありません。"),
    404: _l("見つかりません。"),
    405: _l("このメソッドは使えません。"),
    409: _l("ほかの人が先に更新しました。最新の内容を読み直してください。"),
    413: _l("送信されたデータが大きすぎます。"),
    415: _l("この形式のデータは受け付けられません。"),
    422: _l("入力内容を確認してください。"),
    429: _l("リクエストが多すぎます。しばらく待ってからやり直してください。"),
    500: _l("サーバーでエラーが発生しました。"),
}
_REFUSED = {
    "missing": _l("Authorization ヘッダーで Bearer トークンを送ってください。"),
    "unknown": _l("アクセストークンが正しくありません。"),
    "revoked": _l("このアクセストークンは無効にされています。"),
    "expired": _l("このアクセストークンは有効期限が切れています。"),
    "inactive": _l("このアカウントは利用できません。"),
    "beyond_role": _l(
        "このアクセストークンの範囲は、あなたの現在の権限を超えています。作り直してください。"
    ),
}


class TenkenApi(Api):
    """flask-smorest's Api without its app-wide error handler: the web pages keep their own
    error pages (survey/errors.py); the API's blueprints answer errors in JSON (`json_error`)."""

    def _register_error_handlers(self):
        pass


api = TenkenApi()


def is_api_request(req) -> bool:
    return req.path == PREFIX or req.path.startswith(PREFIX + "/")


def token_user(req):
    """The request loader on API paths: the user of a usable bearer token, never a cookie's."""
    header = req.headers.get("Authorization", "")
    scheme, _space, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        g.api_refusal = "missing"
        return None
    token = tokens.find(secret.strip())
    refusal = tokens.refusal(token)
    if refusal is not None:
        g.api_refusal = refusal
        g.api_refused_token = token
        return None
    tokens.mark_used(token)
    g.api_token = token
    return token.user


def current_token():
    """The token of this call (None when the call brought no usable token)."""
    current_user._get_current_object()  # loads the token, once per request
    return g.get("api_token")


def json_error(error: HTTPException):
    """Every error of the API as {code, status, message[, errors]}, the message in the
    request's language (Japanese unless Accept-Language prefers English)."""
    if error.code is None or error.code >= 500:
        db.session.rollback()  # the failed request must not leave a broken transaction behind
    code = error.code or 500
    data = getattr(error, "data", None) or {}
    message = data.get("message")
    if code == 401 and message is None:
        message = str(_REFUSED[g.get("api_refusal", "missing")])
    payload = {
        "code": code,
        "status": error.name,
        "message": str(message or MESSAGES.get(code, error.name)),
    }
    errors = data.get("errors") or data.get("messages")
    if errors:
        payload["errors"] = errors
    headers = dict(data.get("headers") or {})
    if code == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="tenken"'
    if code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return payload, code, headers


def needs(scope: str):
    """The token must carry `scope` (the user's rights are checked by survey.access after)."""

    def decorate(view):
        @wraps(view)
        def checked(*args, **kwargs):
            if scope not in current_token().scope_set:
                abort(
                    403, message=_("このトークンには「%(scope)s」の権限がありません。", scope=scope)
                )
            return view(*args, **kwargs)

        return checked

    return decorate


def _authenticate():
    if not current_user.is_authenticated:
        abort(401)
    if request.is_json:
        _readable_json()


def _readable_json() -> None:
    """A body the JSON reader chokes on (nested 100,000 deep: a RecursionError, which webargs
    would let through as a 500) is a 400 before any schema reads it."""
    try:
        json.loads(request.get_data(cache=True) or b"null")
    except (ValueError, RecursionError):
        abort(400)


def _rate_key() -> str:
    token = current_token()
    return f"token:{token.id}" if token is not None else f"addr:{request.remote_addr}"


def _rate_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


# One budget per token across every API route.
per_token = limiter.shared_limit(_rate_limit, scope="api", key_func=_rate_key)


def _record_call(response):
    """Every call in the audit trail: who (the token's user, or nobody), with which token,
    what, and the answer's status. Written after the view's own commit, in its own
    transaction, so a refused or failed call is recorded as well."""
    token = g.get("api_token") or g.get("api_refused_token")
    user = current_user._get_current_object() if g.get("api_token") else None
    try:
        db.session.rollback()
        trail.record(
            "api.call",
            user=user,
            object_type="api_token",
            object_id=token.id if token is not None else None,
            summary=f"{request.method} {request.path}"[:200],
            after={
                "status": response.status_code,
                "token": token.prefix if token is not None else None,
                **({"refused": g.api_refusal} if g.get("api_refusal") and not user else {}),
            },
        )
        db.session.commit()
    except Exception:  # the answer must still go out; the failure is logged loudly
        db.session.rollback()
        current_app.logger.exception("audit: an API call could not be recorded")
    return response


def _stray_call() -> None:
    """A call to an /api path that no API route serves (an unknown URL, a wrong method) is
    recorded like any other call (the public document at openapi.json has its route), so it is
    limited too: Flask-Limiter leaves requests without a route alone, hence a budget of its own
    per token (or address), of the same size as the routes'."""
    if not is_api_request(request) or request.url_rule is not None:
        return
    g.api_stray = True
    key = _rate_key()
    for limit in parse_many(_rate_limit()):
        if not limiter.limiter.hit(limit, "api-stray", key):
            abort(429)


def _record_stray_call(response):
    return _record_call(response) if g.get("api_stray") else response


def document() -> str:
    """The OpenAPI document as docs/openapi.json holds it (`flask api spec` writes it)."""
    return json.dumps(api.spec.to_dict(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def blueprint(name: str, url: str, description: str) -> Blueprint:
    bp = Blueprint(f"api_{name}", __name__, url_prefix=PREFIX + url, description=description)
    bp.before_request(_authenticate)
    bp.after_request(_record_call)
    # Flask looks for a handler by status code in every scope before it looks by class: the
    # codes the pages have handlers for must be named here too (survey/errors.py).
    for code in (*MESSAGES, HTTPException):
        bp.register_error_handler(code, json_error)
    csrf.exempt(bp)
    per_token(bp)
    return bp


def init_app(app: Flask) -> None:
    from survey.api import (
        actions,
        assignments,
        campaigns,
        checklists,
        escalation,
        registers,
        results,
    )

    app.config.setdefault("API_TITLE", TITLE)
    app.config.setdefault("API_VERSION", VERSION)
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    # The document at /api/v1/openapi.json; no browsable UI (it would load scripts from a CDN).
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api.init_app(
        app,
        spec_kwargs={
            "info": {
                "description": "tenken（情報セキュリティ点検）の REST API。"
                "個人用アクセストークンを Authorization: Bearer で送ってください。"
            },
        },
    )
    # Ids in paths: what survey.malformed.IdConverter takes (larger ones are a recorded 404).
    api.register_converter(
        malformed.IdConverter,
        lambda _converter: {"type": "integer", "minimum": 1, "maximum": malformed.DB_INT_MAX},
    )
    api.spec.components.security_scheme(
        "token", {"type": "http", "scheme": "bearer", "description": "個人用アクセストークン"}
    )
    api.spec.options["security"] = [{"token": []}]
    app.before_request(_stray_call)
    app.after_request(_record_stray_call)
    for module in (checklists, campaigns, assignments, results, registers, actions, escalation):
        api.register_blueprint(module.bp)


__all__ = ["api", "document", "blueprint", "init_app", "is_api_request", "needs", "token_user"]

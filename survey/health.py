"""/healthz, for the load balancer in front of several nodes (docs/deployment.md): 200 while
this node can serve, 503 naming the check that failed (survey.services.health).

Public like the login page, and lighter: the session is neither read nor written (no cookie is
set, no user loaded, nothing recorded in the audit trail) and the sign-in limits do not count
it, so that a probe every few seconds costs one SELECT 1 (and a PING to Redis).
"""

from flask import Blueprint, jsonify

from survey.extensions import limiter
from survey.services import health

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@limiter.exempt
def healthz():
    passed = health.report()
    checks = {name: "ok" if ok else "failed" for name, ok in passed.items()}
    if all(passed.values()):
        return jsonify(status="ok", checks=checks)
    return jsonify(status="unavailable", checks=checks), 503

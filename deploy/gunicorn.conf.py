"""gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Sync workers: every request is short (a page, a save) and holds one database connection while it
runs. One worker more than there are cores: a save spends part of its time waiting for
PostgreSQL (ten round trips and the commit's WAL flush), and the extra worker uses the core
meanwhile (measured: docs/performance.md). nginx in front (deploy/nginx.conf) buffers slow
clients and keeps the browsers' connections alive, which is why keep-alive is not the workers'
job. Each value can be changed by an environment variable
(docs/deployment.md); `make loadtest` serves with this very file.
"""

import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1))
worker_class = "sync"
# A request that takes this long is stuck (the slowest page, the Excel summary of a prefecture,
# takes about 30 s: docs/performance.md); the master kills and replaces the worker.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
# A worker is replaced after this many requests, so that a slow leak cannot grow for weeks.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10
# The workers load the app themselves: no database connection is opened in the master and
# shared by forked children.
preload_app = False
# Only nginx on this host may say which scheme and client address a request came from.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The request's duration in microseconds (%(D)s) last, for the "what to watch" of the guide.
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s "%(a)s" %(D)s'
proc_name = "tenken"
# gunicorn ≥ 27 opens a control socket in the home directory; nothing here uses it.
control_socket_disable = True


def on_starting(server):
    """Before any worker starts: tell the app how many processes will serve it, however the
    number was given (GUNICORN_WORKERS, -w, GUNICORN_CMD_ARGS), and check its settings once
    here, so that what production refuses (config.py: a missing secret, sign-in limits counted
    in each worker's memory) stops gunicorn with the reason instead of failing every worker."""
    os.environ["SURVEY_WORKERS"] = str(server.cfg.workers)
    import config  # the app's directory is on the path once gunicorn has changed into it

    config.load()


def post_worker_init(worker):
    """The app is loaded: its modules, mappers and templates live as long as the worker. Moved
    out of the garbage collector's reach, they are no longer walked by every full collection,
    which otherwise paused a request for a few hundred milliseconds now and then
    (docs/performance.md)."""
    gc.freeze()

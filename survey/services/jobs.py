"""Long exports made off the web workers: a click creates a job (or finds the identical one
already under way), a worker makes the file, the job's page shows how far it has got and then
offers the file, to the one who asked for it only.

With SURVEY_JOB_QUEUE_URL set, jobs go to RQ on that Redis and `flask jobs worker` runs them
(deploy/tenken-worker.service): a web node restarted meanwhile loses nothing, and no web worker
is held while a 100,000-respondent workbook is written. Without it (a developer's `make run`),
the same function runs in a thread of the web process.

The export_job row, not the queue, is the record: what the page shows comes from the database,
so every node shows the same thing, and the file is a stored_file (survey.services.files) that
any node serves. A job whose worker vanished (killed, its node restarted) stops refreshing its
heartbeat, or is in RQ's failed registry: `refresh` marks it failed, and its page offers a retry.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from reports import tables
from survey.extensions import db
from survey.models import ExportJob, JobStatus, StoredFile, User
from survey.models.types import utcnow
from survey.services import files, job_kinds

log = logging.getLogger(__name__)

QUEUE_NAME = "tenken-exports"
# A second click within this time after a job finished gets the same file rather than another
# job: a double click, or a reload of the page that made it.
REUSE = timedelta(seconds=60)
# How long RQ keeps its own record of a job that it saw fail; ours is in the database.
FAILURE_TTL = 7 * 24 * 3600
THREAD_PREFIX = "export-job-"  # the threads of jobs run in the web process (no queue)


def identity(owner_id: int, kind: str, params: dict) -> str:
    text = json.dumps([owner_id, kind, params], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- asking for a file -------------------------------------------------------------------------


def submit(owner: User, kind: str, params: dict) -> tuple[ExportJob, bool]:
    """The job making `kind` with `params` for `owner`: the identical one under way or just
    finished if there is one, else a new one, committed and handed to the queue (or a thread).
    Returns (job, whether it is new)."""
    if kind not in job_kinds.KINDS:
        raise KeyError(kind)
    key = identity(owner.id, kind, params)
    found = _reusable(owner.id, key)
    if found is not None:
        return found, False
    job = ExportJob(owner_id=owner.id, kind=kind, params=params, identity=key, active_key=key)
    db.session.add(job)
    try:
        db.session.commit()
    except IntegrityError:  # the other click of a double click got there first
        db.session.rollback()
        found = _reusable(owner.id, key)
        if found is None:
            raise
        return found, False
    _start(job)
    return job, True


def _reusable(owner_id: int, key: str) -> ExportJob | None:
    recent = utcnow() - REUSE
    job = db.session.scalar(
        sa.select(ExportJob)
        .where(
            ExportJob.owner_id == owner_id,
            ExportJob.identity == key,
            sa.or_(
                ExportJob.status.in_(JobStatus.PENDING),
                sa.and_(ExportJob.status == JobStatus.DONE, ExportJob.finished_at >= recent),
            ),
        )
        .order_by(ExportJob.id.desc())
        .limit(1)
    )
    if job is not None and refresh(job).status == JobStatus.FAILED:
        return None  # its worker is gone: start afresh
    return job


def retry(job: ExportJob) -> ExportJob:
    """A new job making what a failed one was to make."""
    again, _new = submit(db.session.get(User, job.owner_id), job.kind, job.params)
    return again


def _start(job: ExportJob) -> None:
    app = current_app._get_current_object()
    url = app.config["JOB_QUEUE_URL"]
    if not url:
        name = f"{THREAD_PREFIX}{job.id}"
        threading.Thread(target=_run_in_thread, args=(app, job.id), name=name, daemon=True).start()
        return
    try:
        queued = _queue(url).enqueue(
            "survey.services.jobs.run_queued",
            job.id,
            job_timeout=app.config["JOB_TIMEOUT_MINUTES"] * 60,
            failure_ttl=FAILURE_TTL,
            result_ttl=0,
        )
    except Exception:  # Redis down or unreachable: said on the job's page, retried from there
        log.exception("export job %s: could not be queued", job.id)
        _finish(job.id, JobStatus.FAILED, message=_unqueued())
        db.session.refresh(job)
        return
    job.queue_ref = queued.id
    db.session.commit()


def queue(url: str, timeout: float | None):
    """The RQ queue on `url`. The web side gives up on Redis after `timeout` seconds; a worker
    (None) waits on it as long as it must, blocked on the queue between jobs."""
    from redis import Redis
    from rq import Queue

    connection = Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    return Queue(QUEUE_NAME, connection=connection)


def _queue(url: str):
    """The web side's queue, one per app (its Redis connections pooled across requests)."""
    found = current_app.extensions.get("job_queue")
    if found is None:
        found = queue(url, current_app.config["SERVICE_TIMEOUT_SECONDS"])
        current_app.extensions["job_queue"] = found
    return found


def _run_in_thread(app: Flask, job_id: int) -> None:
    with app.app_context():
        run(job_id)


def run_queued(job_id: int) -> None:
    """RQ's entry point, in the work horse that `flask jobs worker` forks with the app's
    context: the connections of the worker's pool belong to the parent, so the horse opens its
    own."""
    db.engine.dispose(close=False)
    run(job_id)


# --- making the file ---------------------------------------------------------------------------


def run(job_id: int) -> None:
    """Make the job's file, if the job is still waiting: a job is run once, whoever else is
    handed it (RQ's retry of an abandoned job, a second worker)."""
    if not _claim(job_id):
        return
    job = db.session.get(ExportJob, job_id)
    name, kind = job.kind, job_kinds.KINDS[job.kind]
    beat = _Heartbeat(db.engine, job_id, current_app.config["JOB_STALE_SECONDS"] / 4)
    beat.start()
    try:
        with force_locale("ja"), tables.snapshot(db.engine) as conn:
            params = {**job.params, "requested_at": _aware(job.created_at).isoformat()}
            made = kind.make(conn, params, _progress(db.engine, job_id))
        with made.handle:
            made.handle.seek(0)
            stored = files.store(made.handle)
        job = db.session.get(ExportJob, job_id)
        job.file_id, job.filename, job.fallback = stored.id, made.filename, made.fallback
        job.mimetype = made.mimetype
        db.session.flush()
        _finish(job_id, JobStatus.DONE)
    except job_kinds.JobRefused as refused:
        db.session.rollback()
        _finish(job_id, JobStatus.FAILED, message=str(refused))
    except Exception:
        # The traceback goes to the log; its owner is told that it failed and may retry.
        log.exception("export job %s (%s) failed", job_id, name)
        db.session.rollback()
        _finish(job_id, JobStatus.FAILED, message=_failed())
    finally:
        beat.stop()


def _claim(job_id: int) -> bool:
    now = utcnow()
    taken = db.session.execute(
        sa.update(ExportJob)
        .where(ExportJob.id == job_id, ExportJob.status == JobStatus.QUEUED)
        .values(status=JobStatus.RUNNING, started_at=now, heartbeat_at=now)
    ).rowcount
    db.session.commit()
    return taken == 1


def _finish(job_id: int, status: str, message: str | None = None, *, pending=False) -> None:
    """Record the job's end. `pending`: only if it has not ended meanwhile (a page that found
    it abandoned must not overwrite the file its worker has just stored)."""
    stmt = sa.update(ExportJob).where(ExportJob.id == job_id)
    if pending:
        stmt = stmt.where(ExportJob.status.in_(JobStatus.PENDING))
    db.session.execute(
        stmt.values(
            status=status,
            message=message,
            progress=100 if status == JobStatus.DONE else ExportJob.progress,
            active_key=None,
            finished_at=utcnow(),
        )
    )
    db.session.commit()


def _progress(engine: sa.Engine, job_id: int) -> Callable[[int, int], None]:
    """The kind's progress callback, `(done, total)`: written at once in a transaction of its
    own (the file is made in a snapshot that must not see it), only when the percentage moves."""
    shown = [-1]

    def report(done: int, total: int) -> None:
        percent = min(99, int(100 * done / total)) if total else 0
        if percent == shown[0]:
            return
        shown[0] = percent
        with engine.begin() as conn:
            conn.execute(
                sa.update(ExportJob)
                .where(ExportJob.id == job_id)
                .values(progress=percent, heartbeat_at=utcnow())
            )

    return report


class _Heartbeat:
    """Refreshes the job's heartbeat every `seconds` while the file is made: one sheet of a
    large workbook can take longer than the staleness limit without a progress step."""

    def __init__(self, engine: sa.Engine, job_id: int, seconds: float):
        self.engine, self.job_id, self.seconds = engine, job_id, seconds
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()

    def _beat(self) -> None:
        while not self.stopped.wait(self.seconds):
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        sa.update(ExportJob)
                        .where(ExportJob.id == self.job_id)
                        .values(heartbeat_at=utcnow())
                    )
            except sa.exc.DBAPIError:  # the database away for a moment: the next beat tries again
                log.warning("export job %s: heartbeat not written", self.job_id)


def _failed() -> str:
    with force_locale("ja"):
        return _("ファイルを作成できませんでした。時間をおいてもう一度お試しください。")


def _unqueued() -> str:
    with force_locale("ja"):
        return _("処理の受付に失敗しました。時間をおいてもう一度お試しください。")


def _abandoned() -> str:
    with force_locale("ja"):
        return _("ファイルの作成が途中で止まりました（処理していたサーバーが停止しました）。")


# --- what a page shows -------------------------------------------------------------------------


def refresh(job: ExportJob, now: datetime | None = None) -> ExportJob:
    """The job as it really stands: one under way whose worker is gone is failed (committed)."""
    if job.status not in JobStatus.PENDING:
        return job
    if _abandoned_job(job, now or utcnow()):
        _finish(job.id, JobStatus.FAILED, message=_abandoned(), pending=True)
        db.session.refresh(job)
    return job


def _abandoned_job(job: ExportJob, now: datetime) -> bool:
    stale = timedelta(seconds=current_app.config["JOB_STALE_SECONDS"])
    if job.queue_ref is not None and _lost_in_queue(job):
        return True
    if job.status == JobStatus.RUNNING:
        return _aware(job.heartbeat_at or job.started_at) < now - stale
    # Handed to a thread of the web process, which starts it at once, or not yet to the queue:
    # either way, unless that process died in between. A job in RQ's queue waits its turn.
    return job.queue_ref is None and _aware(job.created_at) < now - stale


def _lost_in_queue(job: ExportJob) -> bool:
    """Whether RQ has given the job up (its work horse died, it timed out) or forgotten it
    (Redis restarted without its data). Redis out of reach: no verdict, the job waits."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job
    from rq.job import JobStatus as QueuedStatus

    url = current_app.config["JOB_QUEUE_URL"]
    if not url:
        return False  # the queue has since been configured away: the heartbeat tells
    try:
        queued = Job.fetch(job.queue_ref, connection=_queue(url).connection)
        status = queued.get_status(refresh=False)
    except NoSuchJobError:
        return True
    except Exception:
        log.warning("export job %s: the queue did not answer", job.id)
        return False
    return status in (QueuedStatus.FAILED, QueuedStatus.STOPPED, QueuedStatus.CANCELED)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored as UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- the file, and its end ---------------------------------------------------------------------


def file_of(job: ExportJob) -> StoredFile | None:
    if job.status != JobStatus.DONE or job.file_id is None:
        return None
    return db.session.get(StoredFile, job.file_id)


def purge(now: datetime | None = None) -> int:
    """Delete the jobs finished longer than SURVEY_JOB_RETENTION_HOURS ago and their files,
    and those that never finished (their worker long gone, nobody looking); how many. Safe on
    every node at any time."""
    config = current_app.config
    before = (now or utcnow()) - timedelta(hours=config["JOB_RETENTION_HOURS"])
    never = before - timedelta(minutes=config["JOB_TIMEOUT_MINUTES"])
    old = db.session.execute(
        sa.select(ExportJob.id, ExportJob.file_id).where(
            sa.or_(
                ExportJob.finished_at < before,
                sa.and_(ExportJob.finished_at.is_(None), ExportJob.created_at < never),
            )
        )
    ).all()
    files.delete(file_id for _id, file_id in old if file_id is not None)
    db.session.execute(sa.delete(ExportJob).where(ExportJob.id.in_([i for i, _f in old])))
    db.session.commit()
    return len(old)

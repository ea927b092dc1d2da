"""The job's page, its file and a retry: to its owner only (access.job_or_404)."""

from __future__ import annotations

from flask import abort, redirect, render_template, url_for
from flask_login import current_user

from survey import access
from survey.downloads import send_stored
from survey.jobs import bp
from survey.models import ExportJob, JobStatus
from survey.services import job_kinds, jobs, trail


def _own(job_id: int) -> ExportJob:
    return jobs.refresh(access.job_or_404(job_id, current_user))


def to_page(job: ExportJob):
    """Where a click on an export goes: the job's page (303, so a reload does not ask again)."""
    return redirect(url_for("jobs.show", job_id=job.id), code=303)


@bp.route("/<int:job_id>")
@access.guard()
def show(job_id: int):
    job = _own(job_id)
    return render_template(
        "jobs/show.html",
        job=job,
        title=job_kinds.KINDS[job.kind].title,
        pending=job.status in JobStatus.PENDING,
        statuses=JobStatus,
    )


@bp.route("/<int:job_id>/file")
@access.guard()
def file(job_id: int):
    job = _own(job_id)
    stored = jobs.file_of(job)
    if stored is None:
        abort(404)  # not made yet, failed, or purged
    trail.record(**job_kinds.KINDS[job.kind].recorded(job.params), commit=True)
    response = send_stored(stored, job.filename, job.mimetype, fallback=job.fallback)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:job_id>/retry", methods=["POST"])
@access.guard()
def retry(job_id: int):
    job = _own(job_id)
    if job.status != JobStatus.FAILED:
        return to_page(job)
    return to_page(jobs.retry(job))

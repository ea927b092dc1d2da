"""An export job's page in a real browser: job-progress.js follows the job (progress, then the
download link) without reloading the page."""

from __future__ import annotations

from playwright.sync_api import expect

from survey.extensions import db
from survey.models import ExportJob, JobStatus
from survey.models.types import utcnow
from tests.helpers import stored_file, user


def _update(job_id: int, **values) -> None:
    job = db.session.get(ExportJob, job_id)
    for name, value in values.items():
        setattr(job, name, value)
    job.heartbeat_at = utcnow()
    db.session.commit()


def test_the_page_follows_the_job_to_its_file_without_a_reload(signed_in, live_server):
    page = signed_in("manager")
    job = ExportJob(
        owner_id=user("manager").id,
        kind="results_summary",
        params={"code": "2026-annual-assets", "scope": "区民部"},
        identity="browser",
        active_key="browser",
        status=JobStatus.RUNNING,
        progress=30,
        started_at=utcnow(),
        heartbeat_at=utcnow(),
    )
    db.session.add(job)
    db.session.commit()
    page.goto(f"{live_server}/jobs/{job.id}")
    expect(page.get_by_text("ファイルを作成しています（30%）。")).to_be_visible()
    expect(page.get_by_role("link", name="最新の状態を表示")).to_be_visible()
    page.evaluate("window.notReloaded = true")  # a reload would forget it

    _update(job.id, progress=60)
    expect(page.get_by_text("ファイルを作成しています（60%）。")).to_be_visible()
    _update(
        job.id,
        status=JobStatus.DONE,
        progress=100,
        active_key=None,
        file_id=stored_file(b"PK\x03\x04 not really a workbook").id,
        filename="集計.xlsx",
        fallback="summary.xlsx",
        mimetype="application/octet-stream",
        finished_at=utcnow(),
    )
    expect(page.get_by_role("link", name="ダウンロード")).to_be_visible()
    expect(page.get_by_role("link", name="最新の状態を表示")).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True

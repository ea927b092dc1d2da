"""Long exports as jobs (survey.services.jobs): the click, the job's page, the file, for its
owner only; the in-process path here, the RQ path in tests/test_export_jobs_rq.py."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta

import openpyxl
import pytest
import sqlalchemy as sa

from reports import excel, tables
from survey import clock
from survey.extensions import db
from survey.models import AuditEntry, ExportJob, JobStatus, StoredFile, User
from survey.models.types import utcnow
from survey.services import job_kinds, jobs
from tests.helpers import job_download, login

CAMPAIGN = "/results/2017-emergency-assets"


def _job(page: str) -> ExportJob:
    db.session.expire_all()
    return db.session.get(ExportJob, int(page.rsplit("/", 1)[1]))


def _members(xlsx: bytes) -> dict[str, bytes]:
    """Each part of the workbook, byte for byte (the zip's own time stamps of the long sheets
    are when they were written, even between two direct exports)."""
    with zipfile.ZipFile(io.BytesIO(xlsx)) as book:
        return {name: book.read(name) for name in book.namelist()}


def test_the_summary_made_by_a_job_is_the_direct_export_part_for_part(demo_app):
    client = login(demo_app, "admin")
    page, file = job_download(client, CAMPAIGN + "/export.xlsx")
    assert file.status_code == 200
    job = _job(page)
    assert job.status == JobStatus.DONE and job.progress == 100
    direct = io.BytesIO()
    with tables.snapshot(db.engine) as conn:
        report = tables.build(
            conn,
            "2017-emergency-assets",
            generated_by=job.params["generated_by"],
            scope="全体",
            now=job.created_at,
            tz=clock.zone(),
        )
        excel.write_report(report, direct)
    assert _members(file.data) == _members(direct.getvalue())
    assert file.headers["Cache-Control"] == "no-store"
    assert "filename*=UTF-8''" in file.headers["Content-Disposition"]
    assert "2017-emergency-assets_summary.xlsx" in file.headers["Content-Disposition"]
    recorded = db.session.scalar(
        sa.select(AuditEntry)
        .where(AuditEntry.action == "export.results")
        .order_by(AuditEntry.id.desc())
    )
    assert recorded.summary == "2017-emergency-assets xlsx 全体"


def test_the_page_shows_progress_and_reloads_without_scripts_too(demo_app):
    client = login(demo_app, "admin")
    admin = _user("admin")
    job = ExportJob(
        owner_id=admin.id, kind="results_summary", params={}, identity="x", active_key="x"
    )
    job.status, job.progress = JobStatus.RUNNING, 42
    job.started_at = job.heartbeat_at = utcnow()
    db.session.add(job)
    db.session.commit()
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "ファイルを作成しています（42%）" in page
    assert 'value="42"' in page and "data-job-pending" in page
    assert f'href="/jobs/{job.id}"' in page  # the reload link, for a browser without scripts
    assert "js/job-progress.js" in page
    assert client.get(f"/jobs/{job.id}/file").status_code == 404  # not made yet


def _user(username: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == username))


def test_the_file_is_its_owners_only_even_for_another_admin(demo_app):
    page, file = job_download(login(demo_app, "manager"), CAMPAIGN + "/export.xlsx")
    assert file.status_code == 200
    job = _job(page)
    for username in ("admin", "auditor", "respondent", "m-d13"):
        other = login(demo_app, username)
        for path in (page, page + "/file"):
            response = other.get(path)
            response.close()
            assert response.status_code == 404, (username, path)
        assert other.post(page + "/retry").status_code == 404
    refused = db.session.scalars(
        sa.select(AuditEntry).where(
            AuditEntry.action == "access.denied", AuditEntry.object_type == "export_job"
        )
    ).all()
    assert refused and all(e.object_id == str(job.id) for e in refused)


def test_a_manager_gets_the_summary_of_their_subtree(demo_app):
    page, file = job_download(login(demo_app, "manager"), CAMPAIGN + "/export.xlsx")
    job = _job(page)
    assert job.params["units"] and job.params["scope"] != "全体"
    book = openpyxl.load_workbook(io.BytesIO(file.data))
    assert job.params["scope"] in book["集計"]["A4"].value


def test_a_double_click_makes_one_job(demo_app):
    client = login(demo_app, "admin")
    first = client.post(CAMPAIGN + "/export.xlsx")
    second = client.post(CAMPAIGN + "/export.xlsx")
    assert first.headers["Location"] == second.headers["Location"]
    job_download(client, CAMPAIGN + "/export.xlsx")  # just finished: the same job again
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ExportJob)) == 1
    # Another scope is another file.
    other = client.post(CAMPAIGN + "/export.xlsx?dept=" + str(_unit_id("区民部")))
    assert other.headers["Location"] != first.headers["Location"]


def _unit_id(name: str) -> int:
    from survey.models import OrgUnit

    return db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.name == name))


def test_identical_jobs_cannot_both_be_under_way(demo_app):
    """The database refuses a second job of the same identity while one is under way: two
    clicks in the same instant, each past the look-up, still make one."""
    admin = _user("admin")
    db.session.add(ExportJob(owner_id=admin.id, kind="k", params={}, identity="i", active_key="i"))
    db.session.commit()
    db.session.add(ExportJob(owner_id=admin.id, kind="k", params={}, identity="i", active_key="i"))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_failing_job_says_so_in_japanese_without_a_traceback_and_offers_a_retry(
    demo_app, monkeypatch, caplog
):
    def broken(conn, params, progress):
        raise RuntimeError("internal detail: /srv/tenken secret path")

    real = job_kinds.KINDS["results_summary"]
    monkeypatch.setitem(
        job_kinds.KINDS, "results_summary", job_kinds.Kind(real.title, broken, real.recorded)
    )
    client = login(demo_app, "admin")
    page = client.post(CAMPAIGN + "/export.xlsx").headers["Location"]
    shown = _finished(client, page)
    assert "ファイルを作成できませんでした。時間をおいてもう一度お試しください。" in shown
    assert "Traceback" not in shown and "secret path" not in shown
    assert "もう一度作成する" in shown
    assert "secret path" in caplog.text  # the operator's log has it
    job = _job(page)
    assert job.status == JobStatus.FAILED and job.active_key is None and job.file_id is None
    # A failed job is not reused: the next click, or the retry, starts another.
    monkeypatch.setitem(job_kinds.KINDS, "results_summary", real)
    again = client.post(page + "/retry")
    assert again.status_code == 303 and again.headers["Location"] != page
    assert "/file" in _finished(client, again.headers["Location"])


def _finished(client, page: str) -> str:
    import time

    deadline = time.monotonic() + 120
    while "data-job-pending" in (shown := client.get(page).get_data(as_text=True)):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return shown


def test_a_job_whose_worker_died_is_shown_failed(demo_app):
    """A running job whose heartbeat stopped (its worker killed, its node restarted)."""
    client = login(demo_app, "admin")
    admin = _user("admin")
    stale = utcnow() - timedelta(seconds=demo_app.config["JOB_STALE_SECONDS"] + 1)
    job = ExportJob(
        owner_id=admin.id,
        kind="results_summary",
        params={"code": "2017-emergency-assets"},
        identity="y",
        active_key="y",
        status=JobStatus.RUNNING,
        started_at=stale,
        heartbeat_at=stale,
        created_at=stale,
    )
    db.session.add(job)
    db.session.commit()
    shown = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "ファイルの作成が途中で止まりました" in shown and "もう一度作成する" in shown
    assert _job(f"/jobs/{job.id}").status == JobStatus.FAILED


def test_purge_deletes_old_jobs_and_their_files(demo_app):
    client = login(demo_app, "admin")
    page, file = job_download(client, CAMPAIGN + "/export.xlsx")
    job = _job(page)
    file_id = job.file_id
    hours = demo_app.config["JOB_RETENTION_HOURS"]
    assert jobs.purge(now=job.finished_at + timedelta(hours=hours) - timedelta(minutes=1)) == 0
    assert db.session.get(StoredFile, file_id) is not None
    result = demo_app.test_cli_runner().invoke(args=["jobs", "purge"])
    assert result.exit_code == 0 and "0 件" in result.output
    assert jobs.purge(now=_aware(job.finished_at) + timedelta(hours=hours, minutes=1)) == 1
    db.session.expire_all()
    assert db.session.get(StoredFile, file_id) is None
    assert db.session.get(ExportJob, job.id) is None
    response = client.get(page + "/file")
    assert response.status_code == 404


def test_purge_deletes_a_job_that_never_finished_once_it_is_long_past(demo_app):
    admin = _user("admin")
    job = ExportJob(owner_id=admin.id, kind="audit_log", params={}, identity="q", active_key="q")
    db.session.add(job)
    db.session.commit()
    created = _aware(job.created_at)
    config = demo_app.config
    limit = timedelta(hours=config["JOB_RETENTION_HOURS"], minutes=config["JOB_TIMEOUT_MINUTES"])
    assert jobs.purge(now=created + limit - timedelta(minutes=1)) == 0
    assert jobs.purge(now=created + limit + timedelta(minutes=1)) == 1


def _aware(moment):
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_the_audit_log_export_runs_as_a_job(demo_app):
    client = login(demo_app, "auditor")
    page, file = job_download(client, "/audit/export.xlsx", "?user=admin")
    assert file.status_code == 200
    assert re.search(r"audit-log_\d{8}-\d{6}\.xlsx", file.headers["Content-Disposition"])
    book = openpyxl.load_workbook(io.BytesIO(file.data))
    users = {row[3] for row in book["audit"].iter_rows(min_row=2, values_only=True)}
    assert users == {"admin"}
    conditions = dict(book["conditions"].iter_rows(values_only=True))
    assert conditions["出力者"] == "auditor" and conditions["user"] == "admin"
    assert _job(page).params["filters"] == {"user": "admin"}


def test_the_worker_command_needs_a_queue(demo_app):
    result = demo_app.test_cli_runner().invoke(args=["jobs", "worker", "--burst"])
    assert result.exit_code == 1 and "SURVEY_JOB_QUEUE_URL" in result.output


def test_a_scope_lost_before_the_job_ran_is_refused_with_its_reason(demo_app):
    """The 未提出一覧 of a unit the owner no longer oversees when the worker gets to it."""
    manager = _user("manager")
    job = ExportJob(
        owner_id=manager.id,
        kind="progress_pending",
        params={
            "code": "2026-annual-assets",
            "owner_id": manager.id,
            "dept": _unit_id("総務部"),  # not under 区民部
            "scope": "総務部",
            "filename": "x.xlsx",
            "generated_by": "x",
        },
        identity="z",
        active_key="z",
    )
    db.session.add(job)
    db.session.commit()
    jobs.run(job.id)
    job = _job(f"/jobs/{job.id}")
    assert job.status == JobStatus.FAILED and job.file_id is None
    assert job.message == "この範囲の一覧は作成できなくなりました。画面から開き直してください。"

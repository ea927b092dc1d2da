"""Export jobs on RQ (SURVEY_JOB_QUEUE_URL) against a real Redis (tests/redis_server.py): the
web app queues, a worker makes the file, and any app instance, a restarted one too, serves it.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import zipfile

import pytest
from rq import Worker

from reports import excel, tables
from survey import clock
from survey.extensions import db
from survey.models import ExportJob, JobStatus
from survey.services import job_kinds, jobs
from tests.conftest import make_app
from tests.helpers import login

CAMPAIGN = "/results/2017-emergency-assets"


@pytest.fixture
def nodes(demo_app, tmp_path):
    """nodes(name, queue_url): another app instance on the demo database, a web node or the
    same node restarted; their connections are closed after the test."""
    made = []

    def node(name: str, queue_url: str):
        app = make_app(
            demo_app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / name, JOB_QUEUE_URL=queue_url
        )
        made.append(app)
        return app

    yield node
    for app in made:
        with app.app_context():
            db.engine.dispose()


def _job(job_id: int) -> ExportJob:
    db.session.expire_all()
    return db.session.get(ExportJob, job_id)


def _click(client) -> tuple[str, int]:
    response = client.post(CAMPAIGN + "/export.xlsx")
    assert response.status_code == 303
    page = response.headers["Location"]
    return page, int(page.rsplit("/", 1)[1])


def _members(xlsx: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(xlsx)) as book:
        return {name: book.read(name) for name in book.namelist()}


def test_a_job_queued_by_one_node_is_made_by_the_worker_and_served_after_a_restart(
    demo_app, tmp_path, nodes, redis_server
):
    before = nodes("before", redis_server.url)
    client = login(before, "admin")
    page, job_id = _click(client)
    assert _click(client)[0] == page  # a double click: one job
    job = _job(job_id)
    assert job.status == JobStatus.QUEUED and job.queue_ref
    shown = client.get(page).get_data(as_text=True)
    assert "順番を待っています" in shown and "data-job-pending" in shown
    del before, client  # the web node goes away; the job waits in Redis and in the database

    env = {
        **os.environ,
        "PYTHONPATH": os.getcwd(),
        "SURVEY_ENV": "development",
        "SURVEY_DATABASE_URL": demo_app.config["SQLALCHEMY_DATABASE_URI"],
        "SURVEY_INSTANCE_PATH": str(tmp_path / "worker"),
        "SURVEY_JOB_QUEUE_URL": redis_server.url,
    }
    flask = os.path.join(os.path.dirname(sys.executable), "flask")
    done = subprocess.run(
        [flask, "--app", "wsgi", "jobs", "worker", "--burst"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    job = _job(job_id)
    assert job.status == JobStatus.DONE and job.progress == 100 and job.active_key is None

    after = nodes("after", redis_server.url)
    client = login(after, "admin")
    shown = client.get(page).get_data(as_text=True)
    assert "ファイルができました" in shown and "data-job-pending" not in shown
    file = client.get(page + "/file")
    assert file.status_code == 200
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
    assert login(after, "manager").get(page + "/file").status_code == 404


def _dies(conn, params, progress):
    os._exit(9)  # the work horse killed mid-job: no exception, no clean-up, nothing recorded


def test_a_job_whose_work_horse_died_is_shown_failed_with_a_retry(nodes, redis_server, monkeypatch):
    web = nodes("web", redis_server.url)
    client = login(web, "admin")
    real = job_kinds.KINDS["results_summary"]
    monkeypatch.setitem(
        job_kinds.KINDS, "results_summary", job_kinds.Kind(real.title, _dies, real.recorded)
    )
    page, job_id = _click(client)
    queue = jobs.queue(redis_server.url, timeout=None)
    # The worker forks its work horse from this process (and its app context), as
    # `flask jobs worker` does from its own.
    with web.app_context():
        Worker([queue], connection=queue.connection).work(burst=True, with_scheduler=False)
    assert _job(job_id).status == JobStatus.RUNNING  # as the horse left it: claimed, never done
    shown = client.get(page).get_data(as_text=True)
    assert "ファイルの作成が途中で止まりました" in shown and "もう一度作成する" in shown
    assert "Traceback" not in shown
    assert _job(job_id).status == JobStatus.FAILED

    monkeypatch.setitem(job_kinds.KINDS, "results_summary", real)
    again = client.post(page + "/retry").headers["Location"]
    with web.app_context():
        Worker([queue], connection=queue.connection).work(burst=True, with_scheduler=False)
    assert "ファイルができました" in client.get(again).get_data(as_text=True)


def test_a_queue_out_of_reach_fails_the_click_with_a_message_not_a_500(nodes):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    web = nodes("web", f"redis://127.0.0.1:{port}/0")
    client = login(web, "admin")
    page, job_id = _click(client)
    shown = client.get(page).get_data(as_text=True)
    assert "処理の受付に失敗しました" in shown and "もう一度作成する" in shown
    assert _job(job_id).status == JobStatus.FAILED


def test_healthz_reports_the_job_queue(nodes, redis_server):
    web = nodes("web", redis_server.url)
    probe = web.test_client()
    assert probe.get("/healthz").get_json()["checks"] == {"database": "ok", "job_queue": "ok"}
    redis_server.stop()
    response = probe.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["job_queue"] == "failed"

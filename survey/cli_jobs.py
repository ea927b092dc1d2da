"""`flask jobs ...`: the worker that makes export files (survey.services.jobs), and the purge of
the files kept past their time."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from survey.services import jobs

jobs_cli = AppGroup("jobs", help="Run export jobs (RQ worker) and delete old job files.")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def jobs_worker(burst):
    """Make the files of the export jobs queued on SURVEY_JOB_QUEUE_URL, one at a time, each
    in a forked process (deploy/tenken-worker.service)."""
    url = current_app.config["JOB_QUEUE_URL"]
    if not url:
        click.echo(
            "SURVEY_JOB_QUEUE_URL が設定されていません。ジョブはウェブのプロセスの中で実行されます "
            "(SURVEY_JOB_QUEUE_URL is not set: jobs run inside the web process).",
            err=True,
        )
        sys.exit(1)
    from rq import Worker

    queue = jobs.queue(url, timeout=None)
    # Under this command's app context, which the work horses inherit when they fork.
    worker = Worker([queue], connection=queue.connection)
    worker.work(burst=burst, with_scheduler=False)


@jobs_cli.command("purge")
def jobs_purge():
    """Delete the jobs finished more than SURVEY_JOB_RETENTION_HOURS ago, with their files."""
    count = jobs.purge()
    click.echo(f"{count} 件のジョブとそのファイルを削除しました。")

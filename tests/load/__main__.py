"""`python -m tests.load`: the floor, the throughput and the journey with faults, per database;
then, on PostgreSQL, the journey again on two nodes behind nginx with one of them killed.

Everything listens on 127.0.0.1 only and every phase is bounded in time. Figures are printed as
tables and as `LOAD backend name value` lines; the exit status is 1 if an acknowledged answer was
lost, changed or duplicated, if a 5xx came outside a fault window, or if the two-node phase's
check failed (tests/load/twonode.py). Whether the throughput targets were met is printed last;
it depends on the machine's speed, so it does not set the exit status.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.load import check, fixture, report, scenario, twonode
from tests.load.client import Run
from tests.load.cpu import Meter
from tests.load.pgcluster import Cluster
from tests.load.server import Gunicorn
from tests.redis_server import RedisServer

MARGIN = 3.0  # seconds added after a fault's recovery to its window


def _faults(server: Gunicorn, cluster: Cluster | None, duration: float, windows: list):
    async def strike(start: float) -> None:
        await asyncio.sleep(max(0.0, start + duration * 0.3 - time.monotonic()))
        count = len(server.workers())
        began = time.monotonic()
        victim = server.kill_worker()
        await asyncio.to_thread(server.wait_replaced, victim, count)
        windows.append((f"worker {victim} SIGKILL", began, time.monotonic() + MARGIN))
        if cluster is None:
            return
        await asyncio.sleep(max(0.0, start + duration * 0.6 - time.monotonic()))
        began = time.monotonic()
        await asyncio.to_thread(cluster.restart)
        windows.append(("PostgreSQL restart", began, time.monotonic() + MARGIN))

    return strike


def _share(cpu_before: float, span: tuple[float, float]) -> float:
    """The client's CPU time over the span's wall time: 1.0 is one of the cores."""
    return (time.process_time() - cpu_before) / (span[1] - span[0])


def _rss_mb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return 0


def _profile(server: Gunicorn, args, backend: str):
    """--profile: py-spy samples one worker through the throughput phases (a flame graph)."""
    if not args.profile:
        return None
    output = Path(args.profile) / f"profile-{backend}.svg"
    print(f"  profiling worker {min(server.workers())} into {output}", flush=True)
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "--nonblocking",
            "--pid",
            str(min(server.workers())),
            "--duration",
            str(int(args.phase * 2 + 30)),
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
    )


def _environment(url: str, work: Path, limits: str) -> dict[str, str]:
    env = {
        "SURVEY_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "SURVEY_DATABASE_URL": url,
        # The workers share the sign-in limits, as production requires of several (config.py).
        "SURVEY_RATELIMIT_STORAGE_URI": limits,
        # Mail stays queued: a load run on loopback has no mail server to talk to.
        "MAIL_BACKEND": "outbox",
        "SURVEY_INSTANCE_PATH": str(work / "instance"),
        "GUNICORN_ACCESS_LOG": str(work / "access.log"),
        "GUNICORN_ERROR_LOG": str(work / "error.log"),
    }
    os.environ.update(env)  # the fixture and the check build the app in this process
    os.environ.pop("FLASK_DEBUG", None)
    return {**os.environ, **env}


def run_backend(backend: str, args, missed: list[str]) -> bool:
    work = Path(tempfile.mkdtemp(prefix=f"tenken-load-{backend}-"))
    cluster = None
    redis = RedisServer()
    passed = False
    try:
        if backend == "postgresql":
            cluster = Cluster(args.pg_port)
            cluster.start()
            url = cluster.url
        else:
            url = f"sqlite:///{work / 'tenken.db'}"
        redis.start()
        env = _environment(url, work, redis.url)
        print(f"\n== {backend}: {url}  (logs in {work})", flush=True)
        began = time.monotonic()
        plan = fixture.prepare(url)
        print(
            f"  prepared: demo + {len(plan.assignments)} questionnaires of {len(plan.items)} "
            f"items in {time.monotonic() - began:.0f} s",
            flush=True,
        )
        passed = _measure(backend, args, env, plan, url, cluster, missed)
        if backend in args.two_node.split(","):
            passed = _two_nodes(backend, args, env, work, cluster) and passed
        if not passed:
            print(f"  logs kept for the failure: {work}", flush=True)
        return passed
    finally:
        redis.stop()
        if cluster:
            cluster.remove()
        if not args.keep and passed:
            shutil.rmtree(work, ignore_errors=True)


def _two_nodes(backend: str, args, env: dict, work: Path, cluster: Cluster | None) -> bool:
    """The two-node phase on a database of its own, prepared as the first one was: the same
    questionnaires, none answered yet, in the same inboxes."""
    url = cluster.create("tenken_nodes") if cluster else f"sqlite:///{work / 'nodes.db'}"
    env = {**env, "SURVEY_DATABASE_URL": url}
    began = time.monotonic()
    plan = fixture.prepare(url, evidence=True)
    print(f"\n== {backend}, two nodes: {url}  (prepared in {time.monotonic() - began:.0f} s)")
    return twonode.run(backend, args, env, plan, url, work, plan.assignments[-args.respondents :])


def _meter(server: Gunicorn, cluster: Cluster | None) -> Meter:
    return Meter(server.process.pid, cluster.postmaster_pid() if cluster else None)


def _print_cpu(backend: str, title: str, endpoint: str, cpu: dict, figures: dict) -> None:
    """CPU milliseconds per answered request, by process: `LOAD … <phase>.<page>.cpu_ms.<part>`."""
    before, after = cpu[endpoint]
    shares = Meter.per_request(before, after, figures[endpoint]["answered"])
    print("    CPU ms per request: " + ", ".join(f"{k} {v:.1f}" for k, v in shares.items()))
    for part, value in shares.items():
        report.emit(backend, f"{title}.{endpoint}.cpu_ms.{part}", round(value, 2))


def _check_target(backend: str, args, endpoint: str, figures: dict, missed: list[str]) -> None:
    if args.connections != report.TARGET_CONNECTIONS:
        return
    found = report.shortfalls(endpoint, figures)
    rps, p99 = report.TARGETS[endpoint]
    print(f"    target ≥ {rps} req/s, p99 < {p99} ms: " + ("; ".join(found) or "met"))
    report.emit(backend, f"throughput.{endpoint}.target_met", int(not found))
    missed += [f"{backend} {shortfall}" for shortfall in found]


def _measure(backend, args, env, plan, url, cluster, missed: list[str]) -> bool:
    run, cpu = Run(), {}
    server = Gunicorn("tests.load.floor:app", env, "/")
    try:
        started = time.process_time()
        span = asyncio.run(
            scenario.floor(
                server.base, args.phase, args.connections, run, cpu, _meter(server, cluster)
            )
        )
        report.emit(backend, "floor.client_cpu_share", f"{_share(started, span):.2f}")
    finally:
        server.stop()
    floor = report.summary(run.records, span)
    report.print_phase(backend, "floor", floor)
    _print_cpu(backend, "floor", "floor", cpu, floor)

    acks = []
    server = Gunicorn("wsgi:app", env, "/auth/login")
    try:
        run, cpu = Run(), {}
        profiler = _profile(server, args, backend)
        started, began = time.process_time(), time.monotonic()
        spans = asyncio.run(
            scenario.throughput(
                server.base, plan, args.phase, args.connections, run, cpu, _meter(server, cluster)
            )
        )
        report.emit(
            backend,
            "throughput.client_cpu_share",
            f"{_share(started, (began, time.monotonic())):.2f}",
        )
        if profiler:
            profiler.wait()
        acks += run.acks
        report.emit(backend, "worker_rss_mb", max(_rss_mb(pid) for pid in server.workers()))
        for endpoint, span in spans.items():
            figures = report.summary([r for r in run.records if r.endpoint == endpoint], span)
            report.print_phase(backend, "throughput", figures)
            _print_cpu(backend, "throughput", endpoint, cpu, figures)
            ratio = figures[endpoint]["rps"] / floor["floor"]["rps"]
            report.emit(backend, f"throughput.{endpoint}.floor_fraction", f"{ratio:.3f}")
            _check_target(backend, args, endpoint, figures[endpoint], missed)
        run, windows = Run(), []
        span = asyncio.run(
            scenario.journey(
                server.base,
                plan,
                plan.assignments[-args.respondents :],  # not those of the throughput phase
                args.duration,
                (args.think_min, args.think_max),
                run,
                _faults(server, cluster, args.duration, windows),
            )
        )
        acks += run.acks
    finally:
        server.stop()
    errors = report.print_journey(backend, "journey", run.records, span, windows)
    result = check.verify(url, plan, acks)
    for key, value in result.items():
        report.emit(backend, f"check.{key}", value)
    return errors["outside"] == 0 and check.clean(result)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.load", description=__doc__)
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--duration", type=float, default=60, help="journey seconds")
    parser.add_argument("--phase", type=float, default=15, help="seconds per throughput phase")
    parser.add_argument("--respondents", type=int, default=200)
    parser.add_argument("--connections", type=int, default=64)
    # Seconds between two autosaves of one person (a few answers changed each time): 200
    # people then send about 25 saves a second, an hour's campaign opening squeezed into one.
    parser.add_argument("--think-min", type=float, default=5.0)
    parser.add_argument("--think-max", type=float, default=11.0)
    parser.add_argument("--pg-port", type=int, default=5499)
    parser.add_argument(
        "--two-node",
        default="postgresql",
        metavar="BACKENDS",
        help="backends that also run the two-node phase behind nginx ('' for none)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the logs and SQLite file")
    parser.add_argument("--profile", metavar="DIR", help="write py-spy flame graphs there")
    args = parser.parse_args(argv)
    # A stop from outside (timeout, Ctrl-C) still stops gunicorn and removes the cluster.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started, missed = time.monotonic(), []
    passed = [run_backend(backend, args, missed) for backend in args.backends.split(",")]
    print(f"\nLOAD total_seconds {time.monotonic() - started:.0f}", flush=True)
    if args.connections == report.TARGET_CONNECTIONS:
        print("LOAD TARGETS " + (f"NOT MET: {'; '.join(missed)}" if missed else "MET"))
    if not all(passed):
        print("LOAD FAILED: answers lost, changed or duplicated, or errors outside the faults")
        return 1
    print("LOAD PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())

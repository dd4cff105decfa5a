"""The app against a PostgreSQL of its own that the test stops, crashes and starts again.

A throw-away cluster (initdb in a temporary directory, a free port) so the shared server is never touched; the
app runs in gunicorn (one worker, persistent connections: DATABASE_CONN_MAX_AGE=60 and CONN_HEALTH_CHECKS) as in
production. While the database is away the API answers 503 problem+json with Retry-After, /readyz says not
ready and /healthz stays 200; when it is back the same worker process serves again. A crash in the middle of a
multi-row write (creating a plan; holding a meeting) leaves nothing half-written.
"""

from __future__ import annotations

import http.client
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

from tests.reliability.conftest import (
    PYTHON,
    ROOT,
    app_env,
    count,
    free_port,
    pg_bindir,
    port_open,
    stop_process,
    wait_for,
)

pytestmark = pytest.mark.postgres
PROBLEM = "application/problem+json"


class Cluster:
    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="samverkan-pgfault-"))
        self.as_postgres = os.geteuid() == 0  # initdb refuses root
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/samverkan"

    def _run(self, *args, check=True, timeout=60):
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=timeout)

    def init(self):
        self._run("initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres", "--no-sync",
                  "-E", "UTF8", "--no-locale")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "samverkan")

    def start(self):
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "log"), "-w", "-t", "60",
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                        "-c full_page_writes=off -c synchronous_commit=off", "start")

    def stop(self, mode: str):
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", mode, "-w", "-t", "60", "stop")
        count(f"db_{'crashes' if mode == 'immediate' else 'stops'}")

    def sql(self, query: str) -> str:
        return self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "samverkan",
                         "-Atc", query).stdout.strip()

    def destroy(self):
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


def _needs_cluster() -> Path:
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("needs the PostgreSQL server binaries (initdb, pg_ctl) to run a throw-away cluster")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root needs a 'postgres' user for initdb")
        if not shutil.which("runuser"):
            pytest.skip("running as root needs runuser to start initdb as 'postgres'")
    return bindir


class App:
    def __init__(self, cluster: Cluster, workdir: Path):
        self.port = free_port()
        self.env = app_env(DATABASE_URL=cluster.url, DATABASE_CONN_MAX_AGE="60", DATABASE_CONNECT_TIMEOUT="2")
        gunicorn = Path(PYTHON).parent / "gunicorn"
        if gunicorn.exists():
            cmd = [str(gunicorn), "config.wsgi:application", "--bind", f"127.0.0.1:{self.port}", "--workers", "1",
                   "--threads", "4", "--timeout", "120", "--graceful-timeout", "2"]
        else:  # one thread, so connections persist across requests as in a gunicorn worker
            cmd = [PYTHON, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload", "--nothreading"]
        self.log = open(workdir / "app.log", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        wait_for(lambda: port_open(self.port) or self.proc.poll() is not None, 60, "the app to listen")
        assert self.proc.poll() is None, (workdir / "app.log").read_text()
        self.token = ""

    def worker_pids(self) -> set[int]:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True)
        return {int(p) for p in out.stdout.split()} or {self.proc.pid}

    def request(self, method: str, path: str, body=None, headers=None, timeout=60):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        all_headers = {"Authorization": f"Token {self.token}", "Accept": "application/json", **(headers or {})}
        payload = None
        if body is not None:
            payload = json.dumps(body)
            all_headers["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=all_headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def stop(self):
        stop_process(self.proc)
        self.log.close()


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    bindir = _needs_cluster()
    cluster = Cluster(bindir)
    app = None
    workdir = tmp_path_factory.mktemp("dbfaults")
    try:
        cluster.init()
        env = app_env(DATABASE_URL=cluster.url)
        seeded = subprocess.run([PYTHON, "-m", "tests.reliability.seed", "app", "--migrate"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=300)
        assert seeded.returncode == 0, seeded.stdout + seeded.stderr
        ids = json.loads(next(line for line in seeded.stdout.splitlines() if line.startswith("SEED "))[5:])
        app = App(cluster, workdir)
        app.token = ids["token"]
        yield cluster, app, ids
    finally:
        if app is not None:
            app.stop()
        cluster.destroy()


def _assert_unavailable(status, headers, data):
    assert status == 503, data
    assert headers["content-type"].startswith(PROBLEM), headers
    assert int(headers["retry-after"]) > 0
    body = json.loads(data)
    assert body["status"] == 503 and body["type"] == "urn:samverkan:problem:unavailable", body
    for secret in (b"Traceback", b"psycopg", b"connection to server", b"127.0.0.1"):
        assert secret not in data


def test_database_restart_503_with_retry_after_then_recovery_without_restart(faulty):
    cluster, app, ids = faulty
    pids = app.worker_pids()
    assert app.request("GET", "/api/v1/units/")[0] == 200
    assert app.request("GET", "/readyz")[0] == 200
    assert app.request("GET", "/healthz")[0] == 200

    cluster.stop("fast")
    _assert_unavailable(*app.request("GET", "/api/v1/units/"))
    _assert_unavailable(*app.request("GET", f"/api/v1/sips/{ids['sip']}/"))
    _assert_unavailable(*app.request("PATCH", f"/api/v1/sips/{ids['sip']}/", {"reason": "Ändrat under avbrott"},
                                     {"If-Match": '"1"'}))
    status, headers, data = app.request("GET", "/readyz")
    assert status == 503 and headers["content-type"].startswith(PROBLEM) and headers["retry-after"], data
    assert json.loads(data)["checks"]["database"] is False
    status, _headers, data = app.request("GET", "/healthz")
    assert status == 200, data  # alive: the orchestrator should not restart it, only take it out of rotation

    cluster.start()
    # The same worker process, its old connections dead: every request after the restart is served.
    for _ in range(6):  # more requests than the worker has threads, so each thread's connection is renewed
        status, _headers, data = app.request("GET", "/api/v1/units/")
        assert status == 200, data
    assert app.request("GET", "/readyz")[0] == 200
    status, _headers, data = app.request("GET", f"/api/v1/sips/{ids['sip']}/")
    assert status == 200 and json.loads(data)["reason"] == "", data  # the write during the outage did not land
    assert app.worker_pids() == pids and app.proc.poll() is None
    count("db_outage_requests_503", 4)


def _crash_during(cluster: Cluster, app: App, table: str, method: str, path: str, body, headers=None):
    """Run the request while `table` is locked against writes, crash PostgreSQL once the request's transaction
    waits on that lock (after its earlier rows are written), start it again; return the request's answer."""
    locker = subprocess.Popen(
        ["psql", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "-d", "samverkan", "-Aqt"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        start_new_session=True)
    try:
        locker.stdin.write(f"BEGIN; LOCK TABLE {table} IN EXCLUSIVE MODE; SELECT 'locked';\n")
        locker.stdin.flush()
        assert locker.stdout.readline().strip() == "locked"
        answer: list = []
        thread = threading.Thread(target=lambda: answer.append(app.request(method, path, body, headers)))
        thread.start()
        waiting = wait_for(lambda: cluster.sql(
            "SELECT left(query, 60) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = 'samverkan'"),
            60, f"the request to wait on {table}")
        assert table in waiting, waiting
        cluster.stop("immediate")  # a crash: no clean shutdown, recovery on start
    finally:
        stop_process(locker)
    thread.join(timeout=60)
    cluster.start()
    assert answer, "the request got no answer"
    return answer[0]


def test_crash_in_the_middle_of_a_write_leaves_no_half_written_plan(faulty):
    cluster, app, ids = faulty
    sips_before = int(cluster.sql("SELECT count(*) FROM sip_sip"))
    new_plan = {"person": ids["other"], "initiating_unit": ids["unit_a"], "units": [ids["unit_b"]],
                "reason": "Behov av samordning"}
    # Creating a plan writes the plan, its units, the access grants, then the history: crash at the history.
    _assert_unavailable(*_crash_during(cluster, app, "sip_sipchange", "POST", "/api/v1/sips/", new_plan))
    assert int(cluster.sql("SELECT count(*) FROM sip_sip")) == sips_before
    assert cluster.sql(f"SELECT count(*) FROM sip_sip WHERE person_id = {ids['other']}") == "0"
    assert cluster.sql("SELECT count(*) FROM sip_sipunit WHERE sip_id NOT IN (SELECT id FROM sip_sip)") == "0"
    assert cluster.sql("SELECT count(*) FROM guardian_userobjectpermission WHERE object_pk::bigint NOT IN "
                       "(SELECT id FROM sip_sip) AND content_type_id = (SELECT id FROM django_content_type "
                       "WHERE app_label = 'sip' AND model = 'sip')") in ("0", "")
    status, _headers, data = app.request("POST", "/api/v1/sips/", new_plan)  # the client's retry
    assert status == 201, data
    created = json.loads(data)["id"]
    assert cluster.sql(f"SELECT count(*) FROM sip_sipunit WHERE sip_id = {created}") == "2"

    # Holding a meeting writes attendance, the meeting, then the history: crash at the history.
    attendance = {"attendance": [{"participant": p, "attended": True} for p in ids["participants"]],
                  "minutes": "Alla var med."}
    hold = f"/api/v1/sips/{ids['sip']}/meetings/{ids['meeting']}/hold/"
    _assert_unavailable(*_crash_during(cluster, app, "sip_sipchange", "POST", hold, attendance,
                                       {"If-Match": '"1"'}))
    assert cluster.sql(f"SELECT status, version, minutes FROM sip_meeting WHERE id = {ids['meeting']}") == "planned|1|"
    assert cluster.sql(f"SELECT count(*) FROM sip_participant WHERE meeting_id = {ids['meeting']} AND attended") == "0"
    assert cluster.sql(f"SELECT count(*) FROM delaktighet_invitation WHERE meeting_id = {ids['meeting']}") == "0"
    status, _headers, data = app.request("POST", hold, attendance, {"If-Match": '"1"'})  # the client's retry
    assert status == 200 and json.loads(data)["status"] == "held", data
    assert cluster.sql(f"SELECT count(*) FROM sip_participant WHERE meeting_id = {ids['meeting']} AND attended") == "3"
    count("db_midwrite_crashes_nothing_half_written", 2)

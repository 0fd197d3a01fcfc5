"""The production topology, run: nginx (TLS) → two gunicorn processes → one database, Redis, an RQ worker;
on PostgreSQL the database is a primary with a streaming standby that the cockpit reads.

One session crosses processes (signed in through nginx, continued on the other gunicorn,
signed out there and refused when replayed on the first); nginx spreads requests over both;
login throttling holds across both processes (Redis); a matcher run posted through nginx is
done by the RQ worker; with replay paused on the standby, a ledger entry is at once in the
producer's figures (primary) and not in the cockpit's (standby) until the standby catches up.
Needs nginx and Redis (CI installs nginx); skipped without them.
"""
from __future__ import annotations

import json
import shutil
import sys
import time
from datetime import date
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis

from tests.conftest import is_postgres

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy"))
import replication  # noqa: E402
import serving  # noqa: E402
from topology import Topology, insecure_tls  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/14"  # a database of its own, flushed before the run


def _redis_up() -> bool:
    try:
        return redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping()
    except redis.RedisError:
        return False


pytestmark = pytest.mark.skipif(not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()) or not _redis_up(),
                                reason="needs nginx (apt-get install nginx-light) and Redis on 127.0.0.1:6379")


@pytest.fixture(scope="module")
def topology(tmp_path_factory):
    if is_postgres() and not replication.available():
        pytest.skip("needs PostgreSQL's server binaries and the postgres account to run a primary and a standby")
    redis.Redis.from_url(REDIS_URL).flushdb()
    workdir = tmp_path_factory.mktemp("topology")
    # Admins must enrol a TOTP second factor in production; this test starts a run with a password alone.
    with Topology(workdir, None, REDIS_URL, {"WASTEEX_TOTP_REQUIRED_ROLES": ""}, replica=is_postgres()) as running:
        yield running


def fetch(url: str, *, cookie: str = "", data: bytes | None = None, headers: dict | None = None):
    """(status, headers, body) without following redirects; https through nginx accepts its self-signed certificate."""
    request = urllib.request.Request(url, data=data, headers={**(headers or {}), **({"Cookie": cookie} if cookie else {})})
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=insecure_tls()), _NoRedirect)
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def api(url: str, body: dict | None = None, token: str = "") -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    status, _headers, text_body = fetch(url, data=json.dumps(body).encode() if body is not None else None,
                                        headers=headers)
    return status, json.loads(text_body) if text_body else {}


def test_a_session_signed_in_through_one_process_continues_on_the_other(topology):
    jar = serving.sign_in(topology.url, "producer@demo.wasteex.cn", context=insecure_tls())
    cookie = serving.cookie_header(jar)
    assert "__Host-session=" in cookie  # production cookies, over TLS
    served = {fetch(f"{topology.url}/transfers", cookie=cookie)[1]["X-Upstream"] for _ in range(6)}
    assert len(served) == 2  # nginx used both gunicorn processes for the one session
    first, other = topology.backends
    for backend in (first, other):
        status, _headers, body = fetch(f"{backend}/transfers", cookie=cookie)
        assert status == 200 and "大路坪电厂环保主管" in body
    status, _headers, page = fetch(f"{other}/account/", cookie=cookie)
    form = f"csrf_token={serving.csrf_token(page)}".encode()
    status, _headers, _body = fetch(f"{other}/account/logout", cookie=cookie, data=form)
    assert status in (302, 303)
    status, headers, _body = fetch(f"{first}/transfers", cookie=cookie)  # the old cookie, replayed elsewhere
    assert status in (302, 401) and "/account/login" in headers.get("Location", "/account/login")


def test_no_response_names_the_server_software_or_its_version(topology):
    """gunicorn's own header is replaced by deploy/gunicorn.conf.py; nginx runs with server_tokens off."""
    for base, expected in ((topology.backends[0], "WasteEx"), (topology.url, "nginx")):
        for path, status in (("/", 200), ("/static/css/app.css", 200), ("/no/such/page", 404), ("/api/v1/me", 401)):
            got, headers, _body = fetch(f"{base}{path}")
            assert got == status, (base, path)
            assert headers["Server"] == expected, (base, path, headers["Server"])


def test_a_matcher_run_posted_through_nginx_is_done_by_the_rq_worker(topology):
    status, token = api(f"{topology.url}/api/v1/auth/token",
                        {"email": "admin@demo.wasteex.cn", "password": serving.DEMO_PASSWORD})
    assert status == 201, token
    status, run = api(f"{topology.url}/api/v1/matching/runs", {}, token["token"])
    assert status == 202 and run["status"] in ("queued", "running", "done"), run
    deadline = time.monotonic() + 120
    while run["status"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(1)
        status, run = api(f"{topology.backends[1]}/api/v1/matching/runs/{run['id']}", token=token["token"])
    assert run["status"] == "done" and run["optimal"] is True and run["proposals"], run


def _token(topology, email: str) -> str:
    status, body = api(f"{topology.url}/api/v1/auth/token", {"email": email, "password": serving.DEMO_PASSWORD})
    assert status == 201, body
    return body["token"]


@pytest.mark.skipif(not is_postgres(), reason="the read replica is a PostgreSQL streaming standby")
def test_the_cockpit_reads_the_streaming_standby_and_everything_else_the_primary(topology):
    pair, year = topology.pair, date.today().year
    regulator, producer = _token(topology, "regulator@demo.wasteex.cn"), _token(topology, "producer@demo.wasteex.cn")

    def cockpit_generated() -> float:
        status, body = api(f"{topology.url}/api/v1/regulator/overview?year={year}", token=regulator)
        assert status == 200, body
        return next(row for row in body["years"] if row["year"] == year)["generated_t"]

    def own_generated() -> float:
        status, body = api(f"{topology.url}/api/v1/stats/utilisation?year={year}", token=producer)
        assert status == 200, body
        return body["generated_t"]

    pair.wait_for_replay()
    city, own = cockpit_generated(), own_generated()
    enterprise = api(f"{topology.url}/api/v1/me", token=producer)[1]["memberships"][0]["enterprise_id"]
    stream = api(f"{topology.url}/api/v1/enterprises/{enterprise}/streams", token=producer)[1][0]["id"]
    pair.pause_replay()
    try:
        status, entry = api(f"{topology.url}/api/v1/enterprises/{enterprise}/ledger", {
            "kind": "generation", "period_date": date.today().isoformat(), "tonnes": "1000", "handler": "李班长",
            "stream_id": stream, "facility_code": "CS-01"}, producer)
        assert status == 201, entry
        assert own_generated() == own + 1000  # the producer reads the primary
        assert cockpit_generated() == city  # the cockpit reads the standby, which lags on purpose
    finally:
        pair.resume_replay()
    pair.wait_for_replay()
    assert cockpit_generated() == city + 1000


def test_login_throttling_holds_across_processes(topology):
    """Last: it blocks 127.0.0.1 for a while, as it should."""
    first, other = topology.backends
    body = {"email": "utiliser@demo.wasteex.cn", "password": "not-the-password-at-all"}
    statuses = [api(f"{(first, other)[n % 2]}/api/v1/auth/token", body)[0] for n in range(5)]
    assert statuses == [401] * 5
    right = body | {"password": serving.DEMO_PASSWORD}
    assert api(f"{first}/api/v1/auth/token", right)[0] == 429
    assert api(f"{other}/api/v1/auth/token", right)[0] == 429

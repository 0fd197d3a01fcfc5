"""The production topology on one machine, for trying it and for its integration test.

    nginx (TLS, 127.0.0.1)  ──round robin──►  gunicorn A ─┐
                                          └──►  gunicorn B ─┼─► PostgreSQL (or a SQLite file)
                                   RQ worker (match runs) ─┘     Redis: throttling, jobs

Both gunicorn processes and the worker share nothing but the database and Redis: sessions
are signed cookies checked against a per-user token in the database, login throttling
counts in Redis, matcher runs are RQ jobs. Usage::

    .venv/bin/python deploy/topology.py [--database-url URL | --replica] [--redis-url URL]

prepares a fresh database with the demo data (PostgreSQL: the given database is emptied),
starts everything, prints the addresses and serves until Ctrl-C. With ``--replica`` the database
is instead a PostgreSQL primary of its own with a streaming standby (``replication.py``), and the
gunicorn processes read the cockpit from the standby (``WASTEEX_REPLICA_DATABASE_URL``)::

    nginx ─► gunicorn A, B ─► primary ──WAL──► standby ◄── the cockpit's SELECTs
"""
from __future__ import annotations

import argparse
import os
import secrets
import shutil
import ssl
import string
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import serving  # noqa: E402
from replication import StreamingPair  # noqa: E402

TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


class Topology:
    """Everything started on ``__enter__`` and stopped on ``__exit__``; ``url`` is nginx's address."""

    def __init__(self, workdir: Path, database_url: str | None = None, redis_url: str = DEFAULT_REDIS,
                 extra_env: dict[str, str] | None = None, replica: bool = False):
        """``replica``: ignore ``database_url`` and run a PostgreSQL primary with a streaming standby."""
        self.workdir = workdir
        self.database_url = database_url or f"sqlite:///{workdir / 'wasteex.sqlite'}"
        self.redis_url = redis_url
        self.extra_env = dict(extra_env or {})
        self.pair = StreamingPair() if replica else None
        self.processes: list[subprocess.Popen] = []
        self.backends: list[str] = []
        self.url = ""

    def env(self, name: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WASTEEX_")}
        env.update(WASTEEX_ENV=name, WASTEEX_INSTANCE_PATH=str(self.workdir),
                   WASTEEX_DATABASE_URL=self.database_url, WASTEEX_REDIS_URL=self.redis_url,
                   WASTEEX_RATELIMIT_STORAGE_URI=self.redis_url, WASTEEX_SECRET_KEY=self.secret,
                   WASTEEX_TRUSTED_PROXIES="1", **self.extra_env)
        return env

    def __enter__(self) -> Topology:
        self.secret = secrets.token_hex(32)
        if self.pair is not None:
            self.pair.__enter__()
            self.database_url = self.pair.primary_url
            self.extra_env["WASTEEX_REPLICA_DATABASE_URL"] = self.pair.standby_url
        try:
            log = self.workdir / "setup.log"
            for command in (["db", "upgrade"], ["seed-demo"]):  # seeding is refused in production
                serving.flask(self.env("development"), log, *command)
            production = self.env("production")
            for name in ("a", "b"):
                port = serving.free_port()
                self.processes.append(serving.start_gunicorn(production, self.workdir, port, name=f"gunicorn-{name}"))
                self.backends.append(f"http://127.0.0.1:{port}")
            self.processes.append(serving.spawn([str(serving.APP_BIN / "rq"), "worker", "--url", self.redis_url,
                                                 "wasteex"], production, self.workdir / "rq-worker.log"))
            self.url = self._start_nginx()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _start_nginx(self) -> str:
        _self_signed(self.workdir)
        port = serving.free_port()
        upstreams = "\n".join(f"        server {b.removeprefix('http://')};" for b in self.backends)
        conf = self.workdir / "nginx.conf"
        conf.write_text(string.Template(TEMPLATE.read_text()).safe_substitute(
            workdir=self.workdir, port=port, upstreams=upstreams))
        nginx = serving.spawn([shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(self.workdir), "-c", str(conf),
                               "-g", "daemon off;"], {}, self.workdir / "nginx.out")
        self.processes.append(nginx)
        url = f"https://127.0.0.1:{port}"
        serving.wait_until_up(f"{url}/healthz", nginx, self.workdir / "nginx-error.log", context=insecure_tls())
        return url

    def __exit__(self, *exc) -> None:
        for process in reversed(self.processes):
            serving.stop(process)
        self.processes.clear()
        if self.pair is not None:
            self.pair.__exit__()


def _self_signed(workdir: Path) -> None:
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(workdir / "tls.key"), "-out", str(workdir / "tls.crt")],
                   check=True, capture_output=True)


def insecure_tls() -> ssl.SSLContext:
    """The loopback certificate is self-signed: accept it (never outside this script and its test)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (emptied first); default: a SQLite file")
    parser.add_argument("--redis-url", default=os.environ.get("WASTEEX_REDIS_URL", DEFAULT_REDIS))
    parser.add_argument("--replica", action="store_true",
                        help="a PostgreSQL primary and streaming standby of its own (instead of --database-url)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="wasteex-topology-"))
    if args.database_url and not args.replica:
        reset_postgres(args.database_url)
    with Topology(workdir, args.database_url, args.redis_url, replica=args.replica) as topology:
        print(f"nginx       {topology.url}  (self-signed certificate)")
        for backend in topology.backends:
            print(f"gunicorn    {backend}")
        if topology.pair is not None:
            print(f"primary     {topology.pair.primary_url}\nstandby     {topology.pair.standby_url}")
        print(f"logs        {workdir}\nCtrl-C stops everything.")
        try:
            topology.processes[-1].wait()
        except KeyboardInterrupt:
            pass


def reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


if __name__ == "__main__":
    main()

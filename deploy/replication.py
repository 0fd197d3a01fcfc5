"""A PostgreSQL primary and its streaming read replica, started from scratch for the topology.

    primary (127.0.0.1:P) ──WAL stream──► hot standby (127.0.0.1:S), read-only

Why a primary of its own rather than the machine's server: a standby needs the primary to accept
replication connections, which ``initdb`` allows on loopback but an installed server may not, and
changing that server's ``pg_hba.conf`` is not a script's business. Both servers live in one
temporary directory and are gone after ``__exit__``. PostgreSQL refuses to run as root, so when
this runs as root the servers run as the ``postgres`` account (the Debian packages create it).

The standby is made the way an operator would: ``pg_basebackup -R -X stream`` (a copy of the
primary plus ``standby.signal`` and its ``primary_conninfo``), then started; it replays the
primary's WAL continuously and answers SELECTs. ``pause_replay`` / ``resume_replay`` /
``wait_for_replay`` let a test see replication lag on purpose.
"""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

import serving

DATABASE = "wasteex"
SERVICE_ACCOUNT = "postgres"


def server_binaries() -> Path | None:
    """The newest installed PostgreSQL's bin directory (Debian: /usr/lib/postgresql/<major>/bin), if any."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def available() -> bool:
    """Whether this machine can start a pair: server binaries, and an account to run them as."""
    if server_binaries() is None:
        return False
    if os.geteuid() != 0:
        return True
    try:
        pwd.getpwnam(SERVICE_ACCOUNT)
    except KeyError:
        return False
    return True


class StreamingPair:
    """``primary_url`` / ``standby_url`` are SQLAlchemy URLs of database ``wasteex`` on each server."""

    def __init__(self) -> None:
        self.bin = server_binaries()
        self.root: Path | None = None  # the servers' directory, once entered
        self.ports: dict[str, int] = {}
        self.primary_url = self.standby_url = ""

    def __enter__(self) -> StreamingPair:
        if not available():
            raise RuntimeError("a primary and standby need PostgreSQL's server binaries (initdb, pg_ctl, "
                               f"pg_basebackup) and, as root, the {SERVICE_ACCOUNT!r} account to run them")
        # Not under pytest's private tmp: the postgres account must be able to reach the directory.
        self.root = Path(tempfile.mkdtemp(prefix="wasteex-pg-"))
        try:
            self._own(self.root)
            self._run("initdb", "-D", self._dir("primary"), "-U", "root", "-A", "trust", "--no-sync",
                      "-E", "UTF8", "--locale", "C.UTF-8")
            self._start("primary")
            with self._connect("primary", "postgres", autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{DATABASE}"')
            self._run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.ports["primary"]), "-U", "root",
                      "-D", self._dir("standby"), "-R", "-X", "stream", "-c", "fast", "--no-sync")
            self._start("standby")
        except BaseException:
            self.__exit__()
            raise
        self.primary_url = self._url("primary")
        self.standby_url = self._url("standby")
        return self

    def __exit__(self, *exc) -> None:
        if self.root is None:
            return
        for name in ("standby", "primary"):
            if (self.root / name / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", self._dir(name), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    # Replication, seen from a test ------------------------------------------------------------

    def pause_replay(self) -> None:
        """The standby keeps receiving WAL but stops applying it: it now lags on purpose."""
        with self._connect("standby", DATABASE) as conn:
            conn.execute("SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        with self._connect("standby", DATABASE) as conn:
            conn.execute("SELECT pg_wal_replay_resume()")

    def wait_for_replay(self, seconds: float = 30) -> None:
        """Until the standby has applied everything the primary had written when called."""
        with self._connect("primary", DATABASE) as conn:
            target = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        deadline = time.monotonic() + seconds
        with self._connect("standby", DATABASE, autocommit=True) as conn:
            while True:
                behind = conn.execute("SELECT pg_wal_lsn_diff(%s, pg_last_wal_replay_lsn()) > 0", (target,)).fetchone()[0]
                if not behind:
                    return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the standby has not replayed up to {target} in {seconds} s")
                time.sleep(0.1)

    # Plumbing -----------------------------------------------------------------------------------

    def _dir(self, name: str) -> str:
        return str(self.root / name)

    def _url(self, name: str) -> str:
        return f"postgresql+psycopg://root@127.0.0.1:{self.ports[name]}/{DATABASE}"

    def _connect(self, name: str, database: str, autocommit: bool = False) -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.ports[name], user="root", dbname=database,
                               autocommit=autocommit)

    def _start(self, name: str) -> None:
        """Start a server on a free loopback port, its socket in the pair's directory."""
        self.ports[name] = serving.free_port()
        options = f"-p {self.ports[name]} -k {self.root} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", self._dir(name), "-l", str(self.root / f"{name}.log"), "-o", options, "-w", "start")

    def _run(self, program: str, *args: str, check: bool = True) -> None:
        command = [str(self.bin / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVICE_ACCOUNT, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.root)
        if check and done.returncode != 0:
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")

    def _own(self, path: Path) -> None:
        if os.geteuid() == 0:
            account = pwd.getpwnam(SERVICE_ACCOUNT)
            os.chown(path, account.pw_uid, account.pw_gid)

"""Starting and stopping WasteEx's processes on loopback: gunicorn, nginx, an RQ worker.

Standard library only, so the security scanners' own venv can use it as well as the
topology script and its integration test. Every process gets its own session (process
group), so stopping it stops its children too (gunicorn's workers).
"""
from __future__ import annotations

import html.parser
import http.cookiejar
import os
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP_BIN = ROOT / ".venv" / "bin"
GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
DEMO_PASSWORD = "wasteex-demo-2025"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def flask(env: dict[str, str], log: Path, *command: str) -> None:
    """``flask --app wasteex <command>`` with ``env``, its output appended to ``log``."""
    with open(log, "a") as out:
        subprocess.run([str(APP_BIN / "flask"), "--app", "wasteex", *command], cwd=ROOT, env=env,
                       stdout=out, stderr=subprocess.STDOUT, check=True)


def spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=open(log, "w"),  # noqa: SIM115 - the child owns it
                            stderr=subprocess.STDOUT, start_new_session=True)


def start_gunicorn(env: dict[str, str], workdir: Path, port: int, *, workers: int = 2,
                   name: str = "gunicorn") -> subprocess.Popen:
    """gunicorn on 127.0.0.1:``port``, returned once /healthz answers."""
    server = spawn([str(APP_BIN / "gunicorn"), "--config", str(GUNICORN_CONFIG), "--workers", str(workers),
                    "--bind", f"127.0.0.1:{port}", "--error-logfile", str(workdir / f"{name}.log"),
                    "wasteex:create_app()"], env, workdir / f"{name}.out")
    wait_until_up(f"http://127.0.0.1:{port}/healthz", server, workdir / f"{name}.log")
    return server


def wait_until_up(url: str, process: subprocess.Popen, log: Path, seconds: int = 60, context=None) -> None:
    for _ in range(seconds * 2):
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {seconds} s; see {log}")


def stop(process: subprocess.Popen | None) -> None:
    """SIGTERM to the process group, SIGKILL after 20 s."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class _CsrfField(html.parser.HTMLParser):
    token: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name") == "csrf_token":
            self.token = attrs.get("value")


def csrf_token(page: str) -> str:
    parser = _CsrfField()
    parser.feed(page)
    return parser.token or ""


def sign_in(base: str, email: str, password: str = DEMO_PASSWORD, context=None) -> http.cookiejar.CookieJar:
    """Sign in through the login form at ``base``; the cookie jar of the signed-in session.
    ``context``: the TLS context for an https ``base``."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar),
                                         urllib.request.HTTPSHandler(context=context))
    with opener.open(base + "/account/login", timeout=30) as response:
        token = csrf_token(response.read().decode())
    form = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token})
    # Over https the CSRF check also wants a same-origin Referer, as a browser sends it.
    post = urllib.request.Request(base + "/account/login", data=form.encode(), headers={"Referer": base + "/account/login"})
    with opener.open(post, timeout=30) as response:
        if "/account/login" in response.url:
            raise RuntimeError(f"signing in as {email} failed")
    return jar


def cookie_header(jar: http.cookiejar.CookieJar) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in jar)

"""External scanners against WasteEx served by gunicorn on 127.0.0.1 with the demo data.

Run through ``make security`` (security/run), with the tool venv's Python; standard library
only. Steps: a fresh SQLite demo database in a temporary folder, gunicorn (2 workers) on a
free port, bearer tokens and session cookies for demo logins, then

- schemathesis against /api/v1/openapi.json, every check (schemathesis.toml, hooks);
- sqlmap --level 3 --risk 2 on every list/search endpoint with query parameters: the API's
  (found in the OpenAPI document) and the HTML list pages (with a session cookie);
- bandit -r wasteex -ll.

Prints a summary table and exits 1 on any finding or scanner error. gunicorn is stopped on
exit; the app's own log is kept as app.log beside the reports. Knobs (environment):
SECURITY_TOOLS (default "schemathesis,sqlmap,bandit"), SECURITY_ST_EXAMPLES (10),
SECURITY_SQLMAP_JOBS (2), SECURITY_SQLMAP_HTML=0 (API endpoints only: ~6 min instead of ~17),
SECURITY_SQLMAP_ALL_PARAMS=1 (every quality bound, not one pair per endpoint),
SECURITY_KEEP=1 (keep the temporary folder with every report; kept anyway on a finding).

sqlmap runs with --dbms SQLite (the database served here) and -p set to the query parameters:
the Authorization header and the session cookie are not injection targets.
"""
from __future__ import annotations

import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "deploy"))
import serving  # noqa: E402 - standard library only, shared with deploy/topology.py

APP_BIN = serving.APP_BIN
TOOL_BIN = Path(sys.executable).parent
PASSWORD = "wasteex-demo-2025"
LOGINS = {role: f"{role}@demo.wasteex.cn" for role in ("producer", "regulator", "admin")}
ST_EXAMPLES = int(os.environ.get("SECURITY_ST_EXAMPLES", "10"))
SQLMAP_JOBS = int(os.environ.get("SECURITY_SQLMAP_JOBS", "2"))
TOOLS = set(os.environ.get("SECURITY_TOOLS", "schemathesis,sqlmap,bandit").split(","))
SQLMAP_HTML = os.environ.get("SECURITY_SQLMAP_HTML", "1") == "1"
ALL_PARAMS = os.environ.get("SECURITY_SQLMAP_ALL_PARAMS") == "1"
SQLMAP_ARGS = ["--batch", "--level", "3", "--risk", "2", "--dbms", "SQLite", "--threads", "4",
               "--flush-session", "--disable-coloring"]



def log(message: str) -> None:
    print(f"[security] {message}", flush=True)


# The server -------------------------------------------------------------------------------

def app_env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WASTEEX_")}
    env.update(WASTEEX_ENV="development", WASTEEX_INSTANCE_PATH=str(workdir),
               WASTEEX_DATABASE_URL=f"sqlite:///{workdir / 'wasteex.sqlite'}",
               WASTEEX_SECRET_KEY=os.urandom(24).hex())
    return env


def make_database(env: dict[str, str], workdir: Path) -> None:
    for command in (["db", "upgrade"], ["seed-demo"]):
        serving.flask(env, workdir / "seed.log", *command)


# Credentials ------------------------------------------------------------------------------

def call(base: str, path: str, token: str | None = None, body: dict | None = None):
    headers = {"Accept": "application/json"}
    data = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def bearer_token(base: str, email: str) -> str:
    return call(base, "/api/v1/auth/token", body={"email": email, "password": PASSWORD})["token"]


def session_cookie(base: str, email: str) -> str:
    """Sign in through the login form; the ``Cookie`` header value of the signed-in session."""
    return serving.cookie_header(serving.sign_in(base, email, PASSWORD))


# Targets ----------------------------------------------------------------------------------

def sample_values(ctx: dict) -> dict[str, str]:
    """A valid value for each query parameter name, so the baseline request answers 200."""
    return {
        "q": "ash", "status": "", "kind": "", "division": "150622", "mine": "false", "page": "1",
        "per_page": "20", "year": "2025", "month": "6", "through_month": "6", "base": "jungar",
        "banner": "150622", "sw_code": "SW02", "sw": "SW02", "enterprise": ctx["credit_code"],
        "enterprise_id": str(ctx["enterprise_id"]), "near": str(ctx["site_id"]), "km": "300",
        "min_tonnes": "1", "stream": str(ctx["stream_id"]), "quality": "al2o3_pct",
        "quality_min": "1", "quality_max": "60", "period": "2025-06", "key": "jungar", "by": "enterprise",
    }


# API paths only read-all accounts may call: scanned with the regulator's token.
READ_ALL_PREFIXES = ("/api/v1/regulator", "/api/v1/anomalies", "/api/v1/planning", "/api/v1/quota")


def api_targets(base: str, ctx: dict) -> list[dict]:
    """Every GET operation of the OpenAPI document that takes query parameters."""
    spec = call(base, "/api/v1/openapi.json")
    samples = sample_values(ctx)
    ids = {"enterprise_id": ctx["enterprise_id"], "site_id": ctx["site_id"], "stream_id": ctx["stream_id"]}
    targets = []
    for path, item in spec["paths"].items():
        operation = item.get("get")
        params = [p for p in (operation or {}).get("parameters", []) if p.get("in") == "query"]
        if not params:
            continue
        names = re.findall(r"{(\w+)}", path)
        if any(n not in ids for n in names):
            targets.append({"kind": "api", "path": path, "role": "producer", "skip": f"no sample id for {names}"})
            continue
        query = {}
        for param in params:
            schema = param.get("schema", {})
            value = samples.get(param["name"])
            if value is None or (schema.get("enum") and value not in schema["enum"]):
                enum = [v for v in schema.get("enum", []) if v]
                value = str(schema.get("default") or (enum[0] if enum else schema.get("minimum", 1)))
            if param["name"].endswith(("_min", "_max")) and param["name"] not in samples:
                value = "0" if param["name"].endswith("_min") else "100"
            query[param["name"]] = value
        if "month" in query and "through_month" in query:  # one or the other (a 422 for both)
            targets.append({"kind": "api", "path": path.format(**ids), "role": "producer",
                            "query": {k: v for k, v in query.items() if k != "month"}})
            del query["through_month"]
        role = "regulator" if path.startswith(READ_ALL_PREFIXES) else "producer"
        targets.append({"kind": "api", "path": path.format(**ids), "query": query, "role": role})
    return targets


def html_targets(ctx: dict) -> list[dict]:
    e, quality = ctx["enterprise_id"], {f"{ctx['attribute']}_min": "0", f"{ctx['attribute']}_max": "100"}
    market = ["q", "sw", "base", "division", "status", "enterprise", "min_tonnes", "near", "km", "sort",
              "page", "quality", "quality_min", "quality_max"]
    pages = [
        ("producer", "/enterprises/", ["q", "status", "kind", "division", "mine", "sort", "page"],
         {"status": "verified", "kind": "producer", "mine": "1", "sort": "name"}),
        ("producer", "/market/offers", market, {"status": "open", "sort": "newest", "enterprise": str(e), **quality}),
        ("producer", "/market/demands", market, {"status": "open", "sort": "newest", "enterprise": str(e), **quality}),
        ("producer", "/market/map.json", ["kind", *market], {"kind": "offers", "status": "open", "enterprise": str(e),
                                                             **quality}),
        ("producer", f"/enterprises/{e}/ledger", ["year", "month", "kind", "stream", "sort", "page"],
         {"kind": "generation", "sort": "-seq"}),
        ("producer", f"/enterprises/{e}/inventory", ["year"], {}),
        ("regulator", "/ledger/", ["q", "base", "sort", "page"], {"sort": "name"}),
        ("admin", "/admin/users", ["q", "sort", "page"], {"q": "demo", "sort": "email"}),
    ]
    samples = sample_values(ctx)
    return [{"kind": "html", "role": role, "path": path,
             "query": {**{n: samples.get(n, "1") for n in names}, **overrides}}
            for role, path, names, overrides in pages]


def demo_context(base: str, token: str) -> dict:
    me = call(base, "/api/v1/me", token)
    enterprise_id = me["memberships"][0]["enterprise_id"]
    enterprise = call(base, f"/api/v1/enterprises/{enterprise_id}", token)
    site = call(base, f"/api/v1/enterprises/{enterprise_id}/sites", token)[0]
    stream = call(base, f"/api/v1/enterprises/{enterprise_id}/streams", token)[0]
    attribute = call(base, "/api/v1/catalog", token)["attributes"][0]["key"]
    return {"enterprise_id": enterprise_id, "credit_code": enterprise["credit_code"], "site_id": site["id"],
            "stream_id": stream["id"], "attribute": attribute}


# Scanners ---------------------------------------------------------------------------------

def run_schemathesis(base: str, token: str, label: str, workdir: Path, examples: int, *extra: str) -> dict:
    report_dir = workdir / f"schemathesis-{label}"
    command = [str(TOOL_BIN / "st"), "--config-file", str(ROOT / "security" / "schemathesis.toml"), "run",
               f"{base}/api/v1/openapi.json", "--checks", "all", "--header", f"Authorization: Bearer {token}",
               "--max-examples", str(examples), "--seed", "20251", "--workers", "2", "--no-color",
               "--report", "junit", "--report-dir", str(report_dir), *extra]
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    output = result.stdout + result.stderr
    (workdir / f"schemathesis-{label}.log").write_text(output)
    generated = re.search(r"(\d+) generated", output)
    failures = re.search(r"(\d+) unique failures?", output)
    errors = re.search(r"Errored: (\d+)", output)
    operations = re.search(r"Tested: (\d+)", output)
    found = int(failures.group(1)) if failures else 0
    if result.returncode and not found:
        found = -1  # failed without a failure count: an error (schema, connection, hooks)
    return {"tool": "schemathesis", "target": f"/api/v1/openapi.json as {label}",
            "detail": (f"{operations.group(1) if operations else '?'} operations, all checks, "
                       f"{generated.group(1) if generated else '?'} test cases"
                       f"{', ' + errors.group(1) + ' errored' if errors else ''}"),
            "findings": found, "seconds": time.monotonic() - started, "log": workdir / f"schemathesis-{label}.log"}


def other_quality_bound(name: str, attribute: str) -> bool:
    """Quality bounds (``<attribute>_min``/``_max``) are one loop over the catalog
    (market/forms.py, api/market.py): by default the first attribute's pair stands for them."""
    return name.endswith(("_min", "_max")) and not name.startswith((f"{attribute}_", "quality_"))


def run_sqlmap(base: str, target: dict, auth: dict[str, str], workdir: Path) -> dict:
    label = f"{target['kind'].upper()} GET {target['path']}"
    if "through_month" in target.get("query", {}):
        label += " (through_month)"
    if "skip" in target:
        return {"tool": "sqlmap", "target": label, "detail": f"not run: {target['skip']}", "findings": -1}
    query = {k: v for k, v in target["query"].items() if ALL_PARAMS or not other_quality_bound(k, auth["attribute"])}
    url = f"{base}{target['path']}?{urllib.parse.urlencode(query)}"
    headers = {"Authorization": f"Bearer {auth['token']}"} if "token" in auth else {"Cookie": auth["cookie"]}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            baseline, landed = response.status, response.url
    except urllib.error.HTTPError as error:
        baseline, landed = error.code, url
    if baseline != 200 or "/account/login" in landed:
        return {"tool": "sqlmap", "target": label, "detail": f"baseline request answered {baseline}", "findings": -1}
    slug = re.sub(r"\W+", "_", target["path"]).strip("_")
    out_dir = workdir / "sqlmap" / f"{target['kind']}_{slug}"
    command = [str(TOOL_BIN / "sqlmap"), "-u", url, "-p", ",".join(query), *SQLMAP_ARGS, "--output-dir", str(out_dir)]
    command += ["-H", f"Authorization: Bearer {auth['token']}"] if "token" in auth else ["--cookie", auth["cookie"]]
    started = time.monotonic()
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=900)
        output, code = result.stdout + result.stderr, result.returncode
    except subprocess.TimeoutExpired as expired:
        output, code = f"{expired.stdout or ''}\ntimed out after 900 s", "timeout"
    log_file = workdir / "sqlmap" / f"{target['kind']}_{slug}.log"
    log_file.write_text(output)
    if "identified the following injection point" in output or re.search(r"parameter '.*' is vulnerable", output):
        verdict, found = "INJECTABLE", 1
    elif "do not appear to be injectable" in output:
        verdict, found = "not injectable", 0
    else:
        verdict, found = f"sqlmap error (exit {code})", -1
    codes = re.findall(r"^(\d{3}) \([^)]*\) - (\d+) times", output, re.M)
    status = ", ".join(f"{n}×{c}" for c, n in codes) or "all 200"
    return {"tool": "sqlmap", "target": label, "detail": f"{len(query)} params: {verdict} ({status})",
            "findings": found, "seconds": time.monotonic() - started, "log": log_file}


def run_bandit(workdir: Path) -> dict:
    report = workdir / "bandit.json"
    subprocess.run([str(TOOL_BIN / "bandit"), "-r", "wasteex", "-ll", "-q", "-f", "json", "-o", str(report)],
                   cwd=ROOT, capture_output=True, text=True)
    data = json.loads(report.read_text())
    totals = data["metrics"]["_totals"]
    medium_high = len(data["results"])
    for issue in data["results"]:
        log(f"bandit {issue['test_id']} {issue['issue_severity']} {issue['filename']}:{issue['line_number']} "
            f"{issue['issue_text']}")
    return {"tool": "bandit", "target": "wasteex/ (-ll)",
            "detail": (f"{totals['loc']} lines; high {totals['SEVERITY.HIGH']}, medium {totals['SEVERITY.MEDIUM']}, "
                       f"low {totals['SEVERITY.LOW']} (not gated); #nosec {totals['nosec']}"),
            "findings": medium_high if not data.get("errors") else -1}


# Summary ----------------------------------------------------------------------------------

def print_summary(rows: list[dict], seconds: float) -> None:
    def verdict(row):
        return "ERROR" if row["findings"] < 0 else str(row["findings"])

    widths = [12, max(len(r["target"]) for r in rows), max(len(r["detail"]) for r in rows), 8]
    line = "+".join("-" * (w + 2) for w in widths)
    print("\n" + line)
    print(" | ".join(h.ljust(w) for h, w in zip(("tool", "target", "result", "findings"), widths)))
    print(line)
    for row in rows:
        print(" | ".join(v.ljust(w) for v, w in zip((row["tool"], row["target"], row["detail"], verdict(row)),
                                                       widths)))
    print(line)
    print(f"total time {seconds / 60:.1f} min", flush=True)


def schemathesis_rows(base: str, tokens: dict, workdir: Path) -> list[dict]:
    rows = []
    log(f"schemathesis, {ST_EXAMPLES} examples per operation")
    rows.append(run_schemathesis(base, tokens["producer"], "producer", workdir, ST_EXAMPLES))
    rows.append(run_schemathesis(base, tokens["regulator"], "regulator", workdir, max(ST_EXAMPLES // 2, 1),
                                 "--include-method", "GET"))
    for row in rows:
        log(f"{row['target']}: {row['detail']}, {row['findings']} failures in {row['seconds']:.0f} s "
            f"(log {row['log']})")
    return rows


def sqlmap_rows(base: str, tokens: dict, cookies: dict, ctx: dict, workdir: Path) -> list[dict]:
    rows = []
    targets = api_targets(base, ctx) + (html_targets(ctx) if SQLMAP_HTML else [])
    log(f"sqlmap --level 3 --risk 2 on {len(targets)} endpoints, {SQLMAP_JOBS} at a time")
    with concurrent.futures.ThreadPoolExecutor(SQLMAP_JOBS) as pool:
        jobs = []
        for target in targets:
            auth = ({"token": tokens[target["role"]]} if target["kind"] == "api"
                    else {"cookie": cookies[target["role"]]})
            auth["attribute"] = ctx["attribute"]
            jobs.append(pool.submit(run_sqlmap, base, target, auth, workdir))
        for job in jobs:
            row = job.result()
            log(f"sqlmap {row['target']}: {row['detail']}")
            rows.append(row)
    return rows


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` stops gunicorn
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="wasteex-security-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    server = None
    rows: list[dict] = []
    try:
        env = app_env(workdir)
        log(f"fresh demo database in {workdir}")
        make_database(env, workdir)
        port = serving.free_port()
        server = serving.start_gunicorn(env, workdir, port)
        base = f"http://127.0.0.1:{port}"
        log(f"gunicorn (2 workers) on {base}")
        # Credentials first: schemathesis sends wrong passwords that throttle logins from 127.0.0.1.
        tokens = {role: bearer_token(base, email) for role, email in LOGINS.items() if role != "admin"}
        cookies = {role: session_cookie(base, email) for role, email in LOGINS.items()}
        ctx = demo_context(base, tokens["producer"])

        if "schemathesis" in TOOLS:
            rows.extend(schemathesis_rows(base, tokens, workdir))
        if "sqlmap" in TOOLS:
            rows.extend(sqlmap_rows(base, tokens, cookies, ctx, workdir))
        if "bandit" in TOOLS:
            rows.append(run_bandit(workdir))
    finally:
        serving.stop(server)
    print_summary(rows, time.monotonic() - started)
    failed = [r for r in rows if r["findings"] != 0]
    if os.environ.get("SECURITY_KEEP") == "1" or failed:
        log(f"reports kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""The security log's line format and its refusal to carry secrets (no database needed)."""
import json
import logging
from types import SimpleNamespace

import pytest
from flask import Flask

from wasteex import security_log


@pytest.fixture
def records(caplog):
    caplog.set_level(logging.INFO, logger=security_log.LOGGER_NAME)

    def lines():
        return [r for r in caplog.records if r.name == security_log.LOGGER_NAME]

    return lines


@pytest.fixture
def flask_app():
    app = Flask(__name__)

    @app.post("/enterprises/<int:enterprise_id>/sites")
    def sites(enterprise_id):
        return "ok"

    return app


def test_one_json_line_with_the_request_fields(flask_app, records):
    with flask_app.test_request_context("/enterprises/7/sites?q=secret-in-query", method="POST",
                                        environ_base={"REMOTE_ADDR": "10.1.2.3"}):
        security_log.event("access.denied", security_log.DENIED, user=SimpleNamespace(id=42), status=403)
    [record] = records()
    assert record.levelno == logging.WARNING and "\n" not in record.getMessage()
    line = json.loads(record.getMessage())
    assert line["event"] == "access.denied" and line["outcome"] == "denied"
    assert line["user_id"] == 42 and line["enterprise_id"] == 7 and line["ip"] == "10.1.2.3"
    assert line["route"] == "/enterprises/<int:enterprise_id>/sites" and line["path"] == "/enterprises/7/sites"
    assert line["method"] == "POST" and line["status"] == 403 and line["ts"]
    assert "secret-in-query" not in record.getMessage()


def test_secret_looking_details_are_dropped(records):
    security_log.event("x", password="hunter2-hunter2", new_password="p", token="wx_abc", code="123456",
                       totp_secret="JBSWY3DP", cookie="c", csrf_token="t", authorization="Bearer z",
                       session_cookie="s", reason="kept", token_id=5)
    line = json.loads(records()[0].getMessage())
    for value in ("hunter2", "wx_abc", "123456", "JBSWY3DP", "Bearer z"):
        assert value not in records()[0].getMessage()
    assert line["reason"] == "kept" and line["token_id"] == 5


def test_newlines_cannot_forge_a_second_line(records):
    security_log.event("x", reason="a\nFAKE {\"event\": \"login.success\"}")
    assert "\n" not in records()[0].getMessage()
    assert len(records()) == 1


def test_detail_keys_cannot_overwrite_the_envelope(records):
    security_log.event("x", user_id=3, outcome_note="n", ip_note="i")
    line = json.loads(records()[0].getMessage())
    assert line["event"] == "x" and line["user_id"] == 3


def test_success_is_info_and_works_outside_a_request(records):
    line = security_log.event("token.created", user_id=1, token_id=9)
    assert records()[0].levelno == logging.INFO and line["ip"] is None and line["route"] is None


def test_signature_names_the_object(records):
    slip = SimpleNamespace(id=11, __tablename__="transfer")
    security_log.signature(SimpleNamespace(id=2), "transfer.receipt", slip, enterprise_id=4)
    line = json.loads(records()[0].getMessage())
    assert line["event"] == "signature" and line["kind"] == "transfer.receipt"
    assert line["object_type"] == "transfer" and line["object_id"] == 11 and line["enterprise_id"] == 4


def test_fingerprint_is_stable_and_not_the_text():
    assert security_log.fingerprint(" Alice@A.cn ") == security_log.fingerprint("alice@a.cn")
    assert "alice" not in security_log.fingerprint("alice@a.cn")


def test_security_log_file_gets_bare_json(tmp_path):
    app = Flask(__name__)
    app.config["SECURITY_LOG_FILE"] = str(tmp_path / "security.jsonl")
    security_log.init_app(app)
    try:
        security_log.event("login.failure", security_log.FAILURE, user_id=1)
    finally:
        for handler in list(security_log.log.handlers):
            if getattr(handler, "baseFilename", None) == app.config["SECURITY_LOG_FILE"]:
                security_log.log.removeHandler(handler)
                handler.close()
    [line] = (tmp_path / "security.jsonl").read_text().splitlines()
    assert json.loads(line)["event"] == "login.failure"

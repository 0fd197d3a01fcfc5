"""Helpers shared by the API tests (not a test module)."""
from wasteex.accounts import service
from wasteex.extensions import db


def bearer(user) -> dict[str, str]:
    """Authorization headers with a fresh personal token of ``user``."""
    _, secret = service.issue_token(user, "test")
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def assert_error(response, status: int, *fields: str) -> dict:
    """A JSON error envelope with this status, naming at least these fields."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.is_json, response.get_data(as_text=True)[:200]
    error = response.json["error"]
    assert set(error) == {"code", "message", "fields"} and error["code"] and error["message"]
    for field in fields:
        assert field in error["fields"], (field, error)
    return error

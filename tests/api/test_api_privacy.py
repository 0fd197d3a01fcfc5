"""What the API reveals: contacts only to members and regulators; token use is recorded."""
from sqlalchemy import select

from tests.api.calls import bearer
from wasteex.accounts.models import ApiToken
from wasteex.extensions import db


def test_contacts_are_private_like_on_the_web_page(world, client):
    as_bob = client.get(f"/api/v1/enterprises/{world.a.id}", headers=bearer(world.bob)).json
    assert as_bob["name"] == world.a.name and as_bob["contact_phone"] is None and as_bob["contact_name"] is None
    as_alice = client.get(f"/api/v1/enterprises/{world.a.id}", headers=bearer(world.alice)).json
    assert as_alice["contact_phone"] == world.a.contact_phone
    as_regulator = client.get(f"/api/v1/enterprises/{world.a.id}", headers=bearer(world.regulator)).json
    assert as_regulator["contact_name"] == world.a.contact_name


def test_token_use_is_recorded_even_on_reads(world, client):
    headers = bearer(world.alice)
    assert db.session.scalar(select(ApiToken.last_used_at)) is None
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken.last_used_at)) is not None

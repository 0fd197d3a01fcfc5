"""Platform admins manage users; deactivation and role changes end the user's sessions."""
import pytest

from tests.factories import login
from wasteex.accounts import service
from wasteex.accounts.models import PlatformRole
from wasteex.errors import PermissionDenied, ValidationFailed
from wasteex.extensions import db


def test_deactivation_ends_sessions_and_blocks_login(world, client):
    login(client, world.alice)
    assert client.get("/account/").status_code == 200
    service.administer_user(world.admin, world.alice.id, active=False)
    db.session.commit()
    assert client.get("/account/").status_code == 302  # the old cookie no longer works
    assert login(client, world.alice).status_code == 401


def test_members_cannot_become_regulators_and_only_admins_administer(world):
    with pytest.raises(ValidationFailed):
        service.administer_user(world.admin, world.alice.id, platform_role=PlatformRole.REGULATOR)
    with pytest.raises(PermissionDenied):
        service.administer_user(world.regulator, world.alice.id, active=False)
    with pytest.raises(PermissionDenied):
        service.administer_user(world.admin, world.admin.id, active=False)


def test_admin_users_page(world, client):
    login(client, world.admin)
    page = client.get("/admin/users?q=alice")
    assert page.status_code == 200 and "alice@a.cn" in page.get_data(as_text=True)
    assert "bob@b.cn" not in page.get_data(as_text=True)
    client.post("/account/logout")
    login(client, world.bob)
    assert client.get("/admin/users").status_code == 403

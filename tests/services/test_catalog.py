"""The catalog is data: loaded by the migrations, corrected by platform admins only."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from wasteex.audit.models import AuditEvent
from wasteex.catalog import service
from wasteex.catalog.models import Route, RouteKind
from wasteex.errors import PermissionDenied, ValidationFailed
from wasteex.extensions import db


def test_first_load_has_the_official_lists(app):
    codes = {c.sw_code for c in service.categories()}
    assert {"SW01", "SW02", "SW04", "SW06", "SW16", "SW59"} <= codes
    routes = {r.key: r for r in service.routes()}
    assert routes["mine_backfill"].kind is RouteKind.UTILISATION  # backfill counts as utilisation
    assert routes["landfill_class_ii"].kind is RouteKind.DISPOSAL
    assert routes["gypsum_board"].fits("SW06") and not routes["gypsum_board"].fits("SW04")
    assert routes["landfill_class_i"].fits("SW59")  # no categories: fits any waste
    units = {a.key: a.unit for a in service.attributes()}
    assert units["al2o3_pct"] == "%" and units["calorific_mj_kg"] == "MJ/kg"


def test_admin_corrects_a_route(world):
    route = db.session.scalar(select(Route).where(Route.key == "gypsum_board"))
    service.update_route(world.admin, route.id, {"name_zh": "石膏板", "name_en": "Gypsum board", "kind": "utilisation",
                                                 "sw_codes": ["SW06", "SW11"], "active": True})
    db.session.commit()
    assert [c.sw_code for c in route.categories] == ["SW06", "SW11"]
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.object_type == "route")) == "catalog.route_updated"


@pytest.mark.parametrize("who", ["regulator", "alice"])
def test_only_platform_admins_correct(world, who):
    category = service.categories()[0]
    with pytest.raises(PermissionDenied):
        service.update_category(getattr(world, who), category.id,
                                {"name_zh": "x", "name_en": "x", "s_code": "S01", "active": True})


def test_bad_corrections_are_refused(world):
    attribute = service.attributes()[0]
    with pytest.raises(ValidationFailed) as refused:
        service.update_attribute(world.admin, attribute.id, {"name_zh": "a", "name_en": "a", "unit": "%",
                                                             "min_value": Decimal(5), "max_value": Decimal(1)})
    assert "max_value" in refused.value.fields
    category = service.categories()[0]
    with pytest.raises(ValidationFailed) as refused:
        service.update_category(world.admin, category.id, {"name_zh": "a", "name_en": "a", "s_code": "X1"})
    assert "s_code" in refused.value.fields


def test_catalog_pages_and_api(world, client):
    from tests.factories import login

    login(client, world.alice)
    assert client.get("/catalog/").status_code == 200
    assert client.get("/catalog/route/1").status_code == 403
    body = client.get("/api/v1/catalog").get_json()
    assert any(r["key"] == "mine_backfill" and r["kind"] == "utilisation" for r in body["routes"])
    client.post("/account/logout")
    login(client, world.admin)
    page = client.post("/catalog/category/1", data={"name_zh": "冶炼废渣", "name_en": "Slag", "s_code": "S01",
                                                    "active": "y"})
    assert page.status_code == 302
    assert service.categories()[0].name_en == "Slag"

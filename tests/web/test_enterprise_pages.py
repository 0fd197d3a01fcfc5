"""Enterprise pages: object-level permissions by URL, listing, registration and verification."""
import re

from sqlalchemy import func, select

from tests.factories import login, make_enterprise, make_user
from tests.web.pages import field_error
from wasteex.accounts.models import MemberRole, Membership
from wasteex.enterprises.models import Enterprise, EnterpriseStatus, Facility, Site
from wasteex.enterprises.uscc import ALPHABET, make_uscc
from wasteex.extensions import db
from wasteex.geo import Base


def state_of(enterprise_id: int):
    """Everything an attacker might try to change about enterprise B."""
    db.session.expire_all()
    e = db.session.get(Enterprise, enterprise_id)
    sites = db.session.execute(select(Site.id, Site.name, Site.code, Site.latitude)
                               .where(Site.enterprise_id == enterprise_id).order_by(Site.id)).all()
    facilities = db.session.execute(select(Facility.id, Facility.code, Facility.active).join(Site)
                                    .where(Site.enterprise_id == enterprise_id).order_by(Facility.id)).all()
    members = db.session.execute(select(Membership.user_id, Membership.role)
                                 .where(Membership.enterprise_id == enterprise_id)).all()
    return (e.name, e.status, e.contact_phone, sites, facilities, sorted(members))


def enterprise_form(**changes):
    data = {"name": "鄂尔多斯新材料", "credit_code": make_uscc("9", "1", "150626", "WEB00001"),
            "is_producer": "y", "industry": "煤化工", "address": "乌审旗图克工业项目区",
            "division_code": "150626", "contact_name": "高工", "contact_phone": "13700000000"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


SITE_FORM = {"name": "被篡改的厂区", "code": "S01", "address": "x", "division_code": "150622",
             "latitude": "39.8", "longitude": "111.2"}
FACILITY_FORM = {"kind": "storage", "code": "EVIL-1", "name": "x", "responsible_person": "x"}


def test_a_member_of_a_cannot_reach_b_by_url(client, world):
    login(client, world.alice)
    b, site, facility = world.b.id, world.site_b.id, world.facility_b.id
    bobs_membership = world.b.memberships[0].id
    before = state_of(b)
    attempts = [
        ("get", f"/enterprises/{b}/edit", None, 403),
        ("post", f"/enterprises/{b}/edit", enterprise_form(name="被篡改"), 403),
        ("get", f"/enterprises/{b}/sites/new", None, 403),
        ("post", f"/enterprises/{b}/sites/new", SITE_FORM, 403),
        ("get", f"/enterprises/sites/{site}", None, 404),
        ("get", f"/enterprises/sites/{site}/edit", None, 404),
        ("post", f"/enterprises/sites/{site}/edit", SITE_FORM, 404),
        ("post", f"/enterprises/sites/{site}/facilities", FACILITY_FORM, 404),
        ("post", f"/enterprises/sites/{site}/facilities", {}, 404),
        ("post", f"/enterprises/facilities/{facility}/active", {"active": "0"}, 404),
        ("post", f"/enterprises/{b}/members", {"email": "alice@a.cn", "role": "admin"}, 403),
        ("post", f"/enterprises/{b}/members/{bobs_membership}/remove", {}, 403),
        ("post", f"/enterprises/{world.a.id}/members/{bobs_membership}/remove", {}, 404),
        ("post", f"/enterprises/{b}/verify", {}, 403),
        ("post", f"/enterprises/{b}/reject", {"reason": "x"}, 403),
    ]
    for method, url, data, status in attempts:
        response = getattr(client, method)(url, data=data)
        assert response.status_code == status, (method, url, response.status_code)
    assert state_of(b) == before


def test_bs_public_profile_hides_its_private_data(client, world):
    login(client, world.alice)
    html = client.get(f"/enterprises/{world.b.id}").get_data(as_text=True)
    assert world.b.name in html and world.b.credit_code in html
    for private in ("bob@b.cn", world.b.contact_phone, world.site_b.name, f"/enterprises/sites/{world.site_b.id}"):
        assert private not in html
    own = client.get(f"/enterprises/{world.a.id}").get_data(as_text=True)
    assert "alice@a.cn" in own and world.site_a.name in own


def test_others_pending_enterprise_is_a_404(client, world):
    pending = make_enterprise(world.bob, status=EnterpriseStatus.PENDING, name="乙方待审")
    login(client, world.alice)
    assert client.get(f"/enterprises/{pending.id}").status_code == 404
    assert client.get(f"/enterprises/{pending.id}/edit").status_code == 404
    assert "乙方待审" not in client.get("/enterprises/?q=乙方").get_data(as_text=True)


def test_regulator_reads_everything_and_writes_nothing(client, world):
    login(client, world.regulator)
    html = client.get(f"/enterprises/{world.b.id}").get_data(as_text=True)
    assert "bob@b.cn" in html and world.site_b.name in html
    assert client.get(f"/enterprises/sites/{world.site_b.id}").status_code == 200
    before = state_of(world.b.id)
    assert client.get(f"/enterprises/{world.b.id}/edit").status_code == 403
    assert client.post(f"/enterprises/{world.b.id}/sites/new", data=SITE_FORM).status_code == 403
    assert client.post(f"/enterprises/facilities/{world.facility_b.id}/active",
                       data={"active": "0"}).status_code == 403
    assert client.post("/enterprises/new", data=enterprise_form()).status_code == 403
    assert state_of(world.b.id) == before


def names_on(html: str, prefix: str) -> list[str]:
    return re.findall(rf">({prefix}\d+)</a>", html)


def test_list_search_sort_and_pagination(app, client, world):
    app.config["PAGE_SIZE"] = 3
    for n in range(1, 8):
        make_enterprise(name=f"Sortco{n:02d}")
    make_enterprise(name="Sortco99", status=EnterpriseStatus.PENDING)  # someone else's, pending
    login(client, world.alice)

    first = client.get("/enterprises/?q=sortco").get_data(as_text=True)
    assert names_on(first, "Sortco") == ["Sortco01", "Sortco02", "Sortco03"]
    assert "7" in re.search(r'<p class="text-muted small">([^<]*)</p>', first).group(1)
    last = client.get("/enterprises/?q=sortco&page=3").get_data(as_text=True)
    assert names_on(last, "Sortco") == ["Sortco07"]
    beyond = client.get("/enterprises/?q=sortco&page=99").get_data(as_text=True)
    assert names_on(beyond, "Sortco") == ["Sortco07"]  # clamped to the last page
    descending = client.get("/enterprises/?q=sortco&sort=-name").get_data(as_text=True)
    assert names_on(descending, "Sortco") == ["Sortco07", "Sortco06", "Sortco05"]
    assert 'aria-sort="descending"' in descending
    bogus_sort = client.get("/enterprises/?q=sortco&sort=password_hash").get_data(as_text=True)
    assert names_on(bogus_sort, "Sortco") == ["Sortco01", "Sortco02", "Sortco03"]
    assert names_on(client.get("/enterprises/?q=%25").get_data(as_text=True), "Sortco") == []
    assert names_on(client.get("/enterprises/?q=sortco05").get_data(as_text=True), "Sortco") == ["Sortco05"]

    client.post("/account/logout")
    login(client, world.regulator)
    seen = client.get("/enterprises/?q=sortco&sort=-name").get_data(as_text=True)
    assert names_on(seen, "Sortco")[0] == "Sortco99"


def test_registration_errors_are_shown_next_to_their_fields(client, world):
    login(client, world.alice)
    valid = enterprise_form()["credit_code"]
    wrong = valid[:17] + next(c for c in ALPHABET if c != valid[17])
    before = db.session.scalar(select(func.count()).select_from(Enterprise))
    response = client.post("/enterprises/new", data=enterprise_form(credit_code=wrong))
    assert response.status_code == 200
    message = field_error(response.get_data(as_text=True), "credit_code")
    assert message and valid[17] in message
    response = client.post("/enterprises/new", data=enterprise_form(credit_code=world.a.credit_code))
    assert field_error(response.get_data(as_text=True), "credit_code")
    response = client.post("/enterprises/new", data=enterprise_form(is_producer=None))
    assert field_error(response.get_data(as_text=True), "is_producer")
    assert db.session.scalar(select(func.count()).select_from(Enterprise)) == before


def test_register_then_platform_admin_verifies(app, client, world):
    carol = make_user("carol@c.cn")
    login(client, carol)
    response = client.post("/enterprises/new", data=enterprise_form())
    assert response.status_code == 302
    enterprise = db.session.scalar(select(Enterprise).where(Enterprise.name == "鄂尔多斯新材料"))
    assert enterprise.status is EnterpriseStatus.PENDING and carol.role_in(enterprise.id) is MemberRole.ADMIN
    assert client.post(f"/enterprises/{enterprise.id}/verify").status_code == 403

    admin = app.test_client()
    login(admin, world.admin)
    queue = admin.get("/enterprises/?status=pending").get_data(as_text=True)
    assert "鄂尔多斯新材料" in queue
    assert admin.post(f"/enterprises/{enterprise.id}/reject", data={"reason": ""}).status_code == 422
    assert admin.post(f"/enterprises/{enterprise.id}/verify").status_code == 302
    db.session.expire_all()
    stored = db.session.get(Enterprise, enterprise.id)
    assert stored.status is EnterpriseStatus.VERIFIED and stored.reviewed_by_id == world.admin.id
    assert "text-bg-success" in client.get(f"/enterprises/{enterprise.id}").get_data(as_text=True)


def test_site_form_derives_the_base_and_refuses_bad_coordinates(client, world):
    login(client, world.alice)
    url = f"/enterprises/{world.a.id}/sites/new"
    form = {"name": "图克分厂", "code": "S-UX", "address": "图克工业项目区", "division_code": "150626",
            "latitude": "39.1", "longitude": "109.1"}
    for bad in ({"latitude": "91"}, {"longitude": "-180.5"}, {"latitude": "NaN"}, {"latitude": "sNaN"},
                {"longitude": "Infinity"}, {"latitude": "abc"}):
        response = client.post(url, data=form | bad)
        assert response.status_code == 200, bad
        assert field_error(response.get_data(as_text=True), next(iter(bad))), bad
    response = client.post(url, data=form | {"code": world.site_a.code})
    assert field_error(response.get_data(as_text=True), "code")
    assert client.post(url, data=form).status_code == 302
    site = db.session.scalar(select(Site).where(Site.code == "S-UX"))
    assert site.base is Base.UXIN and site.enterprise_id == world.a.id
    assert db.session.scalar(select(func.count()).select_from(Site).where(Site.enterprise_id == world.a.id)) == 2

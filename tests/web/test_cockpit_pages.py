"""The cockpit pages: regulators and platform admins only, every figure linked, tables downloadable,
nothing the CSP would block, and nothing written."""
import re
from io import BytesIO

import pytest
from openpyxl import load_workbook

from tests.factories import login
from tests.services.test_regulator_queries import city  # noqa: F401 - fixture
from tests.web.test_access_matrix import fingerprint
from tests.web.test_security_pages import INLINE

PAGES = ["/regulator/?year=2025", "/regulator/base/jungar?year=2025", "/regulator/division/150626?year=2025",
         "/regulator/sw_code/SW02?year=2025", "/regulator/industry/火力发电?year=2025",
         "/regulator/enterprises?year=2025", "/regulator/report?year=2025"]


def _pages(city):
    return PAGES + [f"/regulator/enterprises/{city.a.id}?year=2025"]


def test_everyone_but_read_all_accounts_is_refused(client, city):
    assert client.get("/regulator/").status_code == 302  # to the sign-in page
    login(client, city.alice)  # admin of an enterprise: not a regulator
    for path in _pages(city) + ["/regulator/report.xlsx?year=2025", "/regulator/tables/base.csv?year=2025"]:
        assert client.get(path).status_code == 403, path
    assert "/regulator/" not in client.get("/").get_data(as_text=True)  # no nav entry either


@pytest.mark.parametrize("who", ["regulator", "admin"])
def test_read_all_accounts_see_every_page_and_change_nothing(client, city, who):
    login(client, getattr(city, who))
    before = fingerprint()
    for path in _pages(city):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        for pattern in INLINE:
            assert not pattern.search(html), (path, pattern.pattern)
    assert fingerprint() == before
    assert 'href="/regulator/"' in client.get("/").get_data(as_text=True)  # the nav entry


def test_the_main_page_shows_the_gap_and_links_to_what_is_behind(client, city):
    login(client, city.regulator)
    html = client.get("/regulator/?year=2025").get_data(as_text=True)
    assert re.search(r'id="headline-rate">\s*54\.55 %', html)
    assert "1600.000" in html and "550.000" in html  # generated, closing stock
    for link in ("/regulator/base/jungar?year=2025", "/regulator/division/150622?year=2025",
                 "/regulator/sw_code/SW59?year=2025", f"/regulator/enterprises/{city.a.id}?year=2025",
                 "/api/v1/regulator/map?year=2025"):
        assert link in html.replace("&amp;", "&"), link
    assert 'data-cockpit-chart="trend"' in html and "data-cockpit-map" in html


def test_a_base_leads_to_its_banners_and_enterprises_then_to_the_ledger(client, city):
    login(client, city.regulator)
    base = client.get("/regulator/base/jungar?year=2025").get_data(as_text=True)
    assert "/regulator/division/150622?year=2025" in base and f"/regulator/enterprises/{city.a.id}?year=2025" in base
    assert "丙烯烃厂" not in base  # Uxin's plant is not in Jungar
    page = client.get(f"/regulator/enterprises/{city.a.id}?year=2025").get_data(as_text=True)
    for link in (f"/enterprises/{city.a.id}/ledger?year=2025", f"/streams/{city.ash.id}",
                 f"/enterprises/{city.a.id}/ledger/summary?year=2025", "/ledger/entries/"):
        assert link in page, link
    assert "乙砖厂" in page and "70.00 %" in page  # the receiver; March's rate for the fly-ash stream
    assert client.get(f"/enterprises/{city.a.id}/ledger?year=2025").status_code == 200


def test_league_table_sorts_searches_and_refuses_unknown_parts(client, city):
    login(client, city.regulator)
    html = client.get("/regulator/enterprises?year=2025&sort=-rate").get_data(as_text=True)
    assert html.index("甲电厂") < html.index("丙烯烃厂")
    html = client.get("/regulator/enterprises?year=2025&q=烯烃").get_data(as_text=True)
    assert "丙烯烃厂" in html and "甲电厂" not in html
    assert client.get("/regulator/enterprises?year=2025&part=base&key=mars").status_code == 404
    assert client.get("/regulator/base/mars").status_code == 404
    assert client.get("/regulator/enterprises/999999").status_code == 404


@pytest.mark.parametrize("name", ["years", "base", "division", "sw_code", "industry", "months", "enterprises",
                                  "flows"])
def test_every_table_downloads_as_xlsx_and_csv(client, city, name):
    login(client, city.regulator)
    sheet = client.get(f"/regulator/tables/{name}.xlsx?year=2025")
    assert sheet.status_code == 200 and sheet.mimetype.endswith("spreadsheetml.sheet")
    rows = list(load_workbook(BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert len(rows) >= 2, rows
    text = client.get(f"/regulator/tables/{name}.csv?year=2025")
    assert text.mimetype == "text/csv" and text.data.decode("utf-8").startswith("\ufeff")


def test_downloads_of_a_part_and_of_one_enterprise(client, city):
    login(client, city.regulator)
    rows = list(load_workbook(BytesIO(client.get("/regulator/tables/division.xlsx?year=2025&part=base&key=uxin")
                                      .data)).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["乌审旗"]
    streams = client.get(f"/regulator/tables/streams.csv?year=2025&part=enterprise&key={city.a.id}")
    assert "粉煤灰" in streams.data.decode("utf-8")
    assert client.get("/regulator/tables/streams.csv?year=2025").status_code == 404  # needs an enterprise
    assert client.get("/regulator/tables/passwords.csv").status_code == 404


def test_annual_release_page_xlsx_and_pdf(client, city):
    login(client, city.regulator)
    html = client.get("/regulator/report?year=2025").get_data(as_text=True)
    assert "0.16" in html and "54.55 %" in html and "火力发电" in html
    book = load_workbook(BytesIO(client.get("/regulator/report.xlsx?year=2025").data))
    assert book.sheetnames == ["2025年全市情况", "按固废类别", "前5位行业", "按示范基地"]
    pdf = client.get("/regulator/report.pdf?year=2025")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")

"""The cockpit's figures: the official rate by year, base, banner, code, industry and enterprise,
months with a running stock, the league table, flows between enterprises, the annual release."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event

from tests.factories import make_enterprise, make_facility, make_site, make_stream, make_user
from wasteex.enterprises.models import FacilityKind
from wasteex.errors import NotFound, PermissionDenied
from wasteex.extensions import db
from wasteex.geo import Base
from wasteex.ledger.service import EntryInput, correct_entry, record_entry
from wasteex.regulator import exports, flows, queries, report
from wasteex.regulator.queries import CITY, Period, Slice

TODAY = date(2025, 11, 20)  # "this year" is 2025, to date through November
YTD = Period(2025, 11)


def _plant(user, name, division, industry, sw_code, stream_name):
    enterprise = make_enterprise(user, name=name, division=division)
    enterprise.industry = industry
    site = make_site(enterprise, division=division)
    for code, kind in (("CS-01", FacilityKind.GENERATION), ("ZC-01", FacilityKind.STORAGE),
                       ("LY-01", FacilityKind.SELF_UTILISATION), ("CZ-01", FacilityKind.SELF_DISPOSAL)):
        make_facility(site, code, kind)
    return enterprise, make_stream(enterprise, site, sw_code, stream_name)


def _shipment(kind, day, tonnes, stream, receiver, route, **kw):
    return EntryInput(kind=kind, period_date=day, tonnes=tonnes, handler="王调度", stream_id=stream.id,
                      route_key=route, counterparty_name=receiver.name, counterparty_credit_code=receiver.credit_code,
                      carrier_name="通达物流", plate_number="蒙K12345", contract_number="HT-1", **kw)


def line(kind, day, tonnes, stream, facility=None, route=None, **kw):
    return EntryInput(kind=kind, period_date=day, tonnes=tonnes, handler="李班长", stream_id=stream.id,
                      facility_code=facility, route_key=route, **kw)


@pytest.fixture
def city(world):
    """A Jungar power plant (fly ash), a Uxin olefins plant (gasification slag), both sending to an
    Otog brick works; 2024 and 2025 figures that balance."""
    w = world
    w.a.industry = "火力发电"
    site_a_facilities = (("CS-01", FacilityKind.GENERATION), ("ZC-01", FacilityKind.STORAGE),
                         ("LY-01", FacilityKind.SELF_UTILISATION), ("CZ-01", FacilityKind.SELF_DISPOSAL))
    for code, kind in site_a_facilities:
        make_facility(w.site_a, code, kind)
    ash = make_stream(w.a, w.site_a, "SW02", "粉煤灰")
    carol = make_user("carol@c.cn", name="Carol")
    c, slag = _plant(carol, "丙烯烃厂", "150626", "煤制烯烃", "SW59", "气化粗渣")
    march, april = date(2025, 3, 15), date(2025, 4, 15)
    entries = [
        (w.alice, w.a, line("generation", date(2024, 6, 1), "800", ash, "CS-01")),
        (w.alice, w.a, line("self_utilisation", date(2024, 6, 1), "400", ash, "LY-01", "autoclaved_brick")),
        (w.alice, w.a, line("storage_in", date(2024, 6, 1), "400", ash, "ZC-01")),
        (w.alice, w.a, line("generation", march, "1000", ash, "CS-01")),
        (w.alice, w.a, line("self_utilisation", march, "300", ash, "LY-01", "autoclaved_brick")),
        (w.alice, w.a, _shipment("entrusted_utilisation", march, "400", ash, w.b, "cement_admixture")),
        (w.alice, w.a, line("storage_in", march, "200", ash, "ZC-01")),
        (w.alice, w.a, line("self_disposal", march, "100", ash, "CZ-01", "landfill_class_ii")),
        (w.alice, w.a, line("storage_out", april, "50", ash, "ZC-01", from_prior_storage=True)),
        (w.alice, w.a, _shipment("entrusted_utilisation", april, "50", ash, w.b, "cement_admixture",
                                 from_prior_storage=True)),
        (carol, c, line("generation", march, "600", slag, "CS-01")),
        (carol, c, _shipment("entrusted_utilisation", march, "150", slag, w.b, "ceramsite")),
        (carol, c, _shipment("entrusted_disposal", march, "100", slag, w.b, "landfill_class_ii")),
        (carol, c, line("self_disposal", march, "350", slag, "CZ-01", "landfill_class_ii")),
    ]
    for actor, enterprise, entry in entries:
        record_entry(actor, enterprise.id, entry)
    db.session.commit()
    w.carol, w.c, w.ash, w.slag = carol, c, ash, slag
    return w


def test_only_read_all_accounts_open_the_cockpit(city):
    with pytest.raises(PermissionDenied):
        queries.overview(city.alice, TODAY)
    with pytest.raises(PermissionDenied):
        flows.flows(city.bob, YTD)
    assert queries.overview(city.admin, TODAY)  # platform admins read everything too


def test_headline_by_year_with_the_official_formula(city):
    rows = {row.key: row for row in queries.overview(city.regulator, TODAY)}
    assert list(rows) == [2025, 2024]
    now, last = rows[2025], rows[2024]
    assert now.period == YTD and last.period == Period(2024)
    assert now.totals.generated == 1_600_000
    # utilised 300 + 400 + 50 (prior) + 150 = 900; denominator 1600 + 50
    assert now.totals.utilised == 900_000 and now.totals.utilised_from_prior_storage == 50_000
    assert str(now.rate) == "0.545455"
    assert now.totals.disposed == 550_000
    assert now.stock_kg == 400_000 + 200_000 - 50_000  # cumulative: 2024's stock is still there
    assert last.rate == pytest.approx(0.5) and last.stock_kg == 400_000
    assert not now.meets_target


def test_breakdowns_by_base_banner_code_and_industry(city):
    r = city.regulator
    bases = queries.breakdown(r, CITY, YTD, "base")
    assert [row.key for row in bases] == list(Base)  # every base, in plan order, even without figures
    by_base = {row.key: row for row in bases}
    assert by_base[Base.JUNGAR].totals.generated == 1_000_000 and str(by_base[Base.JUNGAR].rate) == "0.714286"
    assert by_base[Base.UXIN].totals.generated == 600_000 and str(by_base[Base.UXIN].rate) == "0.250000"
    assert by_base[Base.OTOG].rate is None and by_base[Base.OUTSIDE].totals.generated == 0

    codes = [row.key for row in queries.breakdown(r, CITY, YTD, "sw_code")]
    assert codes[:2] == ["SW02", "SW59"] and set(queries.KEY_CODES) <= set(codes)

    industries = {row.key: row for row in queries.breakdown(r, CITY, YTD, "industry")}
    assert set(industries) == {"火力发电", "煤制烯烃"}
    assert industries["煤制烯烃"].totals.generated == 600_000

    banners = {row.key: row.rate for row in queries.breakdown(r, Slice("base", "jungar"), YTD, "division")}
    assert list(banners) == ["150622"]
    only_ash = queries.year_row(r, Slice("industry", "火力发电"), YTD)
    assert only_ash.totals.generated == 1_000_000 and only_ash.stock_kg == 550_000


def test_months_carry_the_stock_forward(city):
    months = queries.monthly(city.regulator, Slice("enterprise", city.a.id), YTD)
    assert [m.month for m in months] == list(range(1, 12))
    assert months[0].stock_kg == 400_000  # the 2024 stock opens the year
    assert months[2].stock_kg == 600_000 and months[3].stock_kg == 550_000 and months[10].stock_kg == 550_000
    assert months[2].totals.generated == 1_000_000 and months[3].totals.utilised_from_prior_storage == 50_000


def test_league_table_sorts_by_allow_listed_keys_and_pages(city):
    r = city.regulator
    page = queries.league(r, CITY, YTD, "rate", 1, 20)
    assert [row.enterprise.name for row in page.items] == ["丙烯烃厂", "甲电厂"]  # lowest rate first
    assert page.sort == "rate"
    page = queries.league(r, CITY, YTD, "-generated", 1, 1)
    assert page.total == 2 and page.pages == 2 and page.items[0].enterprise.name == "甲电厂"
    assert queries.league(r, CITY, YTD, "name; DROP TABLE x", 1, 20).sort == queries.LEAGUE_DEFAULT
    assert queries.league(r, CITY, YTD, None, 1, 20, q="烯烃").total == 1


def test_one_enterprise_by_stream_and_month(city):
    figures = queries.enterprise_figures(city.regulator, city.a.id, YTD)
    assert [row.key for row in figures.streams] == [city.ash.id]
    assert figures.stream_names[city.ash.id].name == "粉煤灰"
    assert str(figures.rate_by_stream_month[city.ash.id][3]) == "0.700000"
    assert figures.total.stock_kg == 550_000
    with pytest.raises(NotFound):
        queries.enterprise_figures(city.regulator, 10**6, YTD)


def test_flows_between_enterprises_net_of_corrections(city):
    r = city.regulator
    found = flows.flows(r, YTD)
    assert [(f.sender_id, f.receiver_code, f.utilised_kg, f.disposed_kg) for f in found] == [
        (city.a.id, city.b.credit_code, 450_000, 0), (city.c.id, city.b.credit_code, 150_000, 100_000)]
    shipped = record_entry(city.carol, city.c.id, _shipment("entrusted_utilisation", date(2025, 5, 2), "99",
                                                            city.slag, city.b, "ceramsite"))
    correct_entry(city.carol, shipped.id, "wrong truck")
    db.session.commit()
    assert flows.flows(r, YTD, sender_id=city.c.id)[0].utilised_kg == 150_000
    assert flows.flows(r, Period(2024)) == []

    drawn = flows.cockpit_map(r, YTD)
    kinds = sorted((p.kind, p.place.enterprise.name, p.kg) for p in drawn.points)
    assert kinds == [("producer", "丙烯烃厂", 600_000), ("producer", "甲电厂", 1_000_000),
                     ("utiliser", "乙砖厂", 700_000)]
    assert drawn.flows_total == 2 and drawn.banner_rates["150622"] is not None


def test_slices_named_in_urls_must_exist(city):
    assert queries.slice_of("base", "otog") == Slice("base", "otog")
    assert queries.slice_of("enterprise", str(city.a.id)) == Slice("enterprise", city.a.id)
    for dimension, key in (("base", "mars"), ("division", "110101"), ("sw_code", "SW99"), ("industry", "造船"),
                           ("enterprise", "x"), ("planet", "earth")):
        with pytest.raises(NotFound):
            queries.slice_of(dimension, key)


def test_annual_release_and_its_tables(city):
    found = report.annual_report(city.regulator, 2025, TODAY)
    assert found.year.totals.generated == 1_600_000 and found.previous.key == 2024
    assert found.rate_change == Decimal("4.545500")  # 54.5455 % − 50 %
    assert [r.key for r in found.industries] == ["火力发电", "煤制烯烃"]
    assert found.share(found.industries[0]) == Decimal("0.625")
    assert found.reporting_enterprises == 2 and report.wan_tonnes(1_600_000) == "0.16"
    tables = report.report_tables(found)
    assert [t.title for t in tables] == ["2025年全市情况", "按固废类别", "前5位行业", "按示范基地"]
    assert [row[0] for row in tables[0].rows] == [2025, 2024]
    assert tables[2].headers[-1] == "占全市产生量比例" and tables[2].rows[0][-1].value == Decimal("0.625")


def test_exports_are_formula_safe(city):
    city.c.name = "=HYPERLINK(\"http://evil\",\"x\")"
    db.session.commit()
    rows, _sort = queries.league_rows(city.regulator, CITY, YTD, "name")
    table = exports.league_table("企业", rows)
    text = exports.to_csv(table).decode("utf-8")
    assert text.startswith("\ufeff") and "'=HYPERLINK" in text and "\n=HYPERLINK" not in text
    assert "1000.000" in text and "71.43%" in text  # 甲电厂: 750 ÷ (1000 + 50)
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(exports.to_xlsx([table]))).active
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert "'=HYPERLINK(\"http://evil\",\"x\")" in values
    assert not any(isinstance(v, str) and v.startswith("=") for v in values)


def _statements_on_totals(run) -> tuple[object, int]:
    """run()'s result and how many statements it sent that read the ledger's monthly totals."""
    seen = []

    def count(_conn, _cursor, statement, *_args):
        seen.append("ledger_monthly_total" in statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        return run(), sum(seen)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_a_page_of_breakdowns_scans_the_totals_twice_and_every_table_sums_to_the_city(city):
    r = city.regulator
    dimensions = ("base", "division", "sw_code", "industry", "enterprise")
    tables, scans = _statements_on_totals(lambda: queries.breakdowns(r, CITY, YTD, dimensions))
    assert scans == 2  # one for the flows, one for the stock, whatever the number of tables
    whole = queries.year_row(r, CITY, YTD)
    for dimension in dimensions:
        assert tables[dimension] == queries.breakdown(r, CITY, YTD, dimension)
        assert sum(row.totals.generated for row in tables[dimension]) == whole.totals.generated == 1_600_000
        assert sum(row.totals.utilised for row in tables[dimension]) == whole.totals.utilised
        assert sum(row.stock_kg for row in tables[dimension]) == whole.stock_kg == 550_000
    with pytest.raises(ValueError):
        queries.breakdowns(r, CITY, YTD, ("base", "colour"))


def test_years_months_and_stock_come_from_one_scan_of_the_history(city):
    history, scans = _statements_on_totals(lambda: queries.History(city.regulator, CITY, TODAY.year))
    assert scans == 1
    assert history.years(TODAY) == queries.overview(city.regulator, TODAY)
    assert history.months(YTD) == queries.monthly(city.regulator, CITY, YTD)
    last_year = history.year_row(Period(2024))
    assert last_year.totals.generated == 800_000 and last_year.stock_kg == 400_000
    # Asked up to a past year, nothing after it is counted: 2024 ends with 2024's stock.
    assert queries.History(city.regulator, CITY, 2024).year_row(Period(2024)) == last_year

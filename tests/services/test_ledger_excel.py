"""The ledger workbook: import template round trip, per-line refusals, the MEE export."""
from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.factories import make_facility, make_stream
from wasteex.enterprises.models import FacilityKind
from wasteex.errors import PermissionDenied, ValidationFailed
from wasteex.extensions import db
from wasteex.geo import Base
from wasteex.ledger import chain_store
from wasteex.ledger.excel import base_enterprise_ids, export_workbook, template_workbook
from wasteex.ledger.importer import DATA_SHEET, import_rows, read_workbook
from wasteex.ledger.models import EntrySource, LedgerChain, LedgerEntry, MonthlyTotal
from wasteex.ledger.service import EntryInput, record_entry
from wasteex.ledger.stats import StatsFilter, closing_stock_kg, flow_by, flow_totals

DAY = date(2025, 3, 15)
SHEETS = ["附表1 产生清单", "附表2 流向汇总表", "附表3 产生环节记录", "附表4 贮存环节记录", "附表5 自行利用记录",
          "附表6 自行处置记录", "附表7 委托利用处置记录", "接收记录", "校验"]


@pytest.fixture
def plant(world):
    make_facility(world.site_a, "ZC-01", FacilityKind.STORAGE)
    make_facility(world.site_a, "LY-01", FacilityKind.SELF_UTILISATION)
    make_facility(world.site_a, "CS-01", FacilityKind.GENERATION)
    make_facility(world.site_b, "BZ-01", FacilityKind.STORAGE)
    world.stream = make_stream(world.a, world.site_a, "SW02")
    return world


def fill(rows: list[dict], formulas: dict[str, str] | None = None) -> bytes:
    """The downloaded template with these rows typed in from row 3 (row 2 holds the keys)."""
    book = load_workbook(io.BytesIO(template_workbook()))
    ws = book[DATA_SHEET]
    keys = [ws.cell(2, column).value for column in range(1, ws.max_column + 1)]
    for number, row in enumerate(rows, start=3):
        for key, value in row.items():
            ws.cell(number, keys.index(key) + 1, value)
    for coordinate, formula in (formulas or {}).items():
        ws[coordinate] = formula
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def good_rows(w) -> list[dict]:
    common = dict(period_date=DAY, stream_id=w.stream.id, handler="张三")
    return [
        dict(common, reference="L-0001", kind="产生", tonnes=100.5, facility_code="CS-01"),
        dict(common, reference="L-0002", kind="storage_in", tonnes="40", facility_code="ZC-01"),
        dict(common, reference="L-0003", kind="自行利用", tonnes=30, facility_code="LY-01",
             route_key="sintered_brick", from_prior_storage="否", product="烧结砖"),
        dict(common, reference="L-0004", kind="委托利用", tonnes="20.25", route_key="水泥及混凝土掺合料",
             from_prior_storage="是", counterparty_name=w.b.name, counterparty_credit_code=w.b.credit_code,
             carrier_name="通达物流", plate_number="蒙K12345", contract_number=2025001),
    ]


def run_import(w, data: bytes, actor=None):
    report = import_rows(actor or w.alice, w.a.id, read_workbook(data), EntrySource.IMPORT)
    db.session.commit()
    return report


def test_template_round_trip(plant):
    w = plant
    data = fill(good_rows(w))
    first = run_import(w, data)
    assert (first.added, first.skipped, first.refused) == (4, 0, 0), first.lines
    assert [line.line for line in first.lines] == [3, 4, 5, 6]
    entrusted = db.session.get(LedgerEntry, first.lines[3].entry_id)
    assert entrusted.route.key == "cement_admixture" and entrusted.contract_number == "2025001"
    assert entrusted.from_prior_storage and entrusted.quantity_kg == 20_250
    assert flow_totals(StatsFilter(year=2025, enterprise_ids=(w.a.id,))).generated == 100_500

    again = run_import(w, data)
    assert (again.added, again.skipped, again.refused) == (0, 4, 0)
    assert [line.entry_id for line in again.lines] == [line.entry_id for line in first.lines]
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == 4
    report = chain_store.verify_enterprise(w.a.id)
    assert report.ok and report.count == 4


def test_template_sheets(app):
    book = load_workbook(io.BytesIO(template_workbook()))
    assert book.sheetnames == [DATA_SHEET, "填写说明"]
    ws = book[DATA_SHEET]
    headers = [c.value for c in ws[1]]
    assert headers[:6] == ["参考号", "日期", "类型", "废物流编号", "废物代码", "数量（吨）"]
    assert [c.value for c in ws[2]][:3] == ["reference", "period_date", "kind"] and ws.row_dimensions[2].hidden
    text = "\n".join(str(c.value) for row in book["填写说明"].iter_rows() for c in row if c.value)
    for expected in ("委托利用", "entrusted_utilisation", "sintered_brick", "烧结砖及墙体材料", "SW04", "YYYY-MM-DD"):
        assert expected in text


def test_refusals_name_field_and_cell_and_leave_nothing(plant):
    w = plant
    base = dict(period_date=DAY, stream_id=w.stream.id, handler="张三")
    gen = dict(base, kind="generation", facility_code="CS-01")
    rows = [
        dict(gen, reference="OK-1", tonnes=10),                                                   # 3 added
        dict(gen, reference="R-4", kind="burned", tonnes=1),                                      # 4 kind
        dict(base, reference="R-5", kind="接收", sw_code="SW99", tonnes=1,                          # 5 sw_code
             counterparty_name="某电厂", counterparty_credit_code=w.b.credit_code),
        dict(base, reference="R-6", kind="self_utilisation", facility_code="LY-01", route_key="gypsum_board",
             tonnes=1),                                                                           # 6 route
        dict(base, reference="R-7", kind="storage_in", facility_code="BZ-01", tonnes=1),          # 7 facility of B
        dict(gen, reference="R-8", tonnes=1, period_date=date.today() + timedelta(days=1)),       # 8 future
        dict(gen, reference="R-9", tonnes=-5),                                                    # 9 negative
        dict(gen, reference="R-10", tonnes=99999999999),                                          # 10 absurd
        dict(gen, reference="R-11", tonnes="1.2345"),                                             # 11 4 decimals (text)
        dict(gen, reference="R-12", tonnes=1.2345),                                               # 12 4 decimals (number)
        dict(gen, reference="R-13"),                                                              # 13 formula
        dict(gen, tonnes=1),                                                                      # 14 no reference
        dict(gen, reference="R-15", tonnes=1, period_date="2025-02-30"),                          # 15 bad date
        dict(gen, reference="R-16", tonnes=1, from_prior_storage="也许"),                          # 16 yes/no
        dict(gen, reference="R-17", tonnes=1, sw_code="SW04"),                                    # 17 code ≠ stream
        dict(base, reference="OK-2", kind="storage_in", facility_code="ZC-01", tonnes="2.5"),     # 18 added
    ]
    report = run_import(w, fill(rows, formulas={"F13": "=1+1"}))
    outcome = {line.line: (line.status, line.field, line.cell) for line in report.lines}
    assert outcome[3][0] == outcome[18][0] == "added"
    expected = {4: ("kind", "C4"), 5: ("sw_code", "E5"), 6: ("route_key", "H6"), 7: ("facility_code", "G7"),
                8: ("period_date", "B8"), 9: ("tonnes", "F9"), 10: ("tonnes", "F10"), 11: ("tonnes", "F11"),
                12: ("tonnes", "F12"), 13: ("tonnes", "F13"), 14: ("reference", "A14"),
                15: ("period_date", "B15"), 16: ("from_prior_storage", "I16"), 17: ("sw_code", "E17")}
    for number, (field, cell) in expected.items():
        assert outcome[number] == ("refused", field, cell), (number, report.lines[number - 3])
    assert "F13" in report.lines[10].message
    assert (report.added, report.skipped, report.refused) == (2, 0, 14)
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == 2
    assert db.session.scalar(select(func.sum(MonthlyTotal.quantity_kg))) == 12_500
    assert db.session.get(LedgerChain, w.a.id).seq == 2
    assert chain_store.verify_enterprise(w.a.id).ok


def test_repeated_reference_is_skipped_and_a_different_line_is_flagged(plant):
    w = plant
    line = dict(reference="L-1", period_date=DAY, kind="generation", stream_id=w.stream.id, handler="张三",
                facility_code="CS-01", tonnes=10)
    report = run_import(w, fill([line, line, dict(line, tonnes=11)]))
    assert [l.status for l in report.lines] == ["added", "skipped", "skipped"]
    assert report.lines[1].entry_id == report.lines[0].entry_id
    # Outside a request, messages are in the default language (Chinese).
    assert "不一致" in report.lines[2].message
    assert "不一致" not in report.lines[1].message


def test_api_rows_without_cells(plant):
    w = plant
    rows = [dict(reference="A-1", period_date=DAY, kind="generation", stream_id=w.stream.id, handler="李四",
                 facility_code="CS-01", tonnes=Decimal("7.125"), _line=1),
            dict(reference="A-2", period_date=DAY, kind="generation", stream_id=w.stream.id, handler="李四",
                 facility_code="NOPE", tonnes=Decimal("1"), _line=2)]
    report = import_rows(w.alice, w.a.id, rows, EntrySource.API)
    assert [(l.status, l.field, l.cell) for l in report.lines] == [("added", None, None),
                                                                  ("refused", "facility_code", None)]
    assert db.session.get(LedgerEntry, report.lines[0].entry_id).source is EntrySource.API


def test_import_permission_and_size(plant):
    w = plant
    rows = read_workbook(fill(good_rows(w)[:1]))
    for outsider in (w.bob, w.regulator):
        with pytest.raises(PermissionDenied):
            import_rows(outsider, w.a.id, rows, EntrySource.IMPORT)
    with pytest.raises(ValidationFailed):
        import_rows(w.alice, w.a.id, rows * 1001, EntrySource.IMPORT)
    db.session.rollback()
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == 0


def _edit_template(edit) -> bytes:
    book = load_workbook(io.BytesIO(fill([dict(reference="X", tonnes=1)])))
    edit(book[DATA_SHEET])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_wrong_header_and_not_xlsx_refuse_the_file(app):
    def rename(ws):
        ws["F1"] = "重量"

    def drop_handler(ws):
        ws["J1"] = None

    with pytest.raises(ValidationFailed) as refused:
        read_workbook(_edit_template(rename))
    assert "F1" in refused.value.message and "重量" in refused.value.message
    with pytest.raises(ValidationFailed) as refused:
        read_workbook(_edit_template(drop_handler))
    assert "经办人" in refused.value.message
    for junk in (b"not an excel file", b"PK\x03\x04broken zip", b""):
        with pytest.raises(ValidationFailed) as refused:
            read_workbook(junk)
        assert "file" in refused.value.fields
    with pytest.raises(ValidationFailed):
        read_workbook(fill([]))  # no lines


def test_header_spelling_variants_are_accepted(app):
    def halfwidth(ws):
        ws["F1"] = " 数量(吨) "

    rows = read_workbook(_edit_template(halfwidth))
    assert rows[0]["tonnes"] == 1 and rows[0]["_cells"]["tonnes"] == "F3"


# --------------------------------------------------------------------------- export


@pytest.fixture
def ledger(plant):
    w = plant
    common = dict(period_date=DAY, stream_id=w.stream.id, handler="张三")
    for inp in (
        EntryInput(kind="generation", tonnes="1000", facility_code="CS-01", **common),
        EntryInput(kind="storage_in", tonnes="400", facility_code="ZC-01", **common),
        EntryInput(kind="self_utilisation", tonnes="100", facility_code="LY-01", route_key="sintered_brick",
                   from_prior_storage=True, **common),
        EntryInput(kind="entrusted_utilisation", tonnes="250.125", route_key="cement_admixture",
                   counterparty_name=w.b.name, counterparty_credit_code=w.b.credit_code, carrier_name="通达物流",
                   plate_number="蒙K12345", contract_number="HT-1", **common),
        EntryInput(kind="generation", tonnes="5", facility_code="CS-01", period_date=date(2025, 4, 2),
                   stream_id=w.stream.id, handler='=HYPERLINK("http://evil.example","点我")'),
    ):
        record_entry(w.alice, w.a.id, inp)
    db.session.commit()
    return w


def _book(data: bytes):
    return load_workbook(io.BytesIO(data))


def _records(ws) -> list[dict]:
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:] if any(v is not None for v in row)]


def test_export_has_every_sheet_with_chinese_headers(ledger):
    book = _book(export_workbook(ledger.alice, [ledger.a.id], 2025))
    assert book.sheetnames == SHEETS
    assert [c.value for c in book["附表2 流向汇总表"][1]][:4] == ["单位名称", "统一社会信用代码", "年度", "月份"]
    shipment = _records(book["附表7 委托利用处置记录"])
    assert shipment[0]["车牌号"] == "蒙K12345" and shipment[0]["合同编号"] == "HT-1"
    assert shipment[0]["接收单位统一社会信用代码"] == ledger.b.credit_code
    assert shipment[0]["接收单位地址"] == ledger.b.address
    assert shipment[0]["数量（吨）"] == pytest.approx(250.125)
    ws = book["附表7 委托利用处置记录"]
    quantity_column = [c.value for c in ws[1]].index("数量（吨）") + 1
    assert ws.cell(2, quantity_column).number_format == "0.000"
    inventory = _records(book["附表1 产生清单"])
    assert inventory[0]["废物流编号"] == ledger.stream.id and inventory[0]["废物代码"] == "SW02"
    assert len(_records(book["附表3 产生环节记录"])) == 2
    assert len(_records(book["附表4 贮存环节记录"])) == 1


def test_flow_summary_equals_stats(ledger):
    w = ledger
    book = _book(export_workbook(w.regulator, [w.a.id], 2025))
    records = _records(book["附表2 流向汇总表"])
    by_month = {r["月份"]: r for r in records}
    assert set(by_month) == {3, 4, "全年"}
    stats = flow_by(StatsFilter(year=2025, enterprise_ids=(w.a.id,)), "stream_month")
    for month in (3, 4):
        totals, row = stats[(w.a.id, w.stream.id, month)], by_month[month]
        for header, kg in (("产生量（吨）", totals.generated), ("自行利用量（吨）", totals.self_utilised),
                           ("委托利用量（吨）", totals.entrusted_utilised),
                           ("其中：综合利用往年贮存量（吨）", totals.utilised_from_prior_storage)):
            assert Decimal(str(row[header])) == Decimal(kg) / 1000, (month, header)
        stock = closing_stock_kg(StatsFilter(year=2025, month=month, enterprise_ids=(w.a.id,), stream_id=w.stream.id))
        assert Decimal(str(row["自行贮存量（期末库存，吨）"])) == Decimal(stock) / 1000
    assert Decimal(str(by_month["全年"]["产生量（吨）"])) == Decimal("1005")
    assert by_month[3]["接收单位名称及统一社会信用代码"] == f"{w.b.name}（{w.b.credit_code}）"
    assert by_month[3]["填表人"] == w.regulator.name
    assert by_month[3]["综合利用率"] == pytest.approx(350.125 / 1100, abs=1e-6)


def test_formula_injection_is_escaped(ledger):
    data = export_workbook(ledger.alice, [ledger.a.id], 2025)
    book = _book(data)
    april = [r for r in _records(book["附表3 产生环节记录"]) if r["日期"].month == 4][0]
    assert april["经办人"] == '\'=HYPERLINK("http://evil.example","点我")'
    assert all(cell.data_type != "f" for ws in book for row in ws.iter_rows() for cell in row)


def test_verification_sheet_and_month_filter(ledger):
    w = ledger
    book = _book(export_workbook(w.alice, [w.a.id], 2025, month=4))
    check = _records(book["校验"])[0]
    assert check["链头哈希"] == chain_store.head(w.a.id).head_hash and check["校验结果"] == "完好"
    assert check["条目数"] == 5
    assert len(_records(book["附表3 产生环节记录"])) == 1
    assert _records(book["附表7 委托利用处置记录"]) == []
    with pytest.raises(ValidationFailed):
        export_workbook(w.alice, [w.a.id], 2025, month=13)


def test_export_permissions_and_base(ledger):
    w = ledger
    with pytest.raises(PermissionDenied):
        export_workbook(w.bob, [w.a.id], 2025)
    assert base_enterprise_ids(Base.JUNGAR) == [w.a.id]
    assert base_enterprise_ids(Base.OTOG) == [w.b.id]
    book = _book(export_workbook(w.regulator, base_enterprise_ids(Base.JUNGAR), 2025))
    assert {r["统一社会信用代码"] for r in _records(book["附表3 产生环节记录"])} == {w.a.credit_code}

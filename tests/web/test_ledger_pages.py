"""Ledger pages: record and correct through forms, the chain, the flow summary 附表2, Excel, the overview."""
from __future__ import annotations

import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.factories import login, make_facility, make_stream
from tests.web.test_stream_pages import invalid_feedback
from wasteex.enterprises.models import FacilityKind
from wasteex.extensions import db
from wasteex.ledger.models import EntrySource, LedgerEntry
from wasteex.ledger.service import EntryInput, record_entry

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DAY = "2025-03-15"


@pytest.fixture
def plant(world):
    make_facility(world.site_a, "CS-01", FacilityKind.GENERATION)
    make_facility(world.site_a, "ZC-01", FacilityKind.STORAGE)
    make_facility(world.site_a, "LY-01", FacilityKind.SELF_UTILISATION)
    world.stream = make_stream(world.a, world.site_a, "SW02", name="1号机组粉煤灰")
    return world


def generation(w, **changes) -> dict:
    data = dict(kind="generation", period_date=DAY, tonnes="12.5", handler="张三", stream_id=w.stream.id,
                facility_code="CS-01")
    data.update(changes)
    return data


def switch(client, user):
    client.post("/account/logout")
    return login(client, user)


def entry_count() -> int:
    return db.session.scalar(select(func.count(LedgerEntry.id)))


def recorded(w, kind="generation", tonnes="100", **fields) -> LedgerEntry:
    if kind == "generation":
        fields.setdefault("facility_code", "CS-01")
    inp = EntryInput(kind=kind, period_date=date(2025, 3, 15), tonnes=tonnes, handler="张三",
                     stream_id=w.stream.id, **fields)
    entry = record_entry(w.alice, w.a.id, inp, EntrySource.FORM)
    db.session.commit()
    return entry


def test_producer_records_an_entry_through_the_form_and_sees_it(client, plant):
    w = plant
    login(client, w.alice)
    page = client.get(f"/enterprises/{w.a.id}/ledger").get_data(as_text=True)
    assert 'id="record-entry"' in page and "data-wx-entry-fields" in page
    # The kind select tells app.js what each kind needs; field groups say when they show.
    assert re.search(r'<option[^>]*data-facility="generation"[^>]*value="generation"', page) or \
        re.search(r'<option[^>]*value="generation"[^>]*data-facility="generation"', page)
    answer = client.post(f"/enterprises/{w.a.id}/ledger", data=generation(w))
    assert answer.status_code == 302
    entry = db.session.scalar(select(LedgerEntry))
    assert entry.quantity_kg == 12_500 and entry.source is EntrySource.FORM and entry.recorded_by_id == w.alice.id
    listing = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "12.500" in listing and "1号机组粉煤灰" in listing and entry.hash[:16] in listing
    detail = client.get(f"/ledger/entries/{entry.id}").get_data(as_text=True)
    assert entry.hash in detail and entry.prev_hash in detail and "Alice" in detail


@pytest.mark.parametrize("tonnes", ["-3", "abc", "1.2345", "0", ""])
def test_a_bad_quantity_is_shown_next_to_the_field_and_nothing_is_written(client, plant, tonnes):
    w = plant
    login(client, w.alice)
    answer = client.post(f"/enterprises/{w.a.id}/ledger", data=generation(w, tonnes=tonnes))
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert invalid_feedback(html, "tonnes")
    assert 'class="collapse show" id="record-entry"' in html  # the form stays open with the values typed
    assert entry_count() == 0


@pytest.mark.parametrize("changes, field", [
    ({"facility_code": "ZC-01"}, "facility_code"),  # a storage facility for a generation entry
    ({"kind": "self_utilisation", "facility_code": "LY-01", "route_key": "gypsum_board"}, "route_key"),
    ({"kind": "entrusted_utilisation", "route_key": "cement_admixture", "counterparty_name": "乙砖厂",
      "counterparty_credit_code": "91150622000000000X", "carrier_name": "通达", "plate_number": "蒙K12345",
      "contract_number": "HT-1"}, "counterparty_credit_code"),
    ({"kind": "received", "stream_id": "", "sw_code": "SW99"}, "sw_code"),
    ({"handler": ""}, "handler"),
])
def test_the_service_rules_come_back_to_their_fields(client, plant, changes, field):
    w = plant
    login(client, w.alice)
    answer = client.post(f"/enterprises/{w.a.id}/ledger", data=generation(w, **changes))
    assert answer.status_code == 422
    assert invalid_feedback(answer.get_data(as_text=True), field)
    assert entry_count() == 0


def test_filters_and_sort(client, plant):
    w = plant
    first = recorded(w, tonnes="1")
    recorded(w, kind="storage_in", tonnes="2", facility_code="ZC-01")
    login(client, w.alice)
    only_storage = client.get(f"/enterprises/{w.a.id}/ledger?kind=storage_in").get_data(as_text=True)
    assert "2.000" in only_storage and "1.000" not in only_storage
    assert "1.000" not in client.get(f"/enterprises/{w.a.id}/ledger?year=2024").get_data(as_text=True)
    assert "1.000" in client.get(f"/enterprises/{w.a.id}/ledger?year=2025&month=3").get_data(as_text=True)
    ascending = client.get(f"/enterprises/{w.a.id}/ledger?sort=seq").get_data(as_text=True)
    assert ascending.index(f'/ledger/entries/{first.id}"') < ascending.index("2.000")


def test_correction_through_the_form(client, plant):
    w = plant
    original = recorded(w, tonnes="100")
    login(client, w.alice)
    page = client.get(f"/ledger/entries/{original.id}").get_data(as_text=True)
    assert 'name="reason"' in page and 'value="100.000"' in page  # the replacement starts from the original
    missing_reason = client.post(f"/ledger/entries/{original.id}/correct", data={"reason": ""})
    assert missing_reason.status_code == 422 and invalid_feedback(missing_reason.get_data(as_text=True), "reason")
    answer = client.post(f"/ledger/entries/{original.id}/correct",
                         data=generation(w, reason="地磅读数错误", replace="y", tonnes="98.2"))
    assert answer.status_code == 302
    reversal, replacement = db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.corrects_id == original.id).order_by(LedgerEntry.seq)).all()
    assert reversal.quantity_kg == -100_000 and replacement.quantity_kg == 98_200
    history = client.get(f"/ledger/entries/{original.id}").get_data(as_text=True)
    assert "地磅读数错误" in history and "-100.000" in history and "98.200" in history
    assert 'name="reason"' not in history  # corrected once: no second correction form
    listing = client.get(f"/enterprises/{w.a.id}/ledger").get_data(as_text=True)
    assert "wx-reversal" in listing and "wx-corrected" in listing
    assert f'href="/ledger/entries/{original.id}"' in listing
    assert 'name="reason"' not in client.get(f"/ledger/entries/{reversal.id}").get_data(as_text=True)


def test_chain_verification_page(client, plant):
    w = plant
    recorded(w)
    last = recorded(w, tonnes="2")
    login(client, w.alice)
    html = client.get(f"/enterprises/{w.a.id}/ledger/chain").get_data(as_text=True)
    assert 'alert-success' in html and last.hash in html


def test_summary_shows_the_rate_and_the_imbalance(client, plant):
    w = plant
    recorded(w, tonnes="100")
    recorded(w, kind="self_utilisation", tonnes="60", facility_code="LY-01", route_key="autoclaved_brick")
    login(client, w.alice)
    html = client.get(f"/enterprises/{w.a.id}/ledger/summary?year=2025").get_data(as_text=True)
    assert "60.00 %" in html  # 60 t utilised of 100 t generated
    assert "综合利用率 = 综合利用量 ÷ (产生量 + 综合利用往年贮存量)" in html
    assert "wx-imbalance" in html and "40.000" in html  # 40 t not accounted for
    recorded(w, kind="storage_in", tonnes="40", facility_code="ZC-01")
    balanced = client.get(f"/enterprises/{w.a.id}/ledger/summary?year=2025&month=3").get_data(as_text=True)
    assert "wx-imbalance" not in balanced and "40.000" in balanced  # now stored, and the closing stock


def test_other_enterprise_is_refused(client, plant):
    w = plant
    entry = recorded(w)
    login(client, w.bob)
    for url in (f"/enterprises/{w.a.id}/ledger", f"/enterprises/{w.a.id}/ledger/summary",
                f"/enterprises/{w.a.id}/ledger/chain", f"/enterprises/{w.a.id}/ledger/import",
                f"/enterprises/{w.a.id}/ledger/export?year=2025"):
        assert client.get(url).status_code == 403, url
    assert client.get(f"/ledger/entries/{entry.id}").status_code == 404
    assert client.post(f"/enterprises/{w.a.id}/ledger", data=generation(w)).status_code == 403
    assert client.post(f"/ledger/entries/{entry.id}/correct", data={"reason": "x"}).status_code == 404
    assert w.a.name not in client.get("/ledger/").get_data(as_text=True)
    assert client.get("/ledger/export?base=jungar&year=2025").status_code == 403
    assert entry_count() == 1


def test_regulator_reads_everything_but_sees_no_forms_and_cannot_post(client, plant):
    w = plant
    entry = recorded(w)
    login(client, w.regulator)
    page = client.get(f"/enterprises/{w.a.id}/ledger")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "12.500" not in html and "100.000" in html
    for absent in ('name="tonnes"', "record-entry", "/ledger/import", "import-template"):
        assert absent not in html
    assert f"/enterprises/{w.a.id}/ledger/chain" in html  # verifying is reading: offered to regulators
    detail = client.get(f"/ledger/entries/{entry.id}").get_data(as_text=True)
    assert entry.hash in detail and 'name="reason"' not in detail
    assert client.get(f"/enterprises/{w.a.id}/ledger/summary?year=2025").status_code == 200
    assert client.get(f"/enterprises/{w.a.id}/ledger/chain").status_code == 200
    assert client.get(f"/enterprises/{w.a.id}/ledger/import").status_code == 403
    assert client.post(f"/enterprises/{w.a.id}/ledger", data=generation(w)).status_code == 403
    assert client.post(f"/ledger/entries/{entry.id}/correct",
                       data=generation(w, reason="x", replace="y")).status_code == 403
    assert entry_count() == 1
    overview = client.get("/ledger/").get_data(as_text=True)
    assert w.a.name in overview and f"/enterprises/{w.a.id}/ledger" in overview and 'name="base"' in overview


def test_overview_search_and_base(client, plant):
    w = plant
    recorded(w)
    login(client, w.regulator)
    assert w.a.name in client.get("/ledger/?q=甲电").get_data(as_text=True)
    assert w.a.name not in client.get("/ledger/?q=不存在").get_data(as_text=True)
    assert w.a.name in client.get("/ledger/?base=jungar&sort=-last").get_data(as_text=True)
    assert w.a.name not in client.get("/ledger/?base=otog").get_data(as_text=True)
    switch(client, w.alice)
    assert w.a.name in client.get("/ledger/").get_data(as_text=True)
    switch(client, w.bob)
    assert w.a.name not in client.get("/ledger/").get_data(as_text=True)


# Excel ---------------------------------------------------------------------------

@pytest.fixture
def workbooks():
    """The Excel modules (written separately); these tests skip, not fail, without them."""
    return pytest.importorskip("wasteex.ledger.excel"), pytest.importorskip("wasteex.ledger.importer")


def filled_template(rows: list[dict]) -> bytes:
    from openpyxl import load_workbook

    from wasteex.ledger import excel, importer

    book = load_workbook(io.BytesIO(excel.template_workbook()))
    sheet = book[importer.DATA_SHEET]
    keys = [sheet.cell(2, column).value for column in range(1, sheet.max_column + 1)]
    for number, row in enumerate(rows, start=3):
        for key, value in row.items():
            sheet.cell(number, keys.index(key) + 1, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_template_download(client, plant, workbooks):
    login(client, plant.alice)
    answer = client.get("/ledger/import-template")
    assert answer.status_code == 200 and answer.mimetype == XLSX
    disposition = answer.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "filename*=UTF-8''" in disposition
    assert answer.data[:2] == b"PK"


def test_import_shows_every_line(client, plant, workbooks):
    w = plant
    login(client, w.alice)
    rows = [dict(reference="L-1", kind="产生", period_date=DAY, tonnes="10", handler="张三",
                 stream_id=w.stream.id, facility_code="CS-01"),
            dict(reference="L-2", kind="产生", period_date=DAY, tonnes="-1", handler="张三",
                 stream_id=w.stream.id, facility_code="CS-01")]
    upload = {"file": (io.BytesIO(filled_template(rows)), "台账.xlsx")}
    answer = client.post(f"/enterprises/{w.a.id}/ledger/import", data=upload, content_type="multipart/form-data")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert "L-1" in html and "L-2" in html and "table-danger" in html
    assert entry_count() == 1
    again = client.post(f"/enterprises/{w.a.id}/ledger/import", content_type="multipart/form-data",
                        data={"file": (io.BytesIO(filled_template(rows[:1])), "台账.xlsx")})
    assert again.status_code == 200 and entry_count() == 1  # the same reference is skipped


def test_import_refuses_what_is_not_a_workbook(client, plant, workbooks):
    w = plant
    login(client, w.alice)
    for data, name in ((b"not a zip", "x.xlsx"), (b"MZ", "x.exe")):
        answer = client.post(f"/enterprises/{w.a.id}/ledger/import", content_type="multipart/form-data",
                             data={"file": (io.BytesIO(data), name)})
        assert answer.status_code == 200
        assert invalid_feedback(answer.get_data(as_text=True), "file")
    assert entry_count() == 0


def test_exports(client, plant, workbooks):
    w = plant
    recorded(w)
    login(client, w.alice)
    mine = client.get(f"/enterprises/{w.a.id}/ledger/export?year=2025&month=3")
    assert mine.status_code == 200 and mine.mimetype == XLSX
    assert "2025-03" in mine.headers["Content-Disposition"]
    assert client.get("/ledger/export?base=jungar&year=2025").status_code == 403
    switch(client, w.regulator)
    base = client.get("/ledger/export?base=jungar&year=2025")
    assert base.status_code == 200 and base.mimetype == XLSX and base.data[:2] == b"PK"
    assert client.get("/ledger/export?base=nowhere&year=2025").status_code == 400


def test_a_broken_chain_is_shown_as_broken(client, plant):
    from sqlalchemy import update

    from wasteex.ledger.models import LedgerChain

    w = plant
    recorded(w)
    db.session.execute(update(LedgerChain).where(LedgerChain.enterprise_id == w.a.id).values(head_hash="f" * 64))
    db.session.commit()
    login(client, w.alice)
    html = client.get(f"/enterprises/{w.a.id}/ledger/chain").get_data(as_text=True)
    assert "alert-danger" in html and "head_mismatch" in html


def test_bad_query_arguments_fall_back_to_defaults(client, plant):
    w = plant
    recorded(w)
    login(client, w.alice)
    for url in (f"/enterprises/{w.a.id}/ledger?year=abc&month=13&kind=nope&stream=x&sort=drop&page=-1",
                f"/enterprises/{w.a.id}/ledger/summary?year=99999&month=0",
                f"/enterprises/{w.a.id}/inventory?year=x", "/ledger/?base=mars&sort=-nothing"):
        assert client.get(url).status_code == 200, url

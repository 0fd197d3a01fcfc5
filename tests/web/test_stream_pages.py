"""Stream pages: register and edit, quality values, lab reports (upload, download), the inventory 附表1."""
from __future__ import annotations

import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.factories import login, make_facility, make_stream
from wasteex.enterprises.models import FacilityKind
from wasteex.extensions import db
from wasteex.streams.models import LabReport, QualityValue, WasteStream

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def plant(world):
    world.gen = make_facility(world.site_a, "CS-01", FacilityKind.GENERATION)
    world.store = make_facility(world.site_a, "ZC-01", FacilityKind.STORAGE)
    world.stream = make_stream(world.a, world.site_a, "SW02", name="1号机组粉煤灰")
    return world


def stream_form(w, **changes) -> dict:
    data = dict(site_id=w.site_a.id, name="脱硫石膏", sw_code="SW06", code_2024="", gb_class="I",
                physical_form="powder", process_step="湿法脱硫", generating_facility_id=w.gen.id,
                storage_facility_id=w.store.id, main_components="CaSO4·2H2O", hazardous_components="",
                expected_annual_tonnes="260000", planned_route_key="gypsum_board")
    data.update(changes)
    return data


def invalid_feedback(html: str, field_id: str) -> str:
    """The error shown right after the field with this id ('' when the field is not marked invalid)."""
    tag = re.search(rf'<(input|select|textarea)[^>]*\bid="{field_id}"[^>]*>', html)
    if tag is None or "is-invalid" not in tag.group(0):
        return ""
    rest = html[tag.end():]
    if tag.group(1) != "input":
        rest = rest[rest.index(f"</{tag.group(1)}>") + len(tag.group(1)) + 3:]
    feedback = re.match(r'\s*<div class="invalid-feedback">([^<]+)</div>', rest)
    return feedback.group(1) if feedback else ""


def stream_count() -> int:
    return db.session.scalar(select(func.count(WasteStream.id)))


def test_producer_registers_a_stream_and_sees_it(client, plant):
    w = plant
    login(client, w.alice)
    page = client.get(f"/enterprises/{w.a.id}/streams")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "1号机组粉煤灰" in html and 'id="register-stream"' in html
    # Generating and storage facility selects offer only this enterprise's facilities of the right kind.
    generating = re.search(r'<select[^>]*id="generating_facility_id".*?</select>', html, re.S).group(0)
    assert "CS-01" in generating and "ZC-01" not in generating
    answer = client.post(f"/enterprises/{w.a.id}/streams", data=stream_form(w))
    assert answer.status_code == 302
    stream = db.session.scalar(select(WasteStream).where(WasteStream.name == "脱硫石膏"))
    assert stream.expected_annual_kg == 260_000_000 and stream.planned_route.key == "gypsum_board"
    detail = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "脱硫石膏" in detail and "260000.000" in detail and "ZC-01" in detail


@pytest.mark.parametrize("change, field", [
    ({"planned_route_key": "alumina_extraction"}, "planned_route_key"),  # fly-ash route for gypsum
    ({"expected_annual_tonnes": "-5"}, "expected_annual_tonnes"),
    ({"name": ""}, "name"),
    ({"code_2024": "ABC"}, "code_2024"),
    ({"generating_facility_id": "999999"}, "generating_facility_id"),
])
def test_refused_stream_shows_the_error_next_to_the_field(client, plant, change, field):
    w = plant
    login(client, w.alice)
    before = stream_count()
    answer = client.post(f"/enterprises/{w.a.id}/streams", data=stream_form(w, **change))
    assert answer.status_code == 422
    assert invalid_feedback(answer.get_data(as_text=True), field)
    assert stream_count() == before


def test_edit_stream(client, plant):
    w = plant
    login(client, w.alice)
    form = client.get(f"/streams/{w.stream.id}/edit").get_data(as_text=True)
    assert 'value="100000.000"' in form  # expected tonnes pre-filled with 3 decimals
    data = stream_form(w, name="1号机组粉煤灰（改）", sw_code="SW02", planned_route_key="cement_admixture",
                       expected_annual_tonnes="120000.5", active="y")
    assert client.post(f"/streams/{w.stream.id}/edit", data=data).status_code == 302
    db.session.refresh(w.stream)
    assert w.stream.name == "1号机组粉煤灰（改）" and w.stream.expected_annual_kg == 120_000_500


def test_quality_value_form(client, plant):
    w = plant
    login(client, w.alice)
    html = client.get(f"/streams/{w.stream.id}").get_data(as_text=True)
    assert "Al₂O₃" in html or "氧化铝" in html  # the attribute select names unit and range
    ok = client.post(f"/streams/{w.stream.id}/quality",
                     data={"attribute": "al2o3_pct", "value": "45.2", "measured_on": "2025-06-01"})
    assert ok.status_code == 302
    assert "45.2" in client.get(f"/streams/{w.stream.id}").get_data(as_text=True)
    bad = client.post(f"/streams/{w.stream.id}/quality",
                      data={"attribute": "al2o3_pct", "value": "150", "measured_on": "2025-06-01"})
    assert bad.status_code == 422
    assert invalid_feedback(bad.get_data(as_text=True), "value")
    assert db.session.scalar(select(func.count(QualityValue.id))) == 1


def upload(client, stream_id, data: bytes, name: str):
    return client.post(f"/streams/{stream_id}/lab-reports", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), name), "laboratory": "鄂尔多斯市检测中心",
                             "report_date": "2025-05-20"})


def test_lab_report_upload_and_download(client, plant):
    w = plant
    login(client, w.alice)
    assert upload(client, w.stream.id, PDF, "检测报告.pdf").status_code == 302
    report = db.session.scalar(select(LabReport))
    assert report.content_type == "application/pdf" and report.size_bytes == len(PDF)
    assert "检测报告.pdf" in client.get(f"/streams/{w.stream.id}").get_data(as_text=True)
    download = client.get(f"/lab-reports/{report.id}")
    assert download.status_code == 200
    assert download.data == PDF
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("data, name", [
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00", "setup.exe"),
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00", "setup.pdf"),
    (b"<html><script>alert(1)</script></html>", "report.pdf"),
    (b"", "empty.pdf"),
])
def test_lab_report_refuses_what_is_not_a_pdf_or_image(client, plant, data, name):
    w = plant
    login(client, w.alice)
    answer = upload(client, w.stream.id, data, name)
    assert answer.status_code == 422
    assert invalid_feedback(answer.get_data(as_text=True), "file")
    assert db.session.scalar(select(func.count(LabReport.id))) == 0


def test_other_enterprise_gets_nothing(client, plant):
    w = plant
    login(client, w.alice)
    upload(client, w.stream.id, PDF, "r.pdf")
    report = db.session.scalar(select(LabReport))
    client.post("/account/logout")
    login(client, w.bob)
    assert client.get(f"/enterprises/{w.a.id}/streams").status_code == 403
    assert client.get(f"/enterprises/{w.a.id}/inventory").status_code == 403
    assert client.get(f"/streams/{w.stream.id}").status_code == 404
    assert client.get(f"/streams/{w.stream.id}/edit").status_code == 404
    assert client.get(f"/lab-reports/{report.id}").status_code == 404
    assert client.post(f"/enterprises/{w.a.id}/streams", data=stream_form(w)).status_code == 403
    assert client.post(f"/streams/{w.stream.id}/quality",
                       data={"attribute": "al2o3_pct", "value": "1", "measured_on": "2025-06-01"}).status_code == 404
    assert upload(client, w.stream.id, PDF, "x.pdf").status_code == 404
    assert db.session.scalar(select(func.count(LabReport.id))) == 1


def test_regulator_reads_without_forms(client, plant):
    w = plant
    login(client, w.alice)
    upload(client, w.stream.id, PDF, "r.pdf")
    report = db.session.scalar(select(LabReport))
    client.post("/account/logout")
    login(client, w.regulator)
    listing = client.get(f"/enterprises/{w.a.id}/streams").get_data(as_text=True)
    assert "1号机组粉煤灰" in listing and "register-stream" not in listing
    detail = client.get(f"/streams/{w.stream.id}").get_data(as_text=True)
    assert 'name="value"' not in detail and 'type="file"' not in detail and "/edit" not in detail
    assert client.get(f"/lab-reports/{report.id}").status_code == 200
    assert client.get(f"/streams/{w.stream.id}/edit").status_code == 403
    before = stream_count()
    assert client.post(f"/enterprises/{w.a.id}/streams", data=stream_form(w)).status_code == 403
    assert upload(client, w.stream.id, PDF, "x.pdf").status_code == 403
    assert stream_count() == before


def test_inventory_lists_the_streams(client, plant):
    w = plant
    w.stream.generating_facility_id = w.gen.id
    db.session.commit()
    login(client, w.alice)
    html = client.get(f"/enterprises/{w.a.id}/inventory?year={date.today().year}").get_data(as_text=True)
    assert "1号机组粉煤灰" in html and "CS-01" in html and "锅炉燃烧" in html and "100000.000" in html
    assert w.a.credit_code in html
    past = client.get(f"/enterprises/{w.a.id}/inventory?year=2001").get_data(as_text=True)
    assert "1号机组粉煤灰" not in past

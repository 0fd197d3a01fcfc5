"""The slip's QR code is inserted as markup: it must carry no text but what segno escaped."""
from __future__ import annotations

from wasteex.transfers.printout import qr_svg


def test_the_qr_svg_escapes_its_title_and_copies_no_other_text():
    svg = str(qr_svg("https://wasteex.example/verify/<script>/x", '<script>alert(1)</script>"'))
    assert svg.startswith("<svg") and "<script" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "verify" not in svg  # the URL is only in the modules, never as text

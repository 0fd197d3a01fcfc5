"""The printed slip and its public verification: a QR code on paper that anyone can check.

A slip travels on paper too (the driver's copy, the weighbridge's file). Its
QR code opens ``/verify/<number>/<token>``, where the token is an HMAC of the
number under the app's SECRET_KEY: whoever holds the paper can check it
against the platform, but slip numbers cannot be enumerated to read others.
The verification shows only what the paper already shows, minus people and
money: ``PublicSlip`` is that whole list, so nothing else can leak by a
template change.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

import segno
from flask import current_app, url_for
from markupsafe import Markup
from sqlalchemy import select

from wasteex import paths
from wasteex.extensions import db
from wasteex.transfers.models import TransferSlip
from wasteex.transfers.states import SlipStatus

TOKEN_LENGTH = 16  # hex characters: 64 bits
STYLESHEET = paths.STATIC_DIR / "css" / "slip-print.css"


def verification_token(number: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()[:TOKEN_LENGTH]


def verification_url(slip: TransferSlip) -> str:
    return url_for("transfers.verify", number=slip.number, token=verification_token(slip.number), _external=True)


def qr_svg(text: str, title: str) -> Markup:
    """The QR code as inline SVG (no data URI, no inline style: the CSP allows it as it is).

    Safe to mark as markup: segno draws the SVG from the code's matrix alone and XML-escapes the
    title, the only text it copies in (tests/unit/test_slip_qr.py holds it to that)."""
    svg = segno.make(text, error="m").svg_inline(scale=3, title=title, border=2)
    return Markup(svg)  # nosec B704 - see the docstring


def pdf(html: str) -> bytes:
    """The printable slip (``transfers/print.html`` rendered for PDF) as an A4 PDF in Chinese."""
    from weasyprint import CSS, HTML  # a heavy import (Pango, fonts): only when a PDF is asked for

    return HTML(string=html, base_url=str(paths.STATIC_DIR)).write_pdf(stylesheets=[CSS(filename=str(STYLESHEET))])


@dataclass(frozen=True)
class Signed:
    act: str
    leg: int
    enterprise: str
    at: datetime


@dataclass(frozen=True)
class PublicSlip:
    """What the verification page may show: no persons, no prices, no plates."""

    number: str
    status: SlipStatus
    sw_code: str
    planned_kg: int
    dispatched_kg: int | None
    received_kg: int | None
    refused_kg: int | None
    producer: str
    receiver: str
    carriers: tuple[str, ...]
    signatures: tuple[Signed, ...]


def verify(number: str, token: str) -> PublicSlip | None:
    """The published slip this paper claims to be, or None (wrong token, unknown number, a draft)."""
    if not hmac.compare_digest(verification_token(number).encode(), token.encode()):
        return None
    slip = db.session.scalar(select(TransferSlip).where(TransferSlip.number == number))
    if slip is None or slip.status is SlipStatus.DRAFT:
        return None
    return PublicSlip(
        number=slip.number, status=slip.status, sw_code=slip.sw_code, planned_kg=slip.planned_kg,
        dispatched_kg=slip.dispatched_kg, received_kg=slip.received_kg, refused_kg=slip.refused_kg,
        producer=slip.producer.name, receiver=slip.receiver.name,
        carriers=tuple(leg.carrier.name for leg in slip.legs),
        signatures=tuple(Signed(s.act.value, s.leg_position, s.enterprise.name, s.signed_at)
                         for s in slip.signatures))

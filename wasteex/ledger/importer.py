"""Importing ledger entries in bulk, from the .xlsx template or an API batch.

Why line by line: a file of a thousand weighbridge lines mixes good and bad
ones, and the person who sent it needs to know the fate of each. Every line is
recorded inside its own SAVEPOINT through the same ``build_entry`` +
``commit_to_chain`` as a form entry, so a refused line leaves nothing behind
(no entry, no chain step, no monthly total) and an added line is complete.
A line whose reference is already recorded for the enterprise is skipped, which
makes sending the same file twice harmless. Nothing here commits: the caller
(view, API endpoint, CLI) commits once.

The template's columns (``COLUMNS``) live here because the reader owns the
format; ``excel.template_workbook`` renders them.
"""
from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from wasteex.accounts.models import User
from wasteex.accounts.permissions import require_enterprise_writer
from wasteex.audit.service import record
from wasteex.catalog.models import Route
from wasteex.enterprises.models import Enterprise
from wasteex.errors import NotFound, ValidationFailed
from wasteex.extensions import db
from wasteex.ledger.models import EntryKind, EntrySource, LedgerChain, LedgerEntry
from wasteex.ledger.rates import tonnes_to_kg
from wasteex.ledger.service import EntryInput, build_entry, commit_to_chain

MAX_ROWS = 1000
DATA_SHEET = "台账导入"
MAX_ID = 2**31 - 1  # ids are 32-bit INTEGER columns; larger values would be a database error, not a refusal

KIND_NAMES: dict[EntryKind, str] = {
    EntryKind.GENERATION: "产生", EntryKind.STORAGE_IN: "贮存入库", EntryKind.STORAGE_OUT: "贮存出库",
    EntryKind.SELF_UTILISATION: "自行利用", EntryKind.SELF_DISPOSAL: "自行处置",
    EntryKind.ENTRUSTED_UTILISATION: "委托利用", EntryKind.ENTRUSTED_DISPOSAL: "委托处置",
    EntryKind.DUMPED: "倾倒丢弃", EntryKind.RECEIVED: "接收", EntryKind.RECEIVED_UTILISED: "接收后利用",
    EntryKind.RECEIVED_DISPOSED: "接收后处置",
}
_KIND_BY_NAME = {name: kind.value for kind, name in KIND_NAMES.items()}
_YES, _NO = {"是", "yes", "y", "true", "1", "t"}, {"否", "no", "n", "false", "0", "f", ""}
_DATE_RE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool
    note: str


COLUMNS: tuple[Column, ...] = (
    Column("reference", "参考号", True, "本行自己的编号（如磅单号），同一企业内唯一；再次导入同一参考号的行将被跳过"),
    Column("period_date", "日期", True, "YYYY-MM-DD 或 Excel 日期，不得晚于今天"),
    Column("kind", "类型", True, "见“类型”表，填中文名称或英文值"),
    Column("stream_id", "废物流编号", False, "产废单位各类型必填：附表1 中的废物流编号"),
    Column("sw_code", "废物代码", False, "接收类型必填，如 SW02；产废类型可不填（填写则须与废物流一致）"),
    Column("tonnes", "数量（吨）", True, "大于 0、不超过 1000 万吨，最多 3 位小数；填数值，不得使用公式"),
    Column("facility_code", "设施编码", False, "产生、贮存、自行利用、自行处置必填：本企业登记的设施编码"),
    Column("route_key", "利用/处置方式", False, "利用、处置类型必填：见“利用/处置方式”表，填编码或中文名称"),
    Column("from_prior_storage", "是否往年贮存", False, "是/否，默认否；仅贮存出库、利用、处置可填“是”"),
    Column("handler", "经办人", True, "经办人姓名"),
    Column("counterparty_name", "对方单位名称", False, "委托利用/处置填接收单位，接收填来源单位"),
    Column("counterparty_credit_code", "对方统一社会信用代码", False, "18 位统一社会信用代码"),
    Column("carrier_name", "承运单位", False, "委托利用/处置必填"),
    Column("plate_number", "车牌号", False, "委托利用/处置必填，如 蒙K12345"),
    Column("contract_number", "合同编号", False, "委托利用/处置必填"),
    Column("product", "产品", False, "利用所得产品（可选）"),
)
_TEXT_LIMITS = {"handler": 120, "counterparty_name": 255, "counterparty_credit_code": 18, "carrier_name": 255,
                "plate_number": 16, "contract_number": 64, "product": 255, "facility_code": 40,
                "route_key": 120, "sw_code": 4, "reference": 64, "kind": 40}


@dataclass(frozen=True)
class ImportLine:
    line: int
    reference: str | None
    status: str  # "added" | "skipped" | "refused"
    field: str | None
    cell: str | None
    message: str
    entry_id: int | None


@dataclass
class ImportReport:
    lines: list[ImportLine] = field(default_factory=list)
    added: int = 0
    skipped: int = 0
    refused: int = 0


# --------------------------------------------------------------------------- reading the file


def _header_name(value) -> str:
    """Spellings people type for the same header: full-width brackets, stray spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value or "")))


_BY_HEADER = {_header_name(c.header): c.key for c in COLUMNS} | {c.key: c.key for c in COLUMNS}


def _open(data: bytes):
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # zip, XML or openpyxl errors: whatever the cause, it is not a usable .xlsx
        raise ValidationFailed.on("file", _("The file is not a valid Excel workbook (.xlsx).")) from None


def _columns(sheet, header) -> dict[int, str]:
    """Column index → internal key, refusing unknown, repeated or missing columns."""
    found: dict[int, str] = {}
    for index, cell in enumerate(header or ()):
        if cell.value is None or str(cell.value).strip() == "":
            continue
        key = _BY_HEADER.get(_header_name(cell.value))
        where = f"{get_column_letter(index + 1)}1"
        if key is None or key in found.values():
            message = _("Sheet %(sheet)s, cell %(cell)s: unknown or repeated column “%(name)s”.",
                        sheet=sheet.title, cell=where, name=str(cell.value).strip())
            raise ValidationFailed.on("file", message)
        found[index] = key
    missing = [c.header for c in COLUMNS if c.required and c.key not in found.values()]
    if missing:
        raise ValidationFailed.on("file", _("Sheet %(sheet)s: missing column(s) %(names)s.",
                                            sheet=sheet.title, names="、".join(missing)))
    return found


def _row(cells, columns: dict[int, str], number: int) -> dict | None:
    """One sheet row as a dict of internal keys, or None when the row is blank."""
    row: dict = {"_line": number, "_cells": {}, "_formulas": {}}
    for index, key in columns.items():
        cell = cells[index] if index < len(cells) else None
        coordinate = f"{get_column_letter(index + 1)}{number}"
        row["_cells"][key] = coordinate
        value = getattr(cell, "value", None)
        if getattr(cell, "data_type", None) in ("f", "e"):  # formula or Excel error (#DIV/0!): refuse, never guess
            row["_formulas"][key] = coordinate
            value = None
        row[key] = value
    blank = all(row[k] is None or str(row[k]).strip() == "" for k in columns.values()) and not row["_formulas"]
    return None if blank else row


def read_workbook(data: bytes) -> list[dict]:
    """Rows of the template's data sheet keyed by internal keys, with ``_line``/``_cells``/``_formulas``.

    Refuses the whole file (ValidationFailed) only when it cannot be read as a
    ledger file at all: not an .xlsx, wrong header, no lines, too many lines.
    Cell-level problems (a formula, a bad number) become per-line refusals.
    """
    book = _open(data)
    try:
        sheet = book[DATA_SHEET] if DATA_SHEET in book.sheetnames else book.worksheets[0]
        result = _data_rows(sheet)
    except ValidationFailed:
        raise
    except Exception:  # read-only sheets parse lazily: a damaged sheet fails here, not in load_workbook
        raise ValidationFailed.on("file", _("The file is not a valid Excel workbook (.xlsx).")) from None
    finally:
        book.close()
    if not result:
        raise ValidationFailed.on("file", _("Sheet %(sheet)s has no data lines.", sheet=sheet.title))
    return result


def _data_rows(sheet) -> list[dict]:
    rows = sheet.iter_rows()
    columns = _columns(sheet, next(rows, None))
    result: list[dict] = []
    for number, cells in enumerate(rows, start=2):
        row = _row(cells, columns, number)
        if row is None or (number == 2 and all(row[k] == k for k in columns.values())):
            continue  # blank, or the template's (hidden) row of internal keys
        result.append(row)
        if len(result) > MAX_ROWS:
            raise ValidationFailed.on("file", _("At most %(n)s lines per file.", n=MAX_ROWS))
    return result


# --------------------------------------------------------------------------- cell values → EntryInput


def _fail(name: str, message: str):
    raise ValidationFailed.on(name, message)


def _text(row: dict, key: str) -> str | None:
    raw = row.get(key)
    if raw is None:
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # a contract number typed as a number comes back as 2025001.0
    value = (raw.isoformat() if isinstance(raw, (date, datetime)) else str(raw)).strip()
    if _CONTROL_RE.search(value):
        _fail(key, _("This field contains control characters."))
    if len(value) > _TEXT_LIMITS.get(key, 255):
        _fail(key, _("At most %(n)s characters.", n=_TEXT_LIMITS.get(key, 255)))
    return value or None


def _reference(row: dict) -> str:
    reference = _text(row, "reference")
    if not reference:
        _fail("reference", _("Give each line its own reference (for example the weighbridge slip number)."))
    return reference


def _period(raw) -> date | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    match = _DATE_RE.fullmatch(raw.strip()) if isinstance(raw, str) else None
    try:
        if match:
            return date(*(int(part) for part in match.groups()))
    except ValueError:
        pass  # 2025-02-30 and the like
    _fail("period_date", _("Enter the date as YYYY-MM-DD (for example 2025-03-15)."))


def _tonnes(raw):
    """Excel keeps numbers as binary floats; the shortest repr is what the person typed."""
    if isinstance(raw, bool):
        _fail("tonnes", _("Enter a positive number of tonnes with at most 3 decimals."))
    if isinstance(raw, float):
        return Decimal(repr(raw))
    return unicodedata.normalize("NFKC", raw).strip() if isinstance(raw, str) else raw  # full-width digits


def _stream_id(raw) -> int | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    text = str(int(raw)) if isinstance(raw, float) and raw.is_integer() else str(raw)
    text = unicodedata.normalize("NFKC", text).strip()
    if isinstance(raw, bool) or not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_ID:
        _fail("stream_id", _("Enter the number of one of this enterprise's waste streams."))
    return int(text)


def _yes_no(raw) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, (int, float)) and raw in (0, 1):
        return raw == 1
    text = str(raw if raw is not None else "").strip().lower()
    if text in _YES or text in _NO:
        return text in _YES
    _fail("from_prior_storage", _("Enter 是 or 否."))


def _kind(row: dict) -> str:
    text = _text(row, "kind") or ""
    return _KIND_BY_NAME.get(text, text.lower())


def entry_input(row: dict, route_keys: dict[str, str]) -> EntryInput:
    """One row (cell values as read or as sent by the API) → the service's EntryInput."""
    route = _text(row, "route_key")
    return EntryInput(
        kind=_kind(row), period_date=_period(row.get("period_date")), tonnes=_tonnes(row.get("tonnes")),
        handler=_text(row, "handler") or "", stream_id=_stream_id(row.get("stream_id")),
        sw_code=(_text(row, "sw_code") or "").upper() or None, facility_code=_text(row, "facility_code"),
        route_key=route_keys.get(route, route) if route else None,
        from_prior_storage=_yes_no(row.get("from_prior_storage")),
        counterparty_name=_text(row, "counterparty_name"),
        counterparty_credit_code=(_text(row, "counterparty_credit_code") or "").upper() or None,
        carrier_name=_text(row, "carrier_name"), plate_number=_text(row, "plate_number"),
        contract_number=_text(row, "contract_number"), product=_text(row, "product"),
        reference=_reference(row),
    )


# --------------------------------------------------------------------------- recording


def _hold_chain(enterprise_id: int) -> None:
    """Take the enterprise's chain row first (a no-op UPDATE), before any savepoint.

    This serialises imports of one enterprise (on SQLite the write lock does
    the same), so the duplicate-reference check below cannot race another import.
    """
    db.session.execute(update(LedgerChain).where(LedgerChain.enterprise_id == enterprise_id)
                       .values(seq=LedgerChain.seq).execution_options(synchronize_session=False))


def _existing(enterprise_id: int, reference: str) -> LedgerEntry | None:
    return db.session.scalar(select(LedgerEntry).where(
        LedgerEntry.enterprise_id == enterprise_id, LedgerEntry.reference == reference))


def _skipped(number: int, existing: LedgerEntry, row: dict, route_keys) -> ImportLine:
    """A repeated reference is skipped; say so loudly when the line's figures differ from the recorded ones."""
    message = _("Already recorded as entry %(id)s.", id=existing.id)
    try:
        inp = entry_input(row, route_keys)
        same = (inp.kind == existing.kind.value and inp.period_date == existing.period_date
                and tonnes_to_kg(inp.tonnes) == existing.quantity_kg)
    except (ValidationFailed, ValueError, TypeError):
        same = False
    if not same:
        message += " " + _("This line differs from the recorded entry (kind, date or quantity): check its reference.")
    return ImportLine(number, existing.reference, "skipped", "reference", row.get("_cells", {}).get("reference"),
                      message, existing.id)


def _record_line(actor: User, enterprise: Enterprise, row: dict, source: EntrySource, route_keys) -> LedgerEntry:
    """Validate and append one line inside its own savepoint; any refusal rolls the savepoint back."""
    inp = entry_input(row, route_keys)
    with db.session.begin_nested():
        entry = build_entry(enterprise, inp, actor, source)
        if inp.sw_code and inp.sw_code != entry.sw_code:
            _fail("sw_code", _("This waste stream has code %(code)s.", code=entry.sw_code))
        return commit_to_chain(actor, entry)


def _import_line(actor, enterprise, row: dict, number: int, source, route_keys) -> ImportLine:
    cells = row.get("_cells") or {}
    raw = row.get("reference")
    reference = (str(raw).strip()[:64] or None) if raw is not None else None  # reported even when refused
    try:
        for key, cell in (row.get("_formulas") or {}).items():
            _fail(key, _("Cell %(cell)s contains a formula or an error value; enter the value itself.", cell=cell))
        reference = _reference(row)
        existing = _existing(enterprise.id, reference)
        if existing is not None:
            return _skipped(number, existing, row, route_keys)
        entry = _record_line(actor, enterprise, row, source, route_keys)
    except ValidationFailed as refused:
        name = next(iter(refused.fields), None)
        return ImportLine(number, reference, "refused", name, cells.get(name), refused.message, None)
    except IntegrityError:
        existing = _existing(enterprise.id, reference)  # another import recorded it meanwhile
        if existing is None:
            raise
        return _skipped(number, existing, row, route_keys)
    return ImportLine(number, reference, "added", None, None, _("Recorded as entry %(id)s.", id=entry.id), entry.id)


def _route_keys() -> dict[str, str]:
    """Chinese route names → keys, so a file may name the route as people do."""
    return {name: key for key, name in db.session.execute(select(Route.key, Route.name_zh))}


def import_rows(actor: User, enterprise_id: int, rows: list[dict], source: EntrySource) -> ImportReport:
    """Record each row (keyed by ``COLUMNS`` keys) and report every line's fate; flushes, never commits."""
    if len(rows) > MAX_ROWS:
        raise ValidationFailed.on("lines", _("At most %(n)s lines per import.", n=MAX_ROWS))
    enterprise = db.session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise NotFound(_("No such enterprise."))
    require_enterprise_writer(actor, enterprise_id)
    _hold_chain(enterprise_id)
    route_keys = _route_keys()
    report = ImportReport()
    for position, row in enumerate(rows, start=1):
        line = _import_line(actor, enterprise, row, row.get("_line") or position, source, route_keys)
        report.lines.append(line)
        setattr(report, line.status, getattr(report, line.status) + 1)
    db.session.flush()
    record(actor, "ledger.imported", enterprise, enterprise_id=enterprise_id, source=source,
           added=report.added, skipped=report.skipped, refused=report.refused)
    return report

"""The MEE ledger as an .xlsx workbook (附表1–7, 接收记录, 校验) and the import template.

Why a workbook and not only pages: the MEE guide (2021 No. 82) has enterprises
keep and hand over these tables, and regulators file them. Headers are the
guide's Chinese names, fixed text and not translated.

Decisions, so readers of an export know what they hold:
* quantities are numeric cells in tonnes, ``Decimal(kg) / 1000`` with number
  format ``0.000``: exact (they come from integer kg), and a regulator can sum
  them; a reversing correction shows as a negative line;
* any text cell starting with ``= + - @``, tab or CR gets a leading ``'``
  (formula injection, FIELD_NOTES.md): it stays visible and is never evaluated;
* 附表2 comes from ``ledger.stats`` (the monthly totals), the same figures as
  the dashboards; only receiver names and routes are read from the entries;
* the 校验 sheet prints each chain's head hash and whether it verified now:
  keep it, and compare it with a later export to catch a wholesale re-hash.
"""
from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from wasteex.accounts.models import User
from wasteex.accounts.permissions import require_enterprise_reader
from wasteex.catalog.models import Route, RouteKind, WasteCategory
from wasteex.database import utcnow
from wasteex.enterprises.models import Enterprise, FacilityKind, Site
from wasteex.errors import NotFound, ValidationFailed
from wasteex.extensions import db
from wasteex.geo import Base
from wasteex.ledger import chain_store
from wasteex.ledger.chain import GENESIS
from wasteex.ledger.importer import COLUMNS, DATA_SHEET, KIND_NAMES, MAX_ROWS
from wasteex.ledger.kinds import RULES
from wasteex.ledger.models import EntryKind, EntrySource, LedgerEntry
from wasteex.ledger.stats import StatsFilter, closing_stock_kg, flow_by
from wasteex.streams.models import WasteStream

TONNES_FORMAT = "0.000"
UNSAFE_START = ("=", "+", "-", "@", "\t", "\r")
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
FACILITY_NAMES = {FacilityKind.GENERATION: "产生设施", FacilityKind.STORAGE: "贮存设施",
                  FacilityKind.SELF_UTILISATION: "自行利用设施", FacilityKind.SELF_DISPOSAL: "自行处置设施"}
ROUTE_KIND_NAMES = {RouteKind.UTILISATION: "利用", RouteKind.DISPOSAL: "处置"}
FORM_NAMES = {"solid": "固态", "powder": "粉状", "semi_solid": "半固态", "sludge": "泥状", "slurry": "浆状"}


def safe_text(value: str) -> str:
    """Neutralise a text that a spreadsheet would run as a formula."""
    return "'" + value if value.startswith(UNSAFE_START) else value


@dataclass(frozen=True)
class Kg:
    """A quantity to be written as tonnes (numeric, 3 decimals)."""

    value: int


@dataclass(frozen=True)
class Ratio:
    """A Decimal fraction to be written as a percentage."""

    value: Decimal


class Sheet:
    """A write-only sheet with a bold, frozen Chinese header row and typed cells."""

    def __init__(self, book: Workbook, title: str, headers: list[str]):
        self.ws = book.create_sheet(title)
        self.ws.freeze_panes = "A2"
        for index, header in enumerate(headers, start=1):
            self.ws.column_dimensions[get_column_letter(index)].width = max(10, min(40, 2 * len(header) + 4))
        self.add(headers, header=True)

    def _cell(self, value, header: bool):
        if isinstance(value, bool):
            value = "是" if value else "否"
        if isinstance(value, str):
            cell = WriteOnlyCell(self.ws, value=safe_text(value))
        elif isinstance(value, Kg):
            cell = WriteOnlyCell(self.ws, value=Decimal(value.value).scaleb(-3))
            cell.number_format = TONNES_FORMAT
        elif isinstance(value, Ratio):
            cell = WriteOnlyCell(self.ws, value=value.value)
            cell.number_format = "0.00%"
        elif isinstance(value, (date, datetime)):
            cell = WriteOnlyCell(self.ws, value=value)
            cell.number_format = "yyyy-mm-dd" if not isinstance(value, datetime) else "yyyy-mm-dd hh:mm:ss"
        else:
            cell = WriteOnlyCell(self.ws, value=value)
        if header:
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        return cell

    def add(self, values, header: bool = False) -> None:
        self.ws.append([self._cell(v, header) for v in values])


def workbook_bytes(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------- the import template


def _template_data_sheet(book: Workbook) -> None:
    ws = book.active
    ws.title = DATA_SHEET
    ws.append([c.header for c in COLUMNS])
    ws.append([c.key for c in COLUMNS])  # the reader maps headers itself; this row documents the keys
    ws.row_dimensions[2].hidden = True
    ws.freeze_panes = "A3"
    formats = {"period_date": "yyyy-mm-dd", "tonnes": TONNES_FORMAT, "stream_id": "0"}
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        ws.cell(1, index).font, ws.cell(1, index).fill = HEADER_FONT, HEADER_FILL
        ws.column_dimensions[letter].width = max(12, 2 * len(column.header) + 4)
        ws.column_dimensions[letter].number_format = formats.get(column.key, "@")  # text keeps leading zeros
    last = MAX_ROWS + 2
    for key, choices in (("kind", KIND_NAMES.values()), ("from_prior_storage", ("是", "否"))):
        letter = get_column_letter([c.key for c in COLUMNS].index(key) + 1)
        check = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
        check.add(f"{letter}3:{letter}{last}")
        ws.add_data_validation(check)


def _needs(kind: EntryKind) -> str:
    rule = RULES[kind]
    parts = ["废物流编号" if rule.stream else "废物代码"]
    if rule.facility:
        parts.append(FACILITY_NAMES[rule.facility] + "编码")
    if rule.route:
        parts.append(ROUTE_KIND_NAMES[rule.route] + "方式")
    if rule.counterparty:
        parts.append("对方单位名称及统一社会信用代码")
    if rule.shipment:
        parts.append("承运单位、车牌号、合同编号")
    return "、".join(parts) + ("；可标记往年贮存" if rule.prior_storage_allowed else "")


def _template_instructions(book: Workbook) -> None:
    ws = book.create_sheet("填写说明")
    rows: list[list] = [["一般工业固体废物管理台账导入模板（依据《一般工业固体废物管理台账制定指南（试行）》）"],
                        [f"在“{DATA_SHEET}”工作表第 3 行起每行填写一条记录，每个文件最多 {MAX_ROWS} 行；请勿修改第 1 行列名。"],
                        ["日期：YYYY-MM-DD 或 Excel 日期格式，不得晚于今天。数量：以吨为单位，大于 0，最多 3 位小数（精确到千克）。"],
                        ["单元格不得包含公式；每行须有本企业内唯一的参考号，重复导入的行会被跳过，已记录的数据不会被修改。"],
                        [], ["列名", "内部键", "是否必填", "说明"]]
    rows += [[c.header, c.key, "必填" if c.required else "按类型", c.note] for c in COLUMNS]
    rows += [[], ["类型（填写值）", "英文值", "需填写"]]
    rows += [[name, kind.value, _needs(kind)] for kind, name in KIND_NAMES.items()]
    rows += [[], ["利用/处置方式编码", "中文名称", "类别", "适用废物代码"]]
    for route in db.session.scalars(select(Route).where(Route.active.is_(True)).order_by(Route.id)):
        codes = "、".join(c.sw_code for c in route.categories) or "任何"
        rows.append([route.key, route.name_zh, ROUTE_KIND_NAMES[route.kind], codes])
    rows += [[], ["废物代码", "2024 类别", "名称"]]
    for category in db.session.scalars(select(WasteCategory).where(WasteCategory.active.is_(True))
                                       .order_by(WasteCategory.sw_code)):
        rows.append([category.sw_code, category.s_code, category.name_zh])
    for row in rows:
        ws.append([safe_text(v) if isinstance(v, str) else v for v in row])
    for letter, width in zip("ABCD", (28, 26, 14, 70)):
        ws.column_dimensions[letter].width = width


def template_workbook() -> bytes:
    """The .xlsx people fill in to import entries: a data sheet and a 填写说明 sheet."""
    book = Workbook()
    _template_data_sheet(book)
    _template_instructions(book)
    return workbook_bytes(book)


# --------------------------------------------------------------------------- the export


def base_enterprise_ids(base: Base) -> list[int]:
    """Enterprises with at least one site in the base: what a base export covers."""
    return list(db.session.scalars(select(Site.enterprise_id).where(Site.base == base)
                                   .distinct().order_by(Site.enterprise_id)))


def _readable(actor: User, enterprise_ids: list[int]) -> list[Enterprise]:
    enterprises = []
    for enterprise_id in dict.fromkeys(enterprise_ids):
        enterprise = db.session.get(Enterprise, enterprise_id)
        if enterprise is None:
            raise NotFound(_("No such enterprise."))
        require_enterprise_reader(actor, enterprise_id)
        enterprises.append(enterprise)
    return enterprises


def _period(year: int, month: int | None) -> tuple[date, date]:
    if not 2000 <= year <= 2100:
        raise ValidationFailed.on("year", _("Choose a year between 2000 and 2100."))
    if month is not None and not 1 <= month <= 12:
        raise ValidationFailed.on("month", _("Choose a month from 1 to 12."))
    if month is None:
        return date(year, 1, 1), date(year + 1, 1, 1)
    return date(year, month, 1), date(year + month // 12, month % 12 + 1, 1)


INVENTORY_HEADERS = ["年度", "单位名称", "统一社会信用代码", "单位地址", "行业类别", "排污许可证编号", "联系人",
                     "联系电话", "废物流编号", "产生环节", "产生设施名称", "产生设施编码", "固体废物名称", "废物代码",
                     "2024版废物代码", "类别", "物理性状", "主要成分", "有害成分", "预计年产生量（吨）",
                     "贮存设施编码", "计划利用处置方式", "状态"]


def _inventory_sheet(book: Workbook, enterprises: list[Enterprise], year: int) -> None:
    """附表1: the enterprise's registered waste streams (the permit number is not stored yet: left blank)."""
    sheet = Sheet(book, "附表1 产生清单", INVENTORY_HEADERS)
    for enterprise in enterprises:
        streams = db.session.scalars(select(WasteStream).where(WasteStream.enterprise_id == enterprise.id)
                                     .order_by(WasteStream.id))
        for s in streams:
            gen, store = s.generating_facility, s.storage_facility
            sheet.add([year, enterprise.name, enterprise.credit_code, enterprise.address, enterprise.industry, None,
                       enterprise.contact_name, enterprise.contact_phone, s.id, s.process_step,
                       gen.name if gen else None, gen.code if gen else None, s.name, s.sw_code, s.code_2024,
                       f"{s.gb_class.value}类", FORM_NAMES.get(s.physical_form.value, s.physical_form.value),
                       s.main_components, s.hazardous_components, Kg(s.expected_annual_kg),
                       store.code if store else None, s.planned_route.name_zh if s.planned_route else None,
                       "在用" if s.active else "停用"])


FLOW_HEADERS = ["单位名称", "统一社会信用代码", "年度", "月份", "废物流编号", "固体废物名称", "废物代码", "类别",
                "产生量（吨）", "自行利用量（吨）", "自行处置量（吨）", "委托利用量（吨）", "委托处置量（吨）",
                "其中：综合利用往年贮存量（吨）", "其中：处置往年贮存量（吨）", "倾倒丢弃量（吨）",
                "本期贮存量（入库−出库，吨）", "自行贮存量（期末库存，吨）", "综合利用率",
                "接收单位名称及统一社会信用代码", "利用/处置方式", "填表人"]


def _destinations(enterprise_id: int, start: date, end: date) -> dict:
    """(stream id, month) → (receivers, route names) of the period's outflows, reversed entries left out."""
    reversed_ids = select(LedgerEntry.corrects_id).where(LedgerEntry.corrects_id.is_not(None),
                                                         LedgerEntry.quantity_kg < 0)
    kinds = (EntryKind.SELF_UTILISATION, EntryKind.SELF_DISPOSAL, EntryKind.ENTRUSTED_UTILISATION,
             EntryKind.ENTRUSTED_DISPOSAL)
    rows = db.session.execute(
        select(LedgerEntry.stream_id, LedgerEntry.period_date, LedgerEntry.counterparty_name,
               LedgerEntry.counterparty_credit_code, Route.name_zh)
        .outerjoin(Route, Route.id == LedgerEntry.route_id)
        .where(LedgerEntry.enterprise_id == enterprise_id, LedgerEntry.kind.in_(kinds),
               LedgerEntry.period_date >= start, LedgerEntry.period_date < end, LedgerEntry.quantity_kg > 0,
               LedgerEntry.id.not_in(reversed_ids)).distinct())
    found: dict = defaultdict(lambda: (set(), set()))
    for stream_id, day, name, code, route in rows:
        for key in ((stream_id, day.month), (stream_id, None)):
            if name:
                found[key][0].add(f"{name}（{code}）")
            if route:
                found[key][1].add(route)
    return found


def _flow_row(enterprise, stream, year, month, totals, stock_kg, places, filled_by) -> list:
    rate = Ratio(totals.utilisation_rate) if totals.utilisation_rate is not None else None
    receivers, routes = places.get((stream.id, month), (set(), set()))
    return [enterprise.name, enterprise.credit_code, year, month or "全年", stream.id, stream.name,
            stream.sw_code, f"{stream.gb_class.value}类", Kg(totals.generated), Kg(totals.self_utilised),
            Kg(totals.self_disposed), Kg(totals.entrusted_utilised), Kg(totals.entrusted_disposed),
            Kg(totals.utilised_from_prior_storage), Kg(totals.disposed_from_prior_storage), Kg(totals.dumped),
            Kg(totals.stored), Kg(stock_kg), rate, "；".join(sorted(receivers)) or None,
            "；".join(sorted(routes)) or None, filled_by]


def _flow_sheet(book: Workbook, enterprises, year: int, month: int | None, actor: User) -> None:
    """附表2: per stream and month (and a 全年 line per stream for an annual export)."""
    sheet = Sheet(book, "附表2 流向汇总表", FLOW_HEADERS)
    start, end = _period(year, month)
    for enterprise in enterprises:
        flt = StatsFilter(year=year, month=month, enterprise_ids=(enterprise.id,))
        monthly = flow_by(flt, "stream_month")
        annual = flow_by(flt, "stream") if month is None else {}
        places = _destinations(enterprise.id, start, end)
        stream_ids = sorted({key[1] for key in monthly} | {key[1] for key in annual})
        for stream_id in stream_ids:
            stream = db.session.get(WasteStream, stream_id)
            for (_e, _s, m), totals in sorted((k, v) for k, v in monthly.items() if k[1] == stream_id):
                stock = closing_stock_kg(StatsFilter(year=year, month=m, enterprise_ids=(enterprise.id,),
                                                     stream_id=stream_id))
                sheet.add(_flow_row(enterprise, stream, year, m, totals, stock, places, actor.name))
            if (enterprise.id, stream_id) in annual:
                stock = closing_stock_kg(StatsFilter(year=year, enterprise_ids=(enterprise.id,), stream_id=stream_id))
                sheet.add(_flow_row(enterprise, stream, year, None, annual[(enterprise.id, stream_id)], stock,
                                    places, actor.name))


class _Context:
    """Lookups shared by the stage sheets (names by id, addresses of receivers on the platform)."""

    def __init__(self, enterprises: list[Enterprise]):
        self.enterprises = {e.id: e for e in enterprises}
        self.categories = dict(db.session.execute(select(WasteCategory.sw_code, WasteCategory.name_zh)).all())
        self._addresses: dict[str, str | None] = {}

    def address(self, credit_code: str | None) -> str | None:
        if credit_code and credit_code not in self._addresses:
            self._addresses[credit_code] = db.session.scalar(
                select(Enterprise.address).where(Enterprise.credit_code == credit_code))
        return self._addresses.get(credit_code or "")


def _facility(e, attr):
    return getattr(e.facility, attr) if e.facility else None


HEAD = [("单位名称", lambda e, c: c.enterprises[e.enterprise_id].name),
        ("统一社会信用代码", lambda e, c: c.enterprises[e.enterprise_id].credit_code),
        ("条目号", lambda e, c: e.id), ("序号", lambda e, c: e.seq), ("日期", lambda e, c: e.period_date),
        ("类型", lambda e, c: KIND_NAMES[e.kind])]
WASTE = [("废物流编号", lambda e, c: e.stream_id),
         ("固体废物名称", lambda e, c: e.stream.name if e.stream else c.categories.get(e.sw_code)),
         ("废物代码", lambda e, c: e.sw_code)]
FACILITY = [("设施编码", lambda e, c: _facility(e, "code")), ("设施名称", lambda e, c: _facility(e, "name"))]
ROUTE = [("利用/处置方式", lambda e, c: e.route.name_zh if e.route else None)]
QUANTITY = [("数量（吨）", lambda e, c: Kg(e.quantity_kg))]
PRIOR = [("是否往年贮存", lambda e, c: e.from_prior_storage)]
TAIL = [("经办人", lambda e, c: e.handler), ("参考号", lambda e, c: e.reference),
        ("更正条目号", lambda e, c: e.corrects_id), ("更正原因", lambda e, c: e.reason)]
SHIPMENT = [("承运单位", lambda e, c: e.carrier_name), ("车牌号", lambda e, c: e.plate_number),
            ("接收单位名称", lambda e, c: e.counterparty_name),
            ("接收单位统一社会信用代码", lambda e, c: e.counterparty_credit_code),
            ("接收单位地址", lambda e, c: c.address(e.counterparty_credit_code)), *ROUTE,
            ("合同编号", lambda e, c: e.contract_number),
            ("接收确认", lambda e, c: "转移联单已签收" if e.source is EntrySource.TRANSFER else None)]
RECEIVED = [("来源单位名称", lambda e, c: e.counterparty_name),
            ("来源单位统一社会信用代码", lambda e, c: e.counterparty_credit_code), *ROUTE,
            ("产品", lambda e, c: e.product)]

K = EntryKind
STAGE_SHEETS = (
    ("附表3 产生环节记录", (K.GENERATION,), HEAD + WASTE + FACILITY + QUANTITY + TAIL),
    ("附表4 贮存环节记录", (K.STORAGE_IN, K.STORAGE_OUT), HEAD + WASTE + FACILITY + QUANTITY + PRIOR + TAIL),
    ("附表5 自行利用记录", (K.SELF_UTILISATION,),
     HEAD + WASTE + FACILITY + ROUTE + QUANTITY + PRIOR + [("产品", lambda e, c: e.product)] + TAIL),
    ("附表6 自行处置记录", (K.SELF_DISPOSAL, K.DUMPED), HEAD + WASTE + FACILITY + ROUTE + QUANTITY + PRIOR + TAIL),
    ("附表7 委托利用处置记录", (K.ENTRUSTED_UTILISATION, K.ENTRUSTED_DISPOSAL),
     HEAD + WASTE + QUANTITY + SHIPMENT + PRIOR + TAIL),
    ("接收记录", (K.RECEIVED, K.RECEIVED_UTILISED, K.RECEIVED_DISPOSED), HEAD + WASTE + QUANTITY + RECEIVED + TAIL),
)


def _stage_sheet(book: Workbook, title: str, kinds, columns, ctx: _Context, start: date, end: date) -> None:
    """One stage table: every entry of these kinds in the period, in chain order, corrections included."""
    sheet = Sheet(book, title, [header for header, _get in columns])
    stmt = (select(LedgerEntry)
            .where(LedgerEntry.enterprise_id.in_(list(ctx.enterprises)), LedgerEntry.kind.in_(kinds),
                   LedgerEntry.period_date >= start, LedgerEntry.period_date < end)
            .options(joinedload(LedgerEntry.stream), joinedload(LedgerEntry.facility),
                     joinedload(LedgerEntry.route))
            .order_by(LedgerEntry.enterprise_id, LedgerEntry.seq).execution_options(yield_per=1000))
    for entry in db.session.scalars(stmt):
        sheet.add([get(entry, ctx) for _header, get in columns])


VERIFY_HEADERS = ["单位名称", "统一社会信用代码", "条目数", "链头哈希", "校验结果", "损坏条目号", "损坏序号", "原因",
                  "校验时间（UTC）"]


def _verification_sheet(book: Workbook, enterprises, actor: User, year: int, month: int | None) -> None:
    sheet = Sheet(book, "校验", VERIFY_HEADERS)
    checked_at = utcnow().replace(tzinfo=None, microsecond=0)
    for enterprise in enterprises:
        report = chain_store.verify_enterprise(enterprise.id)
        chain = chain_store.head(enterprise.id)
        broken = report.broken
        sheet.add([enterprise.name, enterprise.credit_code, report.count, chain.head_hash if chain else GENESIS,
                   "完好" if report.ok else "已损坏", broken.id if broken else None, broken.seq if broken else None,
                   f"{broken.reason.value}: {broken.message}" if broken else None, checked_at])
    sheet.add([])
    for note in (f"导出人：{actor.name}", f"期间：{year}年" + (f"{month}月" if month else "全年"),
                 "链头哈希证明台账自身前后一致；请保存本表，并与以后导出的链头哈希比对，以发现整体改写或截断。"):
        sheet.add([note])


def export_workbook(actor: User, enterprise_ids: list[int], year: int, month: int | None = None) -> bytes:
    """附表1–7, 接收记录 and 校验 for these enterprises and the year (or one month of it)."""
    enterprises = _readable(actor, enterprise_ids)
    start, end = _period(year, month)
    book = Workbook(write_only=True)
    _inventory_sheet(book, enterprises, year)
    _flow_sheet(book, enterprises, year, month, actor)
    ctx = _Context(enterprises)
    for title, kinds, columns in STAGE_SHEETS:
        _stage_sheet(book, title, kinds, columns, ctx, start, end)
    _verification_sheet(book, enterprises, actor, year, month)
    return workbook_bytes(book)

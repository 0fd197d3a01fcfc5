"""Every cockpit table as an .xlsx workbook or a CSV file.

Decisions, as for the ledger's own workbook (``wasteex.ledger.excel``, whose sheet writer and
cell types this reuses):
* headers are fixed Chinese statistical terms, the words of the published tables;
* quantities are exact tonnes (numeric cells with 3 decimals in .xlsx, "1234.567" in CSV),
  rates percentages (a number formatted ``0.00%`` in .xlsx, "59.12%" in CSV);
* any text starting with ``= + - @``, tab or CR is prefixed with ``'`` in both formats
  (formula injection, FIELD_NOTES.md): a name such as ``=HYPERLINK(…)`` stays visible text;
* CSV is UTF-8 with a byte-order mark, so that Excel opens Chinese text correctly.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal

from openpyxl import Workbook

from wasteex.geo import Base
from wasteex.ledger.excel import Kg, Ratio, Sheet, safe_text, workbook_bytes
from wasteex.ledger.rates import kg_to_tonnes_str
from wasteex.regulator.flows import Flow
from wasteex.regulator.queries import LeagueRow, MonthRow, Row, YearRow
from wasteex.streams.forms import local_name
from wasteex.templating import base_name, division_name

FIGURE_HEADERS = ["产生量（吨）", "综合利用量（吨）", "其中：自行利用（吨）", "其中：委托利用（吨）",
                  "其中：综合利用往年贮存量（吨）", "处置量（吨）", "其中：处置往年贮存量（吨）", "贮存量（吨，净）",
                  "倾倒丢弃量（吨）", "在途量（吨）", "期末贮存量（吨）", "综合利用率"]
DIMENSION_HEADERS = {"base": "示范基地", "division": "旗区", "sw_code": "固废类别", "industry": "行业",
                     "enterprise": "企业", "stream": "固废（产生源）"}
SHEET_NAME_MAX = 31  # Excel's limit
PERCENT = Decimal("0.01")


@dataclass
class Table:
    """A titled table of typed cells (str, int, Kg, Ratio, None)."""

    title: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)


def figure_cells(row: Row) -> list:
    t = row.totals
    rate = row.rate
    return [Kg(t.generated), Kg(t.utilised), Kg(t.self_utilised), Kg(t.entrusted_utilised),
            Kg(t.utilised_from_prior_storage), Kg(t.disposed), Kg(t.disposed_from_prior_storage), Kg(t.stored),
            Kg(t.dumped), Kg(t.in_transit), Kg(row.stock_kg), Ratio(rate) if rate is not None else None]


def key_label(dimension: str, key, names: dict) -> str:
    """A group's name in the current language (``names``: what ``queries.labels`` found)."""
    if dimension == "base":
        return base_name(Base(key) if isinstance(key, str) else key)
    if dimension == "division":
        return division_name(key)
    if dimension == "sw_code":
        category = names.get(key)
        return f"{key} {local_name(category)}" if category else str(key)
    if dimension in ("enterprise", "stream"):
        item = names.get(key)
        return item.name if item else "—"
    return str(key)


def years_table(rows: list[YearRow]) -> Table:
    return Table("历年综合利用率", ["年度", "统计期", *FIGURE_HEADERS],
                 [[r.period.year, f"1–{r.period.through_month}月" if r.period.year_to_date else "全年", *figure_cells(r)]
                  for r in rows])


def breakdown_table(title: str, dimension: str, rows: list[Row], names: dict) -> Table:
    first = [DIMENSION_HEADERS[dimension]] + (["代码"] if dimension in ("division", "base") else [])
    out = Table(title, [*first, *FIGURE_HEADERS])
    for r in rows:
        code = [r.key.value if isinstance(r.key, Base) else r.key] if dimension in ("division", "base") else []
        out.rows.append([key_label(dimension, r.key, names), *code, *figure_cells(r)])
    return out


def months_table(title: str, rows: list[MonthRow]) -> Table:
    return Table(title, ["月份", *FIGURE_HEADERS], [[r.month, *figure_cells(r)] for r in rows])


def league_table(title: str, rows: list[LeagueRow]) -> Table:
    out = Table(title, ["排名", "企业名称", "统一社会信用代码", "旗区", "行业", *FIGURE_HEADERS])
    for rank, r in enumerate(rows, start=1):
        e = r.enterprise
        out.rows.append([rank, e.name, e.credit_code, division_name(e.division_code), e.industry, *figure_cells(r)])
    return out


def flows_table(title: str, flows: list[Flow], senders: dict) -> Table:
    out = Table(title, ["委托单位", "委托单位统一社会信用代码", "接收单位", "接收单位统一社会信用代码",
                        "委托利用量（吨）", "委托处置量（吨）", "合计（吨）"])
    for f in flows:
        sender = senders.get(f.sender_id)
        out.rows.append([sender.name if sender else "—", sender.credit_code if sender else "—", f.receiver_name,
                         f.receiver_code, Kg(f.utilised_kg), Kg(f.disposed_kg), Kg(f.total_kg)])
    return out


def to_xlsx(tables: list[Table]) -> bytes:
    book = Workbook(write_only=True)
    for table in tables:
        sheet = Sheet(book, table.title[:SHEET_NAME_MAX], table.headers)
        for row in table.rows:
            sheet.add(row)
    return workbook_bytes(book)


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Kg):
        return kg_to_tonnes_str(value.value)
    if isinstance(value, Ratio):
        return f"{(value.value * 100).quantize(PERCENT)}%"
    return safe_text(str(value))


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_text(h) for h in table.headers])
    writer.writerows([_csv_cell(v) for v in row] for row in table.rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")

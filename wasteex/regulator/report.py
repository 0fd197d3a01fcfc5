"""The city's annual public release on general industrial solid waste.

Chinese cities publish each year a 固体废物污染环境防治信息 (information on the prevention of
environmental pollution by solid waste); its industrial part gives the year's generation,
comprehensive utilisation (with the part taken from prior years' storage), the rate, disposal,
storage and dumping, by waste type and for the leading industries. This module assembles those
figures from the cockpit's queries, so the release and the cockpit can never disagree, and
renders the release as a workbook and a PDF (WeasyPrint; a CJK font such as
``fonts-wqy-microhei`` or ``fonts-noto-cjk`` must be installed or Chinese prints as boxes).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from wasteex import paths
from wasteex.accounts.models import User
from wasteex.regulator import exports
from wasteex.regulator.queries import CITY, History, Period, YearRow, breakdowns, labels

TOP_INDUSTRIES = 5  # releases name the leading industries, typically five
WAN = Decimal(10_000_000)  # kg in 万吨 (ten thousand tonnes), the unit of published releases
STYLESHEET = paths.STATIC_DIR / "css" / "report.css"


def wan_tonnes(kg: int) -> str:
    """Kilograms as 万吨 with two decimals ("123.46"), the precision releases print."""
    return str((Decimal(kg) / WAN).quantize(Decimal("0.01"), ROUND_HALF_EVEN))


@dataclass
class AnnualReport:
    year: YearRow
    previous: YearRow | None
    by_type: list
    type_names: dict
    industries: list
    industry_count: int
    by_base: list
    reporting_enterprises: int
    generated_on: date

    @property
    def rate_change(self) -> Decimal | None:
        """Percentage points gained (or lost) since the previous year."""
        if self.previous is None or self.previous.rate is None or self.year.rate is None:
            return None
        return (self.year.rate - self.previous.rate) * 100

    def share(self, row) -> Decimal | None:
        """A row's share of the city's generation (for the industries table)."""
        whole = self.year.totals.generated
        return None if not whole else Decimal(row.totals.generated) / Decimal(whole)


def annual_report(actor: User, year: int, today: date) -> AnnualReport:
    """The release for ``year`` (the current year: to date, marked provisional)."""
    period = Period.of(year, today)
    history = History(actor, CITY, year)
    row, previous = history.year_row(period), history.year_row(Period(year - 1))
    tables = breakdowns(actor, CITY, period, ("sw_code", "industry", "enterprise", "base"))
    by_type = [r for r in tables["sw_code"] if r.totals.generated or r.totals.utilised or r.stock_kg]
    industries = [r for r in tables["industry"] if r.totals.generated > 0]
    enterprises = [r for r in tables["enterprise"] if r.totals.generated > 0]
    return AnnualReport(
        year=row, previous=previous if previous.totals.generated else None, by_type=by_type,
        type_names=labels("sw_code", [r.key for r in by_type]), industries=industries[:TOP_INDUSTRIES],
        industry_count=len(industries), by_base=tables["base"],
        reporting_enterprises=len(enterprises), generated_on=today)


def report_tables(report: AnnualReport) -> list[exports.Table]:
    """The release as workbook sheets: the city's figures, by waste type, leading industries, bases."""
    year = report.year.period.year
    city = exports.years_table([report.year] + ([report.previous] if report.previous else []))
    city.title = f"{year}年全市情况"
    industries = exports.breakdown_table(f"前{TOP_INDUSTRIES}位行业", "industry", report.industries, {})
    industries.headers.append("占全市产生量比例")
    for row, cells in zip(report.industries, industries.rows):
        share = report.share(row)
        cells.append(exports.Ratio(share) if share is not None else None)
    return [city, exports.breakdown_table("按固废类别", "sw_code", report.by_type, report.type_names),
            industries, exports.breakdown_table("按示范基地", "base", report.by_base, {})]


def report_pdf(html: str) -> bytes:
    """The release's print document (``regulator/report_document.html``) as a PDF."""
    from weasyprint import CSS, HTML  # a heavy import (Pango, fonts): only when a PDF is asked for

    return HTML(string=html, base_url=str(paths.STATIC_DIR)).write_pdf(stylesheets=[CSS(filename=str(STYLESHEET))])

"""The anomaly worklist: the scan that files anomalies, and inspectors' handling of them.

**Scan** (``flask anomalies scan``, idempotent). Each finding of
:mod:`~wasteex.regulator.detectors` is matched to the anomaly with the same
kind and subject key (unique in the table, so a subject has one row for good):

* new subject → a new open anomaly;
* open or under review → its evidence is refreshed, nothing else changes;
* closed, same evidence → stays closed: the inspector closed it knowing these
  figures (say, an explained imbalance of a past month), and a re-scan must
  not undo that;
* closed, different evidence → **reopened** (same row, so its history keeps
  the earlier handling): the condition recurred with new figures.

An open or under-review anomaly whose condition the scan no longer finds is
closed by the scan with a note (the enterprise corrected its ledger, say).
Every status change, by an inspector or by the scan, is an ``AnomalyEvent``.

**Handling** is the regulators' only write: open → under review → closed
(with a note), or back to open. Each change is audited.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from wasteex.accounts.models import User
from wasteex.audit.service import record
from wasteex.database import utcnow
from wasteex.enterprises.models import Enterprise
from wasteex.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from wasteex.extensions import db
from wasteex.geo import BASE_OF_DIVISION, DIVISIONS, Base
from wasteex.listing import Page, Sorts, like_pattern, paginate
from wasteex.regulator import detectors
from wasteex.regulator.models import Anomaly, AnomalyEvent, AnomalyKind, AnomalyStatus

ACTIVE = (AnomalyStatus.OPEN, AnomalyStatus.UNDER_REVIEW)
TRANSITIONS = {
    AnomalyStatus.OPEN: {AnomalyStatus.UNDER_REVIEW, AnomalyStatus.CLOSED},
    AnomalyStatus.UNDER_REVIEW: {AnomalyStatus.OPEN, AnomalyStatus.CLOSED},
    AnomalyStatus.CLOSED: {AnomalyStatus.OPEN},
}
NOTE_LIMIT = 4000
SORTS = Sorts({"seen": Anomaly.last_seen_at, "period": Anomaly.period, "kind": Anomaly.kind,
               "enterprise": Enterprise.name, "status": Anomaly.status}, "-seen")


@dataclass
class ScanReport:
    created: int = 0
    refreshed: int = 0
    reopened: int = 0
    closed: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)  # findings per kind


def scan(today: date, tolerance_kg: int = 0, workers: int | None = None) -> ScanReport:
    """Run every detector and file, refresh, reopen or close anomalies; flushes, the caller commits."""
    return file_findings(detectors.scan_all(today, tolerance_kg, workers))


def file_findings(findings: dict[AnomalyKind, list[detectors.Finding]]) -> ScanReport:
    report = ScanReport(by_kind={kind.value: len(items) for kind, items in findings.items()})
    now = utcnow()
    known = {(a.kind, a.subject_key): a for a in db.session.scalars(
        select(Anomaly).where(Anomaly.kind.in_(list(findings))))}
    seen = set()
    for kind, items in findings.items():
        for finding in items:
            seen.add((kind, finding.key))
            anomaly = known.get((kind, finding.key))
            if anomaly is None:
                anomaly = Anomaly(kind=kind, subject_key=finding.key, enterprise_id=finding.enterprise_id,
                                  stream_id=finding.stream_id, period=finding.period, evidence=finding.evidence,
                                  first_seen_at=now, last_seen_at=now)
                _event(anomaly, None, AnomalyStatus.OPEN, _("Found by the scan."))
                anomaly.status = AnomalyStatus.OPEN
                db.session.add(anomaly)
                report.created += 1
                continue
            if anomaly.status is AnomalyStatus.CLOSED:
                if anomaly.evidence == finding.evidence:
                    continue
                _event(anomaly, None, AnomalyStatus.OPEN, _("Found again by the scan with different figures."))
                anomaly.status = AnomalyStatus.OPEN
                report.reopened += 1
            else:
                report.refreshed += 1
            anomaly.evidence, anomaly.last_seen_at = finding.evidence, now
    for key, anomaly in known.items():
        if key not in seen and anomaly.status in ACTIVE:
            _event(anomaly, None, AnomalyStatus.CLOSED, _("No longer found by the scan."))
            anomaly.status = AnomalyStatus.CLOSED
            report.closed += 1
    db.session.flush()
    return report


def _event(anomaly: Anomaly, actor: User | None, to: AnomalyStatus, note: str) -> None:
    anomaly.events.append(AnomalyEvent(from_status=anomaly.status, to_status=to, note=note,
                                       actor_id=getattr(actor, "id", None)))


# Reading -------------------------------------------------------------------------

@dataclass(frozen=True)
class AnomalyFilter:
    status: str = "active"  # "active" (open or under review), a status value, or "" for all
    kind: str = ""
    base: str = ""
    q: str = ""
    period: str = ""  # a prefix: "2025" or "2025-03"


def require_reader(actor: User) -> None:
    if not actor.reads_everything:
        raise PermissionDenied(_("Only regulators and platform admins see the anomaly worklist."))


def worklist(actor: User, flt: AnomalyFilter, sort: str | None, page: int, per_page: int) -> Page:
    require_reader(actor)
    stmt = (select(Anomaly).join(Enterprise, Enterprise.id == Anomaly.enterprise_id)
            .options(selectinload(Anomaly.enterprise), selectinload(Anomaly.stream), selectinload(Anomaly.handled_by)))
    if flt.status == "active":
        stmt = stmt.where(Anomaly.status.in_(ACTIVE))
    elif flt.status in {s.value for s in AnomalyStatus}:
        stmt = stmt.where(Anomaly.status == AnomalyStatus(flt.status))
    if flt.kind in {k.value for k in AnomalyKind}:
        stmt = stmt.where(Anomaly.kind == AnomalyKind(flt.kind))
    if flt.base in {b.value for b in Base}:
        stmt = stmt.where(_in_base(Base(flt.base)))
    if flt.q.strip():
        pattern = like_pattern(flt.q.strip())
        stmt = stmt.where(or_(Enterprise.name.ilike(pattern, escape="\\"),
                              Enterprise.credit_code.ilike(pattern, escape="\\")))
    if flt.period.strip():
        stmt = stmt.where(Anomaly.period.startswith(flt.period.strip(), autoescape=True))
    return paginate(stmt, SORTS, sort, page, per_page)


def _in_base(base: Base):
    """The enterprise's registered banner belongs to ``base``."""
    codes = [code for code in DIVISIONS if BASE_OF_DIVISION.get(code, Base.OUTSIDE) is base]
    return Enterprise.division_code.in_(codes or ["-"])


def get_anomaly(actor: User, anomaly_id: int) -> Anomaly:
    anomaly = db.session.get(Anomaly, anomaly_id)
    if anomaly is None or not actor.reads_everything:
        raise NotFound(_("No such anomaly."))
    return anomaly


# Handling ------------------------------------------------------------------------

def require_inspector(actor: User) -> None:
    if not actor.is_regulator:
        raise PermissionDenied(_("Only regulators handle anomalies."))


def change_status(actor: User, anomaly_id: int, status: str, note: str) -> Anomaly:
    """Move an anomaly along the worklist; closing needs a note saying why."""
    anomaly = get_anomaly(actor, anomaly_id)
    require_inspector(actor)
    try:
        target = AnomalyStatus(status)
    except ValueError:
        raise ValidationFailed.on("status", _("Choose open, under review or closed.")) from None
    note = (note or "").strip()
    if len(note) > NOTE_LIMIT:
        raise ValidationFailed.on("note", _("At most %(n)s characters.", n=NOTE_LIMIT))
    if target not in TRANSITIONS[anomaly.status]:
        raise InvalidTransition(_("This anomaly cannot go from %(a)s to %(b)s.", a=anomaly.status.value, b=target.value))
    if target is AnomalyStatus.CLOSED and not note:
        raise ValidationFailed.on("note", _("Say why the anomaly is closed."))
    _event(anomaly, actor, target, note)
    anomaly.status, anomaly.note, anomaly.handled_by_id, anomaly.handled_at = target, note, actor.id, utcnow()
    db.session.flush()
    record(actor, f"anomaly.{target.value}", anomaly, enterprise_id=anomaly.enterprise_id,
           kind=anomaly.kind, note=note)
    return anomaly


def counts(actor: User) -> dict[str, int]:
    """Active anomalies per kind, for the worklist's summary."""
    require_reader(actor)
    rows = db.session.execute(select(Anomaly.kind, func.count()).where(Anomaly.status.in_(ACTIVE))
                              .group_by(Anomaly.kind))
    return {kind.value: n for kind, n in rows}

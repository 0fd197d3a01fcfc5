"""The recommendation index stays fresh: changes written by another process show at the next request.

"Another process" is a separate engine writing straight to the database, as a
second gunicorn worker (or an agreement job) would; this process's index can
only learn of it through the fingerprint query.
"""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import create_engine, func, select, update

from tests.services.test_market_search import demanded, listed  # noqa: F401
from tests.services.test_market_service import market  # noqa: F401
from wasteex.enterprises.models import Enterprise, EnterpriseStatus, Site
from wasteex.database import utcnow
from wasteex.extensions import db
from wasteex.market import recommend
from wasteex.market.models import Demand, DemandLimit, ListingStatus


def compatible(w) -> list[int]:
    return [h.id for h in recommend.for_offer(w.bob, w.offer_a.id).compatible]


def near(w) -> dict[int, str]:
    return {h.id: h.reason for h in recommend.for_offer(w.bob, w.offer_a.id).near}


def elsewhere(*statements) -> None:
    """Write as another worker process would: its own engine, through SQLAlchemy (``changed_at`` stamps), committed."""
    db.session.commit()  # end this session's read transaction (SQLite's readers block writers)
    engine = create_engine(db.engine.url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(statement)
    engine.dispose()


def _demand(demand_id: int, **values):
    return update(Demand).where(Demand.id == demand_id).values(**values)


def _its(column, demand_id: int):
    return select(column).where(Demand.id == demand_id).scalar_subquery()


def rebuilds() -> int:
    return recommend._cache().rebuilds


def test_the_index_is_reused_while_nothing_changes(demanded):
    w = demanded
    first = compatible(w)
    built = rebuilds()
    assert compatible(w) == first and recommend.for_demand(w.carol, w.fit_near.id).compatible
    assert rebuilds() == built == 1


@pytest.mark.parametrize("change, statement", [
    ("paused", lambda d: _demand(d, status=ListingStatus.PAUSED)),
    ("all agreed", lambda d: _demand(d, remaining_kg=0)),
    ("range cut", lambda d: _demand(d, max_km=5)),
    ("enterprise no longer verified", lambda d: update(Enterprise).where(Enterprise.id == _its(Demand.enterprise_id, d))
     .values(status=EnterpriseStatus.REJECTED)),
    ("site moved 600 km", lambda d: update(Site).where(Site.id == _its(Demand.site_id, d))
     .values(latitude=Site.latitude + 5.4)),
    # Child rows change only through the market service, which stamps their listing with them.
    ("limit tightened", lambda d: (update(DemandLimit).where(DemandLimit.demand_id == d).values(min_value=60),
                                   _demand(d, changed_at=utcnow()))),
])
def test_changes_by_another_process_are_seen(demanded, change, statement):
    w = demanded
    assert w.fit_near.id in compatible(w)
    built = rebuilds()
    written = statement(w.fit_near.id)
    elsewhere(*(written if isinstance(written, tuple) else (written,)))
    assert w.fit_near.id not in compatible(w), change
    assert rebuilds() == built + 1


def test_a_late_commit_stamped_before_the_newest_change_is_seen(demanded):
    """A slow transaction stamps ``changed_at`` early and commits after the index was read."""
    w = demanded
    compatible(w)
    built, newest = rebuilds(), db.session.scalar(select(func.max(Demand.changed_at)))
    elsewhere(_demand(w.fit_near.id, max_km=5, changed_at=newest - timedelta(seconds=30)))
    assert db.session.scalar(select(func.max(Demand.changed_at))) == newest  # the newest stamp did not move
    assert w.fit_near.id not in compatible(w) and rebuilds() == built + 1


def test_listings_published_elsewhere_appear(demanded):
    w = demanded
    assert w.draft.id not in compatible(w)
    elsewhere(_demand(w.draft.id, status=ListingStatus.OPEN))
    assert w.draft.id in compatible(w)
    assert w.too_wet.id in near(w)


def test_a_stale_index_never_shows_a_listing_that_left_the_market(demanded, monkeypatch):
    """Rows shown are re-read with the market's conditions and judged again, even if the fingerprint missed a change."""
    w = demanded
    compatible(w)
    monkeypatch.setattr(recommend, "fingerprint", lambda horizon=None: recommend._cache().index.fingerprint)
    elsewhere(_demand(w.fit_near.id, status=ListingStatus.PAUSED))
    elsewhere(_demand(w.fit_far.id, max_km=5))
    recs = recommend.for_offer(w.bob, w.offer_a.id)
    assert recs.compatible == [] and w.fit_far.id in {h.id for h in recs.near}


def test_threads_share_one_rebuild(demanded):
    """Eight threads (as a threaded server would run them) notice one change: one rebuild, the same answers."""
    w = demanded
    expected = compatible(w)
    elsewhere(_demand(w.fit_far.id, remaining_kg=Demand.remaining_kg - 1))
    built = rebuilds()
    app, offer_id, bob_id = current_app._get_current_object(), w.offer_a.id, w.bob.id
    start, answers, errors = threading.Barrier(8), [], []

    def request():
        try:
            with app.app_context():
                from wasteex.accounts.models import User
                bob = db.session.get(User, bob_id)
                start.wait()
                answers.append([h.id for h in recommend.for_offer(bob, offer_id).compatible])
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=request) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and answers == [expected] * 8
    assert rebuilds() == built + 1


def test_changing_only_a_listings_limits_stamps_the_listing(demanded):
    """What the fingerprint relies on: child rows never change without their listing's stamp."""
    from wasteex.market import service
    w = demanded
    before = w.fit_near.changed_at
    service.update_demand(w.carol, w.fit_near.id, {"limits": {"al2o3_pct": {"min": "41", "max": None}}})
    db.session.commit()
    assert w.fit_near.changed_at > before

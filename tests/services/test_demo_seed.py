"""`flask seed-demo`: a believable Ordos, once, with the README's logins; never in production."""
from datetime import date

from sqlalchemy import func, select

from wasteex.accounts import service as accounts
from wasteex.demo.data import DEMO_PASSWORD, USERS
from wasteex.enterprises.models import Enterprise, EnterpriseStatus, Site
from wasteex.enterprises.uscc import validate_uscc
from wasteex.extensions import db
from wasteex.geo import Base
from wasteex.ledger import chain_store
from wasteex.ledger.models import EntrySource, LedgerEntry
from wasteex.ledger.stats import StatsFilter, flow_totals


def test_seed_demo_once(app):
    """One test on purpose: seeding two years of ledger takes ~20 s, so it runs once."""
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    check_demo_ordos()
    check_demo_logins_and_roles()
    check_demo_ledger_shows_the_gap_to_80_percent()
    check_demo_custody()
    check_second_run_changes_nothing(app)


def check_demo_custody():
    from wasteex.transfers.models import TransferSlip
    from wasteex.transfers.states import SlipStatus
    slips = db.session.scalars(select(TransferSlip).order_by(TransferSlip.id)).all()
    assert [s.status for s in slips] == [SlipStatus.CLOSED, SlipStatus.EMITTED, SlipStatus.PUBLISHED]
    closed = slips[0]
    assert closed.acceptance.value == "partial" and len(closed.signatures) == 4
    producer = accounts.find_user_by_email("producer@demo.wasteex.cn").memberships[0].enterprise_id
    kinds = db.session.scalars(select(LedgerEntry.kind).where(LedgerEntry.enterprise_id == producer,
                                                              LedgerEntry.source == EntrySource.TRANSFER)).all()
    assert sorted(k.value for k in kinds) == ["entrusted_utilisation", "entrusted_utilisation", "returned"]


def check_demo_ordos():
    enterprises = db.session.scalars(select(Enterprise)).all()
    assert len(enterprises) >= 30
    assert all(e.status is EnterpriseStatus.VERIFIED and validate_uscc(e.credit_code) for e in enterprises)
    bases = set(db.session.scalars(select(Site.base)))
    assert {Base.JUNGAR, Base.UXIN, Base.OTOG, Base.OUTSIDE} <= bases
    kinds = {k for e in enterprises for k in e.kinds}
    assert kinds == {"producer", "utiliser", "carrier"}


def check_demo_logins_and_roles():
    for email, _name, role, enterprise_key in USERS:
        user = accounts.authenticate(email, DEMO_PASSWORD, "127.0.0.1")
        assert user.platform_role.value == role
        assert bool(user.memberships) == bool(enterprise_key)
    producer = accounts.find_user_by_email("producer@demo.wasteex.cn").memberships[0].enterprise
    assert producer.division_code == "150622" and producer.is_producer  # a Jungar power plant


def check_demo_ledger_shows_the_gap_to_80_percent():
    last_year = date.today().year - 1
    rate = flow_totals(StatsFilter(year=last_year)).utilisation_rate
    assert rate is not None and 0.45 < rate < 0.65
    months = db.session.scalar(select(func.count(func.distinct(LedgerEntry.period_date)))
                               .where(LedgerEntry.source != EntrySource.TRANSFER))
    assert months == 24
    for enterprise_id in chain_store.chained_enterprises():
        assert chain_store.verify_enterprise(enterprise_id).ok


def check_second_run_changes_nothing(app):
    before = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0 and "nothing changed" in result.output
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == before


def test_refused_in_production(app):
    app.config["SEED_DEMO_ALLOWED"] = False
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0 and "production" in result.output
    assert db.session.scalar(select(func.count()).select_from(Enterprise)) == 0

"""A generated access-control matrix: every URL rule with an object id, every writing method, called by
a verified stranger on enterprise A's objects — refused, never a 5xx, and the database unchanged.

The rules are read from the app's URL map, so a route added later is covered without editing this file;
an id argument nobody here knows falls back to 1 (still someone else's object, or none).
"""
from __future__ import annotations

import hashlib
from datetime import date

import pytest
from sqlalchemy import select, text
from werkzeug.routing.converters import AnyConverter

from tests.api.calls import bearer
from tests.factories import login, make_enterprise, make_facility, make_site, make_user
from tests.services.test_agreements import traded  # noqa: F401 - fixture
from tests.services.test_market_service import market, new_offer  # noqa: F401 - fixture
from wasteex.accounts import service as accounts
from wasteex.accounts.models import Membership
from wasteex.agreements import service as agreements
from wasteex.enterprises.models import FacilityKind
from wasteex.extensions import db
from wasteex.ledger.service import EntryInput, record_entry
from wasteex.matching import runs

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def victims(traded):
    """A's site, facility, stream, ledger entry, draft offer, token and membership; A–C proposal,
    agreement and a run — and Eve, admin of a verified enterprise of her own, with a site."""
    w = traded
    facility = make_facility(w.site_a, "CS-01", FacilityKind.GENERATION)
    entry = record_entry(w.alice, w.a.id, EntryInput(kind="generation", period_date=date(2025, 3, 15), tonnes="10",
                                                     handler="张三", stream_id=w.stream.id, facility_code="CS-01"))
    draft = new_offer(w, publish=False)
    token, _secret = accounts.issue_token(w.alice, "erp")
    proposal = agreements.propose(w.carol, {"offer_id": w.offer.id, "demand_id": w.demand_c.id, "tonnes": "5"},
                                  runs.transport_rate())
    agreements.decide(w.alice, proposal.id, accept=True)
    run = runs.start(w.regulator)
    db.session.commit()
    runs.execute(run.id)
    eve = make_user("eve@e.cn", name="Eve")
    make_site(make_enterprise(eve, name="戊公司"), code="E01")
    membership = db.session.scalar(select(Membership).where(Membership.enterprise_id == w.a.id))
    ids = {"enterprise_id": w.a.id, "site_id": w.site_a.id, "facility_id": facility.id, "stream_id": w.stream.id,
           "entry_id": entry.id, "offer_id": draft.id, "demand_id": w.demand_c.id, "listing_id": draft.id,
           "proposal_id": proposal.id, "agreement_id": proposal.agreement.id, "run_id": run.id,
           "token_id": token.id, "membership_id": membership.id, "user_id": w.alice.id}
    return w, eve, ids


BOOKKEEPING = {"api_token"}  # the caller's own token records its last use


def fingerprint() -> str:
    """A digest of every row of every business table: any write shows."""
    digest = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        if table.name in BOOKKEEPING:
            continue
        rows = db.session.execute(text(f'SELECT * FROM "{table.name}" ORDER BY 1')).all()
        digest.update(f"{table.name}:{sorted(map(repr, rows))}".encode())
    return digest.hexdigest()


def id_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or not any(arg.endswith("_id") for arg in rule.arguments):
            continue
        yield rule


def url_for_rule(rule, ids: dict) -> str:
    values = {arg: ids.get(arg, 1) for arg in rule.arguments}
    for arg, converter in rule._converters.items():
        if isinstance(converter, AnyConverter):  # <any(publish, pause, close):action>: any choice will do
            values[arg] = sorted(converter.items)[0]
        elif arg not in ids and not arg.endswith("_id"):
            values[arg] = "x"
    return rule.build(values, append_unknown=False)[1]


def test_a_stranger_cannot_write_to_another_enterprise(app, victims):
    w, eve, ids = victims
    html = app.test_client()
    login(html, eve)
    api = app.test_client()
    headers = bearer(eve)
    before = fingerprint()
    calls = 0
    for rule in id_rules(app):
        url = url_for_rule(rule, ids)
        for method in sorted(rule.methods & WRITES):
            if url.startswith("/api/"):
                response = api.open(url, method=method, json={}, headers=headers)
            else:
                response = html.open(url, method=method, data={})
            calls += 1
            assert response.status_code < 500, (method, url, response.status_code)
            assert response.status_code not in (200, 201, 202, 204) or "/api/" not in url, (method, url)
            db.session.expire_all()
            assert fingerprint() == before, f"{method} {url} changed the database ({response.status_code})"
    assert calls > 40


def test_a_stranger_reads_nothing_private(app, victims):
    """GET on every id rule: never a 5xx; A's draft, proposal, agreement, entry and token stay hidden."""
    w, eve, ids = victims
    html, api, headers = app.test_client(), app.test_client(), bearer(eve)
    login(html, eve)
    private = {"offer_id", "proposal_id", "agreement_id", "entry_id", "token_id", "run_id"}
    for rule in id_rules(app):
        if "GET" not in rule.methods:
            continue
        url = url_for_rule(rule, ids)
        response = (api.get(url, headers=headers) if url.startswith("/api/") else html.get(url))
        assert response.status_code < 500, (url, response.status_code)
        if private & set(rule.arguments):
            assert response.status_code in (302, 403, 404), (url, response.status_code)


@pytest.mark.parametrize("path", ["/market/offers/99999999999999999999", "/market/offers/0",
                                  "/proposals/2147483648", "/enterprises/18446744073709551616/listings"])
def test_out_of_range_ids_are_not_found(app, world, path):
    client = app.test_client()
    login(client, world.alice)
    assert client.get(path).status_code == 404

"""The main pages of each role on the demo data, for the sweeps that visit them all (not a test module)."""
from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlalchemy import select

from tests.e2e.harness import sign_in
from wasteex.accounts.models import User
from wasteex.agreements.models import Agreement
from wasteex.demo.data import DEMO_PASSWORD
from wasteex.extensions import db
from wasteex.market.models import Demand, Offer
from wasteex.streams.models import WasteStream
from wasteex.transfers.models import TransferSlip

PRODUCER, UTILISER, CARRIER, REGULATOR = (f"{role}@demo.wasteex.cn" for role in
                                          ("producer", "utiliser", "carrier", "regulator"))


def main_pages() -> dict[str | None, list[str]]:
    """Sign-in e-mail (None: anonymous) → the paths that person visits; ids read from the demo data."""
    producer = db.session.scalar(select(User).where(User.email == PRODUCER)).memberships[0].enterprise_id
    slip = db.session.scalar(select(TransferSlip).order_by(TransferSlip.id)).id
    agreement = db.session.scalar(select(Agreement.id).order_by(Agreement.id))
    offer = db.session.scalar(select(Offer.id).where(Offer.enterprise_id == producer).order_by(Offer.id))
    demand = db.session.scalar(select(Demand.id).order_by(Demand.id))
    stream = db.session.scalar(select(WasteStream.id).where(WasteStream.enterprise_id == producer).order_by(WasteStream.id))
    return {
        None: ["/", "/account/login", "/account/register"],
        PRODUCER: ["/", "/market/offers", "/market/demands", f"/market/offers/{offer}", f"/market/demands/{demand}",
                   "/market/map", "/market/mine", "/proposals", "/agreements", f"/agreements/{agreement}", "/transfers",
                   f"/transfers/{slip}", f"/transfers/{slip}/print", f"/lifecycle/slip/{slip}", "/inbox", "/account/",
                   f"/enterprises/{producer}", f"/enterprises/{producer}/streams", f"/streams/{stream}",
                   f"/enterprises/{producer}/ledger", f"/enterprises/{producer}/ledger/summary", "/catalog"],
        CARRIER: ["/transfers", f"/transfers/{slip}", "/transfers/sign-many?act=transport"],
        REGULATOR: ["/regulator/", "/regulator/base/jungar", f"/regulator/enterprises/{producer}", "/regulator/report",
                    "/regulator/anomalies/", "/regulator/planner/", "/regulator/quota/", "/matching/runs",
                    f"/lifecycle/enterprise/{producer}", "/ledger/"],
    }


def visit(pages: dict[str | None, list[str]], page_for: Callable[[str | None], object]) -> Iterator[tuple[str, object]]:
    """Each person's main pages in turn, signed in on a page from ``page_for(email)``: yields (path, page)
    once the page has answered 200 and settled; each person's browser context is closed afterwards."""
    for email, paths in pages.items():
        page = page_for(email)
        if email:
            sign_in(page, email, DEMO_PASSWORD)
        for path in paths:
            response = page.goto(path)
            assert response.status == 200, (email, path, response.status)
            page.wait_for_load_state("networkidle")
            yield path, page
        page.context.close()

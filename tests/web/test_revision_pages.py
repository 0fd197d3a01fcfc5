"""Revision pages: ask for a correction from the slip, the counterparty approves or rejects it there."""
from __future__ import annotations

from tests.factories import login
from tests.services.test_agreements import traded  # noqa: F401 - fixture
from tests.services.test_market_service import market  # noqa: F401 - fixture
from tests.services.transfer_world import emit, published_slip, shipping  # noqa: F401
from wasteex.extensions import db
from wasteex.transfers.models import RevisionStatus


def signed_in(app, user):
    client = app.test_client()
    login(client, user)
    return client


def test_a_correction_asked_on_one_side_and_approved_on_the_other(app, shipping):
    w = shipping
    slip = published_slip(w)
    alice, carol = signed_in(app, w.alice), signed_in(app, w.carol)
    page = alice.get(f"/transfers/{slip.id}/revise").get_data(as_text=True)
    assert 'name="planned_t"' in page and 'name="dispatched_t"' not in page  # only what this step allows
    refused = alice.post(f"/transfers/{slip.id}/revise", data={"planned_t": "30", "plates": "蒙K12345", "reason": "x"})
    assert refused.status_code == 422  # nothing changed
    missing = alice.post(f"/transfers/{slip.id}/revise", data={"planned_t": "25", "plates": "蒙K12345", "reason": ""})
    assert missing.status_code == 422 and "is-invalid" in missing.get_data(as_text=True)
    sent = alice.post(f"/transfers/{slip.id}/revise", data={"planned_t": "25", "plates": "蒙K12345",
                                                            "driver": "李师傅", "planned_on": slip.planned_on.isoformat(),
                                                            "itinerary": slip.itinerary, "reason": "少装一车"})
    assert sent.status_code == 302
    (revision,) = slip.revisions
    assert revision.changes == {"planned_t": ["30", "25"]}
    slip_page = carol.get(f"/transfers/{slip.id}").get_data(as_text=True)
    assert f"/transfers/revisions/{revision.id}/answer" in slip_page
    assert f"/transfers/revisions/{revision.id}/answer" not in alice.get(f"/transfers/{slip.id}").get_data(as_text=True)
    assert carol.post(f"/transfers/revisions/{revision.id}/answer", data={"decision": "reject"}).status_code == 302
    db.session.expire_all()
    assert revision.status is RevisionStatus.PENDING  # a rejection needs a note
    carol.post(f"/transfers/revisions/{revision.id}/answer", data={"decision": "approve"})
    db.session.expire_all()
    assert revision.status is RevisionStatus.APPROVED and slip.planned_kg == 25_000


def test_after_emission_only_the_weight_and_itinerary_can_be_revised(app, shipping):
    w = shipping
    slip = published_slip(w)
    emit(w, slip)
    page = signed_in(app, w.carol).get(f"/transfers/{slip.id}/revise").get_data(as_text=True)
    assert 'name="dispatched_t"' in page and 'name="planned_t"' not in page and 'name="cancel"' not in page
    assert signed_in(app, w.bob).get(f"/transfers/{slip.id}/revise").status_code == 404

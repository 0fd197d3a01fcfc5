"""Lifecycle pages: the parties and regulators see a slip's timeline; strangers do not."""
from __future__ import annotations

from tests.factories import login
from tests.services.test_agreements import traded  # noqa: F401 - fixture
from tests.services.test_market_service import market  # noqa: F401 - fixture
from tests.services.transfer_world import carry, emit, operate, published_slip, receive, shipping  # noqa: F401


def test_the_timeline_shows_each_signature_and_checked_ledger_lines(app, shipping):
    w = shipping
    slip = published_slip(w)
    emit(w, slip)
    carry(w, slip)
    receive(w, slip, "30", refused="3", reason="杂质")
    operate(w, slip)
    client = app.test_client()
    login(client, w.regulator)
    for path in (f"/lifecycle/slip/{slip.id}", f"/lifecycle/agreement/{w.agreement.id}",
                 f"/lifecycle/enterprise/{w.c.id}", f"/lifecycle/stream/{w.stream.id}"):
        page = client.get(path)
        assert page.status_code == 200, path
        html = page.get_data(as_text=True)
        assert slip.number in html and html.count("chain intact") + html.count("链完整") == 4, path
    stranger = app.test_client()
    login(stranger, w.bob)
    assert stranger.get(f"/lifecycle/slip/{slip.id}").status_code == 404
    assert stranger.get(f"/lifecycle/enterprise/{w.c.id}").status_code == 403

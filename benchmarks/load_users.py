"""The people of ``benchmarks/load.py``, as locust users (run by it; not a test).

Every response time is also appended to the JSON-lines file named by ``WASTEEX_LOAD_TIMINGS``
so that load.py can compute exact percentiles of the work apart from the set-up (``setup:``
requests: signing in hashes the password with scrypt on purpose, once per person).

Each signs in through the login form as a demo account, so every call below
is a real session with its CSRF token — as the browser pages make them — and
signatures count on the sign-in's recent authentication, as in a weighbridge
office. The mix, by weight: utilisers browsing and searching offers and
posting demands (4), producer and utiliser proposing and accepting small deals
(2), a shipment from slip to closed slip by producer, carrier and utiliser (2),
regulators opening the cockpit (1).
"""
from __future__ import annotations

import json
import os
import random
import re
import time
from datetime import date

from locust import HttpUser, between, events, task
from locust.exception import StopUser

PASSWORD = "wasteex-demo-2025"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TODAY = date.today().isoformat()


_TIMINGS = open(os.environ["WASTEEX_LOAD_TIMINGS"], "a") if os.environ.get("WASTEEX_LOAD_TIMINGS") else None  # noqa: SIM115


@events.request.add_listener
def _record(name, response_time, exception, **_kwargs):
    if _TIMINGS is not None:
        _TIMINGS.write(json.dumps([name, response_time, exception is not None, time.time()]) + "\n")


@events.quitting.add_listener
def _flush(**_kwargs):
    if _TIMINGS is not None:
        _TIMINGS.flush()


class Session:
    """One signed-in demo account on a locust client (its own cookie jar)."""

    def __init__(self, user: HttpUser, email: str):
        self.client = user.client.__class__(user.host, request_event=user.environment.events.request,
                                            user=user)
        page = self.client.get("/account/login", name="setup: login page").text
        self.client.post("/account/login", name="setup: sign in",
                         data={"email": email, "password": PASSWORD, "csrf_token": CSRF.search(page).group(1)})
        token = CSRF.search(self.client.get("/account/", name="setup: account page").text)
        if token is None:
            raise StopUser(f"{email} could not sign in")
        self.headers = {"X-CSRFToken": token.group(1)}
        self.enterprise_id = (self.get("/api/v1/me", "setup: me").json()["memberships"] or [{}])[0].get("enterprise_id")

    def get(self, url: str, name: str):
        return self.client.get(url, name=name)

    def post(self, url: str, body: dict, name: str, ok: tuple[int, ...] = (200, 201)):
        with self.client.post(url, json=body, headers=self.headers, name=name, catch_response=True) as response:
            if response.status_code in ok:
                response.success()
            else:
                response.failure(f"{response.status_code}: {response.text[:200]}")
            return response


class Utiliser(HttpUser):
    weight = 4
    wait_time = between(0.5, 2)

    def on_start(self):
        self.me = Session(self, "utiliser@demo.wasteex.cn")
        self.site_id = self.me.get(f"/api/v1/enterprises/{self.me.enterprise_id}/sites", "setup: my sites").json()[0]["id"]

    @task(4)
    def browse_offers(self):
        self.me.get(f"/market/offers?page={random.randint(1, 3)}", "page: offers")

    @task(3)
    def search_offers(self):
        code = random.choice(["SW02", "SW04", "SW06", "SW59"])
        self.me.get(f"/api/v1/offers?sw_code={code}&q={random.choice(['', '粉煤灰', '矸石'])}", "api: search offers")

    @task(1)
    def post_demand(self):
        self.me.post("/api/v1/demands", {
            "site_id": self.site_id, "title": "负载测试需求", "accepts": ["SW02"], "accepts_class": ["I", "II"],
            "route_key": "sintered_brick", "supply": "one_off", "tonnes": "100", "max_km": 100,
            "price_per_t": "5"}, "api: post demand")


class Traders(HttpUser):
    """A producer and a utiliser agreeing 1 t at a time from the demo market."""

    weight = 2
    wait_time = between(1, 3)

    def on_start(self):
        self.producer = Session(self, "producer@demo.wasteex.cn")
        self.utiliser = Session(self, "utiliser@demo.wasteex.cn")
        offers = self.producer.get(f"/api/v1/offers?enterprise_id={self.producer.enterprise_id}&sw_code=SW02",
                                   "setup: my offers").json()["items"]
        demands = self.utiliser.get(f"/api/v1/demands?enterprise_id={self.utiliser.enterprise_id}&sw_code=SW02",
                                    "setup: my demands").json()["items"]
        self.offers, self.demands = [o["id"] for o in offers], [d["id"] for d in demands]

    @task
    def agree(self):
        if not self.offers or not self.demands:
            return
        proposal = self.utiliser.post("/api/v1/proposals", {"offer_id": self.offers[0], "demand_id": self.demands[0],
                                                            "tonnes": "1"}, "api: propose")
        if proposal.status_code == 201:
            # 409 when the last tonnes went to another pair first: the invariant check counts them afterwards.
            self.producer.post(f"/api/v1/proposals/{proposal.json()['id']}/decision", {"decision": "accept"},
                               "api: accept proposal", ok=(200, 409))


class Shipment(HttpUser):
    """Producer, carrier and utiliser take one slip from draft to closed."""

    weight = 2
    wait_time = between(1, 3)

    def on_start(self):
        self.producer = Session(self, "producer@demo.wasteex.cn")
        self.carrier = Session(self, "carrier@demo.wasteex.cn")
        self.utiliser = Session(self, "utiliser@demo.wasteex.cn")
        agreements = self.producer.get("/api/v1/agreements", "setup: agreements").json()
        # The demo's 3,000 t agreement, not the 1 t ones the traders conclude meanwhile.
        self.agreement = max((a for a in agreements if a["status"] == "active"), key=lambda a: a["remaining_kg"])
        self.carrier_id = self.carrier.enterprise_id

    @task
    def ship(self):
        created = self.producer.post("/api/v1/slips", {
            "agreement_id": self.agreement["id"], "planned_t": "1", "planned_on": TODAY,
            "legs": [{"carrier_id": self.carrier_id, "plates": ["蒙K35812"], "driver": "王师傅"}]}, "api: create slip",
            ok=(201, 422))  # 422 once the agreement's tonnage is all planned
        if created.status_code != 201:
            return
        slip = created.json()["id"]
        steps = ((self.producer, "publish", None),
                 (self.producer, "sign", {"kind": "emission", "dispatched_t": "1", "dispatched_on": TODAY,
                                          "handler": "赵工"}),
                 (self.carrier, "sign", {"kind": "transport", "taken_over_on": TODAY}),
                 (self.utiliser, "sign", {"kind": "reception", "received_t": "1", "received_on": TODAY,
                                          "handler": "孙工"}),
                 (self.utiliser, "sign", {"kind": "operation", "route_key": "sintered_brick", "operated_on": TODAY,
                                          "handler": "孙工"}))
        for session, action, body in steps:
            name = f"api: {action} {body['kind']}" if body else f"api: {action}"
            if session.post(f"/api/v1/slips/{slip}/{action}", body or {}, name).status_code != 200:
                return


class Regulator(HttpUser):
    weight = 1
    wait_time = between(2, 5)

    def on_start(self):
        self.me = Session(self, "regulator@demo.wasteex.cn")

    @task(3)
    def cockpit(self):
        self.me.get("/regulator/", "page: cockpit")

    @task(1)
    def rates_by_base(self):
        self.me.get(f"/api/v1/regulator/rates?by=base&year={date.today().year - 1}", "api: rates by base")

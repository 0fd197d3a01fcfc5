"""``match-file`` through click's CliRunner: the contract's example, --output, and bad files."""
import json

import pytest
from click.testing import CliRunner
from geopy.distance import geodesic

from wasteex.matching.cli import match_file_command

EXAMPLE = {
    "offers": [{"id": "o1", "sw_code": "SW02", "tonnes": 1200.5, "lat": 39.865, "lon": 111.216,
                "class": "I", "quality": {"al2o3_pct": 48.0, "moisture_pct": 8.0}, "max_km": None}],
    "demands": [{"id": "d1", "accepts": ["SW02", "SW04"], "accepts_class": ["I", "II"], "tonnes": 800,
                 "lat": 39.61, "lon": 109.78, "max_km": 150,
                 "limits": {"moisture_pct": {"max": 12}, "al2o3_pct": {"min": 40}}}],
}
KEYS = {"allocations", "matched_tonnes", "tonne_km", "unmatched_offer_tonnes",
        "unmet_demand_tonnes", "optimal", "seconds"}


def run(tmp_path, doc, *args):
    path = tmp_path / "instance.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return CliRunner().invoke(match_file_command, [str(path), *args])


def test_the_example(tmp_path):
    result = run(tmp_path, EXAMPLE)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out) == KEYS
    [alloc] = out["allocations"]
    km = geodesic((39.865, 111.216), (39.61, 109.78)).km  # 126.306 km (geopy's geodesic)
    assert alloc == {"offer": "o1", "demand": "d1", "tonnes": 800.0, "km": pytest.approx(km, abs=0.001)}
    assert out["matched_tonnes"] == 800.0
    assert out["unmatched_offer_tonnes"] == 400.5
    assert out["unmet_demand_tonnes"] == 0.0
    assert out["tonne_km"] == pytest.approx(800 * km, abs=0.5)
    assert out["optimal"] is True
    assert out["seconds"] >= 0


def test_output_file(tmp_path):
    target = tmp_path / "result.json"
    result = run(tmp_path, EXAMPLE, "--output", str(target))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert json.loads(target.read_text())["matched_tonnes"] == 800.0


def test_tonnes_stay_exact_to_the_kilogram(tmp_path):
    doc = json.loads(json.dumps(EXAMPLE))
    doc["offers"][0]["tonnes"] = 0.007
    doc["demands"][0]["tonnes"] = 123456.789
    out = json.loads(run(tmp_path, doc).stdout)
    assert out["allocations"][0]["tonnes"] == 0.007
    assert out["unmet_demand_tonnes"] == 123456.782


def bad(mutate):
    doc = json.loads(json.dumps(EXAMPLE))
    mutate(doc)
    return doc


def _set(path, value):
    def mutate(doc):
        *head, last = path
        node = doc
        for key in head:
            node = node[key]
        node[last] = value
    return mutate


def _delete(path):
    def mutate(doc):
        *head, last = path
        node = doc
        for key in head:
            node = node[key]
        del node[last]
    return mutate


INVALID = {
    "not json": ("{offers: [", ["not valid JSON"]),
    "top level not object": ("[1, 2]", ["JSON object"]),
    "unknown top-level key": (bad(_set(["extra"], 1)), ["extra", "unknown top-level key"]),
    "missing offers": (bad(_delete(["offers"])), ["offers", "missing"]),
    "missing field": (bad(_delete(["offers", 0, "lat"])), ["offers[0]", "o1", "lat", "missing"]),
    "wrong type": (bad(_set(["demands", 0, "tonnes"], "800")), ["demands[0]", "d1", "tonnes", "number"]),
    "bool is not a number": (bad(_set(["offers", 0, "lon"], True)), ["o1", "lon", "number"]),
    "duplicate ids": (bad(lambda d: d["offers"].append(dict(d["offers"][0]))), ["offers[1]", "o1", "id", "duplicate"]),
    "zero tonnes": (bad(_set(["offers", 0, "tonnes"], 0)), ["o1", "tonnes", "> 0"]),
    "negative tonnes": (bad(_set(["demands", 0, "tonnes"], -5)), ["d1", "tonnes", "> 0"]),
    "four decimals": (bad(_set(["offers", 0, "tonnes"], 1.0005)), ["o1", "tonnes", "3 decimals"]),
    "latitude": (bad(_set(["offers", 0, "lat"], 91)), ["o1", "lat", "[-90, 90]"]),
    "longitude": (bad(_set(["demands", 0, "lon"], -180.5)), ["d1", "lon", "[-180, 180]"]),
    "max_km zero": (bad(_set(["demands", 0, "max_km"], 0)), ["d1", "max_km", "> 0"]),
    "max_km negative": (bad(_set(["offers", 0, "max_km"], -1)), ["o1", "max_km", "> 0"]),
    "accepts nothing": (bad(_set(["demands", 0, "accepts"], [])), ["d1", "accepts", "accept nothing"]),
    "accepts missing": (bad(_delete(["demands", 0, "accepts"])), ["d1", "accepts", "missing"]),
    "min > max": (bad(_set(["demands", 0, "limits", "moisture_pct"], {"min": 9, "max": 3})),
                  ["d1", "limits.moisture_pct", "greater than max"]),
    "limit not an object": (bad(_set(["demands", 0, "limits", "moisture_pct"], 12)), ["d1", "limits.moisture_pct"]),
    "quality not a number": (bad(_set(["offers", 0, "quality", "al2o3_pct"], "high")), ["o1", "quality.al2o3_pct"]),
    "unknown item field": (bad(_set(["offers", 0, "max_kms"], 3)), ["o1", "max_kms", "unknown field"]),
    "item not an object": (bad(_set(["offers", 0], "o1")), ["offers[0]", "JSON object"]),
    "id not a string": (bad(_set(["demands", 0, "id"], 7)), ["demands[0]", "id", "string"]),
    "NaN": ('{"offers": [], "demands": [], "x": NaN}', ["NaN"]),
}


@pytest.mark.parametrize("case", INVALID)
def test_invalid_files_exit_2_naming_item_and_field(tmp_path, case):
    doc, words = INVALID[case]
    result = run(tmp_path, doc)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    for word in words:
        assert word in result.stderr, (word, result.stderr)


def test_missing_file_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(match_file_command, [str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "nope.json" in result.stderr


def test_stats_flag(tmp_path):
    out = json.loads(run(tmp_path, EXAMPLE, "--stats").stdout)
    assert out["stats"]["candidate_pairs"] == 1

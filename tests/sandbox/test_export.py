"""The subscription CSV export: asynchronous, 404 until ready, a snapshot of every device.

Sources: v11.6 csv-export, v1.2.2 export_players (the sandbox's limits table,
``subscription_export``). The live half of the same claims is in tests/contract.
"""

from __future__ import annotations

import csv
import gzip
import io

import httpx
import pytest

from onesig_nb.sandbox.limits import EXPORT_READY_POLLS, EXPORT_READY_SECONDS

FIELDS = {"extra_fields": ["external_user_id", "notification_types"]}


def _ask(api, family: str = "current", body=FIELDS, **kw):
    call = api.current if family == "current" else api.legacy
    return call("POST", f"/players/csv_export?app_id={api.sb.app_id}", body, **kw)


def _rows(raw: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(gzip.decompress(raw).decode())))


@pytest.mark.parametrize("family", ["current", "legacy"])
def test_the_file_answers_404_until_ready_then_lists_every_device(fresh_api, family):
    sb = fresh_api.sb
    sb.add_users(
        [
            {"external_id": "on", "platform": "ios"},
            {"external_id": "half", "platform": "android"},
            {"external_id": "half", "platform": "web", "subscribed": False},
        ]
    )
    r = _ask(fresh_api, family)
    assert r.status_code == 200
    url = r.json()["csv_file_url"]
    sb.add_users([{"external_id": "later", "platform": "ios"}])  # after the snapshot
    codes = [httpx.get(url).status_code for _ in range(EXPORT_READY_POLLS + 1)]
    assert codes == [404] * EXPORT_READY_POLLS + [200]  # no key needed: a storage link
    rows = _rows(httpx.get(url).content)
    mine = [r for r in rows if r["external_user_id"] in ("on", "half", "later")]
    devices = sorted(
        (r["external_user_id"], r["device_type"], r["invalid_identifier"]) for r in mine
    )
    assert devices == [("half", "1", "f"), ("half", "5", "t"), ("on", "0", "f")]
    assert {r["external_user_id"] for r in rows} >= {"ana", "off", "multi"}  # the seeded ones
    assert {r["notification_types"] for r in rows if r["invalid_identifier"] == "t"} == {"-2"}


def test_the_file_is_ready_once_its_time_has_come_on_the_sandbox_clock(fresh_api):
    url = _ask(fresh_api).json()["csv_file_url"]
    assert httpx.get(url).status_code == 404
    fresh_api.sb.advance(seconds=EXPORT_READY_SECONDS)
    got = httpx.get(url)
    assert got.status_code == 200 and "ana" in {r["external_user_id"] for r in _rows(got.content)}


def test_an_export_needs_the_key_and_refuses_what_the_sandbox_cannot_do(api):
    assert _ask(api, auth="Key wrong").status_code == 403
    assert _ask(api, "legacy", auth="Basic wrong").status_code == 400
    bad = _ask(api, body={"extra_fields": ["shoe_size"]})
    assert bad.status_code == 400 and "shoe_size" in bad.json()["errors"][0]
    assert _ask(api, body={"segment_name": "Active Users"}).status_code == 400
    wrong_app = api.current("POST", "/players/csv_export?app_id=nope", FIELDS)
    assert wrong_app.status_code == 400


def test_an_unknown_file_is_404(api):
    url = _ask(api).json()["csv_file_url"]
    token = url.rsplit("/", 1)[1][:32]
    assert httpx.get(url.replace(token, "0" * 32)).status_code == 404
    assert httpx.get(url.replace(api.sb.app_id, "other-app")).status_code == 404

"""The live contract: the same request/response checks against the sandbox and real OneSignal.

Every check here is a claim about what OneSignal does (its source in the docstring; the
sandbox's limits table ``onesig_nb/sandbox/limits.py`` says which readings were chosen because
OneSignal documents nothing). By default only the sandbox half runs, on loopback. With a test
app's credentials the very same checks run against ``https://api.onesignal.com``::

    ONESIGNAL_CONTRACT_APP_ID=... ONESIGNAL_CONTRACT_API_KEY=... make contract

Use a test app: the checks create users named ``contract-<run>-...`` (deleted at the end),
give them made-up push tokens, and send pushes to them. ``ONESIGNAL_CONTRACT_MAX_TAGS`` is the
app plan's tags-per-user cap (default: the sandbox's default, 20).

Plain ``requests`` on purpose: the contract tests OneSignal's behaviour, not our client.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
import requests

LIVE_URL = "https://api.onesignal.com"
ENV_APP, ENV_KEY, ENV_CAP = (
    "ONESIGNAL_CONTRACT_APP_ID",
    "ONESIGNAL_CONTRACT_API_KEY",
    "ONESIGNAL_CONTRACT_MAX_TAGS",
)
NO_SUBSCRIBERS = "All included players are not subscribed"
TIMEOUT_S = 30


@dataclass
class Target:
    """One OneSignal-compatible server: the sandbox or the real API."""

    name: str
    base_url: str
    app_id: str
    key: str
    max_tags: int
    sandbox: Any = None  # the Sandbox handle (sandbox-only views: deliveries, clock)
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    http: requests.Session = field(default_factory=requests.Session)
    created: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.http.headers.update({"Authorization": f"Key {self.key}"})

    def ext(self, name: str) -> str:
        return f"contract-{self.run}-{name}"

    def call(self, method: str, path: str, body: Any = None, **params) -> requests.Response:
        return self.http.request(
            method, self.base_url + path, json=body, params=params or None, timeout=TIMEOUT_S
        )

    def user_path(self, external_id: str) -> str:
        return f"/apps/{self.app_id}/users/by/external_id/{quote(external_id, safe='')}"

    def create_user(self, external_id: str, subs: list[bool], **props) -> requests.Response:
        """A user with one AndroidPush subscription per entry (True = subscribed)."""
        body = {
            "identity": {"external_id": external_id},
            "properties": props,
            "subscriptions": [
                {
                    "type": "AndroidPush",
                    "token": f"contract-token-{uuid.uuid4().hex}",
                    "enabled": on,
                }
                for on in subs
            ],
        }
        r = self.call("POST", f"/apps/{self.app_id}/users", body)
        assert r.status_code in (200, 201, 202), r.text
        self.created.append(external_id)
        return r

    def push(self, ids: list[str], **fields) -> requests.Response:
        body = {
            "app_id": self.app_id,
            "contents": {"en": "Contract check"},
            "include_aliases": {"external_id": ids},
            "target_channel": "push",
            **fields,
        }
        return self.call("POST", "/notifications", body)

    def view(self, nid: str) -> requests.Response:
        return self.call("GET", f"/notifications/{nid}", app_id=self.app_id)

    def cancel(self, nid: str) -> requests.Response:
        return self.call("DELETE", f"/notifications/{nid}", app_id=self.app_id)


@pytest.fixture(scope="module", params=["sandbox", "live"])
def target(request):
    if request.param == "live":
        app_id, key = os.environ.get(ENV_APP), os.environ.get(ENV_KEY)
        if not (app_id and key):
            pytest.skip(
                f"live contract: set {ENV_APP} and {ENV_KEY} (a OneSignal test app) to run "
                "these checks against api.onesignal.com"
            )
        cap = int(os.environ.get(ENV_CAP) or 20)
        t = Target("live", LIVE_URL, app_id, key, cap)
        yield t
        for ext in t.created:  # best effort: leave the test app as it was
            try:
                t.call("DELETE", t.user_path(ext))
            except requests.RequestException:
                pass
        return
    import onesig_nb as osn
    from onesig_nb.sandbox.limits import DEFAULT_MAX_TAGS_PER_USER

    with osn.Sandbox() as sb:
        yield Target("sandbox", sb.url, sb.app_id, sb.api_key, DEFAULT_MAX_TAGS_PER_USER, sb)


@pytest.fixture(scope="module")
def people(target):
    """Users every check may target: live (one subscription), off (one unsubscribed),
    both (one live, one unsubscribed), dead2 (two unsubscribed), de (German device)."""
    names = {
        "live": [True],
        "off": [False],
        "both": [True, False],
        "dead2": [False, False],
    }
    ids = {}
    for name, subs in names.items():
        ids[name] = target.ext(name)
        target.create_user(ids[name], subs)
    ids["de"] = target.ext("de")
    target.create_user(ids["de"], [True], language="de")
    return ids


def _errors(r: requests.Response) -> list:
    body = r.json()
    assert isinstance(body.get("errors"), list) and body["errors"], body
    return body["errors"]


# -- sending and targeting ---------------------------------------------------------------------


def test_a_push_to_a_subscribed_user_has_an_id(target, people):
    """v11.6 create-message 200 "Message Sent": ``id`` is a UUID."""
    r = target.push([people["live"]])
    assert r.status_code == 200 and uuid.UUID(r.json()["id"])


def test_nobody_reachable_is_200_with_an_empty_id(target, people):
    """v11.6 200 "Message Not Sent"; OneSignal-Android-SDK issue 1916."""
    r = target.push([people["off"], target.ext("nobody")])
    assert r.status_code == 200
    assert r.json()["id"] == "" and r.json()["errors"] == [NO_SUBSCRIBERS]


def test_unknown_external_ids_are_ignored(target, people):
    """v1.2.2 create_notification: unknown ids are not reported."""
    body = target.push([people["live"], target.ext("nobody")]).json()
    assert body["id"] and target.ext("nobody") not in str(body.get("errors", ""))


def test_invalid_aliases_lists_an_id_once_per_unsubscribed_subscription(target, people):
    """v11.6 create-message 200 example (``user_id_1`` twice); item 3 of issue 13."""
    r = target.push([people["both"], people["dead2"], people["live"]])
    listed = r.json()["errors"]["invalid_aliases"]["external_id"]
    assert listed.count(people["dead2"]) == 2 and listed.count(people["both"]) == 1
    assert people["live"] not in listed and r.json()["id"]
    if target.sandbox is not None:  # who got it: only the sandbox can show
        assert people["both"] in set(target.sandbox.deliveries(r.json()["id"]).external_id)


# -- external ids in URL paths --------------------------------------------------------------------


def test_an_encoded_slash_in_an_external_id_reaches_that_user(target):
    """docs: edit-tags-with-external-user-id: percent-encode the id ("/" as %2F), decoded once."""
    ext = target.ext("a/b")
    target.create_user(ext, [True])
    r = target.call("PATCH", target.user_path(ext), {"properties": {"tags": {"k": "slash"}}})
    assert r.status_code == 202, r.text
    assert target.call("GET", target.user_path(ext)).json()["properties"]["tags"]["k"] == "slash"


def test_a_percent_sequence_in_an_external_id_is_not_decoded_twice(target):
    ext = target.ext("x%41y")
    target.create_user(ext, [True])
    r = target.call("PATCH", target.user_path(ext), {"properties": {"tags": {"k": "pct"}}})
    assert r.status_code == 202, r.text
    assert target.call("GET", target.user_path(ext)).json()["properties"]["tags"]["k"] == "pct"
    assert target.call("GET", target.user_path(target.ext("xAy"))).status_code == 404


# -- tags ------------------------------------------------------------------------------------------


def test_more_than_100_tags_in_one_request_is_400(target, people):
    """v1.2.2 edit tags: "100 tags per call"; docs: rate-limits (100 property updates)."""
    tags = {f"t{i}": "1" for i in range(101)}
    r = target.call("PATCH", target.user_path(people["live"]), {"properties": {"tags": tags}})
    assert r.status_code == 400


def test_tags_beyond_the_plans_cap_are_refused(target):
    """Blog "sustainably growing the OneSignal community"; OneSignal-iOS-SDK issue 1306."""
    ext = target.ext("cap")
    target.create_user(ext, [True])
    full = {f"c{i}": "1" for i in range(target.max_tags)}
    r = target.call("PATCH", target.user_path(ext), {"properties": {"tags": full}})
    assert r.status_code == 202, r.text
    over = target.call("PATCH", target.user_path(ext), {"properties": {"tags": {"one_more": "1"}}})
    assert over.status_code == 400
    assert f"maximum of {target.max_tags} tags" in str(over.json()["errors"])
    fine = target.call("PATCH", target.user_path(ext), {"properties": {"tags": {"c0": "2"}}})
    assert fine.status_code == 202  # an update at the cap stays at the cap


def test_an_empty_tag_value_deletes_the_tag(target):
    """docs: add-user-data-tags / v1.2.2: ``""`` deletes a tag."""
    ext = target.ext("del")
    target.create_user(ext, [True], tags={"a": "1", "b": "2"})
    target.call("PATCH", target.user_path(ext), {"properties": {"tags": {"a": ""}}})
    assert target.call("GET", target.user_path(ext)).json()["properties"]["tags"] == {"b": "2"}


def test_a_users_language_is_the_devices(target, people):
    """docs: multi-language-messaging: the subscription's language picks the text."""
    viewed = target.call("GET", target.user_path(people["de"])).json()
    assert viewed["properties"]["language"] == "de"
    r = target.push([people["de"]], contents={"en": "Hi", "de": "Hallo"})
    assert r.status_code == 200 and r.json()["id"]
    if target.sandbox is not None:
        assert list(target.sandbox.deliveries(r.json()["id"]).contents) == ["Hallo"]


# -- validation ------------------------------------------------------------------------------------

INVALID = [
    ("web button without url", {"web_buttons": [{"id": "a", "text": "Go"}]}),
    ("unknown button key", {"buttons": [{"id": "a", "text": "Go", "color": "red"}]}),
    ("four buttons", {"buttons": [{"id": str(i), "text": "b"} for i in range(4)]}),
    ("priority 7", {"priority": 7}),
    ("subtitle languages", {"subtitle": {"en": "s", "de": "u"}}),
    ("http url", {"url": "http://example.com/"}),
    ("ttl over 28 days", {"ttl": 2_419_201}),
    ("no english", {"contents": {"es": "Hola"}}),
    ("idempotency key not a uuid", {"idempotency_key": "k-1"}),
    ("ios_badgeType not in the enum", {"ios_badgeType": "Add"}),
    ("collapse_id over 64", {"collapse_id": "c" * 65}),
    ("liquid syntax error", {"contents": {"en": "Hi {% if %}"}}),
    ("unknown liquid filter", {"contents": {"en": "Hi {{ x | shout }}"}}),
]


@pytest.mark.parametrize(("case", "fields"), INVALID, ids=[c[0] for c in INVALID])
def test_an_invalid_push_is_400_with_an_errors_array(target, people, case, fields):
    """v11.6 create-message schema (buttons, priority, subtitle, url, ttl, contents.en,
    idempotency_key); Liquid errors: the sandbox's chosen reading, checked here live."""
    r = target.push([people["live"]], **fields)
    assert r.status_code == 400, r.text
    assert all(isinstance(e, str) for e in _errors(r))


def test_missing_liquid_values_render_empty_and_the_message_is_sent(target, people):
    """docs: using-liquid-syntax: missing values render empty; the message still sends."""
    r = target.push([people["live"]], contents={"en": "Hi {{ nickname }}!"})
    assert r.status_code == 200 and r.json()["id"]
    if target.sandbox is not None:
        assert list(target.sandbox.deliveries(r.json()["id"]).contents) == ["Hi !"]


# -- idempotency -------------------------------------------------------------------------------------


def test_a_reused_key_replays_the_first_answer(target, people):
    """v11.6 idempotency_key; reference: replays carry ``Idempotent-Replayed: true``. With
    another payload: undocumented, the sandbox replays (limits table ``idempotency``)."""
    key = str(uuid.uuid4())
    first = target.push([people["live"]], idempotency_key=key)
    again = target.push([people["live"]], idempotency_key=key, contents={"en": "Other"})
    assert first.json()["id"] and again.json()["id"] == first.json()["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"


# -- view, schedule, cancel -------------------------------------------------------------------------


def test_view_reports_counts_times_and_per_platform_stats(target, people):
    """v11.6 view-message; v1.2.2 NotificationWithMeta / PlatformDeliveryData."""
    nid = target.push([people["both"]]).json()["id"]
    body = target.view(nid).json()
    for name in ("successful", "failed", "errored", "converted", "queued_at", "send_after"):
        assert isinstance(body[name], int), name
    assert body["remaining"] is None or isinstance(body["remaining"], int)
    for stats in (body.get("platform_delivery_stats") or {}).values():
        assert set(stats) >= {"successful", "failed", "errored", "converted"}


def test_a_scheduled_push_is_pending_and_can_be_canceled(target, people):
    """v11.6 create-message ``send_after``; view-message ``remaining``/``send_after``;
    cancel-message: "Stop a scheduled or currently outgoing message"."""
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    nid = target.push([people["live"]], send_after=when.isoformat()).json()["id"]
    body = target.view(nid).json()
    assert body["send_after"] == int(when.timestamp())
    assert body.get("completed_at") is None and body["remaining"] != 0
    r = target.cancel(nid)
    assert (r.status_code, r.json()) == (200, {"success": True})
    assert target.view(nid).json()["canceled"] is True


def test_a_time_zone_delayed_push_is_pending(target, people):
    """v11.6 ``delayed_option: "timezone"`` with ``delivery_time_of_day``."""
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    r = target.push(
        [people["live"]],
        send_after=when.isoformat(),
        delayed_option="timezone",
        delivery_time_of_day="9:00AM",
    )
    nid = r.json()["id"]
    assert r.status_code == 200 and nid
    assert target.view(nid).json().get("completed_at") is None
    assert target.cancel(nid).status_code == 200


def test_a_send_after_already_past_goes_out_at_once(target, people):
    """The reading the sending rules build on (campaign.timing.ledger_span, local schedules
    whose time has passed for some people): OneSignal delivers a push whose ``send_after`` is
    in the past at once, not never and not a day later (v11.6 create-message ``send_after``:
    "Schedule notification for future delivery"; the past is not described, so checked)."""
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    r = target.push([people["live"]], send_after=when.isoformat())
    assert r.status_code == 200 and r.json()["id"]
    nid = r.json()["id"]
    done = target.view(nid).json().get("completed_at")
    if target.sandbox is None:  # live: wait until OneSignal reports it done
        import time

        for _ in range(30):
            done = target.view(nid).json().get("completed_at")
            if done:
                break
            time.sleep(2)
    assert done, "a push scheduled in the past was not delivered at once"


def test_cancel_of_a_delivered_push_is_400(target, people):
    """v11.6 cancel-message 400: "Usually due to the message already being sent"."""
    nid = target.push([people["live"]]).json()["id"]
    if target.sandbox is None:  # live: wait until OneSignal reports it done
        import time

        for _ in range(30):
            if target.view(nid).json().get("completed_at"):
                break
            time.sleep(2)
    r = target.cancel(nid)
    assert r.status_code == 400
    _errors(r)


def test_view_calls_are_rate_limited_on_their_own(target, people):
    """docs: rate-limits: view message 1/s per app; a 429 has an integer Retry-After, and the
    create group is not spent by views. (In the sandbox only with rate limits on.)"""
    nid = target.push([people["live"]]).json()["id"]
    if target.sandbox is not None:
        target.sandbox.set_rate_limits(view=1)
    try:
        codes = []
        for _ in range(12):
            r = target.view(nid)
            codes.append(r.status_code)
            if r.status_code == 429:
                assert int(r.headers["Retry-After"]) >= 0
        assert set(codes) <= {200, 429}
        if target.sandbox is not None:
            assert 429 in codes
        assert target.push([people["live"]]).status_code == 200
    finally:
        if target.sandbox is not None:
            target.sandbox.set_rate_limits(False)


def test_the_subscription_export_is_a_csv_ready_after_polling(target, people):
    """v11.6 csv-export / v1.2.2 export_players: ``POST /players/csv_export?app_id=`` answers
    a ``csv_file_url`` at once; the URL answers 404 (v1.2.2: 403) until the file is generated,
    then a gzip CSV with one row per subscription, ``invalid_identifier`` t/f and the
    ``extra_fields`` asked for. An id never created is not in it. The file URL needs no key."""
    fields = {"extra_fields": ["external_user_id", "notification_types"]}
    r = target.call("POST", "/players/csv_export", fields, app_id=target.app_id)
    assert r.status_code == 200, r.text
    url = r.json()["csv_file_url"]
    live = target.sandbox is None
    deadline = time.monotonic() + (900 if live else 10)
    while True:
        got = requests.get(url, timeout=TIMEOUT_S)  # a storage link: no Authorization
        if got.status_code == 200:
            break
        assert got.status_code in (403, 404), got.status_code
        assert time.monotonic() < deadline, "the export was not ready in time"
        time.sleep(10 if live else 0.05)
    raw = got.content
    text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {"id", "device_type", "invalid_identifier", *fields["extra_fields"]} <= set(rows[0])
    flags: dict[str, list[str]] = {}
    for row in rows:
        flags.setdefault(row["external_user_id"], []).append(row["invalid_identifier"])
    assert flags[people["live"]] == ["f"] and sorted(flags[people["both"]]) == ["f", "t"]
    assert flags[people["dead2"]] == ["t", "t"]
    assert target.ext("never-created") not in flags


# -- coverage: filters, lists, templates --------------------------------------------------------


def test_a_tag_filter_reaches_the_tagged_user(target, people):
    """v11.6 create-message ``filters`` (tag, "=")."""
    mark = f"run-{target.run}"
    r = target.call(
        "PATCH", target.user_path(people["live"]), {"properties": {"tags": {"contract": mark}}}
    )
    assert r.status_code == 202
    if target.sandbox is None:
        import time

        time.sleep(65)  # docs: allow 60+ seconds after a tag edit
    body = {
        "app_id": target.app_id,
        "contents": {"en": "Filtered"},
        "filters": [{"field": "tag", "key": "contract", "relation": "=", "value": mark}],
    }
    sent = target.call("POST", "/notifications", body)
    assert sent.status_code == 200 and sent.json()["id"], sent.text
    if target.sandbox is not None:
        assert set(target.sandbox.deliveries(sent.json()["id"]).external_id) == {people["live"]}


def test_list_notifications_refuses_a_page_over_50(target, people):
    """v11.6 view-messages: limit "maximum and default is 50"; view-templates' 400 text."""
    target.push([people["live"]])
    page = target.call("GET", "/notifications", app_id=target.app_id, limit=1)
    assert page.status_code == 200 and len(page.json()["notifications"]) == 1
    assert isinstance(page.json()["total_count"], int)
    assert target.call("GET", "/notifications", app_id=target.app_id, limit=51).status_code == 400


def test_a_template_is_created_viewed_used_and_deleted(target, people):
    """v11.6 create/view/delete-template; create-message ``template_id``."""
    made = target.call(
        "POST",
        "/templates",
        {"app_id": target.app_id, "name": f"contract-{target.run}", "contents": {"en": "T"}},
    )
    assert made.status_code == 200, made.text
    tid = made.json()["id"]
    try:
        viewed = target.call("GET", f"/templates/{tid}", app_id=target.app_id)
        assert viewed.json()["content"]["contents"]["en"] == "T"
        sent = target.call(
            "POST",
            "/notifications",
            {"app_id": target.app_id, "template_id": tid, "target_channel": "push",
             "include_aliases": {"external_id": [people["live"]]}},
        )  # fmt: skip
        assert sent.status_code == 200 and sent.json()["id"]
    finally:
        gone = target.call("DELETE", f"/templates/{tid}", app_id=target.app_id)
    assert gone.json() == {"success": True}
    assert target.call("GET", f"/templates/{tid}", app_id=target.app_id).status_code == 404


def test_custom_data_without_a_template_still_sends(target, people):
    """v11.6 custom_data: "Use with template_id"; without one the value renders empty (docs:
    personalization-api-custom-data) and the push is still sent."""
    r = target.push(
        [people["live"]],
        contents={"en": "Code: {{ message.custom_data.code }}"},
        custom_data={"code": "X1"},
    )
    assert r.status_code == 200 and r.json()["id"]
    if target.sandbox is not None:
        assert list(target.sandbox.deliveries(r.json()["id"]).contents) == ["Code: "]

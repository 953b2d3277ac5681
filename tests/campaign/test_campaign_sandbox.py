"""Campaign and TagSync end to end against the real client and the sandbox's request log."""

from __future__ import annotations

import pytest

import onesig_nb as osn
from onesig_nb.campaign import Campaign, TagSync
from onesig_nb.message import Message

MSG = Message(contents="Hi {{ first_name | default: 'there' }}", headings="Your cart")


def test_send_then_resend_and_new_object_make_zero_new_requests(
    sb, client, cohort, roster, tmp_path
):
    j = tmp_path / "j.sqlite"
    camp = Campaign("twice", cohort, MSG, client, journal=j, batch_size=50, confirm_above=10_000)
    before = sb.request_count()
    result = camp.send(progress=False)
    # auto without a TagSync pre-renders: 4 first names x 60 people less the 24 with no
    # subscribed device (excluded before sending: 12 Ana, 12 Chloé), batches of 50 -> 6
    # requests, plus the one subscription export that told who is reachable
    assert sb.request_count() - before == result.requests + 1 == 7
    mine = sb.deliveries()
    mine = mine[mine.notification_id.isin(result.notification_ids)]
    reachable = set(roster.loc[roster.subscribed, "external_id"])
    assert set(mine.external_id) == reachable and mine.external_id.is_unique
    frame = result.to_frame()
    assert set(frame.loc[frame.status == "sent", "external_id"]) == reachable
    # people whose every device is unsubscribed are known before sending: no request for them
    assert set(frame.loc[frame.status == "excluded", "external_id"]) == (
        set(roster.external_id) - reachable
    )
    after = sb.request_count()
    again = camp.send(progress=False)
    fresh = Campaign("twice", cohort, MSG, client, journal=j, batch_size=50).send(progress=False)
    assert sb.request_count() == after
    assert again.already_sent and fresh.already_sent and fresh.summary["sent"] == len(reachable)


def test_legacy_api_and_exclude_ios(sb, cohort, roster, tmp_path):
    with osn.OneSignal(sb.app_id, sb.api_key, base_url=sb.url, api="legacy") as legacy:
        camp = Campaign(
            "no-ios", cohort, MSG, legacy, journal=tmp_path / "j", exclude_platforms=("ios",),
            confirm_above=10_000,
        )  # fmt: skip
        assert camp.plan().sample_payload["body"]["isIos"] is False
        res = camp.send(progress=False)
    got = sb.deliveries()
    got = got[got.notification_id.isin(res.notification_ids)]
    assert len(got) and "ios" not in set(got.platform)
    expected = roster[roster.subscribed & (roster.platform != "ios")].external_id
    assert set(got.external_id) == set(expected)


def test_client_personalization_delivers_each_persons_text(sb, client, cohort, tmp_path):
    camp = Campaign(
        "client-mode", cohort, MSG, client, journal=tmp_path / "j", personalization="client",
        confirm_above=10_000,
    )  # fmt: skip
    assert camp.plan().batches == 4  # four first names -> four distinct texts
    res = camp.send(progress=False)
    got = sb.deliveries()
    got = got[got.notification_id.isin(res.notification_ids)].set_index("external_id")
    assert got.loc["cp-0001", "contents"] == "Hi Ben"


def test_send_test_reaches_the_qa_list_only(sb, client, cohort, tmp_path):
    camp = Campaign("qa", cohort, MSG, client, journal=tmp_path / "j", test_users=["qa-1"])
    res = camp.send_test()
    got = sb.deliveries(res.notification_ids[0])
    assert list(got.external_id) == ["qa-1"] and camp.status == "tested"


def test_report_shows_delivery_stats_and_chart(sb, client, cohort, tmp_path):
    camp = Campaign("rep", cohort, MSG, client, journal=tmp_path / "j", confirm_above=10_000)
    res = camp.send(progress=False)
    report = camp.report(sleep=lambda s: None, poll_interval=0, timeout=30)
    assert report.complete and report.targeted == res.summary["accepted"]
    assert report.totals["successful"] == res.summary["sent"]
    assert "<img" in report._repr_html_()


def test_tagsync_unchanged_rerun_zero_requests_and_ten_percent_exactly_those(
    sb, client, cohort, roster, tmp_path
):
    j = tmp_path / "j.sqlite"
    first = TagSync("tags", cohort, client, tags=["plan", "ltv"], journal=j).run(progress=False)
    assert first.summary["updated"] == len(roster)
    assert sb.user_tags("cp-0003") == {"plan": "pro", "ltv": "9"}
    before = sb.request_count()
    again = TagSync("tags", cohort, client, tags=["plan", "ltv"], journal=j).run(progress=False)
    assert sb.request_count() == before and again.requests == 0
    df = roster[["external_id", "first_name", "plan", "ltv"]].copy()
    changed = set(df.external_id.sample(frac=0.1, random_state=1))
    df.loc[df.external_id.isin(changed), "ltv"] += 1000
    df.loc[df.external_id == "cp-0005", "plan"] = None  # delete one tag
    changed.add("cp-0005")
    log_start = len(sb.requests())
    res = TagSync("tags", osn.Cohort.from_frame(df), client, tags=["plan", "ltv"], journal=j).run(
        progress=False
    )
    log = sb.requests().iloc[log_start:]
    log = log[~log.path.str.startswith("/_sandbox")]
    touched = {p.rsplit("/", 1)[1] for p in log.path}
    assert touched == changed and res.requests == len(changed)
    assert "plan" not in sb.user_tags("cp-0005")


@pytest.mark.parametrize("api", ["current", "legacy"])
def test_bad_key_fails_before_the_journal_claims_anything_sent(sb, cohort, tmp_path, api):
    from onesig_nb.errors import AuthError

    key = "os_v2_app_definitely_wrong_key_0000000000"
    with osn.OneSignal(sb.app_id, key, base_url=sb.url, api=api) as bad:
        camp = Campaign("auth", cohort, MSG, bad, journal=tmp_path / "j", confirm_above=10_000)
        with pytest.raises(AuthError) as exc:
            camp.send(progress=False)
    assert key not in str(exc.value)
    # the reachability check before sending meets the bad key first: nothing is journaled
    assert camp.status == "new" and not len(camp.result().to_frame())
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("j*"))
    assert key.encode() not in raw


def test_sample_audience_reaches_exactly_the_manifests_reachable_people(
    sandbox, sample_workspace, sample_manifest, tmp_path
):
    cohort = osn.load_cohort(sample_workspace / "segment-logs", audience="cart_abandoners")
    with osn.OneSignal(sandbox.app_id, sandbox.api_key, base_url=sandbox.url) as client:
        camp = Campaign("sample-cart", cohort, MSG, client, journal=tmp_path / "j")
        res = camp.send(confirm=True, progress=False)
    got = sandbox.deliveries()
    got = got[got.notification_id.isin(res.notification_ids)]
    reachable = set(sample_manifest["audiences"]["cart_abandoners"]["reachable"])
    assert set(got.external_id) == reachable
    frame = res.to_frame()
    assert set(frame.loc[frame.status == "sent", "external_id"]) <= set(cohort.external_ids)


@pytest.mark.parametrize("api", ["current", "legacy"])
def test_tagsync_people_without_a_onesignal_user_are_not_failures(sb, roster, tmp_path, api):
    df = roster[["external_id", "plan", "ltv"]].head(4).copy()
    df.loc[len(df)] = ["never-installed-1", "pro", 1.0]
    with osn.OneSignal(sb.app_id, sb.api_key, base_url=sb.url, api=api) as c:
        sync = TagSync(
            "missing", osn.Cohort.from_frame(df), c, tags=["plan"], journal=tmp_path / "j"
        )
        res = sync.run(progress=False)
        assert (res.summary["updated"], res.summary["not_in_onesignal"]) == (4, 1)
        assert res.summary["failed"] == 0
        assert sync.plan().changed_users == 1  # offered again: they may install the app later

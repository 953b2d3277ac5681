"""A wrong key costs exactly one request, raises AuthError clearly, and marks nothing as sent."""

from __future__ import annotations

import pytest

import onesig_nb as osn
from onesig_nb.errors import AuthError

from .conftest import api_requests, cohort_of, people, roster

RECIPIENTS = 4_500  # several batches in both dialects, so a fan-out would show
WRONG_KEY = "os_v2_app_wrongwrongwrongwrongwrongwrong0000"


def _campaign(client, df, journal, name="auth"):
    return osn.Campaign(
        name,
        cohort_of(df),
        osn.Message("Hi {{ first_name | default: 'there' }}"),
        client,
        journal=journal,
        personalization="client",
        confirm_above=RECIPIENTS + 1,
    )


def _assert_clear(exc: AuthError) -> None:
    text = str(exc)
    assert WRONG_KEY not in text and WRONG_KEY[-12:] not in text
    assert "ONESIGNAL_REST_API_KEY" in text or "key" in text.lower(), text
    assert exc.status in (400, 401, 403)


@pytest.mark.parametrize("api", ["legacy", "current"])
def test_wrong_key_campaign_makes_one_request_and_marks_nothing_sent(api, tmp_journal):
    df = people(RECIPIENTS, prefix=f"auth-{api}")
    with osn.Sandbox() as sb:
        sb.add_users(roster(df))
        bad = osn.OneSignal(sb.app_id, WRONG_KEY, base_url=sb.url, api=api)
        with pytest.raises(AuthError) as info:
            _campaign(bad, df, tmp_journal).send(confirm=True, progress=False)
        bad.close()
        _assert_clear(info.value)
        assert len(api_requests(sb)) == 1, "a wrong key must cost exactly one request"
        assert len(sb.deliveries()) == 0

        # Nothing was journaled as sent: the same campaign with the right key reaches everyone.
        good = osn.OneSignal(sb.app_id, sb.api_key, base_url=sb.url, api=api)
        _campaign(good, df, tmp_journal).send(confirm=True, progress=False)
        good.close()
        delivered = set(sb.deliveries()["external_id"])
        assert delivered == set(df.loc[df["subscribed"], "external_id"])


def test_wrong_key_tag_sync_makes_one_request(tmp_journal):
    df = people(300, prefix="auth-tags", unsubscribed_every=0)
    with osn.Sandbox() as sb:
        sb.add_users(roster(df))
        bad = osn.OneSignal(sb.app_id, WRONG_KEY, base_url=sb.url)
        sync = osn.TagSync("auth-tags", cohort_of(df), bad, tags=["plan"], journal=tmp_journal)
        with pytest.raises(AuthError) as info:
            sync.run(progress=False)
        bad.close()
        _assert_clear(info.value)
        assert len(api_requests(sb)) == 1
        assert all("plan" not in sb.user_tags(e) for e in df["external_id"][:20])

        good = osn.OneSignal(sb.app_id, sb.api_key, base_url=sb.url)
        osn.TagSync("auth-tags", cohort_of(df), good, tags=["plan"], journal=tmp_journal).run(
            progress=False
        )
        good.close()
        assert all(sb.user_tags(e).get("plan") for e in df["external_id"])


def test_wrong_key_bulk_client_call_makes_one_request():
    df = people(3_000, prefix="auth-bulk", unsubscribed_every=0)
    with osn.Sandbox() as sb:
        sb.add_users(roster(df))
        with osn.OneSignal(sb.app_id, WRONG_KEY, base_url=sb.url, api="legacy") as bad:
            with pytest.raises(AuthError) as info:
                bad.send_push(list(df["external_id"]), {"contents": {"en": "hi"}})
        _assert_clear(info.value)
        assert len(api_requests(sb)) == 1

"""A TagSync that would break OneSignal's per-plan tag cap fails offline as it would live."""

from __future__ import annotations

import pandas as pd

import onesig_nb as osn


def test_a_sync_past_the_plan_tag_cap_fails_for_those_users_and_says_how_to_fix_it(tmp_path):
    """OneSignal caps tags per user by plan, counting tags a user already has, even for updates
    (reference/onesignal-behaviour-sources.md: "App is limited to a maximum of 20 tags")."""
    with osn.Sandbox(max_tags=2) as sb:
        sb.add_users(
            [
                {"external_id": "full", "platform": "ios", "tags": {"a": "1", "b": "2"}},
                {"external_id": "roomy", "platform": "ios", "tags": {}},
            ]
        )
        cohort = osn.Cohort.from_frame(
            pd.DataFrame({"external_id": ["full", "roomy"], "plan": ["pro", "pro"]})
        )
        with osn.OneSignal(sb.app_id, sb.api_key, base_url=sb.url, rate_limits=False) as client:
            result = osn.TagSync(
                "cap", cohort, client, tags=["plan"], journal=tmp_path / "j.sqlite"
            ).run(progress=False)
        frame = result.to_frame().set_index("external_id")
        assert frame.loc["roomy", "status"] == "updated"
        assert frame.loc["full", "status"] == "failed"
        assert "caps tags at 2 per user" in frame.loc["full", "note"]
        assert sb.user_tags("full") == {"a": "1", "b": "2"}
        assert sb.user_tags("roomy") == {"plan": "pro"}

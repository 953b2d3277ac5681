"""What a campaign accepts as its audience and platforms: duplicate ids, one platform string."""

from __future__ import annotations

import pandas as pd

from .conftest import make
from .fakes import FakeCohort


def test_duplicate_ids_in_a_duck_typed_cohort_are_sent_once_and_reported(journal):
    cohort = FakeCohort(pd.DataFrame({"external_id": ["u1", "u2", "u1", "u3", "u2"]}))
    camp = make(journal, cohort=cohort, batch_size=2)
    plan = camp.plan()
    assert plan.duplicates == 2 and "2 duplicate external id" in plan.note
    assert plan.to_send == 3
    res = camp.send(progress=False)
    delivered = [e for _, e in camp.client.deliveries]
    assert sorted(delivered) == ["u1", "u2", "u3"] and res.summary["accepted_unconfirmed"] == 3


def test_exclude_platforms_accepts_one_string(journal):
    camp = make(journal, exclude_platforms="ios")
    assert camp.exclude_platforms == ("ios",) and camp.platforms == ("android", "web")


def test_a_repeated_id_with_other_traits_is_pushed_once_when_texts_are_prerendered(journal):
    """Exactly-once: the plan promises "each person is sent to once". A duck-typed cohort that
    repeats u1 with another first name put u1 in two pre-rendered text groups: two pushes."""
    cohort = FakeCohort(
        pd.DataFrame({"external_id": ["u1", "u2", "u1"], "first_name": ["Ana", "Ben", "Cy"]})
    )
    camp = make(journal, cohort=cohort, batch_size=2)
    plan = camp.plan()
    assert plan.personalization == "client" and plan.to_send == 2
    camp.send(progress=False)
    delivered = [e for _, e in camp.client.deliveries]
    assert sorted(delivered) == ["u1", "u2"]

"""A plan leads with who, how many and how long; its checks read as sentences; a message
that cannot render gives a blocked plan instead of an exception."""

from __future__ import annotations

import pytest

from onesig_nb.errors import ValidationError
from onesig_nb.message import Message

from .conftest import make
from .fakes import FakeClient


def test_plan_leads_with_who_how_many_and_how_long(journal):
    camp = make(journal, client=FakeClient(max_ids=100))
    plan = camp.plan()
    assert plan.headline() == (
        "Will send to **50 people** (iOS, Android, Web) in 1 request, about 1 s. 50 unknown "
        "(reachability not checked: this client cannot check it)."
    )
    page = plan._repr_html_()
    assert "Will send to <b>50 people</b> (iOS, Android, Web)" in page
    assert ">Checks<" in page and ">Lint<" not in page and "not sent yet" in page
    assert str(plan).splitlines()[:2] == [
        "Campaign 'nudge': not sent yet",
        "  Will send to 50 people (iOS, Android, Web) in 1 request, about 1 s. 50 unknown "
        "(reachability not checked: this client cannot check it).",
    ]
    camp.send(progress=False)
    assert camp.plan().state_text == "already sent"


def test_findings_read_as_sentences_with_the_code_on_hover(journal):
    camp = make(journal, msg=Message(contents="Hi {{ frist_name | default: 'there' }}"))
    plan = camp.plan()
    assert plan.findings
    f = plan.findings[0]
    assert f"title='{f.code}'" in plan._repr_html_()
    assert f"{f.code}:" not in str(plan)


def test_a_liquid_syntax_error_gives_a_blocked_plan_instead_of_raising(journal):
    camp = make(journal, msg=Message(contents="Hi {{ first_name"))
    plan = camp.plan()
    assert plan.state == "blocked" and plan.to_send == 0 and plan.errors
    assert plan.state_text == "blocked: errors in the checks"
    assert "Fix the errors in the checks below first." in plan.headline()
    page = plan._repr_html_()
    assert "Checks" in page and plan.errors[0].message[:20] in page
    with pytest.raises(ValidationError):
        camp.send(progress=False)
    assert camp.client.requests == []

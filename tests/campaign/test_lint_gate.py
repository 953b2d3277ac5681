"""The lint gate: errors block a send; a warning that changes the text for some people must be
acknowledged, with the number of people it affects; ``require_test`` needs a test first."""

from __future__ import annotations

import pytest

from onesig_nb.errors import ConfirmationRequired, ValidationError
from onesig_nb.message import Message

from .conftest import make
from .fakes import FakeCohort

TYPO = Message(contents="Hi {{ frist_name }}, your cart is waiting")


def test_a_misspelled_variable_cannot_be_sent_without_acknowledging_it(journal):
    camp = make(journal, n=50, msg=TYPO)
    with pytest.raises(ConfirmationRequired) as exc:
        camp.send(confirm=50, progress=False)
    text = str(exc.value)
    assert "missing-variable (50 people)" in text and "'frist_name'" in text
    assert "Did you mean 'first_name'?" in text
    assert "send(confirm=50, acknowledge=['missing-variable'])" in text
    assert "acknowledge=True" in text
    assert [(w.code, w.people) for w in exc.value.warnings] == [("missing-variable", 50)]
    assert camp.client.count() == 0 and camp.status == "new"


def test_acknowledging_the_warning_by_code_or_all_at_once_sends(journal):
    camp = make(journal, n=50, msg=TYPO)
    assert camp.send(confirm=50, acknowledge=["missing-variable"], progress=False).complete
    other = make(journal, n=30, msg=TYPO, name="other")
    assert other.send(acknowledge=True, progress=False).summary["accepted_unconfirmed"] == 30


def test_acknowledging_another_warning_or_confirming_alone_does_not_send(journal):
    camp = make(journal, n=50, msg=TYPO)
    for ack in ((), ["truncated-ios"], False, None):
        with pytest.raises(ConfirmationRequired, match="missing-variable"):
            camp.send(confirm=True, acknowledge=ack, progress=False)
    assert camp.client.count() == 0


def test_the_count_is_the_people_who_lack_the_variable(journal):
    names = ["Ana" if i % 5 else None for i in range(50)]  # every 5th has no first name
    cohort = FakeCohort.of(50, first_name=names)
    camp = make(journal, cohort=cohort, msg=Message(contents="Hi {{ first_name }}!"))
    with pytest.raises(ConfirmationRequired, match=r"missing-variable \(10 people\)"):
        camp.send(progress=False)
    assert [w.people for w in camp.text_warnings()] == [10]


def test_a_variable_with_a_fallback_needs_no_acknowledgement(journal):
    """Lint still warns that nobody has 'frist_name', but everyone reads the fallback."""
    msg = Message(contents="Hi {{ frist_name | default: 'there' }}")
    camp = make(journal, n=20, msg=msg)
    findings = camp.plan().findings
    assert any(f.code == "missing-variable" and f.severity == "warning" for f in findings)
    assert camp.text_warnings() == ()
    assert camp.send(progress=False).summary["accepted_unconfirmed"] == 20


def test_a_text_cut_off_on_a_device_is_named_with_its_count(journal):
    camp = make(journal, n=20, msg=Message(contents="Your cart " + "x" * 170))
    with pytest.raises(ConfirmationRequired) as exc:
        camp.send(progress=False)
    codes = {w.code: w.people for w in exc.value.warnings}
    assert codes["truncated-ios"] == 20 and "truncated-chrome" in codes
    assert "truncated-ios (20 people)" in str(exc.value)
    assert camp.send(acknowledge=list(codes), progress=False).summary["accepted_unconfirmed"] == 20


def test_single_braces_sent_as_written_affect_everyone(journal):
    camp = make(journal, n=12, msg=Message(contents="Hi {first_name}"))
    assert [(w.code, w.people) for w in camp.text_warnings()] == [("single-braces", 12)]


def test_lint_errors_block_the_send_even_when_acknowledged(journal):
    camp = make(journal, n=10, msg=Message(contents="Hi {{ first_name"))
    with pytest.raises(ValidationError, match="lint error"):
        camp.send(confirm=10, acknowledge=True, progress=False)
    assert camp.client.count() == 0


def test_a_bad_acknowledge_value_is_refused_in_words(journal):
    camp = make(journal, n=10, msg=TYPO)
    with pytest.raises(ValidationError, match="acknowledge must be True or a list"):
        camp.send(acknowledge=3, progress=False)


def test_require_test_needs_a_test_of_the_same_message_first(journal):
    camp = make(journal, n=30, require_test=True)
    with pytest.raises(ConfirmationRequired, match="needs a test send") as exc:
        camp.send(progress=False)
    assert "send_test" in str(exc.value) and camp.client.count() == 0
    camp.send_test(["qa-1"])
    assert camp.tested()
    camp.message = Message(contents="Hi {{ first_name | default: 'there' }}, new text")
    assert not camp.tested()  # a test of another text does not count
    with pytest.raises(ConfirmationRequired, match="needs a test send"):
        camp.send(progress=False)
    camp.send_test(["qa-1"])
    assert camp.send(progress=False).summary["accepted_unconfirmed"] == 30


def test_a_test_that_created_no_notification_does_not_count(journal):
    camp = make(journal, n=5, require_test=True)
    camp.client.unsubscribed.add("qa-off")
    camp.send_test(["qa-off"])  # OneSignal created nothing: nobody saw it
    assert not camp.tested()

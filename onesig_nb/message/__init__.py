"""A push message, pure and offline: fields and their checks, Liquid rendering per person, lint.

    msg = Message(contents={"en": "Hi {{ first_name | default: 'there' }}"})
    msg.render(cohort)        # one row per person, as their phone shows it
    msg.lint(cohort)          # Findings: missing variables, truncation, limits

:mod:`.model` is the :class:`Message`; :mod:`.fields` checks its fields; :mod:`.rendering` and
:mod:`.liquid` render it per person; :mod:`.lint` and :mod:`.rules` find problems, reported as
:mod:`.findings`; :mod:`.devices` holds what each phone shows before truncating.
"""

from onesig_nb.message.devices import DEVICE_LIMITS
from onesig_nb.message.findings import Finding, Findings, Personalization
from onesig_nb.message.model import Message
from onesig_nb.message.rendering import LANGUAGE_TRAIT, describe_person

__all__ = [
    "DEVICE_LIMITS",
    "LANGUAGE_TRAIT",
    "Finding",
    "Findings",
    "Message",
    "Personalization",
    "describe_person",
]

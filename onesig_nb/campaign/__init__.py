"""Sending: a Campaign plans, tests, confirms and sends one push to a cohort exactly once; a
TagSync writes changed traits to OneSignal tags. Both journal every request.

:mod:`.campaign` is the facade; :mod:`.planning` decides what would go out (a frozen
:class:`~onesig_nb.campaign.planning.Decision`); :mod:`.batches` cuts recipients into keyed
batches and encodes a sample of one with the client's own dialect; :mod:`.mode` chooses server
or client personalization; :mod:`.sending` runs the batches; :mod:`.results` reads outcomes
back; :mod:`.views` and :mod:`.report` show them. :mod:`.protocols` says what both need from a
client (:class:`PushClient`, :class:`TagClient`).

Sending rules (:mod:`.rules`: a frequency cap across campaigns, quiet hours, suppression) are
applied by :mod:`.holds`, with the time each person gets it from :mod:`.timing`, the cap's
window arithmetic in :mod:`.caps` and suppression lists and trait rules in :mod:`.suppression`;
:mod:`.cancel` is the kill switch.
"""

from onesig_nb.campaign.campaign import Campaign
from onesig_nb.campaign.cancel import Cancellation
from onesig_nb.campaign.experiment import Experiment
from onesig_nb.campaign.planning import Decision
from onesig_nb.campaign.protocols import PushClient, TagClient
from onesig_nb.campaign.report import CampaignReport
from onesig_nb.campaign.results import campaigns
from onesig_nb.campaign.rules import Rules, clear_rules, set_rules
from onesig_nb.campaign.tagsync import TagSync, TagSyncResult
from onesig_nb.campaign.views import CampaignPlan, CampaignResult

__all__ = [
    "Campaign",
    "CampaignPlan",
    "CampaignReport",
    "CampaignResult",
    "Cancellation",
    "Decision",
    "Experiment",
    "PushClient",
    "Rules",
    "TagClient",
    "TagSync",
    "TagSyncResult",
    "campaigns",
    "clear_rules",
    "set_rules",
]

"""Sending: a Campaign plans, tests, confirms and sends one push to a cohort exactly once; a
TagSync writes changed traits to OneSignal tags. Both journal every request.

:mod:`.campaign` is the facade; :mod:`.planning` decides what would go out (a frozen
:class:`~onesig_nb.campaign.planning.Decision`); :mod:`.batches` cuts recipients into keyed
batches; :mod:`.mode` chooses server or client personalization; :mod:`.sending` runs the
batches; :mod:`.results` reads outcomes back; :mod:`.views` and :mod:`.report` show them.
"""

from onesig_nb.campaign.campaign import Campaign, campaigns
from onesig_nb.campaign.tagsync import TagSync, TagSyncResult
from onesig_nb.campaign.views import CampaignPlan, CampaignReport, CampaignResult

__all__ = [
    "Campaign",
    "CampaignPlan",
    "CampaignReport",
    "CampaignResult",
    "TagSync",
    "TagSyncResult",
    "campaigns",
]

# %% [markdown]
# # A scheduled campaign: welcome new audience members every day
#
# This notebook is meant to run **without you**, every morning, from a scheduler:
#
# ```
# papermill 07-scheduled-campaign.ipynb out.ipynb -p audience new_signups -p require_key True
# onesig-nb send ...      # the same without a notebook; refuses without a key (--sandbox to rehearse)
# ```
#
# On a schedule, pass `require_key True`: a machine that lost its `.env` then fails loudly instead
# of quietly rehearsing against a throwaway sandbox.
#
# Each run sends the welcome push only to people who **joined the audience since the last
# run**. The journal remembers who already got it.

# %% tags=["parameters"]
# Parameters (papermill replaces this cell's values)
audience = "new_signups"
campaign_name = "daily-welcome"
workspace = None  # None: the sample workspace (or $ONESIG_NB_WORKSPACE)
require_key = False  # True on a schedule: no ONESIGNAL_REST_API_KEY means stop, not rehearse

# %%
import onesig_nb as osn
from onesig_nb.samples import ensure_workspace

ws = ensure_workspace(workspace)
client = osn.connect(workspace=ws)
if require_key and client.is_sandbox:
    raise SystemExit("No ONESIGNAL_REST_API_KEY: this scheduled run stops instead of rehearsing.")
journal = ws / "journals" / f"{client.app_id}.sqlite"

# %%
cohort = osn.load_cohort(ws / "segment-logs", audience=audience)
msg = osn.Message(headings="Welcome!", contents="Hi {{ first_name | default: 'there' }}, glad you are here.")
campaign = osn.Campaign(campaign_name, cohort, msg, client, journal=journal)
result = campaign.send(confirm=True, extend=True, progress=False)
s = result.summary
print(f"{s['sent']} new members welcomed; {s['unsubscribed']} unsubscribed; {s['failed']} failed")

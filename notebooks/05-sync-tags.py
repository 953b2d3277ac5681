# %% [markdown]
# # Syncing traits to OneSignal data tags
#
# Copy Segment traits (plan, lifetime value, ...) onto each person in OneSignal as **data
# tags**. Tags let OneSignal segment and personalize on its side. Only what changed is sent.

# %%
import datetime as dt

import onesig_nb as osn
from onesig_nb.samples import ensure_workspace

ws = ensure_workspace()             # the sample Segment workspace (made the first time, reused after)
client = osn.connect(workspace=ws)  # no API key set -> the local OneSignal sandbox

# %%
cohort = osn.load_cohort(ws / "segment-logs", audience="high_value_users", traits=["first_name", "plan", "ltv"])

# %% [markdown]
# **The journal is the campaign's logbook.** It records who was sent what, *before* and *after*
# each request, so a campaign is sent exactly once: run the notebook again (or restart the
# kernel in the middle of a send) and it picks up where it stopped instead of pushing twice.
# We keep **one logbook per OneSignal app**, named after the app id, in the workspace's
# `journals/` folder. So the sandbox and your real app never share a history, and a brand-new
# sandbox (a new app) starts with a clean page.
#
# The journal also remembers the tag values it wrote, which is how the next run knows what
# changed.

# %%
journal = ws / "journals" / f"{client.app_id}.sqlite"
sync = osn.TagSync("vip-tags", cohort, client, tags=["plan", "ltv"], journal=journal)
sync.plan()

# %%
result = sync.run(progress=False)
result

# %% [markdown]
# People who have no OneSignal user yet (they never opened the app) show up as
# *not_in_onesignal*: there is nobody to tag yet. That is not a failure; the next run offers them
# again, so they get their tags once they subscribe. Everyone else is updated.

# %%
s = result.summary
print(f"{s['updated'] + s['unchanged']} people have their tags; "
      f"{s['not_in_onesignal']} are not in OneSignal yet; {s['failed']} failed")

# %% jupyter={"source_hidden": true} tags=["check"]
assert s["updated"] + s["unchanged"] + s["not_in_onesignal"] + s["failed"] == len(cohort)

# %% [markdown]
# ## Run it again: only what changed (or failed before) is sent

# %%
again = osn.TagSync("vip-tags", cohort, client, tags=["plan", "ltv"], journal=journal).plan()
again

# %% jupyter={"source_hidden": true} tags=["check"]
assert again.changed_users <= s["not_in_onesignal"] + s["failed"]

# %% [markdown]
# ## Deleting a tag
#
# A trait with no value deletes its tag. Here we stop sharing `ltv` with OneSignal.

# %%
without_ltv = osn.Cohort.from_frame(cohort.df.assign(ltv=None), audience="high_value_users")
osn.TagSync("vip-tags", without_ltv, client, tags=["plan", "ltv"], journal=journal).run(progress=False)

# %% jupyter={"source_hidden": true} tags=["check"]
# Check: the sandbox no longer holds an ltv tag for someone who had one.
if client.sandbox is not None:
    someone = result.to_frame().query("status == 'updated'").external_id.iloc[0]
    assert "ltv" not in client.sandbox.user_tags(someone)

# %% [markdown]
# ## Personalize on the server from those tags
#
# A campaign lets OneSignal fill the text in (*server*: one notification per batch) only when the
# journal proves the tags hold today's values. This message also uses `first_name`, which we have
# not synced yet, so at first it is pre-rendered. Sync `first_name` for the people OneSignal
# knows: right after the sync the texts are still pre-rendered, because OneSignal asks for about
# a minute before it personalizes from fresh tags. A minute later the plan switches to server
# mode and names the TagSync it relies on (here we ask the plan about "a minute later" instead
# of waiting).

# %% tags=["keep-output"]
msg = osn.Message(contents="Hi {{ first_name | default: 'there' }}, your {{ plan }} plan has a new perk.")
print(osn.Campaign("vip-perk", cohort, msg, client, journal=journal).plan().personalization)
in_onesignal = cohort.subset(result.to_frame().query("status != 'not_in_onesignal'").external_id)
osn.TagSync("vip-names", in_onesignal, client, tags=["first_name"], journal=journal).run(progress=False)
print(osn.Campaign("vip-perk", in_onesignal, msg, client, journal=journal).plan().personalization)
def a_minute_later():
    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=61)


plan = osn.Campaign("vip-perk", in_onesignal, msg, client, journal=journal, now=a_minute_later).plan()
print(plan.personalization)

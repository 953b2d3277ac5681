# %% [markdown]
# # Sending a push, safely
#
# Plan, leave out iOS when Segment already pushes there, send a test, send to everyone, survive
# an interruption, and read the delivery report. (Notebook 01 shows the same with buttons.)

# %%
import onesig_nb as osn
from onesig_nb.samples import ensure_workspace

ws = ensure_workspace()             # the sample Segment workspace (made the first time, reused after)
client = osn.connect(workspace=ws)  # no API key set -> the local OneSignal sandbox

# %%
from onesig_nb.samples import load_roster

cohort = osn.load_cohort(ws / "segment-logs", audience="high_value_users")
msg = osn.Message(
    headings="A thank-you from us",
    contents="Hi {{ first_name | default: 'there' }}, your {{ plan | default: 'account' }} perks just got better.",
)

# %% [markdown]
# ## Leave out iOS if Segment already pushes there
#
# OneSignal's Segment integration guide warns: *"Be careful not to send the same push to iOS
# from Segment and OneSignal. This will cause duplicate notifications."* If your Segment setup
# already sends pushes to iOS, exclude iOS here, as we do below.

# %% [markdown]
# **The journal is the campaign's logbook.** It records who was sent what, *before* and *after*
# each request, so a campaign is sent exactly once: run the notebook again (or restart the
# kernel in the middle of a send) and it picks up where it stopped instead of pushing twice.
# We keep **one logbook per OneSignal app**, named after the app id, in the workspace's
# `journals/` folder. So the sandbox and your real app never share a history, and a brand-new
# sandbox (a new app) starts with a clean page.

# %%
journal = ws / "journals" / f"{client.app_id}.sqlite"
campaign = osn.Campaign("vip-thank-you", cohort, msg, client, journal=journal,
                        exclude_platforms=("ios",), test_users=["qa-you"], batch_size=50)
campaign.plan()

# %% [markdown]
# ## A test send first (to your own phone; in the sandbox, a pretend one)

# %%
sandbox = client.sandbox  # None with a real app
if sandbox is not None:  # this campaign skips iOS: give the pretend phone an Android device too
    subs = sandbox.users().set_index("external_id").subscriptions.get("qa-you", [])
    if not any(s["platform"] == "android" for s in subs):
        sandbox.add_users([{"external_id": "qa-you", "platform": "android"}])
campaign.send_test()

# %% [markdown]
# ## An interruption, and how the campaign resumes
#
# Networks fail. Here the sandbox drops half the requests and we do not retry, so part of the
# campaign fails. The journal knows exactly which batches did not go out.

# %%
if sandbox is not None and campaign.status in ("new", "tested"):
    from onesig_nb.onesignal import RetryPolicy

    flaky = osn.OneSignal(client.app_id, sandbox.api_key, base_url=sandbox.url,
                          retry=RetryPolicy(max_attempts=1))
    sandbox.set_faults(rate=0.5, kinds=("503",), seed=4)
    interrupted = osn.Campaign("vip-thank-you", cohort, msg, flaky, journal=journal,
                               exclude_platforms=("ios",), batch_size=50).send(confirm=True, progress=False)
    sandbox.clear_faults()
    print(interrupted.summary["sent"], "sent,", interrupted.summary["failed"], "failed")

# %% [markdown]
# Now simply send again. Only the batches that failed go out, with the same request ids, so
# OneSignal ignores any repeat and nobody gets the push twice. (The same happens if the kernel
# dies in the middle of a send.) Above 1,000 people, `send` asks you to confirm: `confirm=True`,
# or the exact number of people from the plan, so a cohort that changed since refuses to send.

# %%
result = campaign.send(confirm=True, progress=False)
result

# %% jupyter={"source_hidden": true} tags=["check"]
# Check: exactly the reachable non-iOS members got it, each once.
roster = load_roster(ws)
android_web = roster[(roster.platform != "ios") & roster.subscribed]
expected = set(cohort.external_ids) & set(android_web.external_id)
sent = set(result.to_frame().query("status == 'sent'").external_id)  # accepted and reachable
assert sent == expected
if sandbox is not None:
    got = sandbox.deliveries()
    got = got[got.notification_id.isin(result.notification_ids)]
    assert set(got.external_id) == expected and (got.platform != "ios").all()
    assert got.groupby("external_id").notification_id.nunique().max() == 1

# %% [markdown]
# ## Run it again: nothing is sent twice
#
# The journal knows this campaign is done, so a second `send` (or re-running this notebook)
# sends nothing and says so.

# %%
again = campaign.send(confirm=True, progress=False)
again

# %% jupyter={"source_hidden": true} tags=["check"]
assert again.already_sent and again.requests == 0

# %% [markdown]
# ## The delivery report

# %%
report = campaign.report()
report

# %%
result.to_frame().status.value_counts().plot.barh(title="Campaign status per person", xlabel="people");

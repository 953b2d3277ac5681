# %% [markdown]
# # Going live
#
# Everything in these notebooks runs against the sandbox. To send to real phones, give
# onesig_nb your OneSignal app id and REST API key. **Never type the key into a notebook**:
# put it in a `.env` file next to your notebooks (and keep that file out of git):
#
# ```
# ONESIGNAL_APP_ID=your-app-id
# ONESIGNAL_REST_API_KEY=your-rest-api-key
# ```
#
# Then `osn.connect()` uses your real app. Nothing else in the notebooks changes. Every cell
# below still runs against the sandbox when no key is set.

# %%
import onesig_nb as osn
from onesig_nb.samples import ensure_workspace

ws = ensure_workspace()             # the sample Segment workspace (made the first time, reused after)
client = osn.connect(workspace=ws)  # no API key set -> the local OneSignal sandbox

# %% [markdown]
# ## Check the connection before anything else
#
# `client.check()` asks OneSignal for a notification that cannot exist: "not found" proves that
# the key and the app id are right, and nothing is sent. A wrong key or app id stops here with
# an error that says what to fix, instead of at send time.

# %%
info = client.check()
print(f"Connected to OneSignal app {info['app_id']} with a valid API key ({info['key']}).")
print("This is the SANDBOX: nothing reaches real phones." if client.is_sandbox
      else "This is your REAL app: sends reach real phones.")

# %% [markdown]
# ## Your first live send: a test to your own phone
#
# Find your own external id in the OneSignal dashboard (*Audience > Users*, search your email),
# then send yourself a test before any campaign. In the sandbox, the pretend phone `qa-you`
# stands in for yours.

# %%
my_id = "qa-you"  # live: your own external id
cohort = osn.load_cohort(ws / "segment-logs", audience="cart_abandoners")
hello = osn.Message(headings="Test from onesig_nb", contents="Hi {{ first_name | default: 'there' }}!")
osn.Campaign("live-hello", cohort, hello, client, journal=ws / "journals" / f"{client.app_id}.sqlite",
             ).send_test([my_id])

# %% [markdown]
# ## Two API generations
#
# OneSignal has a current API and an older ("legacy") one. Both work; the current one takes
# up to 20,000 people per request, the legacy one 2,000. Pick with `ONESIGNAL_API=legacy`.

# %% tags=["keep-output"]
if client.sandbox is not None:
    legacy = osn.OneSignal(client.app_id, client.sandbox.api_key, base_url=client.sandbox.url, api="legacy")
else:
    legacy = osn.connect(api="legacy")
print("current:", client.max_ids_per_request, "people per request;",
      "legacy:", legacy.max_ids_per_request)

# %% [markdown]
# ## Before your first real campaign
#
# * **Rate limits** are handled for you: requests are spread under OneSignal's limits (150
#   pushes/s on the free plan, 1,000 tag edits/s, one edit per person per second), retried with
#   the same request id when OneSignal is busy, and never duplicated.
# * **iOS and Segment**: if Segment already sends pushes to iOS for this app, pass
#   `exclude_platforms=("ios",)` so nobody gets the same push twice (notebook 04).
# * **One journal per app**: the journal is named after the app id, so rehearsals in the sandbox
#   never mark a real campaign as sent. Keep the `journals/` folder: it is what makes re-runs safe.
# * **Scheduled runs**: `onesig-nb send` refuses to run without a key, so a scheduler missing its
#   `.env` fails loudly instead of rehearsing against a throwaway sandbox.

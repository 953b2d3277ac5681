# %% [markdown]
# # Quickstart: from a Segment audience to a push
#
# In ten cells you will load the people in a Segment audience, write a message, look at it on
# their phones, send yourself a test, send it to everyone, and see the results.
#
# Everything here runs offline against a **local OneSignal sandbox** and a **sample Segment
# workspace**, so nothing reaches a real phone. Nothing is sent until you click **Send test** or
# **Send** below, so running every step at once (or opening this page as an app) is safe.

# %%
import onesig_nb as osn
from onesig_nb.samples import ensure_workspace

ws = ensure_workspace()             # the sample Segment workspace (made the first time, reused after)
client = osn.connect(workspace=ws)  # no API key set -> the local OneSignal sandbox

# %% [markdown]
# ## 1. Load an audience
#
# `cart_abandoners` is an Engage audience: people who put something in their cart and left.
# `load_cohort` reads Segment's archive and works out who is in it *right now*.

# %% tags=["keep-output"]
cohort = osn.load_cohort(ws / "segment-logs", audience="cart_abandoners")
print(f"{len(cohort)} people are in cart_abandoners")

# %% jupyter={"source_hidden": true} tags=["check"]
# Check: the same people as the sample's known answer.
from onesig_nb.samples import load_manifest

truth = load_manifest(ws)["audiences"]["cart_abandoners"]
assert sorted(cohort.external_ids) == truth["by_user_id"]

# %% [markdown]
# ## 2. Write the message and look at it
#
# `{{ first_name | default: 'there' }}` is filled in per person; people without a first name
# get "there". Type a name, an email or an id in the preview's *User* box (or click **Next**) to
# see *their* phone.

# %%
msg = osn.Message(
    headings="You left something behind",
    contents="Hi {{ first_name | default: 'there' }}, your cart is still waiting for you.",
    url="https://shop.example.com/cart",
)

# %%
from onesig_nb.widgets import MessagePreview

MessagePreview(msg, cohort, app_name="Shop")

# %% [markdown]
# **The journal is the campaign's logbook.** It records who was sent what, *before* and *after*
# each request, so a campaign is sent exactly once: open this page again (or restart in the
# middle of a send) and it picks up where it stopped instead of pushing twice.
# We keep **one logbook per OneSignal app**, named after the app id, in the workspace's
# `journals/` folder. So the sandbox and your real app never share a history, and a brand-new
# sandbox (a new app) starts with a clean page.
#
# Your **test user** is the phone you send the test to first. The sandbox comes with a pretend
# iPhone called `qa-you`; with a real app, put your own external id there.

# %%
journal = ws / "journals" / f"{client.app_id}.sqlite"
campaign = osn.Campaign("quickstart-cart-nudge", cohort, msg, client, journal=journal,
                        test_users=["qa-you"], require_test=True)
campaign.plan()

# %% jupyter={"source_hidden": true} tags=["check"]
# Check: before anything is sent, the plan knows exactly who OneSignal can reach.
if client.sandbox is not None:
    reach = campaign.plan().reachability
    assert reach["reachable"] == len(truth["reachable"]), reach
    assert reach["unknown"] == 0, reach

# %% [markdown]
# ## 3. Send: a test first, then everyone
#
# Click **Send test**, check the test phone, then click **Send** and confirm (Send waits for a
# test of this very message: `require_test=True`). If the campaign was
# already sent (say, you opened this page before), the panel says so and sends nothing.

# %%
from onesig_nb.widgets import SendPanel

panel = SendPanel(campaign)
panel

# %% [markdown]
# ## 4. Results
#
# Who got it and who could not (no subscribed device), read from the campaign's journal. It
# updates by itself when a send from the panel above finishes; before the send it says that
# nothing was sent yet.

# %%
import ipywidgets as widgets

result = campaign.result()  # read from the journal: sends nothing
results = widgets.HTML(result._repr_html_())


def show_result(_change=None):
    results.value = campaign.result()._repr_html_()


panel.results.observe(show_result, names="value")  # refreshed after each send from the panel
results

# %% jupyter={"source_hidden": true} tags=["check"]
# Check, before or after the send: the sandbox delivered this campaign only to reachable people
# of the cohort, each once, and to all of them once it was sent; everyone it delivered to is
# counted as reached in the journal. (Nothing sent yet: nothing delivered, nothing counted.)
from onesig_nb.campaign.views import ACCEPTED_STATUSES

frame = result.to_frame()
reached = set(frame[frame.status.isin(ACCEPTED_STATUSES)].external_id)
if client.sandbox is not None:
    got = client.sandbox.deliveries()
    got = got[got.notification_id.isin(result.notification_ids)]
    delivered = set(got.external_id)
    assert delivered <= set(truth["reachable"]), "delivered to someone the sample cannot reach"
    assert got.empty or got.groupby("external_id").notification_id.nunique().max() == 1, (
        "someone got this campaign twice"
    )
    assert delivered <= reached, "the sandbox delivered to people the journal does not count"
    sent = set(frame[frame.status == "sent"].external_id)
    assert sent == delivered, "'sent' must mean delivered"
    if result.notification_ids and result.complete:
        assert delivered == set(truth["reachable"]), "reachable people were left out"

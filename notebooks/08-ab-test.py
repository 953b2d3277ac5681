# %% [markdown]
# # An A/B test with a holdout: did the push work?
#
# After a send, every marketer asks "did it work?". OneSignal's own A/B tests live only in its
# dashboard, and its reports have no holdout. Here both halves of the loop sit in one notebook:
# **who got which message** (the campaign journal) and **what they did afterwards** (Segment's
# own `track` events, in the archive or the warehouse).
#
# The plan: two variants and a **holdout** that gets nothing. Phase one sends the variants to
# half of the cohort; a few days later we read the conversions, and the winner goes to everyone
# else, exactly once. Offline, the conversions are simulated with a known answer, so you can see
# the statistics find it.

# %%
import pandas as pd

import onesig_nb as osn
from onesig_nb.samples import ensure_workspace, simulate_conversions

ws = ensure_workspace()             # the sample Segment workspace (made the first time, reused after)
client = osn.connect(workspace=ws)  # no API key set -> the local OneSignal sandbox
journal = ws / "journals" / f"{client.app_id}.sqlite"

# %% [markdown]
# ## Two variants, a holdout, and a test on half of the cohort
#
# Who is in which arm is decided by a hash of the experiment's name and the person's external
# id, and written to the journal the first time the plan sees them: run it again, or load a
# cohort that grew, and nobody changes arm. 20% are held out and never sent; of the others, half
# get A or B now and the rest wait for the winner.

# %%
cohort = osn.load_cohort(ws / "segment-logs", audience="cart_abandoners")
variants = {
    "A": osn.Message(headings="Still thinking?", contents="Hi {{ first_name | default: 'there' }}, your cart is waiting."),
    "B": osn.Message(headings="10% off today", contents="Hi {{ first_name | default: 'there' }}, finish your order: 10% off until midnight."),
}
exp = osn.Experiment("cart-ab-test", cohort, variants, client, journal=journal,
                     holdout=0.2, test_fraction=0.5)

# %% [markdown]
# **Can this test say anything?** Tell the plan the conversion rate you expect without a push
# (here 5% of cart abandoners order within three days). It answers with the smallest rate an arm
# must reach to be detected, so you know *before* sending whether the test is big enough. The
# split check (a chi-square test) says in plain words when the arms are not the sizes they
# should be.

# %% tags=["keep-output"]
exp.plan(base_rate=0.05)

# %% [markdown]
# ## Phase one: each variant to its arm
#
# Each arm goes out as its own journaled campaign (`cart-ab-test:A`, `cart-ab-test:B`), with
# everything a campaign has: confirmation, exactly-once, resume after an interruption. The
# holdout is recorded as held out, with the time, and never sent.

# %%
first = exp.send(confirm=True, progress=False)
first

# %% jupyter={"source_hidden": true} tags=["check"]
# Check: nobody in the holdout got anything, and every variant person got their own arm's text.
arms = exp.assignments().set_index("external_id").arm
sandbox = client.sandbox
if sandbox is not None:
    got = sandbox.deliveries()
    got = got[got.notification_id.isin([n for r in first.results.values() for n in r.notification_ids])]
    assert not got.external_id.map(arms).eq("holdout").any()
    got = got.assign(arm=got.external_id.map(arms))
    assert got[got.arm == "A"].contents.str.endswith("your cart is waiting.").all()
    assert got[got.arm == "B"].contents.str.endswith("10% off until midnight.").all()

# %% [markdown]
# ## A day of conversions (simulated, with a known answer)
#
# With a real app you would now wait for Segment's `Order Completed` events to arrive. Offline,
# `simulate_conversions` writes them into the sample archive and warehouse: everyone converts at
# the base rate of 5%, plus 5 points for people variant A reached and 30 points for B. Some
# people also ordered shortly *before* their push: those orders must not count.

# %%
truth = simulate_conversions(
    ws, exp.exposures(), base_rate=0.05, lift={"A": 0.05, "B": 0.30}, seed=8,
    delivered=sandbox.deliveries() if sandbox is not None else None,
)
truth.groupby("arm").converted.mean().round(3)

# %% [markdown]
# ## Results three days later
#
# A person counts as converted when the event follows **their own** send time within the
# window (the holdout from when their arms went out). Per arm: people, converters, rate, the
# lift over the holdout with its 95% confidence interval, p-values corrected for testing two
# arms (Holm), and OneSignal's clicks as a secondary metric. Before the window has closed for
# everyone, the results say they are provisional.

# %%
three_days_later = exp.exposures().sent_at.max() + pd.Timedelta(days=3)
results = exp.results(ws / "segment-logs", event="Order Completed", window="72h", as_of=three_days_later)
results

# %% jupyter={"source_hidden": true} tags=["check"]
# Check: the warehouse gives the same answer as the archive, and both match the simulation.
same = exp.results(ws / "warehouse.duckdb", event="Order Completed", window="72h",
                   as_of=three_days_later, clicks=False)
counts = results.to_frame().set_index("arm")[["people", "converters"]]
assert counts.equals(same.to_frame().set_index("arm")[["people", "converters"]])
expected = truth.groupby("arm").converted.sum()
assert (counts.converters == expected.reindex(counts.index)).all()
assert not results.provisional
if len(cohort) >= 300:  # the sample's default size: big enough for the test to find B
    assert results.winner == "B"

# %% [markdown]
# ## Send the winner to everyone else, exactly once
#
# `arm="auto"` applies the rule: the variant that beats the holdout after the correction, with
# the highest lower confidence bound. When no variant qualifies it refuses and says how many
# more people it would take; you can still name an arm (`arm="B"`). The choice is journaled, so
# a kernel that dies mid-send resumes the same arm with the same request ids. (On a small
# cohort the test may not be conclusive yet; then this notebook names the arm.)

# %%
choice = "auto" if results.winner else "B"
winner = exp.send_winner(choice, confirm=True, progress=False)
winner

# %% [markdown]
# ## Run it again: nothing is sent twice

# %%
again = exp.send(confirm=True, progress=False), exp.send_winner(choice, confirm=True, progress=False)
[a.requests for a in again]

# %% jupyter={"source_hidden": true} tags=["check"]
assert [a.requests for a in again] == [0, 0]
assert exp.plan().phase == "done"

# %% [markdown]
# The same, with buttons: `from onesig_nb.widgets import ExperimentPanel` and
# `ExperimentPanel(exp, source=ws / "segment-logs", event="Order Completed", base_rate=0.05)`.

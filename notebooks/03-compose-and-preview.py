# %% [markdown]
# # Compose and preview a message
#
# Write a message, see it on each person's phone, let the linter catch mistakes, and choose how
# it is personalized.

# %%
import onesig_nb as osn
from onesig_nb.samples import ensure_workspace

ws = ensure_workspace()             # the sample Segment workspace (made the first time, reused after)
client = osn.connect(workspace=ws)  # no API key set -> the local OneSignal sandbox

# %%
cohort = osn.load_cohort(ws / "segment-logs", audience="cart_abandoners")

# %% [markdown]
# ## The composer
#
# Type in the boxes: the preview on the right follows, person by person.

# %%
from onesig_nb.widgets import MessageComposer

composer = MessageComposer(cohort)
composer

# %% [markdown]
# ## One message, several languages
#
# Give a text per language; each person sees the one for their `language` trait (English when
# we do not have theirs).

# %% tags=["keep-output"]
msg = osn.Message(
    headings={"en": "Still thinking it over?", "es": "¿Lo sigues pensando?", "de": "Noch unentschlossen?"},
    contents={
        "en": "Hi {{ first_name | default: 'there' }}, your cart is waiting.",
        "es": "Hola {{ first_name | default: 'amigo' }}, tu carrito te espera.",
        "de": "Hallo {{ first_name | default: 'du' }}, dein Warenkorb wartet.",
    },
)
rendered = msg.render(cohort)
rendered.groupby("language").size()

# %%
from onesig_nb.widgets import MessagePreview

MessagePreview(msg, cohort)

# %% [markdown]
# ## Checks: catch mistakes before anyone sees them
#
# Here `frist_name` is a typo: nobody has that trait, so everyone would see an empty gap, and
# `{city}` has single braces, so it would be sent as written. `msg.lint(cohort)` catches both
# and suggests the fix.

# %%
oops = osn.Message(contents="Hi {{ frist_name }}, your cart in {city} is waiting.")
findings = oops.lint(cohort)
print(findings)

# %% jupyter={"source_hidden": true} tags=["check"]
assert any(f.severity in ("error", "warning") for f in findings)

# %% [markdown]
# The fix: spell the trait right and give a default for people who do not have it.

# %%
fixed = osn.Message(contents="Hi {{ first_name | default: 'there' }}, your cart is waiting.")
fixed.lint(cohort)

# %% jupyter={"source_hidden": true} tags=["check"]
assert not [f for f in fixed.lint(cohort) if f.severity == "error"]

# %% [markdown]
# ## Server or client personalization?
#
# * **client** (pre-rendered): we fill the text in here and send each distinct text once; each
#   person gets exactly the preview.
# * **server**: one notification per batch; OneSignal fills in each person's **data tags** from
#   what *it* stores. Cheaper, but only right if those tags are in OneSignal with today's values.
#
# A campaign's `personalization="auto"` pre-renders unless its journal shows that a TagSync wrote
# every variable's current value for every recipient (notebook 05); `campaign.plan()` says which
# and why. `msg.personalization(cohort)` below only says what the message *could* use.

# %%
p = msg.personalization(cohort)
print(p.mode, "-", p.reason)

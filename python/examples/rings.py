# %% [markdown]
# # Rings in the sample marketplace
#
# A notebook-style tour (run it as a script, or cell by cell in an editor that reads `# %%`):
# build an index from `data/sample.csv`, look at the largest operators, explain one link, rank
# the accounts nearest a confirmed seed, and draw one ring with networkx and matplotlib.
#
# ```sh
# pip install ./python matplotlib networkx pandas
# python python/examples/rings.py [ring.png]
# ```

# %%
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt
import networkx as nx

import sellerlink

ROOT = Path(__file__).resolve().parents[2]
out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("ring.png")

# %% [markdown]
# ## Build
# One call: the CSV streams into the Rust core; nothing is read row by row in Python.

# %%
index = sellerlink.build(ROOT / "data" / "sample.csv")
print(index)
clusters = index.clusters()  # a pyarrow.Table: account, cluster
print(clusters.slice(0, 5))
sizes = clusters.group_by("cluster").aggregate([("account", "count")]).sort_by([("account_count", "descending")])
print("largest operators:", sizes.slice(0, 5).to_pylist())

# %% [markdown]
# ## The largest rings, as reports

# %%
for r in index.reports(top=3):
    kinds = ", ".join(f"{k} {n}" for k, n in r["carried_by"].items())
    print(f"operator {r['cluster']}: {r['size']} storefronts, carried by {kinds}; confidence {r['confidence']}")

# %% [markdown]
# ## Why are two of its storefronts linked?

# %%
ring = index.reports(top=1)[0]
a, b = ring["members"][0], ring["members"][-1]
explanation = index.explain(a, b)
print(explanation)  # the readable chain of evidence
print("as data:", explanation.status, [(s["kind"], s["value"]) for s in explanation.path])

# %% [markdown]
# ## Set algebra: who shares a payment account and a place with the first storefront?

# %%
payment = index.shares(a, "payment")
place = index.shares(a, "wifi") | index.shares(a, "address")
print(f"{a}: {len(payment)} share a payment account, {len(place)} a router or address, {len(payment & place)} both")

# %% [markdown]
# ## Who else is near a confirmed seed?

# %%
print(index.expand([a], top=5).to_pylist())

# %% [markdown]
# ## Draw a ring
# The evasive ring of the README's picture: storefronts with fresh devices and documents,
# betrayed by what they still share (a mule payment account, the office router). Storefronts
# and the artifacts they share; suppressed hubs are left out (they link nobody).

# %%
seed = "beautybox-721544964"
ring = index.report(index.cluster_of(seed)) if seed in index else index.reports(top=3)[-1]
g = nx.Graph()
members = set(ring["members"])
for account in members:
    g.add_node(account, kind="account")
for shared in ring["shared"]:
    if shared["hub"]:
        continue
    node = f"{shared['kind']}\n{shared['first_written'] or shared['value']}"
    g.add_node(node, kind=shared["kind"])
    for holder in index.accounts_of(shared["kind"], shared["value"]):
        if holder in members:
            g.add_edge(holder, node)

colours = {"account": "#4c72b0", "device": "#c44e52", "payment": "#dd8452", "wifi": "#55a868", "address": "#8172b3"}
pos = nx.spring_layout(g, seed=7)
fig, ax = plt.subplots(figsize=(10, 8))
nx.draw_networkx(
    g,
    pos,
    ax=ax,
    node_color=[colours.get(d["kind"], "#937860") for _, d in g.nodes(data=True)],
    node_size=[300 if d["kind"] == "account" else 600 for _, d in g.nodes(data=True)],
    font_size=6,
)
ax.set_title(f"operator {ring['cluster']}: {ring['size']} storefronts and what they share")
ax.axis("off")
fig.savefig(out, dpi=120, bbox_inches="tight")
print(f"drew {g.number_of_nodes()} nodes and {g.number_of_edges()} edges to {out}")

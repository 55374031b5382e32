"""Baselines, the pairwise scorer, and the loss analysis for the real-data harness.

Both baselines read the same ``obs.csv`` that sellerlink reads. A value's key is
``(kind, value.strip().lower())``: the kind as written and the value trimmed and lower-cased,
nothing more.

* exact-match union-find: every key links all the records that carry it.
* rare-value union-find (an imitation of a default policy, without strong/weak kinds or
  corroboration): a key links all the records that carry it only if at most ``RARE_CAP``
  distinct records carry it; more common keys link nobody.

Every record in ``truth.csv`` is a node, so records without observations are singletons.
"""

import csv
from collections import Counter, defaultdict

RARE_CAP = 10


def read_truth(path):
    with open(path, newline="") as f:
        return {r["account"]: r["operator"] for r in csv.DictReader(f)}


def read_obs(path):
    """``{(kind, normalised value): set(accounts)}`` and the raw spelling seen first."""
    holders = defaultdict(set)
    spelling = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            key = (r["kind"], r["value"].strip().lower())
            if not key[1]:
                continue
            holders[key].add(r["account"])
            spelling.setdefault(key, r["value"])
    return holders, spelling


class UnionFind:
    def __init__(self, items):
        self.parent = {x: x for x in items}

    def find(self, x):
        p = self.parent
        root = x
        while p[root] != root:
            root = p[root]
        while p[x] != root:
            p[x], x = root, p[x]
        return root

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if rb < ra:
                ra, rb = rb, ra
            self.parent[rb] = ra

    def clusters(self):
        return {x: self.find(x) for x in self.parent}


def union_find(accounts, holders, cap=None):
    uf = UnionFind(accounts)
    for key, accs in holders.items():
        if cap is not None and len(accs) > cap:
            continue
        it = iter(accs)
        first = next(it)
        if first not in uf.parent:
            uf.parent[first] = first
        for a in it:
            if a not in uf.parent:
                uf.parent[a] = a
            uf.union(first, a)
    return uf.clusters()


def exact_match(accounts, holders):
    return union_find(accounts, holders, cap=None)


def rare_value(accounts, holders, cap=RARE_CAP):
    return union_find(accounts, holders, cap=cap)


def read_clusters(path):
    with open(path, newline="") as f:
        return {r["account"]: r["cluster"] for r in csv.DictReader(f)}


def write_clusters(path, clusters):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["account", "cluster"])
        for a, c in clusters.items():
            w.writerow([a, c])


def pairs(n):
    return n * (n - 1) // 2


def score(truth, clusters):
    """Pairwise precision, recall and F1 over the records in ``truth``.

    A record missing from ``clusters`` is a singleton; clustered records absent from the
    truth are ignored. Also returns the largest predicted cluster (truth records only)."""
    pred = {}
    for a in truth:
        pred[a] = clusters.get(a, ("__single__", a))
    cell = Counter((pred[a], truth[a]) for a in truth)
    psize = Counter(pred.values())
    tsize = Counter(truth.values())
    tp = sum(pairs(n) for n in cell.values())
    pp = sum(pairs(n) for n in psize.values())
    tt = sum(pairs(n) for n in tsize.values())
    precision = tp / pp if pp else 1.0
    recall = tp / tt if tt else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "largest": max(psize.values()) if psize else 0,
        "clusters": len(psize),
        "true_pairs": tt,
        "predicted_pairs": pp,
    }


def describe_truth(truth):
    sizes = Counter(truth.values())
    return {
        "records": len(truth),
        "entities": len(sizes),
        "largest_entity": max(sizes.values()) if sizes else 0,
        "true_pairs": sum(pairs(n) for n in sizes.values()),
    }


# --------------------------------------------------------------------------------------
# Loss analysis: what joined the worst clusters, and what the missed pairs shared
# --------------------------------------------------------------------------------------

def analyse(truth, clusters, holders, spelling, top=3, show=6):
    """Text lines describing the clusters with the most false pairs and the entities with
    the most missed pairs, with the shared values (by the baselines' trivial key) behind
    them. Degrees are counted over all records of the data set."""
    out = []
    pred = {a: clusters.get(a, ("__single__", a)) for a in truth}
    members = defaultdict(list)
    for a, c in pred.items():
        members[c].append(a)
    keys_of = defaultdict(set)
    for key, accs in holders.items():
        for a in accs:
            keys_of[a].add(key)

    # 1. Precision: clusters ranked by false pairs.
    def false_pairs(accs):
        ent = Counter(truth[a] for a in accs)
        return pairs(len(accs)) - sum(pairs(n) for n in ent.values())

    ranked = sorted(members.items(), key=lambda kv: -false_pairs(kv[1]))
    total_fp = sum(false_pairs(v) for v in members.values())
    out.append(f"false pairs: {total_fp}")
    for c, accs in ranked[:top]:
        fp = false_pairs(accs)
        if fp == 0:
            break
        ent = Counter(truth[a] for a in accs)
        out.append(f"  cluster of {len(accs)} records, {len(ent)} true entities "
                   f"(largest {ent.most_common(1)[0][1]}), {fp} false pairs "
                   f"({100 * fp / max(total_fp, 1):.0f}% of all)")
        # Values inside the cluster held by records of two or more different entities.
        span = defaultdict(set)
        for a in accs:
            for key in keys_of[a]:
                span[key].add(truth[a])
        bridges = [(k, len(e)) for k, e in span.items() if len(e) > 1]
        by_kind = Counter()
        for k, ne in bridges:
            by_kind[k[0]] += 1
        out.append("    values shared across entities, by kind: "
                   + ", ".join(f"{k} {n}" for k, n in by_kind.most_common()))
        bridges.sort(key=lambda kn: (-kn[1], kn[0]))
        for (kind, val), ne in bridges[:show]:
            out.append(f"    {kind}={spelling[(kind, val)]!r}: {ne} entities in this cluster, "
                       f"{len(holders[(kind, val)])} records in the data")

    # 2. Recall: entities ranked by missed pairs.
    ents = defaultdict(list)
    for a, e in truth.items():
        ents[e].append(a)

    def missed(accs):
        pc = Counter(pred[a] for a in accs)
        return pairs(len(accs)) - sum(pairs(n) for n in pc.values())

    ranked = sorted(ents.items(), key=lambda kv: -missed(kv[1]))
    total_missed = sum(missed(v) for v in ents.values())
    out.append(f"missed pairs: {total_missed}")
    for e, accs in ranked[:top]:
        m = missed(accs)
        if m == 0:
            break
        pc = Counter(pred[a] for a in accs)
        out.append(f"  entity of {len(accs)} records split into {len(pc)} clusters "
                   f"(largest piece {pc.most_common(1)[0][1]}), {m} missed pairs "
                   f"({100 * m / max(total_missed, 1):.0f}% of all)")
        # Values shared by two or more of this entity's records: how common they are overall.
        inside = Counter()
        for a in accs:
            for key in keys_of[a]:
                inside[key] += 1
        shared = [(k, n) for k, n in inside.items() if n > 1]
        by_kind = defaultdict(list)
        for k, n in shared:
            by_kind[k[0]].append(len(holders[k]))
        desc = []
        for kind, degs in sorted(by_kind.items(), key=lambda kv: -len(kv[1])):
            degs.sort()
            desc.append(f"{kind}: {len(degs)} values, data-wide holders "
                        f"min {degs[0]} median {degs[len(degs) // 2]} max {degs[-1]}")
        out.append("    values shared inside the entity: " + ("; ".join(desc) or "none"))
        shared.sort(key=lambda kn: -kn[1])
        for (kind, val), n in shared[:show]:
            out.append(f"    {kind}={spelling[(kind, val)]!r}: {n} of its records, "
                       f"{len(holders[(kind, val)])} records in the data")
    return out


def example_pairs(truth, clusters, holders, want, n=2):
    """Up to ``n`` record pairs to explain: ``want='missed'`` gives pairs of one true entity
    in different predicted clusters that hold a value in common; ``want='false'`` gives pairs
    of different entities in one predicted cluster, those holding a common value first.
    Taken from the entities or clusters with the most missed or false pairs."""
    pred = {a: clusters.get(a, ("__single__", a)) for a in truth}
    keys_of = defaultdict(set)
    for key, accs in holders.items():
        for a in accs:
            keys_of[a].add(key)
    groups = defaultdict(list)
    for a in truth:
        groups[truth[a] if want == "missed" else pred[a]].append(a)

    def bad(accs):
        other = Counter((pred if want == "missed" else truth)[a] for a in accs)
        return pairs(len(accs)) - sum(pairs(k) for k in other.values())

    out = []
    for _, accs in sorted(groups.items(), key=lambda kv: -bad(kv[1])):
        if len(out) >= n or bad(accs) == 0:
            break
        accs = sorted(accs)[:200]
        found = None
        for i, a in enumerate(accs):
            for b in accs[i + 1:]:
                differ = pred[a] != pred[b] if want == "missed" else truth[a] != truth[b]
                if differ and keys_of[a] & keys_of[b]:
                    found = (a, b)
                    break
            if found:
                break
        if found is None and want == "false":
            for i, a in enumerate(accs):
                b = next((b for b in accs[i + 1:] if truth[b] != truth[a]), None)
                if b:
                    found = (a, b)
                    break
        if found:
            out.append(found)
    return out

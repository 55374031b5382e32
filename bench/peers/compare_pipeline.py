#!/usr/bin/env python3
"""Side-by-side comparison of sellerlink's pipeline stages against Python graph peers.

Usage:
    python3 bench/peers/compare_pipeline.py [--sizes 100000,1000000,10000000]
        [--skip-install] [--out bench/peers/results] [--data DIR] [--timeout 900]
        [--seed 42] [--no-build]

Sizes are numbers of OBSERVATIONS (accounts = obs * 10 / 56; the generator makes about
5.6 observations per account).  For every size the script generates (seeded) OBS + TRUTH
once, then runs each tool in its own subprocess under `/usr/bin/time -f '%e %M'`
(wall seconds, peak RSS), with a per-run timeout.

Stage 1 -- connected components of the bipartite account<->artifact graph built from the
raw observation CSV:
    sellerlink `cluster --level components` (normalises values and suppresses hubs),
    networkx, igraph, NetworKit (take the CSV as written: no value normalisation, no hub
    suppression; rows with an empty value are dropped).
Stage 2 -- community detection on the same weighted account graph (`evidence` output):
    sellerlink `communities` (CPM gamma=0.02 and modularity gamma=1), igraph
    community_leiden (CPM and modularity), leidenalg (CPMVertexPartition and
    ModularityVertexPartition), NetworKit PLM (modularity), graspologic-native leiden
    (modularity).  Every result's modularity is recomputed by igraph on the same weighted
    graph, and its CPM quality (gamma=0.02) with the formula
    sum_c [ w_in(c) - gamma * n_c (n_c - 1) / 2 ].
Every partition is scored against TRUTH with sellerlink's `score` example.

Outputs (in --out): pipeline.json, pipeline.md, pipeline.png.  Bulk CSV data goes to --data
(default /tmp/sellerlink-peers-data), never to the results directory.

The script creates its own venv at bench/peers/.venv (pip install -r
requirements-pipeline.txt) and re-executes itself inside it.
"""

import argparse
import csv
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
VENV = os.path.join(HERE, ".venv")
VENV_PY = os.path.join(VENV, "bin", "python")
REQS = os.path.join(HERE, "requirements-pipeline.txt")
EXAMPLES = os.path.join(REPO, "target", "release", "examples")
CPM_GAMMA = 0.02
CUR_CMD = None  # set in main()


# --------------------------------------------------------------------------------------
# Worker side (runs inside a fresh subprocess, prints one JSON line)
# --------------------------------------------------------------------------------------

def _read_obs(path):
    """Yield (account, kind, value) from the observation CSV, exactly as written."""
    with open(path, newline="") as f:
        r = csv.reader(f)
        next(r, None)
        for row in r:
            if len(row) < 3 or row[2] == "":
                continue
            yield row[0], row[1], row[2]


def _obs_to_ids(path):
    """Map accounts and (kind, value) artifacts to dense ints; return ids, edge arrays."""
    from array import array
    acc = {}
    art = {}
    src = array("q")
    dst = array("q")
    for a, k, v in _read_obs(path):
        ai = acc.get(a)
        if ai is None:
            ai = acc[a] = len(acc)
        key = (k, v)
        fi = art.get(key)
        if fi is None:
            fi = art[key] = len(art)
        src.append(ai)
        dst.append(fi)
    return acc, art, src, dst


def _write_clusters(path, names, membership):
    with open(path, "w", newline="") as f:
        f.write("account,cluster\n")
        for name, c in zip(names, membership):
            f.write(f"{name},{c}\n")


def _read_edges(path):
    from array import array
    ids = {}
    src = array("q")
    dst = array("q")
    w = array("d")
    with open(path, newline="") as f:
        r = csv.reader(f)
        next(r, None)
        for s, t, x in r:
            si = ids.get(s)
            if si is None:
                si = ids[s] = len(ids)
            ti = ids.get(t)
            if ti is None:
                ti = ids[t] = len(ids)
            src.append(si)
            dst.append(ti)
            w.append(float(x))
    names = [None] * len(ids)
    for k, i in ids.items():
        names[i] = k
    return names, src, dst, w


def worker(task, args):
    import numpy as np
    # import the peer library before starting the clock: load_s is CSV read + graph build
    mods = {"networkx": "networkx", "igraph": "igraph", "networkit": "networkit",
            "leidenalg": "leidenalg", "graspologic": "graspologic_native", "quality": "igraph"}
    for key, mod in mods.items():
        if key in task:
            __import__(mod)
    if task == "cd-leidenalg":
        __import__("igraph")
    out = {"task": task}
    t0 = time.perf_counter()

    if task == "cc-networkx":
        import networkx as nx
        obs, outp = args
        G = nx.Graph()
        accounts = {}
        for a, k, v in _read_obs(obs):
            accounts[a] = None
            G.add_edge(("a", a), ("f", k, v))
        t1 = time.perf_counter()
        memb = {}
        ncomp = 0
        for i, comp in enumerate(nx.connected_components(G)):
            ncomp += 1
            for node in comp:
                if node[0] == "a":
                    memb[node[1]] = i
        t2 = time.perf_counter()
        names = list(accounts)
        _write_clusters(outp, names, [memb[n] for n in names])
        out.update(nodes=G.number_of_nodes(), edges=G.number_of_edges(), components=ncomp)

    elif task in ("cc-igraph", "cc-networkit"):
        obs, outp = args
        acc, art, src, dst = _obs_to_ids(obs)
        na = len(acc)
        s = np.frombuffer(src, dtype=np.int64)
        d = np.frombuffer(dst, dtype=np.int64) + na
        n = na + len(art)
        if task == "cc-igraph":
            import igraph as ig
            g = ig.Graph(n=n, edges=np.column_stack((s, d)).tolist())
            g.simplify(multiple=True, loops=False)
            t1 = time.perf_counter()
            cc = g.connected_components()
            memb = cc.membership
            ncomp = len(cc)
            t2 = time.perf_counter()
            out.update(nodes=g.vcount(), edges=g.ecount(), components=ncomp)
        else:
            import networkit as nk
            G = nk.Graph(n)
            G.addEdges((s, d))
            G.removeMultiEdges()
            t1 = time.perf_counter()
            cc = nk.components.ConnectedComponents(G)
            cc.run()
            memb = cc.getPartition().getVector()
            ncomp = cc.numberOfComponents()
            t2 = time.perf_counter()
            out.update(nodes=G.numberOfNodes(), edges=G.numberOfEdges(), components=ncomp,
                       threads=nk.getMaxNumberOfThreads())
        names = [None] * na
        for k, i in acc.items():
            names[i] = k
        _write_clusters(outp, names, memb[:na])

    elif task.startswith("cd-"):
        edges, outp, objective, res, seed = args
        res = float(res)
        seed = int(seed)
        names, src, dst, w = _read_edges(edges)
        n = len(names)
        s = np.frombuffer(src, dtype=np.int64)
        d = np.frombuffer(dst, dtype=np.int64)
        wl = np.frombuffer(w, dtype=np.float64)
        if task in ("cd-igraph", "cd-leidenalg"):
            import igraph as ig
            g = ig.Graph(n=n, edges=np.column_stack((s, d)).tolist())
            g.es["weight"] = wl.tolist()
            t1 = time.perf_counter()
            if task == "cd-igraph":
                import random
                random.seed(seed)
                ig.set_random_number_generator(random)
                p = g.community_leiden(
                    objective_function="CPM" if objective == "cpm" else "modularity",
                    weights="weight", resolution=res, n_iterations=2)
                memb = p.membership
            else:
                import leidenalg as la
                cls = la.CPMVertexPartition if objective == "cpm" else la.ModularityVertexPartition
                kw = {"resolution_parameter": res} if objective == "cpm" else {}
                p = la.find_partition(g, cls, weights="weight", seed=seed, n_iterations=2, **kw)
                memb = p.membership
            t2 = time.perf_counter()
        elif task == "cd-networkit":
            import networkit as nk
            nk.engineering.setSeed(seed, False)
            G = nk.Graph(n, weighted=True)
            G.addEdges((wl, (s, d)))
            t1 = time.perf_counter()
            plm = nk.community.PLM(G, refine=False, gamma=res)
            plm.run()
            memb = plm.getPartition().getVector()
            t2 = time.perf_counter()
            out["threads"] = nk.getMaxNumberOfThreads()
        elif task == "cd-graspologic":
            import graspologic_native as gn
            el = [(names[a], names[b], x) for a, b, x in zip(s.tolist(), d.tolist(), wl.tolist())]
            t1 = time.perf_counter()
            r = gn.leiden(el, resolution=res, use_modularity=(objective != "cpm"), seed=seed)
            part = r[-1]
            t2 = time.perf_counter()
            memb = [part[x] for x in names]
        else:
            raise SystemExit(f"unknown task {task}")
        _write_clusters(outp, names, memb)
        out.update(nodes=n, edges=len(s), communities=len(set(memb)))

    elif task == "quality":
        # modularity by igraph on the same weighted graph + CPM quality
        edges, part, gamma = args
        gamma = float(gamma)
        import igraph as ig
        names, src, dst, w = _read_edges(edges)
        n = len(names)
        s = np.frombuffer(src, dtype=np.int64)
        d = np.frombuffer(dst, dtype=np.int64)
        wl = np.frombuffer(w, dtype=np.float64)
        lab = {}
        with open(part, newline="") as f:
            r = csv.reader(f)
            next(r, None)
            for row in r:
                lab[row[0]] = row[1]
        cid = {}
        memb = np.empty(n, dtype=np.int64)
        missing = 0
        for i, name in enumerate(names):
            c = lab.get(name)
            if c is None:
                missing += 1
                c = ("__singleton__", name)
            memb[i] = cid.setdefault(c, len(cid))
        g = ig.Graph(n=n, edges=np.column_stack((s, d)).tolist())
        t1 = time.perf_counter()
        mod = g.modularity(memb.tolist(), weights=wl.tolist(), resolution=1.0)
        same = memb[s] == memb[d]
        w_in = float(wl[same].sum())
        sizes = np.bincount(memb).astype(np.float64)
        cpm = w_in - gamma * float((sizes * (sizes - 1) / 2).sum())
        t2 = time.perf_counter()
        out.update(modularity=mod, cpm=cpm, cpm_gamma=gamma, nodes_missing=missing,
                   communities=len(cid))

    elif task == "plot":
        plot(*args)
        print(json.dumps(out))
        return

    else:
        raise SystemExit(f"unknown task {task}")

    t3 = time.perf_counter()
    out.update(load_s=t1 - t0, compute_s=t2 - t1, write_s=t3 - t2)
    print(json.dumps(out))


# --------------------------------------------------------------------------------------
# Orchestrator side
# --------------------------------------------------------------------------------------

def run_timed(cmd, timeout, log):
    """Run cmd in a fresh child under /usr/bin/time; return wall, peak RSS and JSON."""
    tfile = os.path.join(log, "time.txt")
    full = ["/usr/bin/time", "-f", "%e %M", "-o", tfile] + cmd
    rec = {"cmd": " ".join(shlex.quote(c) for c in cmd)}
    try:
        p = subprocess.run(full, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        rec.update(ok=False, error=f"timeout after {timeout} s")
        return rec
    try:
        with open(tfile) as f:
            last = f.read().strip().splitlines()[-1].split()
        rec["wall_s"] = float(last[0])
        rec["peak_rss_bytes"] = int(last[1]) * 1024
    except Exception as e:  # noqa: BLE001
        rec["time_error"] = repr(e)
    if p.returncode != 0:
        rec.update(ok=False, error=f"exit {p.returncode}: {p.stderr.strip()[-600:]}")
        return rec
    js = None
    for line in reversed(p.stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                js = json.loads(line)
                break
            except ValueError:
                pass
    rec["ok"] = True
    rec["json"] = js
    return rec


def ex(name):
    return os.path.join(EXAMPLES, name)


def score(truth, clusters, log):
    r = run_timed([ex("score"), "--truth", truth, "--clusters", clusters], 900, log)
    if not r.get("ok") or not r.get("json"):
        return {"error": r.get("error", "no JSON")}
    j = r["json"]
    return {k: j.get(k) for k in ("pairwise_precision", "pairwise_recall", "pairwise_f1",
                                  "adjusted_rand", "ring_recall", "ring_purity",
                                  "rings_whole_and_pure", "rings", "missing")}


def cluster_stats(path):
    from collections import Counter
    c = Counter()
    n = 0
    with open(path, newline="") as f:
        r = csv.reader(f)
        next(r, None)
        for row in r:
            c[row[1]] += 1
            n += 1
    return {"accounts": n, "clusters": len(c), "largest_cluster": max(c.values()) if c else 0}


def normalise_partition(src, dst):
    """Rewrite any 2-column node,community CSV as account,cluster (for `score`)."""
    with open(src, newline="") as f, open(dst, "w", newline="") as g:
        r = csv.reader(f)
        next(r, None)
        g.write("account,cluster\n")
        for row in r:
            g.write(f"{row[0]},{row[1]}\n")


def machine_info():
    info = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
    except OSError:
        pass
    info["cores"] = os.cpu_count()
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                info["mem_total_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    info["load_avg_at_start"] = os.getloadavg()
    info["kernel"] = platform.release()
    info["python"] = platform.python_version()
    vers = {}
    from importlib import metadata
    for pkg in ("igraph", "leidenalg", "networkit", "graspologic-native", "networkx",
                "numpy", "matplotlib"):
        try:
            vers[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            vers[pkg] = None
    try:
        vers["rustc"] = subprocess.run(["rustc", "--version"], capture_output=True,
                                       text=True).stdout.strip()
    except OSError:
        pass
    try:
        rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--", "src",
                                "examples", "Cargo.toml"], capture_output=True,
                               text=True).stdout.strip()
        vers["sellerlink"] = rev + ("+dirty" if dirty else "")
    except OSError:
        pass
    info["versions"] = vers
    return info


def ratio(a, b):
    if a is None or b is None or not b:
        return None
    return a / b


def run_size(obs_n, a, results, save):
    seed = a.seed
    accounts = obs_n * 10 // 56
    ddir = os.path.join(a.data, f"obs{obs_n}_seed{seed}")
    logd = os.path.join(ddir, "log")
    os.makedirs(logd, exist_ok=True)
    obs = os.path.join(ddir, "obs.csv")
    truth = os.path.join(ddir, "truth.csv")
    edges = os.path.join(ddir, "edges.csv")
    me = [VENV_PY, os.path.abspath(__file__), "--worker"]
    S = {"observations_requested": obs_n, "accounts": accounts, "seed": seed,
         "components": [], "communities": []}
    results["sizes"] = [x for x in results["sizes"] if x["observations_requested"] != obs_n]
    results["sizes"].append(S)
    print(f"== size {obs_n} observations ({accounts} accounts)", flush=True)

    g = run_timed([ex("generate"), "--accounts", str(accounts), "--seed", str(seed),
                   "--output", obs, "--truth", truth], a.timeout, logd)
    S["generate"] = g
    if not g.get("ok"):
        print("  generate failed:", g.get("error"), flush=True)
        save()
        return
    S["observations"] = (g.get("json") or {}).get("observations")

    # ---------------- stage 1: connected components ----------------
    def cc_entry(tool, rec, out_csv, load_s=None, compute_s=None):
        e = {"tool": tool, **{k: rec.get(k) for k in ("ok", "error", "wall_s",
                                                      "peak_rss_bytes", "cmd")}}
        j = rec.get("json") or {}
        e["load_s"] = load_s if load_s is not None else j.get("load_s")
        e["compute_s"] = compute_s if compute_s is not None else j.get("compute_s")
        e["write_s"] = j.get("write_s")
        e["raw"] = j
        if rec.get("ok"):
            e.update(cluster_stats(out_csv))
            e["score"] = score(truth, out_csv, logd)
        S["components"].append(e)
        print(f"  cc {tool}: ok={e['ok']} wall={e.get('wall_s')} rss={e.get('peak_rss_bytes')}"
              f" {e.get('error') or ''}", flush=True)
        save()

    out = os.path.join(ddir, "cc_sellerlink.csv")
    r = run_timed([ex("cluster"), "--input", obs, "--output", out, "--level", "components"],
                  a.timeout, logd)
    j = r.get("json") or {}
    ld = j.get("load_ms")
    tot = j.get("total_ms")
    cc_entry("sellerlink", r, out, ld / 1000 if ld is not None else None,
             (tot - ld) / 1000 if (tot is not None and ld is not None) else None)

    for tool in ("networkx", "igraph", "networkit"):
        if a.tools and tool not in a.tools:
            S["components"].append({"tool": tool, "ok": False, "skipped": True,
                                    "error": "skipped (not in --tools for this run)"})
            continue
        if tool == "networkx" and obs_n > a.networkx_max:
            S["components"].append({"tool": tool, "ok": False, "skipped": True,
                                    "error": f"skipped (networkx tuple-node graph at {obs_n} "
                                             f"obs: estimated > {a.timeout} s / >10 GiB; "
                                             f"limit --networkx-max {a.networkx_max})"})
            print(f"  cc {tool}: skipped", flush=True)
            save()
            continue
        out = os.path.join(ddir, f"cc_{tool}.csv")
        r = run_timed(me + [f"cc-{tool}", obs, out], a.timeout, logd)
        cc_entry(tool, r, out)

    # ---------------- stage 2: community detection ----------------
    ev = run_timed([ex("evidence"), "--input", obs, "--output", edges], a.timeout, logd)
    S["evidence"] = ev
    if not ev.get("ok"):
        print("  evidence failed:", ev.get("error"), flush=True)
        save()
        return

    def cd_entry(tool, objective, res, rec, out_csv, algo_s=None, load_s=None):
        e = {"tool": tool, "objective": objective, "resolution": res,
             **{k: rec.get(k) for k in ("ok", "error", "wall_s", "peak_rss_bytes", "cmd")}}
        j = rec.get("json") or {}
        e["raw"] = j
        if algo_s is not None:
            e["algo_s"] = algo_s
            e["load_plus_algo_s"] = algo_s + load_s if load_s is not None else rec.get("wall_s")
        else:
            e["algo_s"] = j.get("compute_s")
            if j.get("load_s") is not None and j.get("compute_s") is not None:
                e["load_plus_algo_s"] = j["load_s"] + j["compute_s"]
        if rec.get("ok"):
            norm = out_csv + ".norm.csv"
            normalise_partition(out_csv, norm)
            e.update(cluster_stats(norm))
            q = run_timed(me + ["quality", edges, norm, str(CPM_GAMMA)], a.timeout, logd)
            qj = q.get("json") or {}
            e["modularity_igraph"] = qj.get("modularity")
            e["cpm_quality"] = qj.get("cpm")
            if not q.get("ok"):
                e["quality_error"] = q.get("error")
            e["score"] = score(truth, norm, logd)
        S["communities"].append(e)
        print(f"  cd {tool} {objective}: ok={e['ok']} wall={e.get('wall_s')} "
              f"rss={e.get('peak_rss_bytes')} {e.get('error') or ''}", flush=True)
        save()

    configs = [("cpm", CPM_GAMMA), ("modularity", 1.0)]
    comm_bin = a.communities_bin or ex("communities")
    S["communities_bin"] = comm_bin
    for objective, res in configs:
        out = os.path.join(ddir, f"cd_sellerlink_{objective}.csv")
        if not os.path.exists(comm_bin):
            S["communities"].append({"tool": "sellerlink", "objective": objective,
                                     "resolution": res, "ok": False,
                                     "error": f"failed: `communities` binary not found "
                                              f"({comm_bin})"})
            print(f"  cd sellerlink {objective}: missing binary", flush=True)
            save()
            continue
        r = run_timed([comm_bin, "--edges", edges, "--output", out, "--resolution", str(res),
                       "--seed", str(seed), "--quality", objective], a.timeout, logd)
        j = r.get("json") or {}
        lm = j.get("leiden_ms")
        ld = j.get("load_ms")
        cd_entry("sellerlink", objective, res, r, out, lm / 1000 if lm is not None else None,
                 ld / 1000 if ld is not None else None)

    peers = [("igraph", "cpm", CPM_GAMMA), ("igraph", "modularity", 1.0),
             ("leidenalg", "cpm", CPM_GAMMA), ("leidenalg", "modularity", 1.0),
             ("networkit", "modularity", 1.0), ("graspologic", "modularity", 1.0)]
    for tool, objective, res in peers:
        if a.tools and tool not in a.tools:
            S["communities"].append({"tool": tool, "objective": objective, "resolution": res,
                                     "ok": False, "skipped": True,
                                     "error": "skipped (not in --tools for this run)"})
            continue
        out = os.path.join(ddir, f"cd_{tool}_{objective}.csv")
        r = run_timed(me + [f"cd-{tool}", edges, out, objective, str(res), str(seed)],
                      a.timeout, logd)
        cd_entry(tool, objective, res, r, out)

    # ratios vs sellerlink
    ref = next((e for e in S["components"] if e["tool"] == "sellerlink" and e.get("ok")), None)
    for e in S["components"]:
        if ref and e.get("ok"):
            e["time_ratio"] = ratio(e.get("wall_s"), ref.get("wall_s"))
            e["compute_ratio"] = ratio(e.get("compute_s"), ref.get("compute_s"))
            e["rss_ratio"] = ratio(e.get("peak_rss_bytes"), ref.get("peak_rss_bytes"))
    for e in S["communities"]:
        ref = next((x for x in S["communities"] if x["tool"] == "sellerlink"
                    and x["objective"] == e["objective"] and x.get("ok")), None)
        if ref and e.get("ok"):
            e["time_ratio"] = ratio(e.get("load_plus_algo_s"), ref.get("load_plus_algo_s"))
            e["algo_ratio"] = ratio(e.get("algo_s"), ref.get("algo_s"))
            e["rss_ratio"] = ratio(e.get("peak_rss_bytes"), ref.get("peak_rss_bytes"))
    save()


# ------------------------------- reporting ---------------------------------------------

def f(x, nd=3):
    if x is None:
        return "–"
    if isinstance(x, float):
        if abs(x) >= 100:
            return f"{x:.0f}"
        if abs(x) >= 10:
            return f"{x:.1f}"
        return f"{x:.{nd}g}"
    return str(x)


def mib(b):
    return None if b is None else round(b / 1048576, 1)


def write_md(results, path):
    m = results["machine"]
    L = []
    L.append("# sellerlink pipeline vs Python peers\n")
    L.append(f"Command: `{results['command']}`\n")
    L.append(f"Machine: {m.get('cpu_model')}, {m.get('cores')} cores, "
             f"{m.get('mem_total_gib')} GiB RAM, load avg at start "
             f"{', '.join(f'{x:.2f}' for x in m.get('load_avg_at_start', []))}; "
             f"{m.get('date')}; versions: "
             + ", ".join(f"{k} {v}" for k, v in m.get("versions", {}).items()) + "\n")
    L.append("Times are seconds, `wall` = whole child process incl. interpreter start-up "
             "(`/usr/bin/time %e`), RSS = peak resident set (`%M`). Python peers read the "
             "CSV as written (no value normalisation, no hub suppression; rows with an "
             "empty value dropped). Ratios are peer / sellerlink: stage 1 `time ×` = wall-time ratio, "
             "`compute ×` = components-only ratio; stage 2 `time ×` = (load+algo) ratio, "
             "`algo ×` = algorithm-only ratio (same objective); `RSS ×` = peak-RSS ratio. "
             "The machine was shared with other builds/benchmarks (see load average), so "
             "treat single-run times as ±20 %.\n")
    for S in results["sizes"]:
        L.append(f"\n## {S.get('observations') or S['observations_requested']} observations "
                 f"({S['accounts']} accounts, seed {S['seed']})\n")
        L.append("### Stage 1: connected components (account↔artifact bipartite graph)\n")
        L.append("sellerlink: `load` = its load_ms (CSV parse + value normalisation), "
                 "`compute` = total_ms − load_ms (canonicalise, freeze, hub-suppressed "
                 "linking, operators, bitmaps) — more work than a bare components call. "
                 "Peers: `load` = csv read + id mapping + graph build, `compute` = the "
                 "components call; `wall` also includes interpreter/library start-up and "
                 "writing CLUSTERS.csv.\n")
        L.append("| tool | load s | compute s | wall s | peak RSS MiB | components | largest "
                 "| pairwise F1 | ARI | ring recall | ring purity | time × | compute × | RSS × |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for e in S["components"]:
            if not e.get("ok"):
                L.append(f"| {e['tool']} | {e.get('error')} |" + " |" * 12)
                continue
            sc = e.get("score") or {}
            L.append(f"| {e['tool']} | {f(e.get('load_s'))} | {f(e.get('compute_s'))} | "
                     f"{f(e.get('wall_s'))} | {f(mib(e.get('peak_rss_bytes')))} | "
                     f"{e.get('clusters')} | {e.get('largest_cluster')} | "
                     f"{f(sc.get('pairwise_f1'))} | {f(sc.get('adjusted_rand'))} | "
                     f"{f(sc.get('ring_recall'))} | {f(sc.get('ring_purity'))} | "
                     f"{f(e.get('time_ratio'))} | {f(e.get('compute_ratio'))} | "
                     f"{f(e.get('rss_ratio'))} |")
        ev = S.get("evidence") or {}
        evj = ev.get("json") or {}
        L.append(f"\n### Stage 2: community detection on the weighted account graph\n")
        L.append(f"Graph from `evidence`: {evj.get('accounts')} accounts, {evj.get('edges')} "
                 f"edges ({evj.get('components')} components); `evidence` itself: wall "
                 f"{f(ev.get('wall_s'))} s, peak RSS {f(mib(ev.get('peak_rss_bytes')))} MiB. "
                 f"Modularity recomputed by igraph (weighted, γ=1); CPM quality at "
                 f"γ={CPM_GAMMA}: Σ_c [w_in(c) − γ·n_c(n_c−1)/2]. † communities among accounts "
                 f"present in EDGES; accounts absent from EDGES are singletons for scoring. "
                 f"`algo s` = the algorithm call only, `load+algo` adds CSV read + graph "
                 f"build (sellerlink: its own load_ms + leiden_ms).\n")
        L.append("| tool | objective | γ | algo s | load+algo s | wall s | peak RSS MiB | "
                 "communities† | largest | modularity | CPM(0.02) | pairwise F1 | ARI | "
                 "time × | algo × | RSS × |")
        L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for e in S["communities"]:
            if not e.get("ok"):
                L.append(f"| {e['tool']} | {e['objective']} | {e['resolution']} | "
                         f"{e.get('error')} |" + " |" * 12)
                continue
            sc = e.get("score") or {}
            L.append(f"| {e['tool']} | {e['objective']} | {e['resolution']} | "
                     f"{f(e.get('algo_s'))} | {f(e.get('load_plus_algo_s'))} | "
                     f"{f(e.get('wall_s'))} | {f(mib(e.get('peak_rss_bytes')))} | "
                     f"{e.get('clusters')} | {e.get('largest_cluster')} | "
                     f"{f(e.get('modularity_igraph'), 4)} | {f(e.get('cpm_quality'), 5)} | "
                     f"{f(sc.get('pairwise_f1'))} | {f(sc.get('adjusted_rand'))} | "
                     f"{f(e.get('time_ratio'))} | {f(e.get('algo_ratio'))} | "
                     f"{f(e.get('rss_ratio'))} |")
    with open(path, "w") as fh:
        fh.write("\n".join(L) + "\n")


def plot(json_path, png_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    with open(json_path) as fh:
        res = json.load(fh)
    series = {}
    for S in res["sizes"]:
        x = S.get("observations") or S["observations_requested"]
        for e in S["components"]:
            if e.get("ok"):
                series.setdefault(f"CC {e['tool']}", []).append(
                    (x, e.get("wall_s"), e.get("peak_rss_bytes")))
        for e in S["communities"]:
            if e.get("ok"):
                series.setdefault(f"Leiden {e['tool']} {e['objective']}", []).append(
                    (x, e.get("wall_s"), e.get("peak_rss_bytes")))
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 5.5))
    cmap = plt.get_cmap("tab20")
    for i, (name, pts) in enumerate(sorted(series.items())):
        pts.sort()
        xs = [p[0] for p in pts]
        ls = "-" if name.startswith("CC") else "--"
        kw = {"color": cmap(i % 20), "marker": "o", "label": name,
              "linewidth": 2.8 if "sellerlink" in name else 1.3}
        a1.plot(xs, [p[1] for p in pts], ls, **kw)
        a2.plot(xs, [p[2] / 1048576 for p in pts], ls, **kw)
    for ax, yl in ((a1, "wall time (s)"), (a2, "peak RSS (MiB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("input observations")
        ax.set_ylabel(yl)
        ax.grid(True, which="both", alpha=0.3)
    a1.set_title("time vs input size")
    a2.set_title("peak memory vs input size")
    a2.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(png_path, dpi=90)


def ensure_venv(skip_install):
    if not skip_install or not os.path.exists(VENV_PY):
        if not os.path.exists(VENV_PY):
            subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([VENV_PY, "-m", "pip", "install", "-q", "-r", REQS], check=True)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3:])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="100000,1000000,10000000")
    ap.add_argument("--skip-install", action="store_true")
    ap.add_argument("--out", default=os.path.join("bench", "peers", "results"))
    ap.add_argument("--data", default="/tmp/sellerlink-peers-data")
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--networkx-max", type=int, default=3_000_000,
                    help="skip networkx above this many observations")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--tools", default=None, type=lambda x: set(x.split(",")),
                    help="only these peers (comma list of networkx,igraph,networkit,"
                         "leidenalg,graspologic); sellerlink always runs")
    ap.add_argument("--communities-bin", default=None,
                    help="sellerlink `communities` binary (default target/release/examples/"
                         "communities)")
    ap.add_argument("--append", action="store_true",
                    help="keep other sizes already in OUT/pipeline.json")
    a = ap.parse_args()

    if os.path.realpath(sys.prefix) != os.path.realpath(VENV):
        ensure_venv(a.skip_install)
        os.execv(VENV_PY, [VENV_PY, os.path.abspath(__file__)] + sys.argv[1:])

    command = "python3 bench/peers/compare_pipeline.py " + " ".join(
        shlex.quote(x) for x in sys.argv[1:])
    os.makedirs(a.out, exist_ok=True)
    os.makedirs(a.data, exist_ok=True)
    jpath = os.path.join(a.out, "pipeline.json")
    results = {"sizes": []}
    if a.append and os.path.exists(jpath):
        with open(jpath) as fh:
            results = json.load(fh)
    results["command"] = command
    results["machine"] = machine_info()
    build = None
    if not a.no_build:
        p = subprocess.run(["cargo", "build", "--release", "--examples"], cwd=REPO,
                           capture_output=True, text=True)
        build = {"ok": p.returncode == 0, "stderr_tail": p.stderr.strip()[-800:]}
        if p.returncode != 0:
            print("cargo build failed; using the existing binaries:\n", build["stderr_tail"])
    results["build"] = build

    def save():
        results["sizes"].sort(key=lambda s: s["observations_requested"])
        with open(jpath, "w") as fh:
            json.dump(results, fh, indent=1)
        write_md(results, os.path.join(a.out, "pipeline.md"))

    for s in [int(x) for x in a.sizes.split(",") if x]:
        run_size(s, a, results, save)
        save()
        try:
            plot(jpath, os.path.join(a.out, "pipeline.png"))
        except Exception as e:  # noqa: BLE001
            print("plot failed:", e)
    print("wrote", jpath)


if __name__ == "__main__":
    main()

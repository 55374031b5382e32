#!/usr/bin/env python3
"""Compare sellerlink's Leiden with peer implementations on the same graphs.

Peers: igraph's community_leiden, leidenalg, NetworKit's PLM and graspologic-native's leiden.
Graphs: LFR benchmark graphs (networkx, planted communities, mixing mu 0.1..0.6) and a larger
planted-partition graph for timing (1M edges by default, 10M with --huge).

For every graph and tool it runs seeds 0..N-1 (--seeds, default 10, on the LFR graphs;
--large-seeds, default 2, on the large ones; 1 on the 10M-edge graph) and reports the median
wall time of the algorithm alone (graph loading excluded; sellerlink's own "leiden_ms") and the
means of: the modularity of the result recomputed by igraph (resolution 1), the NMI against the
planted communities and the community count. It prints a table and writes
bench/peers/results/leiden.json.

sellerlink runs twice per graph: with its default (stop when an iteration gains less than the
tolerance, 1e-4 in modularity) and with --max-iterations 2, the iteration budget of igraph's and
leidenalg's defaults.

With --whole-run it instead compares whole runs from a CSV file on large LFR graphs (NetworKit's
LFRGenerator; 100k and 1M nodes by default, --lfr-sizes): sellerlink's `communities` example as a
process (reading the CSV, building the graph, Leiden, writing the result), against NetworKit PLM
reading the same CSV with its own EdgeListReader, building its graph and running (timed inside
its process, so Python's start-up and import are not counted against it, nor is writing the
result). It prints them side by side with the ratio sellerlink / NetworKit and the NMI of each
against the planted communities, next to the NMI of igraph's Leiden (and leidenalg's, up to
200k nodes) run on the same graph in memory, for the "best peer" NMI.

Run from anywhere:

    python3 bench/peers/compare_leiden.py            # LFR set + 1M-edge graph
    python3 bench/peers/compare_leiden.py --quick    # a smaller LFR set, no large graph
    python3 bench/peers/compare_leiden.py --huge     # also a 10M-edge graph
    python3 bench/peers/compare_leiden.py --whole-run                  # LFR 100k and 1M, from CSV
    python3 bench/peers/compare_leiden.py --whole-run --lfr-sizes 100000 --lfr-mu 0.3,0.5

The script creates its own virtual environment in bench/peers/.venv (python3 -m venv, then pip
install -r requirements.txt) and re-runs itself inside it. A peer whose package fails to install
or import is reported and skipped; the comparison goes on without it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
VENV = HERE / ".venv"
REQUIREMENTS = HERE / "requirements.txt"
RESULTS = HERE / "results" / "leiden.json"


# --------------------------------------------------------------------------------------------
# Environment: a private venv with the peers installed
# --------------------------------------------------------------------------------------------

def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv(skip_install: bool) -> None:
    """Create bench/peers/.venv, install the requirements and re-exec inside it."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    python = venv_python()
    if not python.exists():
        print(f"creating {VENV}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    if not skip_install:
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        if subprocess.run(pip + ["-r", str(REQUIREMENTS)]).returncode != 0:
            # One bad package must not block the others: install them one by one.
            for line in REQUIREMENTS.read_text().splitlines():
                req = line.split("#", 1)[0].strip()
                if req and subprocess.run(pip + [req]).returncode != 0:
                    print(f"warning: could not install {req}; skipping that peer", file=sys.stderr)
    os.execv(str(python), [str(python), str(Path(__file__).resolve())] + sys.argv[1:] + ["--skip-install"])


# --------------------------------------------------------------------------------------------
# Graphs
# --------------------------------------------------------------------------------------------

def lfr_graph(n: int, mu: float, seed: int):
    """An LFR benchmark graph as (edges, planted labels); retries seeds when networkx fails."""
    import networkx as nx

    params = dict(tau1=3.0, tau2=1.5, mu=mu, average_degree=15, max_degree=max(50, n // 20),
                  min_community=20, max_community=max(100, n // 10))
    for attempt in range(20):
        try:
            g = nx.LFR_benchmark_graph(n, seed=seed + 1000 * attempt, max_iters=500, **params)
            break
        except nx.ExceededMaxIterations:
            continue
    else:
        raise RuntimeError(f"LFR generation failed for n={n} mu={mu}")
    g.remove_edges_from(list(nx.selfloop_edges(g)))
    labels = [0] * n
    seen: dict[frozenset, int] = {}
    for v in g.nodes:
        labels[v] = seen.setdefault(frozenset(g.nodes[v]["community"]), len(seen))
    edges = [(u, v) for u, v in g.edges()]
    return edges, labels


def planted_graph(n: int, m: int, mu: float, seed: int):
    """A planted-partition graph with heavy-tailed community sizes (numpy, fast at any size).

    Each edge picks a random source; with probability 1 - mu its target lies in the source's
    community, otherwise anywhere. Node ids are shuffled. Duplicates and self loops are removed.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    sizes = np.clip((rng.pareto(1.5, n) + 1) * 20, 20, 2000).astype(np.int64)
    ends = np.cumsum(sizes)
    k = int(np.searchsorted(ends, n)) + 1
    sizes = sizes[:k]
    sizes[-1] -= int(ends[k - 1]) - n
    community = np.repeat(np.arange(k), sizes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    draw = int(m * 1.08)
    src = rng.integers(0, n, draw)
    c = community[src]
    inside = rng.random(draw) >= mu
    dst = np.where(inside, starts[c] + (rng.random(draw) * sizes[c]).astype(np.int64),
                   rng.integers(0, n, draw))
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    keep = lo != hi
    pairs = np.unique(lo[keep] * n + hi[keep])[:m]
    rng.shuffle(pairs)
    perm = rng.permutation(n)
    a, b = perm[pairs // n], perm[pairs % n]
    labels = np.empty(n, dtype=np.int64)
    labels[perm] = community
    return np.stack([a, b], axis=1), labels.tolist()


def write_edges(path: Path, edges) -> None:
    import numpy as np

    array = np.asarray(edges, dtype=np.int64)
    np.savetxt(path, array, fmt="%d", delimiter=",", header="source,target", comments="")


# --------------------------------------------------------------------------------------------
# Scores
# --------------------------------------------------------------------------------------------

def nmi(a, b) -> float:
    """Normalised mutual information 2 I(A;B) / (H(A) + H(B)) (Danon et al.), as igraph's."""
    import numpy as np

    a = np.unique(np.asarray(a), return_inverse=True)[1].astype(np.int64)
    b = np.unique(np.asarray(b), return_inverse=True)[1].astype(np.int64)
    n = len(a)
    if n == 0:
        return 1.0
    pa = np.bincount(a) / n
    pb = np.bincount(b) / n
    ha = -np.sum(pa * np.log(pa))
    hb = -np.sum(pb * np.log(pb))
    if ha + hb == 0:
        return 1.0
    width = int(b.max()) + 1
    pairs, counts = np.unique(a * width + b, return_counts=True)
    pij = counts / n
    mutual = np.sum(pij * np.log(pij / (pa[pairs // width] * pb[pairs % width])))
    return float(2 * mutual / (ha + hb))


# --------------------------------------------------------------------------------------------
# Tools
# --------------------------------------------------------------------------------------------

def build_sellerlink() -> Path | None:
    print("building sellerlink's communities example (cargo build --release)", file=sys.stderr)
    done = subprocess.run(["cargo", "build", "--release", "--example", "communities"], cwd=REPO)
    if done.returncode != 0:
        print("warning: cargo build failed; sellerlink skipped", file=sys.stderr)
        return None
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    if not target.is_absolute():
        target = REPO / target
    binary = target / "release" / "examples" / ("communities.exe" if os.name == "nt" else "communities")
    return binary if binary.exists() else None


def run_sellerlink(binary: Path, csv_path: Path, n: int, max_iterations: int | None, seed: int):
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "communities.csv"
        cmd = [str(binary), "--edges", str(csv_path), "--output", str(out), "--seed", str(seed)]
        if max_iterations is not None:
            cmd += ["--max-iterations", str(max_iterations)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        stats = json.loads(done.stdout)
        membership = [0] * n
        with out.open() as handle:
            next(handle)
            for line in handle:
                node, community = line.rstrip("\n").rsplit(",", 1)
                membership[int(node)] = int(community)
    return membership, stats["leiden_ms"] / 1000.0, stats


def peers(edges: int):
    """(name, setting, function(graph_bundle, seed) -> (membership, seconds)) per available peer.

    leidenalg runs until stable on the LFR graphs but with its default 2 iterations on large
    graphs (until stable takes minutes per million edges); on graphs over 2M edges leidenalg and
    igraph's until-stable mode are skipped altogether (tens of minutes).
    """
    found = []
    missing = []
    huge = edges > 2_000_000
    stable = -1 if edges <= 200_000 else 2
    try:
        import igraph  # noqa: F401

        def igraph_leiden(bundle, seed, iterations):
            g = bundle["igraph"]
            random.seed(seed)  # python-igraph draws from Python's random module
            start = time.perf_counter()
            part = g.community_leiden(objective_function="modularity", n_iterations=iterations)
            return part.membership, time.perf_counter() - start

        found.append(("igraph", "n_iterations=2 (default)", lambda b, s: igraph_leiden(b, s, 2)))
        if not huge:
            found.append(("igraph", "n_iterations=-1 (until stable)",
                          lambda b, s: igraph_leiden(b, s, -1)))
    except ImportError as err:
        missing.append(f"igraph ({err})")
    try:
        import leidenalg

        def run_leidenalg(bundle, seed):
            start = time.perf_counter()
            part = leidenalg.find_partition(bundle["igraph"], leidenalg.ModularityVertexPartition,
                                            n_iterations=stable, seed=seed)
            return list(part.membership), time.perf_counter() - start

        setting = "n_iterations=-1 (until stable)" if stable < 0 else "n_iterations=2 (default)"
        if not huge:
            found.append(("leidenalg", setting, run_leidenalg))
    except ImportError as err:
        missing.append(f"leidenalg ({err})")
    try:
        import networkit as nk

        def run_plm(bundle, seed):
            g = bundle["networkit"]
            nk.setSeed(seed, False)
            start = time.perf_counter()
            plm = nk.community.PLM(g, refine=True)
            plm.run()
            seconds = time.perf_counter() - start
            return list(plm.getPartition().getVector()), seconds

        found.append(("networkit PLM", f"refine=True, {nk.getMaxNumberOfThreads()} threads", run_plm))
    except ImportError as err:
        missing.append(f"networkit ({err})")
    try:
        import graspologic_native as gn

        def run_graspologic(bundle, seed):
            edges = bundle["string_edges"]
            start = time.perf_counter()
            _, partition = gn.leiden(edges=edges, seed=seed)
            seconds = time.perf_counter() - start
            membership = list(range(bundle["n"], 2 * bundle["n"]))  # isolated nodes stay alone
            for node, community in partition.items():
                membership[int(node)] = community
            return membership, seconds

        found.append(("graspologic-native", "iterations=1 (default)", run_graspologic))
    except ImportError as err:
        missing.append(f"graspologic-native ({err})")
    return found, missing


def bundle_for(n: int, edges) -> dict:
    import igraph as ig
    import numpy as np

    array = np.asarray(edges, dtype=np.int64)
    bundle = {"n": n, "igraph": ig.Graph(n=n, edges=array.tolist())}
    try:
        import networkit as nk

        bundle["networkit"] = nk.GraphFromCoo(
            (np.ones(len(array)), (array[:, 0].astype(np.uint64), array[:, 1].astype(np.uint64))),
            n=n, weighted=False, directed=False)
    except ImportError:
        pass
    bundle["string_edges"] = [(str(a), str(b), 1.0) for a, b in array.tolist()]
    return bundle


# --------------------------------------------------------------------------------------------
# Whole runs from CSV on large LFR graphs
# --------------------------------------------------------------------------------------------

LFR_AVERAGE_DEGREE = 26
LFR_MAX_DEGREE = 200
LFR_COMMUNITY_SIZES = (20, 1000)


def large_lfr_csv(n: int, mu: float, seed: int, cache: Path):
    """An LFR graph from NetworKit's LFRGenerator as a CSV (source,target; node ids shuffled,
    edge order shuffled) and its planted labels, cached in `cache`."""
    import numpy as np

    cache.mkdir(parents=True, exist_ok=True)
    stem = f"lfr-n{n}-mu{mu}-d{LFR_AVERAGE_DEGREE}-s{seed}"
    csv_path, truth_path = cache / f"{stem}.csv", cache / f"{stem}.truth.npy"
    if csv_path.exists() and truth_path.exists():
        return csv_path, np.load(truth_path).tolist()
    import networkit as nk

    print(f"generating LFR n={n} mu={mu} (NetworKit LFRGenerator, seed {seed})", file=sys.stderr)
    nk.setSeed(seed, False)
    gen = nk.generators.LFRGenerator(n)
    gen.generatePowerlawDegreeSequence(LFR_AVERAGE_DEGREE, LFR_MAX_DEGREE, -2.0)
    gen.generatePowerlawCommunitySizeSequence(*LFR_COMMUNITY_SIZES, -1.0)
    gen.setMu(mu)
    gen.run()
    graph, planted = gen.getGraph(), gen.getPartition().getVector()
    import scipy.sparse

    upper = scipy.sparse.triu(nk.algebraic.adjacencyMatrix(graph), k=1).tocoo()
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    pairs = np.stack([perm[upper.row], perm[upper.col]], axis=1)
    rng.shuffle(pairs)
    labels = np.empty(n, dtype=np.int64)
    labels[perm] = np.asarray(planted, dtype=np.int64)
    tmp = cache / f"{stem}.tmp"
    with tmp.open("w") as out:
        out.write("source,target\n")
        for lo in range(0, len(pairs), 1 << 20):
            block = pairs[lo:lo + (1 << 20)]
            out.write("".join(f"{a},{b}\n" for a, b in block.tolist()))
    tmp.rename(csv_path)
    np.save(truth_path, labels)
    return csv_path, labels.tolist()


NETWORKIT_WHOLE_RUN = r"""
import json, sys, time
t0 = time.perf_counter()
import networkit as nk
t1 = time.perf_counter()
path, seed, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
nk.setSeed(seed, False)
start = time.perf_counter()
# The node names are the integers 0..n-1: NetworKit's fast numeric reader applies.
reader = nk.graphio.EdgeListReader(",", 0, commentPrefix="source", continuous=True, directed=False)
graph = reader.read(path)
read = time.perf_counter()
plm = nk.community.PLM(graph, refine=True)
plm.run()
done = time.perf_counter()
vector = plm.getPartition().getVector()
with open(out, "w") as handle:
    for node, community in enumerate(vector):
        handle.write(f"{node},{community}\n")
print(json.dumps({"import_s": t1 - t0, "read_s": read - start, "plm_s": done - read,
                  "whole_s": done - start, "threads": nk.getMaxNumberOfThreads()}))
"""


def read_membership(path: Path, n: int, header: bool) -> list[int]:
    membership = [0] * n
    with path.open() as handle:
        if header:
            next(handle)
        for line in handle:
            node, community = line.rstrip("\n").rsplit(",", 1)
            membership[int(node)] = int(community)
    return membership


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def whole_runs(args, binary: Path | None) -> int:
    """sellerlink's `communities` against NetworKit PLM, each reading the same CSV."""
    import igraph as ig
    import numpy as np

    cache = Path(args.lfr_cache)
    sizes = [int(x) for x in args.lfr_sizes.split(",") if x]
    mus = [float(x) for x in args.lfr_mu.split(",") if x]
    rows = []
    for n in sizes:
        for mu in mus:
            csv_path, labels = large_lfr_csv(n, mu, 42, cache)
            with csv_path.open() as handle:
                next(handle)
                pairs = np.loadtxt(handle, delimiter=",", dtype=np.int64, ndmin=2)
            graph = ig.Graph(n=n, edges=pairs.tolist())
            del pairs
            name = f"LFR n={n} mu={mu} m={graph.ecount()}"
            results = {}
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "out.csv"
                for seed in range(args.lfr_seeds):
                    load = load_average()
                    if binary is not None:
                        start = time.perf_counter()
                        done = subprocess.run([str(binary), "--edges", str(csv_path), "--output", str(out),
                                               "--seed", str(seed)], capture_output=True, text=True, check=True)
                        wall = time.perf_counter() - start
                        stats = json.loads(done.stdout)
                        membership = read_membership(out, n, header=True)
                        results.setdefault("sellerlink", []).append(
                            (wall, graph.modularity(membership), nmi(membership, labels), load,
                             f"load {stats['load_ms'] / 1000:.2f} s, leiden {stats['leiden_ms'] / 1000:.2f} s"))
                    load = load_average()
                    done = subprocess.run([sys.executable, "-c", NETWORKIT_WHOLE_RUN, str(csv_path), str(seed),
                                           str(out)], capture_output=True, text=True)
                    if done.returncode == 0:
                        stats = json.loads(done.stdout)
                        membership = read_membership(out, n, header=False)
                        results.setdefault("networkit PLM", []).append(
                            (stats["whole_s"], graph.modularity(membership), nmi(membership, labels), load,
                             f"read {stats['read_s']:.2f} s, PLM {stats['plm_s']:.2f} s, "
                             f"{stats['threads']} threads"))
                    else:
                        print(f"warning: NetworKit failed: {done.stderr.strip()[-300:]}", file=sys.stderr)
            # NMI references, algorithm only, graph in memory.
            for label, iterations in (("igraph Leiden n_iterations=2", 2), ("igraph Leiden until stable", -1)):
                if iterations < 0 and n > 200_000:
                    continue
                random.seed(0)
                start = time.perf_counter()
                part = graph.community_leiden(objective_function="modularity", n_iterations=iterations)
                results[label] = [(time.perf_counter() - start, graph.modularity(part.membership),
                                   nmi(part.membership, labels), load_average(), "algorithm only")]
            if n <= 200_000:
                try:
                    import leidenalg

                    start = time.perf_counter()
                    part = leidenalg.find_partition(graph, leidenalg.ModularityVertexPartition, n_iterations=2, seed=0)
                    results["leidenalg n_iterations=2"] = [
                        (time.perf_counter() - start, graph.modularity(part.membership),
                         nmi(part.membership, labels), load_average(), "algorithm only")]
                except ImportError:
                    pass
            base = statistics.median(r[0] for r in results.get("networkit PLM", [(float("nan"),)]))
            best_peer = max((statistics.fmean(r[2] for r in runs) for tool, runs in results.items()
                             if tool != "sellerlink"), default=float("nan"))
            for tool, runs in results.items():
                seconds = statistics.median(r[0] for r in runs)
                row = {"graph": name, "nodes": n, "edges": graph.ecount(), "mu": mu, "tool": tool,
                       "runs": len(runs), "seconds": round(seconds, 3),
                       "seconds_all": [round(r[0], 3) for r in runs],
                       "ratio_to_networkit": round(seconds / base, 3) if tool in ("sellerlink", "networkit PLM") else None,
                       "modularity": statistics.fmean(r[1] for r in runs),
                       "nmi": statistics.fmean(r[2] for r in runs), "best_peer_nmi": best_peer,
                       "load_average": [r[3] for r in runs], "detail": runs[-1][4]}
                rows.append(row)
                print(f"{name:<32} {tool:<30} {seconds:8.3f}s Q={row['modularity']:.5f} NMI={row['nmi']:.4f} "
                      f"{row['detail']} load {row['load_average']}", file=sys.stderr)
    header = (f"{'graph':<32} {'tool':<30} {'seconds':>8} {'ratio':>6} {'modularity':>10} {'NMI':>7} "
              f"{'load average (1/5/15 min)':<26} detail")
    print(header)
    print("-" * len(header))
    for r in rows:
        ratio = f"{r['ratio_to_networkit']:.2f}" if r["ratio_to_networkit"] is not None else "–"
        print(f"{r['graph']:<32} {r['tool']:<30} {r['seconds']:>8.3f} {ratio:>6} {r['modularity']:>10.5f} "
              f"{r['nmi']:>7.4f} {'; '.join(r['load_average']):<26} {r['detail']}")
    target = RESULTS.with_name("leiden_whole_run.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "notes": "sellerlink: wall time of the communities process (read CSV, build, Leiden, write); NetworKit: "
                 "EdgeListReader + PLM(refine=True) inside its process (start-up, import and writing excluded); "
                 "igraph/leidenalg: algorithm only, for NMI reference; seconds: median over seeds",
        "rows": rows,
    }
    target.write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {target}")
    return 0


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small LFR set, no large graph")
    parser.add_argument("--huge", action="store_true", help="also a 10M-edge planted graph")
    parser.add_argument("--large-edges", type=int, default=1_000_000,
                        help="edges of the large timing graph (0: none; default 1M)")
    parser.add_argument("--seeds", type=int, default=10,
                        help="runs per tool on each LFR graph (seeds 0..N-1); means are reported")
    parser.add_argument("--large-seeds", type=int, default=2,
                        help="runs per tool on the large graphs (1 on the 10M-edge graph)")
    parser.add_argument("--skip-install", action="store_true", help="use the venv as it is")
    parser.add_argument("--whole-run", action="store_true",
                        help="whole runs from CSV on large LFR graphs: sellerlink against NetworKit PLM")
    parser.add_argument("--lfr-sizes", default="100000,1000000", help="node counts for --whole-run")
    parser.add_argument("--lfr-mu", default="0.4", help="mixing parameters for --whole-run (comma list)")
    parser.add_argument("--lfr-seeds", type=int, default=2, help="runs per tool for --whole-run")
    parser.add_argument("--lfr-cache", default=str(Path(tempfile.gettempdir()) / "sellerlink-lfr"),
                        help="where --whole-run keeps its generated graphs")
    args = parser.parse_args()
    ensure_venv(args.skip_install)

    binary = build_sellerlink()
    if args.whole_run:
        return whole_runs(args, binary)
    graphs = []  # (name, mu, n, edges, planted)
    sizes = [1000] if args.quick else [1000, 5000]
    for n in sizes:
        for mu in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6):
            print(f"generating LFR n={n} mu={mu}", file=sys.stderr)
            edges, labels = lfr_graph(n, mu, seed=42)
            graphs.append((f"LFR n={n} mu={mu}", mu, n, edges, labels, True))
    large = [] if args.quick else ([args.large_edges] if args.large_edges else [])
    if args.huge:
        large.append(10_000_000)
    for m in large:
        n = max(1000, m // 10)
        print(f"generating planted graph n={n} m={m}", file=sys.stderr)
        edges, labels = planted_graph(n, m, mu=0.3, seed=7)
        graphs.append((f"planted n={n} m={m} mu=0.3", 0.3, n, edges, labels, False))

    rows = []
    skipped: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, mu, n, edges, labels, small in graphs:
            csv_path = Path(tmp) / "edges.csv"
            write_edges(csv_path, edges)
            bundle = bundle_for(n, edges)
            graph = bundle["igraph"]
            tools = []
            if binary is not None:
                tools.append(("sellerlink", "default (tolerance 1e-4)",
                              lambda b, s: run_sellerlink(binary, csv_path, n, None, s)[:2]))
                tools.append(("sellerlink", "--max-iterations 2",
                              lambda b, s: run_sellerlink(binary, csv_path, n, 2, s)[:2]))
            found, skipped = peers(graph.ecount())
            tools += found
            seeds = args.seeds if small else (args.large_seeds if graph.ecount() <= 2_000_000 else 1)
            for tool, setting, run in tools:
                runs = []
                for seed in range(seeds):
                    membership, seconds = run(bundle, seed)
                    runs.append((seconds, graph.modularity(membership), nmi(membership, labels),
                                 len(set(membership))))
                row = {
                    "graph": name, "nodes": n, "edges": graph.ecount(), "mu": mu,
                    "tool": tool, "setting": setting, "seeds": seeds,
                    "seconds": round(statistics.median(r[0] for r in runs), 4),
                    "modularity": statistics.fmean(r[1] for r in runs),
                    "nmi": statistics.fmean(r[2] for r in runs),
                    "nmi_sd": statistics.stdev(r[2] for r in runs) if len(runs) > 1 else 0.0,
                    "communities": statistics.fmean(r[3] for r in runs),
                }
                rows.append(row)
                print(f"{name:<33} {tool:<18} {setting:<31} {seconds:9.3f}s "
                      f"Q={row['modularity']:.5f} NMI={row['nmi']:.4f} k={row['communities']:.1f}",
                      file=sys.stderr)

    header = (f"{'graph':<33} {'tool':<18} {'setting':<31} {'seconds':>9} {'modularity':>10} "
              f"{'NMI (± sd)':>16} {'k':>6}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['graph']:<33} {r['tool']:<18} {r['setting']:<31} {r['seconds']:>9.3f} "
              f"{r['modularity']:>10.5f} {r['nmi']:>7.4f} ± {r['nmi_sd']:.4f} {r['communities']:>6.1f}")
    if skipped:
        print("skipped peers: " + "; ".join(skipped))

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count()},
        "notes": "seconds: median over seeds, algorithm only (graph construction excluded); modularity recomputed "
                 "by igraph at resolution 1, mean over seeds; NMI = 2I/(H1+H2) against the planted communities",
        "skipped": skipped,
        "rows": rows,
    }
    RESULTS.write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

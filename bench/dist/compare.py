#!/usr/bin/env python3
"""sellerlink-dist beside `cluster` on one input, in one run.

Runs `cluster` and `sellerlink-dist` (one worker, two workers, two processes on loopback with one
worker each) at one level, and reports for each: wall time, peak RSS (per process), bytes of
memory per observation, the bytes the two processes sent each other over loopback (from
/proc/net/dev: the machine should be otherwise quiet), and whether the partition equals
`cluster`'s.

    python3 bench/dist/compare.py --input OBS.csv [--level operators|components]
        [--bin target/release] [--examples target/release/examples]

Build first: cargo build --release --example cluster -p sellerlink -p sellerlink-dist
"""
import argparse, collections, csv, glob, json, os, re, shutil, socket, subprocess, sys, tempfile, time


def loopback_bytes():
    with open("/proc/net/dev") as f:
        for line in f:
            if line.strip().startswith("lo:"):
                fields = line.split(":", 1)[1].split()
                return int(fields[0])  # received bytes (each byte sent is received once)
    return 0


def timed(cmd):
    """Runs cmd under /usr/bin/time; returns (wall s, peak RSS bytes, stdout)."""
    out = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M"] + cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stderr[-2000:]}")
    m = re.search(r"TIME ([0-9.]+) ([0-9]+)", out.stderr)
    return float(m.group(1)), int(m.group(2)) * 1024, out.stdout


def partition(paths):
    by = collections.defaultdict(set)
    seen = set()
    for p in paths:
        with open(p) as f:
            r = csv.reader(f)
            next(r)
            for a, c in r:
                if a in seen:
                    sys.exit(f"{a} twice")
                seen.add(a)
                by[c].add(a)
    return set(frozenset(s) for s in by.values())


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", required=True)
    ap.add_argument("--level", default="operators")
    ap.add_argument("--cut-incoherent", action="store_true", help="pass --cut-incoherent to every sellerlink-dist run")
    ap.add_argument("--bin", default="target/release")
    ap.add_argument("--examples", default="target/release/examples")
    ap.add_argument("--workers", default="1,2", help="in-process runs: worker counts, comma-separated")
    ap.add_argument("--no-processes", action="store_true", help="skip the two-process run (it needs two processes' memory)")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="sellerlink-dist-bench-")
    records = None
    rows = []

    out = os.path.join(work, "cluster.csv")
    wall, rss, stdout = timed([f"{args.examples}/cluster", "--input", args.input, "--output", out, "--level", args.level])
    records = json.loads(stdout.strip().splitlines()[-1]).get("observations")
    reference = partition([out])
    threads = os.cpu_count() or 1
    rows.append((f"cluster ({threads} threads)", threads, wall, rss, 0, True))

    dist = f"{args.bin}/sellerlink-dist"
    cut = ["--cut-incoherent"] if args.cut_incoherent else []
    for w in [int(x) for x in args.workers.split(",") if x]:
        d = os.path.join(work, f"w{w}")
        wall, rss, _ = timed([dist, "--input", args.input, "--output", d, "--level", args.level, "-w", str(w)] + cut)
        rows.append((f"sellerlink-dist -w {w}", w, wall, rss, 0, partition(glob.glob(d + "/part-*.csv")) == reference))

    if args.no_processes:
        return report(args, records, rows, work)
    hosts = os.path.join(work, "hosts.txt")
    with open(hosts, "w") as f:
        f.write(f"127.0.0.1:{free_port()}\n127.0.0.1:{free_port()}\n")
    d = os.path.join(work, "n2")
    before = loopback_bytes()
    start = time.time()
    procs = [
        subprocess.Popen(["/usr/bin/time", "-f", "TIME %e %M", dist, "--input", args.input, "--output", d,
                          "--level", args.level, "-w", "1", "-n", "2", "-p", str(p), "-h", hosts] + cut,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for p in (0, 1)
    ]
    peaks = []
    for p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            sys.exit(err[-2000:])
        peaks.append(int(re.search(r"TIME ([0-9.]+) ([0-9]+)", err).group(2)) * 1024)
    wall = time.time() - start
    sent = loopback_bytes() - before
    rows.append(("sellerlink-dist -n 2 -w 1 (loopback)", 2, wall, max(peaks), sent,
                 partition(glob.glob(d + "/part-*.csv")) == reference))
    report(args, records, rows, work)


def report(args, records, rows, work):
    print(f"input: {args.input} ({records} observations), level {args.level}")
    print()
    print("| run | workers or threads | wall s | vs cluster | obs/s per worker | peak RSS GB (per process) | RSS B/obs | bytes between processes | same partition |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    base = rows[0][2]
    for name, workers, wall, rss, sent, same in rows:
        print(f"| {name} | {workers} | {wall:.1f} | {wall / base:.1f}x | {records / wall / workers:,.0f} | "
              f"{rss / 2**30:.2f} | {rss / records:.0f} | {sent / 2**20:.0f} MiB | {'yes' if same else 'NO'} |")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()

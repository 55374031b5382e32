//! Linking: union-find over the bipartite graph under a [`LinkPolicy`].
//!
//! Linking never builds the account × account projection. For each artifact it decides, from
//! its kind's resolved policy, whether the artifact is a *hub* (more accounts than the cap:
//! suppressed and reported) and otherwise which of its accounts it ties together:
//!
//! - **strong, no window**: all its accounts, by unioning consecutive accounts (`d − 1` unions);
//! - **strong, with window**: its uses sorted by time are chained wherever consecutive uses are
//!   at most the window apart (the transitive closure of "used within the window of each other");
//!   an untimed use is compatible with every use, so any untimed use ties the whole artifact;
//! - **weak**: each pair of distinct accounts with compatible uses is emitted once per artifact
//!   (at most `cap·(cap−1)/2` pairs, bounded by the hub cap) with its *evidence key*: the
//!   artifact itself, or the kind's evidence group when it has one; after all artifacts, a pair
//!   is unioned when it carries at least [`LinkPolicy::corroboration_needed`] distinct keys. A
//!   weak pair that is also joined by strong evidence is simply redundant.
//! - **weak, as a group**: then, until nothing changes, each weak non-hub artifact is split into
//!   its time-compatible groups of uses (as for strong kinds), and a group of three or more
//!   accounts is unioned whole when at least [`LinkPolicy::group_cohesion_needed`] of its
//!   accounts already share a component with another of its accounts. The condition only
//!   grows as components merge, so the fixpoint is unique: input order cannot change it.
//!
//! The result is a [`Linkage`]: components as a canonical [`Clustering`] (component ids in order
//! of each component's smallest account id, so the same observations in any order give the same
//! ids once account ids are canonical), the set of hub artifacts, and the resolved caps.
//!
//! Cost: `O(E α(n))` for strong kinds and `O(Σ d²)` over weak non-hub artifacts, which the cap
//! bounds; memory: the union-find (5 bytes per account) plus 8 bytes per emitted weak pair.

use roaring::RoaringBitmap;

use crate::cluster::Clustering;
use crate::graph::{Graph, NO_TIME};
use crate::kind::Kinds;
use crate::policy::{HubCap, LinkPolicy, Strength, auto_cap};

/// A policy resolved against one graph's kinds: caps are numbers, windows are known.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    /// Strength per kind id.
    pub strength: Vec<Strength>,
    /// Hub cap per kind id (`u32::MAX` for unlimited).
    pub cap: Vec<u32>,
    /// Window per kind id.
    pub window: Vec<Option<u64>>,
    /// Corroboration weak evidence needs.
    pub corroboration: u32,
    /// Evidence group per kind id (`None`: each artifact counts on its own).
    pub group: Vec<Option<u32>>,
    /// Group-corroboration share, if on.
    pub cohesion: Option<f64>,
}

impl Resolved {
    /// Resolves `policy` for the kinds of `graph` (computing automatic caps from its degrees).
    pub fn new(graph: &Graph, kinds: &Kinds, policy: &LinkPolicy) -> Resolved {
        let mut strength = Vec::with_capacity(kinds.len());
        let mut cap = Vec::with_capacity(kinds.len());
        let mut window = Vec::with_capacity(kinds.len());
        let mut degrees_by_kind: Vec<Option<Vec<u32>>> = vec![None; kinds.len()];
        let mut group = Vec::with_capacity(kinds.len());
        let mut group_names: Vec<&str> = Vec::new();
        for (k, name) in kinds.iter() {
            let p = policy.kind_policy(name);
            group.push(p.evidence_group().map(|g| match group_names.iter().position(|&n| n == g) {
                Some(i) => i as u32,
                None => {
                    group_names.push(g);
                    group_names.len() as u32 - 1
                }
            }));
            strength.push(p.strength());
            window.push(p.window());
            cap.push(match p.cap() {
                HubCap::Fixed(n) => n,
                HubCap::Unlimited => u32::MAX,
                HubCap::Auto => {
                    degrees_by_kind[k.as_usize()] = Some(Vec::new());
                    0
                }
            });
        }
        if degrees_by_kind.iter().any(Option::is_some) {
            for f in 0..graph.artifact_count() {
                let k = graph.art_kind[f].as_usize();
                if let Some(Some(v)) = degrees_by_kind.get_mut(k) {
                    v.push(graph.art_off[f + 1] - graph.art_off[f]);
                }
            }
            for (k, d) in degrees_by_kind.into_iter().enumerate() {
                if let Some(d) = d {
                    cap[k] = auto_cap(&d);
                }
            }
        }
        Resolved {
            strength,
            cap,
            window,
            corroboration: policy.corroboration_needed(),
            group,
            cohesion: policy.group_cohesion_needed(),
        }
    }

    /// True when kind `k` links only with corroboration.
    pub fn is_weak(&self, k: usize) -> bool {
        self.strength[k] == Strength::Weak && self.corroboration > 1
    }

    /// True when artifact `f` (of `graph`) is a hub under this policy.
    pub fn is_hub(&self, graph: &Graph, f: u32) -> bool {
        let k = graph.art_kind[f as usize].as_usize();
        graph.art_off[f as usize + 1] - graph.art_off[f as usize] > self.cap[k]
    }
}

/// A union-find (disjoint-set forest) over `u32` elements: a thin wrapper over petgraph's
/// `UnionFind` (union by rank, path splitting, unchecked indexing behind its own bounds
/// assertion), which measured faster than a safe hand-written forest (see BENCHMARKS.md).
///
/// # Examples
///
/// ```
/// use sellerlink::link::UnionFind;
/// let mut uf = UnionFind::new(4);
/// uf.union(0, 1);
/// uf.union(2, 3);
/// assert_eq!(uf.find(1), uf.find(0));
/// assert_ne!(uf.find(1), uf.find(2));
/// ```
#[derive(Clone, Debug)]
pub struct UnionFind(petgraph::unionfind::UnionFind<u32>);

impl UnionFind {
    /// `n` singletons.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut uf = sellerlink::link::UnionFind::new(2);
    /// assert_ne!(uf.find(0), uf.find(1));
    /// ```
    pub fn new(n: usize) -> Self {
        Self(petgraph::unionfind::UnionFind::new(n))
    }

    /// The representative of `x`.
    ///
    /// # Panics
    ///
    /// Panics when `x` is out of range.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut uf = sellerlink::link::UnionFind::new(3);
    /// assert_eq!(uf.find(2), 2);
    /// ```
    #[inline]
    pub fn find(&mut self, x: u32) -> u32 {
        self.0.find_mut(x)
    }

    /// Joins the sets of `a` and `b`; returns true when they were separate.
    ///
    /// # Panics
    ///
    /// Panics when `a` or `b` is out of range.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut uf = sellerlink::link::UnionFind::new(2);
    /// assert!(uf.union(0, 1));
    /// assert!(!uf.union(1, 0));
    /// ```
    #[inline]
    pub fn union(&mut self, a: u32, b: u32) -> bool {
        self.0.union(a, b)
    }

    /// The representative (root) of every element.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut uf = sellerlink::link::UnionFind::new(3);
    /// uf.union(2, 0);
    /// let roots = uf.roots();
    /// assert_eq!(roots[0], roots[2]);
    /// assert_ne!(roots[0], roots[1]);
    /// ```
    pub fn roots(self) -> Vec<u32> {
        self.0.into_labeling()
    }

    /// A canonical label per element: sets numbered in order of their smallest element.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut uf = sellerlink::link::UnionFind::new(4);
    /// uf.union(3, 1);
    /// assert_eq!(uf.labels(), vec![0, 1, 2, 1]);
    /// ```
    pub fn labels(self) -> Vec<u32> {
        Clustering::from_labels(self.roots()).labels().to_vec()
    }
}

/// The analyst overrides of a policy, resolved to ids (pairs or artifacts not in the index are
/// ignored: an override about an unseen account takes effect once it is seen).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decisions {
    /// Must-link account pairs.
    pub must: Vec<(u32, u32)>,
    /// Cannot-link account pairs.
    pub cannot: Vec<(u32, u32)>,
    /// Artifacts declared legitimate infrastructure.
    pub legitimate: RoaringBitmap,
}

impl Decisions {
    /// Resolves `policy`'s overrides against interned names.
    pub(crate) fn resolve(
        policy: &LinkPolicy,
        kinds: &Kinds,
        accounts: &crate::intern::Interner,
        artifacts: &crate::intern::Interner,
    ) -> Decisions {
        let o = policy.overrides();
        let pair = |(a, b): &(String, String)| Some((accounts.find(0, a)?, accounts.find(0, b)?));
        let mut legitimate = RoaringBitmap::new();
        let mut buf = String::new();
        for (kind, value) in &o.legitimate {
            let Some(k) = kinds.get(kind) else { continue };
            if kinds.normalizer(k).normalize(value, &mut buf).is_ok() {
                if let Some(f) = artifacts.find(k.as_u32(), &buf) {
                    legitimate.insert(f);
                }
            }
        }
        Decisions {
            must: o.must_link.iter().filter_map(pair).collect(),
            cannot: o.cannot_link.iter().filter_map(pair).filter(|(a, b)| a != b).collect(),
            legitimate,
        }
    }
}

/// The result of linking: components, hubs and the policy as resolved.
#[derive(Clone, Debug)]
pub struct Linkage {
    /// Linked components, canonical ids.
    pub components: Clustering,
    /// Artifacts suppressed as hubs.
    pub hubs: RoaringBitmap,
    /// Weak artifact time groups confirmed by group corroboration, as `artifact << 32 | group`
    /// (group ordinal in time order; 0 when unwindowed), sorted.
    pub confirmed: Vec<u64>,
    /// The resolved policy.
    pub resolved: Resolved,
}

/// Links the accounts of `graph` under `policy`. See the [module docs](self).
pub fn link(graph: &Graph, kinds: &Kinds, policy: &LinkPolicy) -> Linkage {
    link_with(graph, kinds, policy, &Decisions::default(), None)
}

/// Links with the analyst overrides applied: must-link pairs are unioned, legitimate
/// artifacts are suppressed like hubs.
pub fn link_decided(graph: &Graph, kinds: &Kinds, policy: &LinkPolicy, decisions: &Decisions) -> Linkage {
    link_with(graph, kinds, policy, decisions, None)
}

/// Links as [`link`] does, and also returns every union it performed, in order: the
/// policy-filtered edge list over accounts (for comparing union-find implementations on the
/// same work).
pub fn link_edges(graph: &Graph, kinds: &Kinds, policy: &LinkPolicy) -> (Linkage, Vec<(u32, u32)>) {
    let mut log = Vec::new();
    let linkage = link_with(graph, kinds, policy, &Decisions::default(), Some(&mut log));
    (linkage, log)
}

/// A union-find that can record its unions (for [`link_edges`]).
struct Unions<'l> {
    uf: UnionFind,
    log: Option<&'l mut Vec<(u32, u32)>>,
}

impl Unions<'_> {
    #[inline]
    fn union(&mut self, a: u32, b: u32) -> bool {
        if let Some(log) = self.log.as_mut() {
            log.push((a, b));
        }
        self.uf.union(a, b)
    }

    #[inline]
    fn find(&mut self, a: u32) -> u32 {
        self.uf.find(a)
    }
}

fn link_with(
    graph: &Graph,
    kinds: &Kinds,
    policy: &LinkPolicy,
    decisions: &Decisions,
    log: Option<&mut Vec<(u32, u32)>>,
) -> Linkage {
    let resolved = Resolved::new(graph, kinds, policy);
    let suppressed = |f: u32| resolved.is_hub(graph, f) || decisions.legitimate.contains(f);
    let hubs = suppressed_artifacts(graph, suppressed);
    let (uf, mut confirmed) = link_core(graph, &resolved, suppressed, &decisions.must, log);
    confirmed.sort_unstable();
    let components = Clustering::from_labels(uf.roots());
    Linkage { components, hubs, resolved, confirmed }
}

/// Artifacts of two or more accounts that `suppressed` says not to link through.
fn suppressed_artifacts(graph: &Graph, suppressed: impl Fn(u32) -> bool) -> RoaringBitmap {
    (0..graph.artifact_count() as u32)
        .filter(|&f| graph.art_off[f as usize + 1] - graph.art_off[f as usize] >= 2 && suppressed(f))
        .collect()
}

/// The linking itself, over any graph: `suppressed` names the artifacts not to link through
/// (hubs, legitimate infrastructure), `must` the pairs to union regardless. Returns the
/// union-find and the confirmed weak groups (unsorted).
fn link_core(
    graph: &Graph,
    resolved: &Resolved,
    suppressed: impl Fn(u32) -> bool,
    must: &[(u32, u32)],
    log: Option<&mut Vec<(u32, u32)>>,
) -> (UnionFind, Vec<u64>) {
    let mut uf = Unions { uf: UnionFind::new(graph.account_count()), log };
    let mut pairs: Vec<(u64, u32)> = Vec::new();
    let mut local: Vec<u64> = Vec::new();
    let mut weak_artifacts: Vec<u32> = Vec::new();
    for f in 0..graph.artifact_count() as u32 {
        let deg = graph.art_off[f as usize + 1] - graph.art_off[f as usize];
        if deg < 2 || suppressed(f) {
            continue;
        }
        let k = graph.art_kind[f as usize].as_usize();
        let window = resolved.window[k];
        if !resolved.is_weak(k) {
            union_artifact(graph, f, window, &mut uf);
        } else {
            if deg >= 3 {
                weak_artifacts.push(f);
            }
            local.clear();
            artifact_pairs(graph, f, window, &mut local);
            local.sort_unstable();
            local.dedup();
            let key = evidence_key(resolved, k, f);
            pairs.extend(local.iter().map(|&p| (p, key)));
        }
    }
    crate::graph::sort_unstable(&mut pairs);
    pairs.dedup();
    let need = resolved.corroboration as usize;
    let mut i = 0;
    while i < pairs.len() {
        let mut j = i + 1;
        while j < pairs.len() && pairs[j].0 == pairs[i].0 {
            j += 1;
        }
        if j - i >= need {
            uf.union((pairs[i].0 >> 32) as u32, pairs[i].0 as u32);
        }
        i = j;
    }
    drop(pairs);
    for &(a, b) in must {
        uf.union(a, b);
    }
    let mut confirmed = Vec::new();
    if let Some(share) = resolved.cohesion {
        group_corroboration(graph, resolved, &weak_artifacts, share, &mut uf, &mut confirmed);
    }
    (uf.uf, confirmed)
}

/// What an update knew before it: the previous linkage, and which artifacts gained or lost a
/// use. See [`relink`].
#[derive(Clone, Copy, Debug)]
pub struct Prior<'p> {
    /// The previous components, in the previous account ids.
    pub components: &'p Clustering,
    /// The previous resolved hub caps, per kind id.
    pub caps: &'p [u32],
    /// The previous confirmed weak groups (see [`Linkage::confirmed`]).
    pub confirmed: &'p [u64],
    /// The previous graph.
    pub graph: &'p Graph,
    /// Artifacts that gained or lost a use (artifact ids are shared by both graphs).
    pub touched: &'p RoaringBitmap,
    /// The new id of each previous account, `u32::MAX` for accounts no longer present.
    pub new_of_old: &'p [u32],
}

/// Links after an update, re-linking only the accounts the update can reach; returns the
/// linkage (equal to [`link_decided`] on the same graph) and how many accounts were re-linked.
///
/// The re-linked set starts from new accounts, the accounts of touched artifacts (before and
/// after), the previous components that lost an account, and must-link partners, and is closed under:
/// whole previous components (a component can split), and every account of a weak, non-hub
/// artifact of three or more accounts that group corroboration considers (merging accounts
/// can confirm such a group and pull in its other accounts). Every other account keeps its
/// previous component: the artifacts it uses are untouched, so every union that involves it
/// is the same as before. The set is linked as a subgraph with the hub decisions of the whole
/// graph. When a hub cap moved, or the set holds most accounts, everything is re-linked.
pub fn relink(
    graph: &Graph,
    kinds: &Kinds,
    policy: &LinkPolicy,
    decisions: &Decisions,
    prior: &Prior<'_>,
) -> (Linkage, usize) {
    let n = graph.account_count();
    let resolved = Resolved::new(graph, kinds, policy);
    if resolved.cap != prior.caps {
        return (link_decided(graph, kinds, policy, decisions), n);
    }
    let suppressed = |f: u32| resolved.is_hub(graph, f) || decisions.legitimate.contains(f);
    let mut old_of_new = vec![u32::MAX; n];
    for (o, &new) in prior.new_of_old.iter().enumerate() {
        if let Some(slot) = old_of_new.get_mut(new as usize) {
            *slot = o as u32;
        }
    }
    let grouped = |f: u32| {
        let k = graph.art_kind[f as usize].as_usize();
        resolved.cohesion.is_some()
            && resolved.is_weak(k)
            && graph.art_off[f as usize + 1] - graph.art_off[f as usize] >= 3
            && !suppressed(f)
    };
    let mut must_of: ahash::AHashMap<u32, Vec<u32>> = ahash::AHashMap::new();
    for &(a, b) in &decisions.must {
        must_of.entry(a).or_default().push(b);
        must_of.entry(b).or_default().push(a);
    }

    // The closure.
    let mut in_set = vec![false; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut comp_seen = vec![false; prior.components.len()];
    let mut art_seen = vec![false; graph.artifact_count()];
    let mark = |x: u32, in_set: &mut [bool], stack: &mut Vec<u32>| {
        if !in_set[x as usize] {
            in_set[x as usize] = true;
            stack.push(x);
        }
    };
    let mut add_component = |c: crate::ClusterId, in_set: &mut [bool], stack: &mut Vec<u32>| {
        if !std::mem::replace(&mut comp_seen[c.as_usize()], true) {
            for &m in prior.components.members(c) {
                if let Some(&new) = prior.new_of_old.get(m as usize).filter(|&&x| x != u32::MAX) {
                    mark(new, in_set, stack);
                }
            }
        }
    };
    for (x, &o) in old_of_new.iter().enumerate() {
        if o == u32::MAX {
            mark(x as u32, &mut in_set, &mut stack);
        }
    }
    for (o, &new) in prior.new_of_old.iter().enumerate() {
        if new == u32::MAX {
            if let Some(c) = prior.components.cluster_of(crate::AccountId::from_u32(o as u32)) {
                add_component(c, &mut in_set, &mut stack);
            }
        }
    }
    let old_degree = |f: crate::ArtifactId| {
        if f.as_usize() < prior.graph.artifact_count() { prior.graph.degree(f) } else { 0 }
    };
    for f in prior.touched.iter().map(crate::ArtifactId::from_u32) {
        // A hub before and after (caps are unchanged) links nobody either way.
        let cap = graph.art_kind.get(f.as_usize()).map_or(u32::MAX, |k| resolved.cap[k.as_usize()]);
        if suppressed(f.as_u32()) && (old_degree(f) > cap || decisions.legitimate.contains(f.as_u32())) {
            continue;
        }
        if f.as_usize() < graph.artifact_count() {
            for &a in graph.accounts_of(f) {
                mark(a, &mut in_set, &mut stack);
            }
        }
        if f.as_usize() < prior.graph.artifact_count() {
            for &m in prior.graph.accounts_of(f) {
                if let Some(c) = prior.components.cluster_of(crate::AccountId::from_u32(m)) {
                    add_component(c, &mut in_set, &mut stack);
                }
            }
        }
    }
    while let Some(x) = stack.pop() {
        if let Some(c) = prior.components.cluster_of(crate::AccountId::from_u32(old_of_new[x as usize])) {
            add_component(c, &mut in_set, &mut stack);
        }
        for &f in graph.artifacts_of(crate::AccountId::from_u32(x)) {
            if grouped(f) && !std::mem::replace(&mut art_seen[f as usize], true) {
                for &a in graph.accounts_of(crate::ArtifactId::from_u32(f)) {
                    mark(a, &mut in_set, &mut stack);
                }
            }
        }
        for &y in must_of.get(&x).map_or(&[][..], Vec::as_slice) {
            mark(y, &mut in_set, &mut stack);
        }
    }
    let count = in_set.iter().filter(|&&b| b).count();
    if count * 4 > n * 3 {
        return (link_decided(graph, kinds, policy, decisions), n);
    }

    // The subgraph of the set: its accounts, every artifact they use, and those artifacts'
    // uses by accounts of the set.
    let mut local_of = vec![u32::MAX; n];
    let mut global_of: Vec<u32> = Vec::with_capacity(count);
    for (x, _) in in_set.iter().enumerate().filter(|(_, b)| **b) {
        local_of[x] = global_of.len() as u32;
        global_of.push(x as u32);
    }
    let mut art_local = vec![u32::MAX; graph.artifact_count()];
    let mut art_global: Vec<u32> = Vec::new();
    let mut kinds_local = Vec::new();
    for &x in &global_of {
        for &f in graph.artifacts_of(crate::AccountId::from_u32(x)) {
            if art_local[f as usize] == u32::MAX {
                art_local[f as usize] = art_global.len() as u32;
                art_global.push(f);
                kinds_local.push(graph.art_kind[f as usize]);
            }
        }
    }
    let mut edges = Vec::new();
    for (lf, &f) in art_global.iter().enumerate() {
        let (accounts, times) = graph.use_slices(f);
        for (i, &a) in accounts.iter().enumerate() {
            if in_set[a as usize] {
                let time = times.map_or(NO_TIME, |t| t[i]);
                edges.push(crate::graph::Edge { artifact: lf as u32, time, account: local_of[a as usize] });
            }
        }
    }
    let Ok(sub) = Graph::from_edges(count, kinds_local, &mut edges) else {
        return (link_decided(graph, kinds, policy, decisions), n);
    };
    let must: Vec<(u32, u32)> = decisions
        .must
        .iter()
        .filter(|&&(a, b)| in_set[a as usize] && in_set[b as usize])
        .map(|&(a, b)| (local_of[a as usize], local_of[b as usize]))
        .collect();
    let (uf, sub_confirmed) =
        link_core(&sub, &resolved, |lf| suppressed(art_global[lf as usize]), &must, None);

    // Labels: an account's smallest-id component mate serves as its label.
    let roots = uf.roots();
    let mut labels = vec![u32::MAX; n];
    for (l, &r) in roots.iter().enumerate() {
        let (x, root) = (global_of[l] as usize, global_of[r as usize]);
        let label = &mut labels[root as usize];
        *label = (*label).min(x as u32);
    }
    for (l, &r) in roots.iter().enumerate() {
        labels[global_of[l] as usize] = labels[global_of[r as usize] as usize];
    }
    for x in 0..n {
        if !in_set[x] {
            let old = crate::AccountId::from_u32(old_of_new[x]);
            labels[x] = match prior.components.cluster_of(old) {
                Some(c) => {
                    prior.components.members(c).first().map_or(x as u32, |&m| prior.new_of_old[m as usize])
                }
                None => x as u32,
            };
        }
    }
    let mut confirmed: Vec<u64> = prior
        .confirmed
        .iter()
        .copied()
        .filter(|&key| art_local.get((key >> 32) as usize) == Some(&u32::MAX))
        .collect();
    confirmed.extend(
        sub_confirmed
            .into_iter()
            .map(|key| u64::from(art_global[(key >> 32) as usize]) << 32 | (key & 0xffff_ffff)),
    );
    confirmed.sort_unstable();
    let hubs = suppressed_artifacts(graph, suppressed);
    let components = Clustering::from_labels(labels);
    (Linkage { components, hubs, resolved, confirmed }, count)
}

/// Unions weak artifacts whose accounts are mostly linked already, until nothing changes.
fn group_corroboration(
    graph: &Graph,
    resolved: &Resolved,
    weak: &[u32],
    share: f64,
    uf: &mut Unions<'_>,
    confirmed: &mut Vec<u64>,
) {
    let mut done: ahash::AHashSet<u64> = ahash::AHashSet::new();
    let mut pending: Vec<u32> = weak.to_vec();
    let mut roots: Vec<u32> = Vec::new();
    let mut group: Vec<u32> = Vec::new();
    loop {
        let before = pending.len();
        pending.retain(|&f| {
            let k = graph.art_kind[f as usize].as_usize();
            let mut all_done = true;
            for_each_time_group(graph, f, resolved.window[k], &mut group, |ordinal, g| {
                let key = u64::from(f) << 32 | u64::from(ordinal);
                if g.len() < 3 || done.contains(&key) {
                    return;
                }
                roots.clear();
                roots.extend(g.iter().map(|&a| uf.find(a)));
                roots.sort_unstable();
                let related = roots
                    .iter()
                    .enumerate()
                    .filter(|&(i, r)| (i > 0 && roots[i - 1] == *r) || roots.get(i + 1) == Some(r))
                    .count();
                if related as f64 >= share * g.len() as f64 {
                    for &a in &g[1..] {
                        uf.union(g[0], a);
                    }
                    done.insert(key);
                } else {
                    all_done = false;
                }
            });
            !all_done
        });
        if pending.len() == before {
            break;
        }
    }
    confirmed.extend(done);
}

/// Calls `visit(ordinal, accounts)` with each time-compatible group of an artifact's distinct
/// accounts (sorted), in time order: chains of uses at most `window` apart, or all accounts
/// (ordinal 0) when unwindowed or any use is untimed.
pub(crate) fn for_each_time_group(
    graph: &Graph,
    f: u32,
    window: Option<u64>,
    buf: &mut Vec<u32>,
    mut visit: impl FnMut(u32, &[u32]),
) {
    let (accounts, times) = graph.use_slices(f);
    match (window, times) {
        (Some(w), Some(times)) if times.first().is_some_and(|&t| t != NO_TIME) => {
            let mut start = 0;
            let mut ordinal = 0;
            for i in 1..=accounts.len() {
                if i == accounts.len() || times[i].abs_diff(times[i - 1]) > w {
                    buf.clear();
                    buf.extend_from_slice(&accounts[start..i]);
                    buf.sort_unstable();
                    buf.dedup();
                    visit(ordinal, buf);
                    ordinal += 1;
                    start = i;
                }
            }
        }
        _ => visit(0, graph.accounts_of(crate::ArtifactId::from_u32(f))),
    }
}

/// Unions the accounts a strong artifact ties together.
fn union_artifact(graph: &Graph, f: u32, window: Option<u64>, uf: &mut Unions<'_>) {
    let (accounts, times) = graph.use_slices(f);
    match (window, times) {
        (Some(w), Some(times)) if times[0] != NO_TIME => {
            for i in 1..accounts.len() {
                if times[i].abs_diff(times[i - 1]) <= w {
                    uf.union(accounts[i - 1], accounts[i]);
                }
            }
        }
        _ => {
            for i in 1..accounts.len() {
                uf.union(accounts[0], accounts[i]);
            }
        }
    }
}

/// Emits every pair of distinct accounts with compatible uses of `f`, as `a << 32 | b`, `a < b`
/// (possibly repeated; the caller deduplicates).
pub(crate) fn artifact_pairs(graph: &Graph, f: u32, window: Option<u64>, out: &mut Vec<u64>) {
    let (accounts, times) = graph.use_slices(f);
    let push = |out: &mut Vec<u64>, a: u32, b: u32| {
        if a != b {
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            out.push(u64::from(lo) << 32 | u64::from(hi));
        }
    };
    match (window, times) {
        (Some(w), Some(times)) => {
            // Untimed uses sort first and pair with every account of the artifact.
            let untimed = times.iter().take_while(|&&t| t == NO_TIME).count();
            if untimed > 0 {
                let distinct = graph.accounts_of(crate::ArtifactId::from_u32(f));
                for &a in &accounts[..untimed] {
                    for &b in distinct {
                        push(out, a, b);
                    }
                }
            }
            // Timed uses: a sliding window with a count per account, so each use pairs with
            // the distinct accounts in its window (at most the hub cap), not with every use:
            // millions of uses by two accounts cost linear time.
            let mut in_window: Vec<(u32, u32)> = Vec::new(); // (account, uses in window)
            let mut lo = untimed;
            for i in untimed..accounts.len() {
                while times[i].abs_diff(times[lo]) > w {
                    if let Some(slot) = in_window.iter_mut().find(|(a, _)| *a == accounts[lo]) {
                        slot.1 -= 1;
                    }
                    in_window.retain(|&(_, n)| n > 0);
                    lo += 1;
                }
                for &(b, _) in &in_window {
                    push(out, accounts[i], b);
                }
                match in_window.iter_mut().find(|(a, _)| *a == accounts[i]) {
                    Some(slot) => slot.1 += 1,
                    None => in_window.push((accounts[i], 1)),
                }
            }
        }
        _ => {
            let distinct = graph.accounts_of(crate::ArtifactId::from_u32(f));
            for (i, &a) in distinct.iter().enumerate() {
                for &b in &distinct[i + 1..] {
                    push(out, a, b);
                }
            }
        }
    }
}

/// What one weak artifact counts as for corroboration: its evidence group, or itself.
pub(crate) fn evidence_key(resolved: &Resolved, kind: usize, artifact: u32) -> u32 {
    match resolved.group[kind] {
        Some(g) => u32::MAX - g,
        None => artifact,
    }
}

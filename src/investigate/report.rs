//! Ring reports: what holds one cluster together, in an investigator's terms.
//!
//! A [`RingReport`] lists a cluster's members; the artifacts shared by two or more of them,
//! strongest first; counts by kind; first and last activity; the density of its evidence (the
//! share of member pairs that share at least one artifact); and its *weakest joint*: the single
//! shared artifact that, if it were wrong, would split the ring (found by removing each shared
//! artifact in turn, weakest first, and checking whether the members stay connected).

use std::collections::BTreeMap;

use crate::graph::NO_TIME;
use crate::id::{AccountId, ArtifactId, ClusterId};
use crate::index::{Index, Level};
use crate::policy::Strength;
use crate::unionfind::UnionFind;

/// Rings larger than this get no exact density or weakest joint (their cost is quadratic).
///
/// # Examples
///
/// See [`RingReport::density`].
pub const EXACT_LIMIT: usize = 2000;

/// One artifact shared inside a ring.
///
/// # Examples
///
/// See [`RingReport`].
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct SharedArtifact {
    /// The artifact.
    pub artifact: ArtifactId,
    /// Its kind's name.
    pub kind: String,
    /// Its canonical value.
    pub value: String,
    /// How many ring members used it.
    pub members: usize,
    /// How many accounts in all used it.
    pub accounts: u32,
    /// True when it links nobody (see `set_aside` for why).
    pub hub: bool,
    /// Why it links nobody, if it does not: its degree, its incoherence, or an analyst's
    /// declaration.
    pub set_aside: Option<crate::policy::Suppressed>,
    /// True when its kind is strong.
    pub strong: bool,
    /// Evidence weight per pair (kind weight × ln 2 / ln d).
    pub weight: f64,
}

/// A report on one cluster; see the [module docs](self).
///
/// # Examples
///
/// ```
/// use sellerlink::{IndexBuilder, report::RingReport};
/// let mut b = IndexBuilder::new();
/// for s in ["a", "b", "c"] {
///     b.add(s, "payment", "mule-1", Some(1_700_000_000))?;
/// }
/// b.add("a", "device", "laptop", Some(1_700_000_100))?;
/// b.add("b", "device", "laptop", Some(1_700_000_200))?;
/// let index = b.build()?;
/// let ring = index.cluster_of(index.account("a").expect("known"));
/// let report = RingReport::new(&index, ring);
/// assert_eq!(report.members.len(), 3);
/// assert_eq!(report.shared[0].kind, "payment");
/// assert_eq!(report.weakest_joint.as_ref().map(|j| j.kind.as_str()), Some("payment"));
/// assert_eq!(report.first_seen, Some(1_700_000_000));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct RingReport {
    /// The cluster.
    pub cluster: ClusterId,
    /// Its members, by id.
    pub members: Vec<AccountId>,
    /// Artifacts shared by two or more members, strongest first.
    pub shared: Vec<SharedArtifact>,
    /// Shared artifacts per kind name.
    pub by_kind: BTreeMap<String, usize>,
    /// Shared artifacts that link (not set aside) per kind name: the kinds that carry the
    /// ring.
    pub carried_by: BTreeMap<String, usize>,
    /// Earliest timestamp of any member's observation.
    pub first_seen: Option<i64>,
    /// Latest timestamp of any member's observation.
    pub last_seen: Option<i64>,
    /// Share of member pairs that share an artifact (None past [`EXACT_LIMIT`] members).
    pub density: Option<f64>,
    /// The operator confidence, when the cluster is an operator.
    pub confidence: Option<f32>,
    /// The weakest single shared artifact whose removal disconnects the members, if any.
    pub weakest_joint: Option<SharedArtifact>,
}

impl RingReport {
    /// Reports on a cluster of the index's default clustering.
    ///
    /// # Examples
    ///
    /// See [`RingReport`].
    pub fn new(index: &Index, cluster: ClusterId) -> RingReport {
        Self::at(index, Level::Operators, cluster)
    }

    /// Reports on a cluster of the clustering at `level`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sellerlink::{ClusterId, IndexBuilder, Level, report::RingReport};
    /// let index = IndexBuilder::new().build()?;
    /// assert!(RingReport::at(&index, Level::Components, ClusterId::must(0)).members.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn at(index: &Index, level: Level, cluster: ClusterId) -> RingReport {
        let g = index.graph();
        let members: Vec<AccountId> = index.clustering_at(level).members(cluster).to_vec();
        let in_ring = |a: AccountId| members.binary_search(&a).is_ok();

        let mut arts: Vec<ArtifactId> =
            members.iter().flat_map(|&a| g.artifacts_of(a).iter().copied()).collect();
        arts.sort_unstable();
        let mut counts: Vec<(ArtifactId, usize)> = Vec::new();
        for f in arts {
            match counts.last_mut() {
                Some((last, n)) if *last == f => *n += 1,
                _ => counts.push((f, 1)),
            }
        }
        let mut shared: Vec<SharedArtifact> =
            counts.iter().filter(|&&(_, n)| n >= 2).map(|&(f, n)| shared_artifact(index, f, n)).collect();
        shared.sort_by(|a, b| strength_key(b).total_cmp(&strength_key(a)).then(a.artifact.cmp(&b.artifact)));
        let (mut by_kind, mut carried_by) = (BTreeMap::new(), BTreeMap::new());
        for s in &shared {
            *by_kind.entry(s.kind.clone()).or_insert(0) += 1;
            if !s.hub {
                *carried_by.entry(s.kind.clone()).or_insert(0) += 1;
            }
        }

        let (mut first_seen, mut last_seen) = (None::<i64>, None::<i64>);
        for &(f, _) in &counts {
            for u in g.uses(f) {
                if u.time != NO_TIME && in_ring(u.account) {
                    first_seen = Some(first_seen.map_or(u.time, |t| t.min(u.time)));
                    last_seen = Some(last_seen.map_or(u.time, |t| t.max(u.time)));
                }
            }
        }

        let local = |a: AccountId| members.binary_search(&a).ok();
        let member_lists: Vec<Vec<usize>> = shared
            .iter()
            .map(|s| g.accounts_of(s.artifact).iter().filter_map(|&a| local(a)).collect())
            .collect();
        let exact = members.len() <= EXACT_LIMIT;
        let density = (exact && members.len() >= 2).then(|| {
            let m = members.len();
            let mut covered = vec![false; m * m];
            let mut pairs = 0usize;
            for list in &member_lists {
                for (i, &x) in list.iter().enumerate() {
                    for &y in &list[i + 1..] {
                        if !covered[x * m + y] {
                            covered[x * m + y] = true;
                            pairs += 1;
                        }
                    }
                }
            }
            pairs as f64 / (m * (m - 1) / 2) as f64
        });
        let connected_without = |skip: usize| -> bool {
            let mut uf = UnionFind::new(members.len());
            for (i, list) in member_lists.iter().enumerate() {
                if i != skip && !shared[i].hub {
                    for w in list.windows(2) {
                        uf.union(w[0] as u32, w[1] as u32);
                    }
                }
            }
            let r = uf.find(0);
            (1..members.len() as u32).all(|x| uf.find(x) == r)
        };
        let weakest_joint = if exact && members.len() >= 2 && connected_without(usize::MAX) {
            (0..shared.len())
                .rev()
                .filter(|&i| !shared[i].hub)
                .find(|&i| !connected_without(i))
                .map(|i| shared[i].clone())
        } else {
            None
        };
        let confidence = match level {
            Level::Operators => index.operators().and_then(|o| o.confidence(cluster)),
            _ => None,
        };
        RingReport {
            cluster,
            members,
            shared,
            by_kind,
            carried_by,
            first_seen,
            last_seen,
            density,
            confidence,
            weakest_joint,
        }
    }
}

fn shared_artifact(index: &Index, f: ArtifactId, members: usize) -> SharedArtifact {
    let g = index.graph();
    let k = g.kind(f);
    SharedArtifact {
        artifact: f,
        value: index.artifact_value(f).to_string(),
        members,
        accounts: g.degree(f),
        hub: index.is_hub(f),
        set_aside: index.evidence.suppression(g, f),
        strong: index.evidence.resolved.strength[k.as_usize()] == Strength::Strong,
        weight: index.evidence.weight(g, f, 0.0),
        kind: index.kind_name(k).to_string(),
    }
}

/// Ordering key: non-hubs before hubs, strong before weak, then pairs covered × weight.
fn strength_key(s: &SharedArtifact) -> f64 {
    let pairs = (s.members * (s.members - 1) / 2) as f64;
    let class = match (s.hub, s.strong) {
        (false, true) => 2.0,
        (false, false) => 1.0,
        (true, _) => 0.0,
    };
    class * 1e12 + pairs * s.weight
}

/// How one kind's evidence was judged in an index: its resolved strength and weight, its
/// degree cap, how many of its artifacts were shared and how many set aside, and why; and what
/// the build learned of it.
///
/// # Examples
///
/// ```
/// use sellerlink::report::KindEvidence;
/// let mut b = sellerlink::IndexBuilder::new();
/// for i in 0..15 {
///     b.add(&format!("s{i}"), "device", "cafe-pc", None)?;
///     b.add(&format!("s{i}"), "email", &format!("s{i}@example.com"), None)?;
/// }
/// let index = b.build()?;
/// let device = KindEvidence::all(&index).into_iter().find(|k| k.kind == "device").expect("built in");
/// assert_eq!((device.shared, device.set_aside_incoherent), (1, 1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct KindEvidence {
    /// The kind's name.
    pub kind: String,
    /// Whether one shared artifact links on its own.
    pub strength: Strength,
    /// Its weight in community detection.
    pub weight: f64,
    /// The degree cap in force (the policy's ceiling when the kind has no lower cap).
    pub cap: u32,
    /// Its evidence group, if any (kinds in one group corroborate nothing for each other).
    pub group: Option<String>,
    /// Its artifacts.
    pub artifacts: u64,
    /// Its artifacts of two or more accounts.
    pub shared: u64,
    /// Shared artifacts set aside for their degree (past the cap or the ceiling).
    pub set_aside_degree: u64,
    /// Shared artifacts set aside as incoherent.
    pub set_aside_incoherent: u64,
    /// Shared artifacts declared legitimate infrastructure.
    pub set_aside_legitimate: u64,
    /// What the build learned of the kind, when it learned.
    pub learned: Option<crate::policy::LearnedKind>,
}

/// The policy as judged on an index's data, as the JSON object the `cluster` example prints
/// under `policy` (and the Python package's `Index.evidence()` returns): the policy's
/// settings, what the build learned overall, and per kind its strength, weight, degree cap,
/// evidence group, artifacts, shared artifacts, the shared ones set aside and why
/// (`set_aside`: `degree`, `incoherent`, `legitimate`) and the estimate (`learned`: `m`, `u`,
/// `posterior`, `corroborated`, `derived_from`, `applied`; `null` when nothing was learned).
///
/// # Examples
///
/// ```
/// let mut b = sellerlink::IndexBuilder::new();
/// for i in 0..15 {
///     b.add(&format!("s{i}"), "device", "cafe-pc", None)?;
/// }
/// let json = sellerlink::report::judged_policy(&b.build()?);
/// assert_eq!(json["kinds"]["device"]["set_aside"]["incoherent"], 1);
/// assert_eq!(json["kinds"]["device"]["strength"], "strong");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn judged_policy(index: &Index) -> serde_json::Value {
    let mut kinds = serde_json::Map::new();
    for k in KindEvidence::all(index) {
        let learned = k.learned.as_ref().map(|l| {
            serde_json::json!({
                "m": l.m,
                "u": l.u,
                "posterior": l.posterior,
                "corroborated": l.corroborated,
                "derived_from": l.derived_from,
                "applied": l.applied,
            })
        });
        let entry = serde_json::json!({
            "strength": format!("{:?}", k.strength).to_lowercase(),
            "weight": k.weight,
            "cap": k.cap,
            "group": k.group,
            "artifacts": k.artifacts,
            "shared": k.shared,
            "set_aside": {
                "degree": k.set_aside_degree,
                "incoherent": k.set_aside_incoherent,
                "legitimate": k.set_aside_legitimate,
            },
            "learned": learned,
        });
        kinds.insert(k.kind, entry);
    }
    let p = index.policy();
    serde_json::json!({
        "coherence": p.coherence_needed(),
        "ceiling": p.ceiling_accounts(),
        "corroboration": p.corroboration_needed(),
        "match_share": p.learned().map(|l| l.match_share),
        "pairs_read": p.learned().map(|l| l.pairs),
        "kinds": kinds,
    })
}

impl KindEvidence {
    /// One entry per kind of the index, in kind id order.
    ///
    /// # Examples
    ///
    /// See [`KindEvidence`].
    pub fn all(index: &Index) -> Vec<KindEvidence> {
        use crate::policy::Suppressed;
        let g = index.graph();
        let ev = &index.evidence;
        let n = index.kinds().len();
        let mut counts = vec![[0u64; 5]; n];
        for f in (0..g.artifact_count() as u32).map(ArtifactId::from_u32) {
            let c = &mut counts[g.kind(f).as_usize()];
            c[0] += 1;
            if g.degree(f) >= 2 {
                c[1] += 1;
            }
            match ev.suppression(g, f) {
                Some(Suppressed::Degree { .. }) => c[2] += 1,
                Some(Suppressed::Incoherent) => c[3] += 1,
                Some(Suppressed::Legitimate) => c[4] += 1,
                None => {}
            }
        }
        let learned = index.policy().learned();
        let group_of = |k: usize| {
            ev.resolved.group[k].and_then(|grp| {
                // Name a group by the policy's name for it, or by the kinds in it.
                let members: Vec<&str> = index
                    .kinds()
                    .iter()
                    .filter(|(other, _)| ev.resolved.group[other.as_usize()] == Some(grp))
                    .map(|(_, name)| name)
                    .collect();
                let kind = index.kinds().name(crate::KindId::must(k));
                index
                    .policy()
                    .kind_policy(kind)
                    .evidence_group()
                    .map(str::to_string)
                    .or(Some(members.join("+")))
            })
        };
        index
            .kinds()
            .iter()
            .map(|(k, name)| {
                let i = k.as_usize();
                KindEvidence {
                    kind: name.to_string(),
                    strength: ev.resolved.strength[i],
                    weight: ev.resolved.weight[i],
                    cap: ev.resolved.cap[i],
                    group: group_of(i),
                    artifacts: counts[i][0],
                    shared: counts[i][1],
                    set_aside_degree: counts[i][2],
                    set_aside_incoherent: counts[i][3],
                    set_aside_legitimate: counts[i][4],
                    learned: learned.and_then(|l| l.kinds.get(name)).cloned(),
                }
            })
            .collect()
    }
}

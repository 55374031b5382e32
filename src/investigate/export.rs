//! Exports: operators and their evidence in formats other tools load as they are.
//!
//! - [`write_json`]: one JSON object per cluster with its members and evidence (from
//!   [`RingReport`]), one per line (JSON Lines).
//! - [`write_dot`]: the evidence subgraph of a cluster (its accounts and the artifacts two or
//!   more of them share) as Graphviz DOT, through petgraph's `dot` module.
//! - [`write_neo4j_csv`] and [`write_gephi_csv`]: node and edge CSV files for Neo4j's bulk
//!   importer (`neo4j-admin database import full --nodes=… --relationships=…`) and for Gephi's
//!   spreadsheet import. Their header conventions differ (`id:ID` versus `Id`), so each gets
//!   its own pair.
//! - [`evidence_graph`]: the weighted account graph of a component, as community detection
//!   sees it, for running peer tools on the same graph.

use std::io::{self, Write};

use petgraph::dot::{Config, Dot};
use petgraph::graph::{NodeIndex, UnGraph};

use super::report::{RingReport, SharedArtifact};
use crate::graph::NO_TIME;
use crate::id::{AccountId, ClusterId};
use crate::index::{Index, Level};

/// One cluster's report as a JSON object (one line of text): its members by name, the
/// artifacts they share with kind, value, counts and weight, and the report's figures.
///
/// # Examples
///
/// ```
/// use sellerlink::{IndexBuilder, export::report_json, report::RingReport};
/// let mut b = IndexBuilder::new();
/// b.add("a", "device", "d1", None)?;
/// b.add("b", "device", "D1", None)?;
/// let index = b.build()?;
/// let c = index.cluster_of(index.account("a").expect("known"));
/// let json = report_json(&index, &RingReport::new(&index, c));
/// assert!(json.starts_with(r#"{"by_kind":{"device":1},"cluster":0,"#));
/// assert!(json.contains(r#""members":["a","b"]"#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn report_json(index: &Index, r: &RingReport) -> String {
    report_value(index, r).to_string()
}

fn report_value(index: &Index, r: &RingReport) -> serde_json::Value {
    let artifact = |s: &SharedArtifact| {
        serde_json::json!({
            "kind": s.kind,
            "value": s.value,
            "first_written": index.artifact_first_written(s.artifact),
            "members": s.members,
            "accounts": s.accounts,
            "hub": s.hub,
            "strong": s.strong,
            "weight": s.weight,
        })
    };
    serde_json::json!({
        "cluster": r.cluster.as_u32(),
        "size": r.members.len(),
        "confidence": r.confidence,
        "members": r.members.iter().map(|&a| index.account_name(a)).collect::<Vec<_>>(),
        "shared": r.shared.iter().map(artifact).collect::<Vec<_>>(),
        "by_kind": r.by_kind,
        "first_seen": r.first_seen,
        "last_seen": r.last_seen,
        "density": r.density,
        "weakest_joint": r.weakest_joint.as_ref().map(artifact),
    })
}

/// Writes one JSON object per cluster (JSON Lines), at the default level.
///
/// # Errors
///
/// I/O errors of `out`.
///
/// # Examples
///
/// ```
/// use sellerlink::{IndexBuilder, export::write_json};
/// let mut b = IndexBuilder::new();
/// b.add("a", "device", "d1", None)?;
/// b.add("b", "device", "d1", None)?;
/// let index = b.build()?;
/// let mut out = Vec::new();
/// write_json(&index, &[index.cluster_of(index.account("a").expect("known"))], &mut out)?;
/// let line: serde_json::Value = serde_json::from_slice(&out)?;
/// assert_eq!(line["size"], 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_json(index: &Index, clusters: &[ClusterId], mut out: impl Write) -> io::Result<()> {
    for &c in clusters {
        let report = RingReport::at(index, Level::Operators, c);
        serde_json::to_writer(&mut out, &report_value(index, &report))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// A node of the evidence subgraph.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Account(String),
    Artifact { kind: String, value: String, accounts: u32, hub: bool },
}

impl core::fmt::Display for Node {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Node::Account(name) => f.write_str(name),
            Node::Artifact { kind, value, accounts, .. } => {
                write!(f, "{kind}\\n{value}\\n({accounts} accounts)")
            }
        }
    }
}

/// The evidence subgraph of a cluster: accounts and the artifacts ≥ 2 of them share.
fn evidence_subgraph(index: &Index, r: &RingReport) -> UnGraph<Node, String> {
    let mut g = UnGraph::new_undirected();
    let mut account_node: Vec<(AccountId, NodeIndex)> = Vec::new();
    for &a in &r.members {
        account_node.push((a, g.add_node(Node::Account(index.account_name(a).to_string()))));
    }
    for s in &r.shared {
        let n = g.add_node(Node::Artifact {
            kind: s.kind.clone(),
            value: s.value.clone(),
            accounts: s.accounts,
            hub: s.hub,
        });
        for &a in index.graph().accounts_of(s.artifact) {
            if let Ok(i) = account_node.binary_search_by_key(&a, |(id, _)| *id) {
                g.add_edge(account_node[i].1, n, String::new());
            }
        }
    }
    g
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace("\\\\n", "\\n")
}

/// Writes a cluster's evidence subgraph as Graphviz DOT: accounts as boxes, artifacts as
/// ellipses (hubs dashed, grey).
///
/// # Errors
///
/// I/O errors of `out`.
///
/// # Examples
///
/// ```
/// use sellerlink::{IndexBuilder, export::write_dot};
/// let mut b = IndexBuilder::new();
/// b.add("a", "device", "d1", None)?;
/// b.add("b", "device", "d1", None)?;
/// let index = b.build()?;
/// let mut out = Vec::new();
/// write_dot(&index, index.cluster_of(index.account("a").expect("known")), &mut out)?;
/// let dot = String::from_utf8(out)?;
/// assert!(dot.starts_with("graph {"));
/// assert!(dot.contains("device"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_dot(index: &Index, cluster: ClusterId, mut out: impl Write) -> io::Result<()> {
    let report = RingReport::at(index, Level::Operators, cluster);
    let g = evidence_subgraph(index, &report);
    let node_attrs = |_: &UnGraph<Node, String>, (_, node): (NodeIndex, &Node)| -> String {
        let label = dot_escape(&node.to_string());
        match node {
            Node::Account(_) => {
                format!("label = \"{label}\", shape = box, style = filled, fillcolor = \"#f4cccc\"")
            }
            Node::Artifact { hub: true, .. } => {
                format!("label = \"{label}\", shape = ellipse, style = dashed, color = grey")
            }
            Node::Artifact { .. } => {
                format!("label = \"{label}\", shape = ellipse, style = filled, fillcolor = \"#cfe2f3\"")
            }
        }
    };
    let dot = Dot::with_attr_getters(
        &g,
        &[Config::NodeNoLabel, Config::EdgeNoLabel],
        &|_, _| String::new(),
        &node_attrs,
    );
    write!(out, "{dot}")
}

struct Rows {
    accounts: Vec<AccountId>,
    artifacts: Vec<SharedArtifact>,
    edges: Vec<(AccountId, usize, i64, i64)>,
}

fn rows(index: &Index, clusters: &[ClusterId]) -> Rows {
    let mut accounts = Vec::new();
    let mut artifacts: Vec<SharedArtifact> = Vec::new();
    for &c in clusters {
        let r = RingReport::at(index, Level::Operators, c);
        accounts.extend(r.members.iter().copied());
        for s in r.shared {
            if !artifacts.iter().any(|x| x.artifact == s.artifact) {
                artifacts.push(s);
            }
        }
    }
    accounts.sort_unstable();
    accounts.dedup();
    let mut edges = Vec::new();
    for (i, s) in artifacts.iter().enumerate() {
        for &a in index.graph().accounts_of(s.artifact) {
            if accounts.binary_search(&a).is_ok() {
                let times: Vec<i64> = index
                    .graph()
                    .uses(s.artifact)
                    .filter(|u| u.account == a && u.time != NO_TIME)
                    .map(|u| u.time)
                    .collect();
                let (first, last) = (
                    times.iter().min().copied().unwrap_or(NO_TIME),
                    times.iter().max().copied().unwrap_or(NO_TIME),
                );
                edges.push((a, i, first, last));
            }
        }
    }
    Rows { accounts, artifacts, edges }
}

fn opt_time(t: i64) -> String {
    if t == NO_TIME { String::new() } else { t.to_string() }
}

/// Writes Neo4j bulk-import node and relationship files for some clusters: nodes labelled
/// `Account` and `Artifact`, relationships `USED` with first and last use times.
///
/// # Errors
///
/// I/O errors of the writers.
///
/// # Examples
///
/// ```
/// use sellerlink::{IndexBuilder, export::write_neo4j_csv};
/// let mut b = IndexBuilder::new();
/// b.add("a", "device", "d1", Some(5))?;
/// b.add("b", "device", "d1", Some(9))?;
/// let index = b.build()?;
/// let (mut nodes, mut rels) = (Vec::new(), Vec::new());
/// write_neo4j_csv(&index, &[index.cluster_of(index.account("a").expect("known"))], &mut nodes, &mut rels)?;
/// let nodes = String::from_utf8(nodes)?;
/// assert!(nodes.starts_with("id:ID,name,kind,value,accounts:int,hub:boolean,operator:int,:LABEL\n"));
/// assert_eq!(String::from_utf8(rels)?.lines().count(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_neo4j_csv(
    index: &Index,
    clusters: &[ClusterId],
    nodes: impl Write,
    rels: impl Write,
) -> io::Result<()> {
    write_tables(index, clusters, Dialect::Neo4j, nodes, rels)
}

/// Writes Gephi spreadsheet-import node and edge tables for some clusters (`Id,Label,…` and
/// `Source,Target,Type,…`).
///
/// # Errors
///
/// I/O errors of the writers.
///
/// # Examples
///
/// ```
/// use sellerlink::{IndexBuilder, export::write_gephi_csv};
/// let mut b = IndexBuilder::new();
/// b.add("a", "device", "d1", None)?;
/// b.add("b", "device", "d1", None)?;
/// let index = b.build()?;
/// let (mut nodes, mut edges) = (Vec::new(), Vec::new());
/// write_gephi_csv(&index, &[index.cluster_of(index.account("a").expect("known"))], &mut nodes, &mut edges)?;
/// assert!(String::from_utf8(edges)?.starts_with("Source,Target,Type"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_gephi_csv(
    index: &Index,
    clusters: &[ClusterId],
    nodes: impl Write,
    edges: impl Write,
) -> io::Result<()> {
    write_tables(index, clusters, Dialect::Gephi, nodes, edges)
}

/// The two node/edge table conventions.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Neo4j,
    Gephi,
}

fn write_tables(
    index: &Index,
    clusters: &[ClusterId],
    dialect: Dialect,
    nodes: impl Write,
    edges: impl Write,
) -> io::Result<()> {
    let r = rows(index, clusters);
    let neo = dialect == Dialect::Neo4j;
    // Every field goes through the csv crate: names and values are quoted where they need it.
    let mut nodes = csv::Writer::from_writer(nodes);
    if neo {
        nodes.write_record([
            "id:ID",
            "name",
            "kind",
            "value",
            "accounts:int",
            "hub:boolean",
            "operator:int",
            ":LABEL",
        ])?;
    } else {
        nodes.write_record(["Id", "Label", "Category", "Kind", "Accounts", "Hub", "Operator"])?;
    }
    for &a in &r.accounts {
        let (id, name, op) =
            (format!("a{}", a.as_u32()), index.account_name(a), index.cluster_of(a).as_u32().to_string());
        if neo {
            nodes.write_record([id.as_str(), name, "", "", "", "", &op, "Account"])?;
        } else {
            nodes.write_record([id.as_str(), name, "account", "", "", "", &op])?;
        }
    }
    for s in &r.artifacts {
        let (id, n, hub) = (format!("f{}", s.artifact.as_u32()), s.accounts.to_string(), s.hub.to_string());
        if neo {
            let name = format!("{}:{}", s.kind, s.value);
            nodes.write_record([id.as_str(), &name, &s.kind, &s.value, &n, &hub, "", "Artifact"])?;
        } else {
            nodes.write_record([id.as_str(), &s.value, "artifact", &s.kind, &n, &hub, ""])?;
        }
    }
    nodes.flush()?;
    let mut edges = csv::Writer::from_writer(edges);
    if neo {
        edges.write_record([":START_ID", ":END_ID", ":TYPE", "first_seen:long", "last_seen:long"])?;
    } else {
        edges.write_record(["Source", "Target", "Type", "FirstSeen", "LastSeen"])?;
    }
    let kind = if neo { "USED" } else { "Undirected" };
    for &(a, i, first, last) in &r.edges {
        let f = r.artifacts[i].artifact.as_u32();
        let (a, f) = (format!("a{}", a.as_u32()), format!("f{f}"));
        edges.write_record([a.as_str(), &f, kind, &opt_time(first), &opt_time(last)])?;
    }
    edges.flush()?;
    Ok(())
}

/// The weighted account graph of one component, as community detection sees it: one edge
/// per pair of accounts, the evidence of every artifact they share summed (see the
/// [operator stage](crate::operators)), sorted by pair. For exporting the same graph to peer tools.
///
/// # Examples
///
/// ```
/// let mut b = sellerlink::IndexBuilder::new();
/// for s in ["a", "b", "c"] {
///     b.add(s, "payment", "mule-1", None)?;
/// }
/// b.add("a", "device", "laptop", None)?;
/// b.add("b", "device", "laptop", None)?;
/// let index = b.build()?;
/// let c = index.components().cluster_of(index.account("a").expect("known")).expect("linked");
/// let edges = sellerlink::export::evidence_graph(&index, c);
/// assert_eq!(edges.len(), 3);
/// let (a, b, w) = edges[0];
/// assert_eq!((index.account_name(a), index.account_name(b)), ("a", "b"));
/// assert!(w > edges[1].2); // the laptop adds to the mule account
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn evidence_graph(index: &Index, component: ClusterId) -> Vec<(AccountId, AccountId, f64)> {
    let input = index.operator_input();
    let settings = index.operator_settings().cloned().unwrap_or_default();
    let members = crate::operators::canonical_members(&input, input.components.members(component));
    let mut summed: ahash::AHashMap<u64, f64> = ahash::AHashMap::new();
    for (u, v, w) in crate::operators::component_edges(&input, &members, settings.cross_floor_value()) {
        *summed.entry(crate::evidence::pair_key(members[u as usize], members[v as usize])).or_default() += w;
    }
    let mut out: Vec<(AccountId, AccountId, f64)> = summed
        .into_iter()
        .map(|(key, w)| {
            let (a, b) = crate::evidence::unpair(key);
            (a, b, w)
        })
        .collect();
    out.sort_unstable_by_key(|&(a, b, _)| (a, b));
    out
}

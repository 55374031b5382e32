//! # sellerlink
//!
//! Uncover the real operators behind clusters of online storefronts.
//!
//! Counterfeit rings run dozens of storefronts under borrowed identities, so each store looks
//! independent. What gives them away is what they share: the same laptop, the office router, an
//! IP at the same time, a mule payment account, a warehouse return address, a reused ID
//! document or phone. sellerlink builds the bipartite graph of **accounts ↔ artifacts**, links
//! accounts under a policy that knows hubs and time, splits what only a thin thread joins with
//! Leiden community detection, and answers lookups from Roaring bitmaps.
//!
//! ## Contents
//!
//! - [Quick start](#quick-start)
//! - [The pipeline](#the-pipeline)
//! - [API themes](#api-themes)
//! - [Crate features](#crate-features)
//!
//! ## Quick start
//!
//! ```
//! use sellerlink::{IndexBuilder, Via};
//!
//! let mut b = IndexBuilder::new();
//! // Two storefronts on one laptop, a third paid out to the same mule account as the second.
//! b.add("store-a", "device", "fp:9c1e", Some(1_700_000_000))?;
//! b.add("store-b", "device", "FP:9C1E", Some(1_700_000_500))?;
//! b.add("store-b", "payment", "DE89 3704 0044 0532 0130 00", None)?;
//! b.add("store-c", "payment", "de89-3704-0044-0532-0130-00", None)?;
//! // An honest store.
//! b.add("store-d", "email", "d@example.com", None)?;
//! let index = b.build()?;
//!
//! let a = index.account("store-a").expect("known");
//! let c = index.account("store-c").expect("known");
//! assert_eq!(index.cluster_of(a), index.cluster_of(c));
//! assert_eq!(index.clustering().len(), 2);
//! assert_eq!(index.neighbors(a, Via::NonHubs).len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## The pipeline
//!
//! Data flows one way; each stage is a module with one job, and `pipeline.rs` runs them in
//! order (no stage sees a half-built index, and no module imports one above it):
//!
//! | stage | module | output |
//! |---|---|---|
//! | check, normalise, intern | `observation`, [`normalize`], [`kind`], `intern` | names as dense `u32` ids ([`id`]), an edge list |
//! | canonicalize | `pipeline` | account ids in name order (an update appends) |
//! | freeze | [`graph`] | the bipartite graph, CSR both ways, with timestamps |
//! | judge the evidence | `evidence` ([`policy`]) | suppressed hubs, corroboration rules, weights |
//! | link | `link` | components ([`cluster::Clustering`]) by union-find |
//! | operators | [`operators`] ([`leiden`]) | communities per component, in parallel |
//! | index | [`Index`] | lookup bitmaps; every answer as an [`AccountSet`] |
//!
//! [`IndexBuilder`] and [`ingest`] feed the first stage; [`update`] and [`snapshot`] start the
//! pipeline from an index. The investigators' tools read the built index: [`explain`],
//! [`expand`], [`report`], [`export`]. [`score`] measures a clustering against ground truth.
//!
//! ## API themes
//!
//! - **Build.** [`IndexBuilder::add`] one observation at a time, or [`ingest::read_csv`] /
//!   [`ingest::read_csv_path`] from CSV (strict or lenient, with an [`ingest::IngestReport`]),
//!   or, with the `arrow` and `parquet` features, `arrow::read_batches` from Arrow record
//!   batches and `parquet::read_parquet_path` from a Parquet file (the same checks and report);
//!   then [`IndexBuilder::build`] (or [`IndexBuilder::build_with`] a [`Progress`]). Settings:
//!   [`policy::LinkPolicy`] (per-kind [`policy::KindPolicy`], analyst [`policy::Overrides`]),
//!   [`operators::OperatorSettings`] (holding a [`leiden::Leiden`]), custom kinds with their
//!   [`normalize::Normalizer`] ([`kind::Kinds`]).
//! - **Look up.** A built [`Index`] is immutable and `Send + Sync`; share it behind an `Arc`.
//!   Names to ids and back ([`Index::account`], [`Index::try_account`], [`Index::account_name`],
//!   [`Index::artifact`], [`Index::artifact_value`]); clusters at either [`Level`]
//!   ([`Index::cluster_of`], [`Index::members`], [`Index::representative`], [`Index::clusters`],
//!   [`Index::components`], [`Index::operators`]); the graph ([`Index::accounts_of`],
//!   [`Index::artifacts_of`], [`Index::neighbors`] and [`Index::shares`] through a [`Via`],
//!   [`Index::accounts_with_kind`], [`Index::hubs`]); set algebra on [`AccountSet`]s (`&`, `|`,
//!   `-`, `^`).
//! - **Investigate.** [`explain::explain`] (an [`explain::Explanation`] whose `Display` is the
//!   readable text), [`expand::Expand`] (seed expansion), [`report::RingReport`],
//!   [`export`] (JSON lines, DOT, Neo4j and Gephi CSV), [`export::evidence_graph`].
//! - **Keep and change.** [`snapshot::save`] / [`snapshot::load`] (validated, versioned);
//!   [`Index::updater`] → [`update::Updater`] → the next index and an [`update::ChangeSet`];
//!   [`fs::write_atomic`] writes an output file whole or not at all. A service swaps the
//!   shared index atomically: see the README's "Use it in a service".
//! - **Tables.** With `arrow`: `arrow::clusters_batches` (`account, cluster` as Arrow), and
//!   `Updater::read_batches`; with `parquet`: `parquet::write_clusters_path` and
//!   `Updater::read_parquet_path`. Errors are `arrow::TableError`, naming the input, the row
//!   group and the row. The Python package (`python/`) is built on these.
//! - **Ids.** [`AccountId`], [`ArtifactId`], [`ClusterId`], [`KindId`]: `Copy` newtypes over
//!   `u32`, with typed slices wherever lists of them are handed out. Account ids are stable
//!   across updates (new accounts are appended); an id the index does not hold is refused by
//!   [`Index::check`], and every lookup that panics on one says so (`#[track_caller]`).
//! - **Errors.** One typed error per boundary ([`error::ObservationError`],
//!   [`error::IngestError`], [`snapshot::SnapshotError`], [`kind::KindError`],
//!   [`leiden::GraphError`]), each naming the place (file, line, field) and the reason, and one
//!   [`Error`] they all convert into.
//!
//! ## Crate features
//!
//! - `rayon` (default): parallel sorting, per-component community detection and snapshot
//!   decoding.
//! - `arrow`: observations from Arrow record batches and clusters out as Arrow
//!   (`sellerlink::arrow`, on the `arrow-array` crate, re-exported). Off by default.
//! - `parquet` (implies `arrow`): Parquet in, streamed by row group, and out
//!   (`sellerlink::parquet`). Off by default for dependents; the crate's own examples, tests and
//!   doctests turn it on (a dev-dependency on the crate itself with the feature), so
//!   `cargo run --example cluster -- --input X.parquet` works with plain cargo. Both build on
//!   arrow-rs 59, the newest release line that supports Rust 1.85, the crate's `rust-version`
//!   (arrow-rs 60 needs 1.88). They are the heaviest dependencies: a clean debug build of the
//!   library took 1 min 44 s without them and 3 min 08 s with them on the 2 shared cores.
//! - `serde`: `Serialize`/`Deserialize` on the result types a service passes on
//!   ([`update::ChangeSet`], [`explain::Explanation`], [`report::RingReport`],
//!   [`ingest::IngestReport`], [`expand::Ranked`]; `Serialize` on [`BuildStats`]).
//!
//! The synthetic marketplace used for tests, the sample data and benchmarks is a separate
//! workspace crate, `sellerlink-synth`.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(feature = "arrow")]
pub mod arrow;
mod builder;
pub mod cluster;
pub mod error;
mod evidence;
pub mod fs;
pub mod graph;
pub mod id;
mod index;
pub mod ingest;
mod intern;
mod investigate;
pub mod kind;
pub mod leiden;
mod link;
pub mod normalize;
mod observation;
pub mod operators;
#[cfg(feature = "parquet")]
pub mod parquet;
mod pipeline;
pub mod score;
pub mod set;
pub mod shard;
pub mod snapshot;
pub mod time;
mod unionfind;
pub mod update;

pub use builder::IndexBuilder;
pub use error::Error;
pub use evidence::policy;
pub use id::{AccountId, ArtifactId, ClusterId, IdError, KindId};
pub use index::{BITMAP_MIN_DEGREE, BuildStats, Hub, Index, Level, NoProgress, Progress, Via};
pub use investigate::{expand, explain, export, report};
pub use observation::MAX_ACCOUNT_LEN;
pub use set::AccountSet;

/// Doors for the crate's own benchmarks: stage runners that are not part of the API.
#[doc(hidden)]
pub mod bench {
    use crate::Index;

    /// Runs the link stage on a built index's graph and evidence; returns the component count.
    pub fn link_stage(index: &Index) -> usize {
        let mut evidence = index.evidence.clone();
        crate::link::link(&index.graph, &mut evidence, &index.order).len()
    }

    /// Every union the link stage performs on a built index, in order.
    pub fn link_unions(index: &Index) -> Vec<(u32, u32)> {
        crate::link::unions(&index.graph, &index.evidence, &index.order)
    }
}

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

#[cfg(test)]
mod assertions {
    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn index_is_send_and_sync() {
        send_sync::<crate::Index>();
        send_sync::<crate::AccountSet>();
    }
}

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
//! Data flows one way, one module per stage:
//!
//! 1. [`normalize`]: one canonical string per identifier and kind ([`kind`] names the kinds);
//! 2. [`intern`]: strings to dense `u32` ids ([`id`]);
//! 3. [`graph`]: the frozen bipartite graph, CSR both ways, with timestamps;
//! 4. [`link`]: union-find under the [`policy`] (strength, hub caps, time windows);
//! 5. [`operators`]: [`leiden`] per linked component on the evidence graph;
//! 6. [`cluster`]: the resulting partitions, and [`index`]: lookups as [`AccountSet`]s.
//!
//! [`builder`] drives stages 1–6; [`ingest`] feeds it from CSV. On the built index:
//! [`report`] (ring reports), [`explain`] (evidence chains), [`expand`] (seed expansion),
//! [`export`] (JSON, DOT, Neo4j and Gephi CSV), [`snapshot`] (save and load), [`update`]
//! (incremental updates with change sets) and [`score`] (quality against ground truth). [`time`] parses and formats
//! timestamps; [`error`] holds the error types.
//!
//! ## API themes
//!
//! - Ids are small `Copy` newtypes over `u32`; names appear only at the edges
//!   ([`Index::account`], [`Index::account_name`]).
//! - A built [`Index`] is immutable and `Send + Sync`; share it behind an `Arc`.
//! - Configuration is by builders: `Operators::new().resolution(0.02).seed(7)`.
//! - Errors are typed per boundary and name the place: file, line, field.
//!
//! ## Crate features
//!
//! - `rayon` (default): parallel sorting and per-component community detection.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod builder;
pub mod cluster;
pub mod error;
mod evidence;
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
mod pipeline;
pub mod score;
pub mod set;
pub mod snapshot;
pub mod time;
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
        crate::link::unions(&index.graph, &index.evidence)
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

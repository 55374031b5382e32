//! sellerlink's integration tests, one binary.

// Test helpers outside #[test] functions unwrap on fixtures they build themselves.
#![allow(clippy::unwrap_used)]

#[cfg(feature = "parquet")]
mod examples;
mod expand;
mod explain;
mod fuzz_replay;
mod hostile;
mod ids;
mod ingest;
mod leiden;
mod linking;
mod lookups;
mod normalize;
mod overrides;
mod score;
#[cfg(feature = "serde")]
mod serde_types;
mod shard;
mod snapshot;
#[cfg(feature = "parquet")]
mod tables;
mod update;

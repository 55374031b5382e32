//! sellerlink's integration tests, one binary.

mod explain;
mod ingest;
mod linking;
mod lookups;
mod normalize;
mod snapshot;

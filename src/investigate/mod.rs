//! The investigators' tools, on a built index: why two accounts are linked ([`explain`]), who
//! else a set of confirmed accounts implicates ([`expand`]), what holds one ring together
//! ([`report`]), and the same evidence in formats other tools load ([`export`]).

pub mod expand;
pub mod explain;
pub mod export;
pub mod report;

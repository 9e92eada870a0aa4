//! What is done with the pairs the search finds: listing them (in the plain or the seed's
//! order) and, built on that, deduplication and the semantic operations (leakage,
//! outliers, representatives).

pub mod cluster;
pub mod dedup;
pub mod incremental;
pub mod pairs;
pub mod semantic;
pub mod units;

//! Progress reporting as a trait, so the library stays free of any terminal code.
//!
//! The binary implements [`Progress`] with indicatif bars; library callers that do not care
//! pass `&()`, which ignores everything.

/// Receives progress of long phases. Implementations must be cheap: `inc` is called from
/// worker threads, many times per phase.
pub trait Progress: Sync {
    /// A new phase starts: `what` names it ("hashing", "search"), `total` counts its units
    /// and `unit` names them ("files", "passes").
    fn start(&self, _what: &str, _total: u64, _unit: &str) {}
    /// `n` more units of the current phase are done.
    fn inc(&self, _n: u64) {}
    /// The current phase is over.
    fn finish(&self) {}
}

/// No progress reporting.
impl Progress for () {}

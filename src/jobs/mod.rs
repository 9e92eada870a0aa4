//! One library entry point per job: a plain configuration in, a result value out, no
//! printing. The command line, the Python package and the Spark stages are front ends over
//! these calls, so a job gives the same result whichever of them runs it.
//!
//! - [`dedup`]: self-deduplication and deduplication against a reference, for texts
//!   (files, dataset rows or texts in memory) and for vectors;
//! - [`density`]: neighbour density, and from it outliers and representatives;
//! - [`embed`]: texts to vectors with a static-embedding model;
//! - [`index`]: build, add to and query a persistent index;
//! - [`partitioned`]: the text deduplication as stages over partitions, for a distributed
//!   engine that moves byte blobs between tasks (the Spark job).
//!
//! Texts of every origin meet as [`Texts`]: fingerprints, per-document counts, optional
//! MinHash band keys and a source to read them again for verification.

pub mod dedup;
pub mod density;
pub mod embed;
pub mod index;
pub mod partitioned;
pub mod partitioned_vectors;
pub mod units;

pub use crate::text::texts::Texts;

use crate::error::Error;
use crate::ops::dedup::{Grouping, KeepOrder, PairSet, candidate_radius};
use crate::ops::semantic::{CANDIDATE_RECALL, VectorMethod, VectorOptions};
use crate::search::Method;
use crate::text::minhash::BandParams;
use crate::text::simhash::TextConfig;

/// How candidate pairs of texts are found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TextSearch {
    /// MinHash bands shaped for the threshold, with this recall for a pair exactly at it
    /// (the default, at 0.99).
    Bands { recall: f64 },
    /// Every pair of SimHash fingerprints within a Hamming radius, found by `method`; the
    /// radius is `max_distance`, or else the one that keeps
    /// [`CANDIDATE_RECALL`] of the pairs at the threshold under the binomial model.
    Hamming {
        method: Method,
        max_distance: Option<u32>,
    },
}

impl Default for TextSearch {
    fn default() -> Self {
        TextSearch::Bands { recall: 0.99 }
    }
}

/// A text deduplication: what is similar, how it is searched, who is kept.
#[derive(Clone, Copy, Debug)]
pub struct TextJob {
    pub text: TextConfig,
    /// Pairs with exact Jaccard similarity at or above this are duplicates.
    pub threshold: f64,
    pub search: TextSearch,
    pub grouping: Grouping,
    pub keep: KeepOrder,
}

impl TextJob {
    /// The job at `threshold` with the default search (bands, recall 0.99), greedy
    /// keep-first grouping.
    pub fn new(text: TextConfig, threshold: f64) -> TextJob {
        TextJob {
            text,
            threshold,
            search: TextSearch::default(),
            grouping: Grouping::Greedy,
            keep: KeepOrder::First,
        }
    }

    /// The recall asked of the band search, or `None` for the Hamming search.
    pub fn band_recall(&self) -> Option<f64> {
        match self.search {
            TextSearch::Bands { recall } => Some(recall),
            TextSearch::Hamming { .. } => None,
        }
    }

    /// The Hamming radius for `bits`-bit fingerprints: the one given, or the model's.
    pub fn radius(&self, bits: u32) -> u32 {
        match self.search {
            TextSearch::Hamming {
                max_distance: Some(k),
                ..
            } => k.min(bits),
            _ => candidate_radius(bits, self.threshold, CANDIDATE_RECALL),
        }
    }

    /// How a summary names the candidate search, given the band shape that ran.
    pub fn describe_search(&self, bands: Option<BandParams>, bits: u32) -> String {
        match bands {
            Some(p) => format!(
                "from {} bands of {} (recall {:.3} at J {})",
                p.bands,
                p.rows,
                p.recall_at(self.threshold),
                self.threshold
            ),
            None => format!("within distance {}", self.radius(bits)),
        }
    }
}

/// A vector deduplication: the hyperplane fingerprints, the search and the bar.
#[derive(Clone, Copy, Debug)]
pub struct VectorJob {
    /// Seed of the random hyperplanes.
    pub seed: u64,
    /// Mean-centre the unit rows before hashing (SemHash's vectors are usually anisotropic).
    pub center: bool,
    /// Cosine bar of a duplicate.
    pub threshold: f64,
    /// A Hamming radius to use instead of the model's (forces the Hamming search).
    pub max_distance: Option<u32>,
    pub method: VectorMethod,
    /// Fingerprint width (64 to 1024); `None` lets the search choose.
    pub bits: Option<u32>,
    /// Recall of the band search at the bar.
    pub recall: f64,
    pub grouping: Grouping,
    /// Every verified pair, or only those that decide (faster on tight clusters).
    pub pairs: PairSet,
}

impl VectorJob {
    /// The job at cosine `threshold`, everything else at the command line's defaults.
    pub fn new(threshold: f64) -> VectorJob {
        VectorJob {
            seed: crate::vectors::hyperplane::DEFAULT_SEED,
            center: true,
            threshold,
            max_distance: None,
            method: VectorMethod::Auto,
            bits: None,
            recall: 0.99,
            grouping: Grouping::Greedy,
            pairs: PairSet::All,
        }
    }

    /// The options of the vector operations ([`crate::ops::semantic`]).
    pub fn options(&self) -> VectorOptions {
        VectorOptions {
            seed: self.seed,
            center: self.center,
            threshold: self.threshold,
            max_distance: self.max_distance,
        }
    }
}

/// Checks a vector fingerprint width.
pub fn check_vector_bits(bits: u32) -> Result<(), Error> {
    match bits {
        64 | 128 | 256 | 512 | 1024 => Ok(()),
        _ => Err(Error::Setting {
            message: format!("--bits {bits} is not a vector width: use 64, 128, 256, 512 or 1024"),
        }),
    }
}

/// Runs `$body` with `$F` the fingerprint type of `$bits` bits (32 to 1024); other widths
/// make the enclosing function return [`Error::Setting`].
#[macro_export]
macro_rules! with_width {
    ($bits:expr, $F:ident => $body:expr) => {
        match $bits {
            32 => {
                type $F = u32;
                $body
            }
            64 => {
                type $F = u64;
                $body
            }
            128 => {
                type $F = u128;
                $body
            }
            256 => {
                type $F = $crate::Wide<4>;
                $body
            }
            512 => {
                type $F = $crate::Wide<8>;
                $body
            }
            1024 => {
                type $F = $crate::Wide<16>;
                $body
            }
            other => {
                return Err($crate::Error::Setting {
                    message: format!(
                        "unsupported fingerprint width {other} (use 32, 64, 128, 256, 512 or 1024)"
                    ),
                }
                .into());
            }
        }
    };
}

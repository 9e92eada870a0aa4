//! simdedup: near-duplicate detection with MinHash band search, SimHash fingerprints and
//! exact verification.
//!
//! The modules are listed in the order data passes through them, and a module uses only
//! the modules above it. Plumbing first: [`error`] (typed errors naming the path or row),
//! [`progress`] (a trait, so the library has no terminal code), [`atomic_file`] (every
//! file the library writes is whole under its final name or absent), [`cache`] (prefetch
//! hints) and [`fingerprint`], the one fingerprint abstraction text and vectors share
//! ([`fpfile`] reads and writes them as text).
//!
//! A document: [`input`] finds the files; [`text`] cuts them into shingles, hashes them
//! into a SimHash fingerprint and MinHash band keys in one pass, and does that for every
//! file in parallel or for texts in memory; [`records`] does it for every row of a dataset
//! (JSONL, CSV/TSV, Parquet). A vector: [`vectors`] maps `.npy` files (or embeds text with
//! a static-embedding model) and turns rows into random-hyperplane fingerprints. Both meet
//! in [`search`] (MinHash bands, bit-sampling bands, every pair within a Hamming distance,
//! nearest neighbours); [`index`] stores a corpus for later queries
//! ([`bundle`] saves the Python package's instances); [`verify`] scores
//! candidates exactly; [`ops`] turns pairs into results (dedup, clusters, the semantic
//! operations); [`output`] writes them; [`jobs`] is one entry point per job for the
//! command line, the Python package and Spark. [`plant`] makes pairs at a chosen
//! similarity to measure recall.

pub mod error;
pub mod progress;
pub mod atomic_file;
pub mod cache;
pub mod fingerprint;
pub mod fpfile;
pub mod input;
pub mod text;
pub mod records;
pub mod vectors;
pub mod search;
pub mod index;
pub mod bundle;
pub mod verify;
pub mod ops;
pub mod output;
pub mod jobs;
pub mod plant;

pub use error::{Error, Report};
pub use fingerprint::{Bits256, Bits512, Bits1024, Fingerprint, Wide};
pub use progress::Progress;

//! simdedup: near-duplicate detection with MinHash band search, SimHash fingerprints and
//! exact verification.
//!
//! The path of a document through the crate reads like the module list: [`input`] finds
//! the files, [`shingle`] cuts text into features, [`simhash`] turns them into a
//! [`fingerprint::Fingerprint`] and, in the same pass, [`minhash`] band keys; [`texts`]
//! says what is kept of a fingerprinted text and how it is read again; [`corpus`] does that
//! for every file in parallel and [`records`] for every row of a dataset (JSONL, CSV/TSV,
//! Parquet) in one streaming pass, [`index`] stores it, [`search`] finds candidate pairs
//! (MinHash bands, or every pair within a Hamming distance), [`verify`] scores them
//! exactly, [`ops`] turns pairs into results and [`output`] writes them (TSV, and the kept
//! and removed rows of a dataset). A module uses only the modules before it on this path. [`plant`] makes pairs at a chosen
//! similarity to measure recall. Dense vectors take a parallel path into the same search:
//! [`vectors`] maps `.npy` files, [`hyperplane`] turns rows into fingerprints and
//! [`bitbands`] samples their bits into band keys for the near-linear band search; the
//! semantic operations (leakage, outliers, representatives) live in [`ops::semantic`].
//! Text becomes such vectors in [`embed`]: a static-embedding model (Model2Vec) read from a
//! local directory, with Model2Vec's tokenizer and averaging reproduced exactly.
//! Every file the program writes goes through [`atomic_file`]: whole under its final name,
//! or not there at all.

pub mod atomic_file;
pub mod batch;
pub mod bitbands;
pub mod cache;
mod city;
pub mod corpus;
pub mod embed;
pub mod error;
pub mod fingerprint;
pub mod fpfile;
pub mod hyperplane;
pub mod index;
pub mod input;
pub mod jobs;
pub mod minhash;
pub mod ops;
pub mod output;
pub mod plant;
pub mod progress;
pub mod records;
pub mod search;
pub mod shingle;
pub mod simhash;
pub mod texts;
pub mod vectors;
pub mod verify;

pub use error::{Error, Report};
pub use fingerprint::{Bits256, Bits512, Bits1024, Fingerprint, Wide};
pub use progress::Progress;

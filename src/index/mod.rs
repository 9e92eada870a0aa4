//! The persistent index: a corpus's fingerprints, per-document counts and paths, with the
//! settings that made them, in one versioned, checksummed file that is read through a
//! memory map. Built once ([`Builder`]), extended without reading old documents again, and
//! queried with new documents ([`crate::ops::incremental::query`]): the pairs equal those of one run over old and new
//! documents together that involve a new document.
//!
//! # File format (version 3; versions 1 and 2 are read too)
//!
//! All integers little-endian. With `n` documents, `w = bits / 8` bytes per fingerprint and
//! `L` MinHash bands per document:
//!
//! | offset | bytes | content |
//! |---|---|---|
//! | 0 | 8 | magic `\x89SDX\r\n\x1a\n` (catches text-mode transfers, like PNG's) |
//! | 8 | 4 | format version (`u32`, 3; 2 and 1 for files written before, see below) |
//! | 12 | 4 | fingerprint width in bits (`u32`: 32, 64 or 128) |
//! | 16 | 4 | fingerprint scheme (`u32`, 1 = SimHash over CityHash v1.1 of the width, digest CityHash128 of the normalised text) |
//! | 20 | 1 | shingle kind (0 = `char`, 1 = `word`) |
//! | 21 | 1 | normalisation flags: 1 NFKC, 2 lowercase, 4 punctuation, 8 whitespace |
//! | 22 | 1 | weighting (0 = raw, 1 = log, 2 = set) |
//! | 23 | 1 | 1 = the seed's conventions (`--compat dedup-py`), else 0 |
//! | 24 | 4 | shingle size N (`u32`, 1..=64) |
//! | 28 | 4 | reserved, 0 |
//! | 32 | 8 | document count `n` (`u64`) |
//! | 40 | 8 | path bytes `p` (`u64`) |
//! | 48 | 4 | MinHash rows per band `r` (`u32`; 0 = no band keys; version 1: always 0) |
//! | 52 | 4 | bands `L` (`u32`, 0 exactly when `r` is 0) |
//! | 56 | 8 | reserved, 0 |
//! | 64 | n·w | fingerprints, each a `w`-byte integer (bit i = bit i % 8 of byte i / 8) |
//! | | n·8 | characters per document (`u64`) |
//! | | n·8 | shingle occurrences per document (`u64`; 0 = too short to fingerprint) |
//! | | n·16 | digest of the normalised text (`u128`) |
//! | | n·4 | documents by digest: `0..n` sorted by (digest, document) (`u32`) |
//! | | n·4 | documents by path: `0..n` sorted by (path bytes, document) (`u32`) |
//! | | L·n·8 | band tables: for each band, its `n` entries `key << 32 \| document` (`u64`, [`crate::text::minhash`] keys), ascending |
//! | | (n+1)·8 | path offsets into the path bytes (`u64`; first 0, non-decreasing, last `p`) |
//! | | p | path bytes (the OS bytes of each path, as given when it was added) |
//! | end − 8 | 4 | CRC-32 (IEEE) of every byte before it |
//! | end − 4 | 4 | reserved, 0 |
//!
//! Every section starts at a multiple of 16 bytes (zero padding before it), and the trailer
//! at a multiple of 8. The sorted sections let a query look documents up by digest and by
//! band key with binary searches in the map ([`Tables`]), so it reads only what it needs
//! (sub-linear in the index). The checksum is checked on every open, before anything else
//! is trusted, and so are the documents in the sorted sections (below `n`; band tables
//! ascending); a reader refuses a newer version. An index without band keys (built with
//! `-k`, or version 1) is queried with the exact Hamming search.
//!
//! Version 2 had, instead of the three sorted sections, the band keys by document (`n·L·4`,
//! `L` `u32` per document); version 1 had no band keys. Both are read: their tables are
//! sorted in memory on each query (linear in the index), and `index add` rewrites them as
//! version 3.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use rayon::prelude::*;

use crate::atomic_file::AtomicFile;
use crate::error::Error;
pub use crate::error::FormatError;
use crate::fingerprint::Fingerprint;
use crate::input::path_bytes;
use crate::text::corpus::Corpus;
use crate::text::minhash::{BandKeys, BandParams};
use crate::text::shingle::{Normalization, ShingleKind, Shingling};
use crate::text::simhash::{TextConfig, Weighting};
use crate::text::texts::DocStats;

mod format;
mod read;
mod write;

use format::*;
pub use read::*;
pub use write::*;

/// The first eight bytes of every index file.
pub const MAGIC: [u8; 8] = *b"\x89SDX\r\n\x1a\n";

/// The format version this build writes and the newest it reads (it reads 1 and 2 too).
pub const VERSION: u32 = 3;

/// Fingerprint scheme 1: SimHash over CityHash v1.1, digests by CityHash128.
const SCHEME: u32 = 1;
const HEADER_LEN: u64 = 64;
const TRAILER_LEN: u64 = 8;

/// What made the fingerprints: a query or an addition must use the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Fingerprint width: 32, 64 or 128.
    pub bits: u32,
    pub text: TextConfig,
    /// The shape of the stored MinHash band keys, if the index has them.
    pub bands: Option<BandParams>,
}

/// The counts the index keeps per document (see [`crate::text::corpus::Document`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DocRecord {
    pub chars: u64,
    pub shingles: u64,
    pub digest: u128,
}

impl DocStats for DocRecord {
    fn chars(&self) -> u64 {
        self.chars
    }
    fn shingles(&self) -> u64 {
        self.shingles
    }
    fn digest(&self) -> u128 {
        self.digest
    }
}

#[cfg(test)]
mod tests;

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

/// Where each section lies, from the header (all checked against the file's length).
#[derive(Clone, Copy, Debug)]
struct Layout {
    settings: Settings,
    version: u32,
    n: usize,
    fingerprints: usize,
    chars: usize,
    shingles: usize,
    digests: usize,
    /// Version 3: documents by digest (`n` `u32`); empty before.
    by_digest: usize,
    /// Version 3: documents by path (`n` `u32`); empty before.
    by_path: usize,
    /// Version 3: the band tables (`L·n` `u64`); version 2: the keys by document.
    band_keys: usize,
    offsets: usize,
    paths: usize,
    path_len: usize,
    /// Total file length.
    len: u64,
}

fn pad16(x: u64) -> Option<u64> {
    x.checked_add(15).map(|x| x & !15)
}

impl Layout {
    /// Section offsets of a file of `version` for `n` documents of `bits` and `path_len`
    /// path bytes; `None` when they overflow.
    fn compute(settings: Settings, version: u32, n: u64, path_len: u64) -> Option<Layout> {
        let section = |start: u64, len: u64| -> Option<(u64, u64)> {
            let start = pad16(start)?;
            Some((start, start.checked_add(len)?))
        };
        let w = u64::from(settings.bits / 8);
        let (fps, end) = section(HEADER_LEN, n.checked_mul(w)?)?;
        let (chars, end) = section(end, n.checked_mul(8)?)?;
        let (shingles, end) = section(end, n.checked_mul(8)?)?;
        let (digests, end) = section(end, n.checked_mul(16)?)?;
        let bands = u64::from(settings.bands.map_or(0, |b| b.bands));
        let order = if version >= 3 { n.checked_mul(4)? } else { 0 };
        let (by_digest, end) = section(end, order)?;
        let (by_path, end) = section(end, order)?;
        let key_bytes = if version >= 3 { 8 } else { 4 };
        let (band_keys, end) = section(end, n.checked_mul(bands)?.checked_mul(key_bytes)?)?;
        let (offsets, end) = section(end, n.checked_add(1)?.checked_mul(8)?)?;
        let (paths, end) = section(end, path_len)?;
        let len = end.checked_add(7)? & !7;
        let len = len.checked_add(TRAILER_LEN)?;
        let us = |x: u64| usize::try_from(x).ok();
        Some(Layout {
            settings,
            version,
            n: us(n)?,
            fingerprints: us(fps)?,
            chars: us(chars)?,
            shingles: us(shingles)?,
            digests: us(digests)?,
            by_digest: us(by_digest)?,
            by_path: us(by_path)?,
            band_keys: us(band_keys)?,
            offsets: us(offsets)?,
            paths: us(paths)?,
            path_len: us(path_len)?,
            len,
        })
    }
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

fn u128_at(bytes: &[u8], at: usize) -> u128 {
    u128::from_le_bytes(bytes[at..at + 16].try_into().expect("16 bytes"))
}

/// The header's 64 bytes for `settings`, `n` documents and `path_len` path bytes.
fn encode_header(
    settings: &Settings,
    version: u32,
    n: u64,
    path_len: u64,
) -> [u8; HEADER_LEN as usize] {
    let mut h = [0u8; HEADER_LEN as usize];
    let t = &settings.text;
    let norm = &t.normalization;
    h[0..8].copy_from_slice(&MAGIC);
    h[8..12].copy_from_slice(&version.to_le_bytes());
    h[12..16].copy_from_slice(&settings.bits.to_le_bytes());
    h[16..20].copy_from_slice(&SCHEME.to_le_bytes());
    h[20] = match t.shingling.kind {
        ShingleKind::Char => 0,
        ShingleKind::Word => 1,
    };
    h[21] = u8::from(norm.nfkc)
        | u8::from(norm.lowercase) << 1
        | u8::from(norm.strip_punctuation) << 2
        | u8::from(norm.collapse_whitespace) << 3;
    h[22] = match t.weighting {
        Weighting::Raw => 0,
        Weighting::Log => 1,
        Weighting::Set => 2,
    };
    h[23] = u8::from(t.compat);
    h[24..28].copy_from_slice(&(t.shingling.n as u32).to_le_bytes());
    h[32..40].copy_from_slice(&n.to_le_bytes());
    h[40..48].copy_from_slice(&path_len.to_le_bytes());
    if let Some(b) = settings.bands {
        h[48..52].copy_from_slice(&b.rows.to_le_bytes());
        h[52..56].copy_from_slice(&b.bands.to_le_bytes());
    }
    h
}

/// The settings, document count and path length of a header whose magic and version were
/// checked.
fn decode_header(h: &[u8]) -> Result<(Settings, u64, u64), FormatError> {
    let version = u32_at(h, 8);
    let bad = |what: String| Err(FormatError::Corrupt(what));
    let bits = u32_at(h, 12);
    if !matches!(bits, 32 | 64 | 128) {
        return bad(format!("fingerprint width {bits} (expected 32, 64 or 128)"));
    }
    let scheme = u32_at(h, 16);
    if scheme != SCHEME {
        return bad(format!("unknown fingerprint scheme {scheme}"));
    }
    let kind = match h[20] {
        0 => ShingleKind::Char,
        1 => ShingleKind::Word,
        k => return bad(format!("unknown shingle kind {k}")),
    };
    let flags = h[21];
    if flags > 15 {
        return bad(format!("unknown normalisation flags {flags:#x}"));
    }
    let normalization = Normalization {
        nfkc: flags & 1 != 0,
        lowercase: flags & 2 != 0,
        strip_punctuation: flags & 4 != 0,
        collapse_whitespace: flags & 8 != 0,
    };
    let weighting = match h[22] {
        0 => Weighting::Raw,
        1 => Weighting::Log,
        2 => Weighting::Set,
        w => return bad(format!("unknown weighting {w}")),
    };
    let compat = match h[23] {
        0 => false,
        1 => true,
        c => return bad(format!("compat flag {c}")),
    };
    let n = u32_at(h, 24);
    if !(1..=64).contains(&n) {
        return bad(format!("shingle size {n} (expected 1 to 64)"));
    }
    let reserved = if version >= 2 { &h[56..64] } else { &h[48..64] };
    if u32_at(h, 28) != 0 || reserved.iter().any(|&b| b != 0) {
        return bad("reserved header bytes are not zero".into());
    }
    let bands = match (u32_at(h, 48), u32_at(h, 52)) {
        (0, 0) => None,
        (rows, bands)
            if rows > 0
                && bands > 0
                && rows
                    .checked_mul(bands)
                    .is_some_and(|k| k <= u16::MAX as u32) =>
        {
            Some(BandParams { rows, bands })
        }
        (rows, bands) => return bad(format!("band shape {bands} x {rows}")),
    };
    let settings = Settings {
        bands,
        bits,
        text: TextConfig {
            shingling: Shingling {
                kind,
                n: n as usize,
            },
            normalization,
            weighting,
            compat,
        },
    };
    Ok((settings, u64_at(h, 32), u64_at(h, 40)))
}

/// An index held in memory as bytes (a map of the file, or any slice): every access is
/// checked by [`IndexView::from_bytes`] once, so the accessors cannot fail.
#[derive(Clone, Copy, Debug)]
pub struct IndexView<'a> {
    bytes: &'a [u8],
    layout: Layout,
}

impl<'a> IndexView<'a> {
    /// Checks `bytes` as an index file: magic, version, checksum, header fields, section
    /// sizes and path offsets. Never panics and never allocates by a count read from the
    /// bytes, whatever they hold (the entry point for fuzzing). Linear in the length.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<IndexView<'a>, FormatError> {
        let found = bytes.len() as u64;
        if bytes.len() < 8 || bytes[..8] != MAGIC {
            return Err(FormatError::Magic);
        }
        if bytes.len() < 12 {
            return Err(FormatError::Truncated {
                expected: HEADER_LEN + TRAILER_LEN,
                found,
            });
        }
        let version = u32_at(bytes, 8);
        match version {
            1..=VERSION => {}
            v if v > VERSION => {
                return Err(FormatError::NewerVersion {
                    found: v,
                    newest: VERSION,
                });
            }
            v => return Err(FormatError::UnknownVersion { found: v }),
        }
        if found < HEADER_LEN + TRAILER_LEN {
            return Err(FormatError::Truncated {
                expected: HEADER_LEN + TRAILER_LEN,
                found,
            });
        }
        // The length the header promises, if the header can be read at all: a shorter
        // file is reported as truncated rather than as a bad checksum.
        let header = decode_header(&bytes[..HEADER_LEN as usize]);
        let layout = header
            .as_ref()
            .ok()
            .and_then(|&(settings, n, p)| Layout::compute(settings, version, n, p));
        let body = bytes.len() - TRAILER_LEN as usize;
        let stored = u32_at(bytes, body);
        let computed = crc32fast::hash(&bytes[..body]);
        if stored != computed {
            return Err(match layout {
                Some(l) if l.len > found => FormatError::Truncated {
                    expected: l.len,
                    found,
                },
                _ => FormatError::Checksum { stored, computed },
            });
        }
        let (settings, n, path_len) = header?;
        let Some(layout) = layout else {
            return Err(FormatError::Corrupt(format!(
                "{n} documents and {path_len} path bytes do not fit in memory"
            )));
        };
        if layout.len != found {
            return Err(if layout.len > found {
                FormatError::Truncated {
                    expected: layout.len,
                    found,
                }
            } else {
                FormatError::Corrupt(format!(
                    "{} bytes after the end the header gives ({} bytes)",
                    found - layout.len,
                    layout.len
                ))
            });
        }
        if u32_at(bytes, body + 4) != 0 {
            return Err(FormatError::Corrupt(
                "reserved trailer bytes are not zero".into(),
            ));
        }
        debug_assert_eq!(settings, layout.settings);
        let view = IndexView { bytes, layout };
        // Path offsets: from 0, non-decreasing, ending at the path bytes' length.
        let mut previous = 0u64;
        for i in 0..=layout.n {
            let offset = u64_at(bytes, layout.offsets + 8 * i);
            let ok = if i == 0 {
                offset == 0
            } else {
                offset >= previous
            };
            if !ok || offset > path_len {
                return Err(FormatError::Corrupt(format!(
                    "path offset {i} ({offset}) out of order or past the {path_len} path bytes"
                )));
            }
            previous = offset;
        }
        if previous != path_len {
            return Err(FormatError::Corrupt(format!(
                "path offsets end at {previous}, not at {path_len}"
            )));
        }
        // The sorted sections: documents below n (an index is never out of bounds), band
        // tables ascending (a binary search finds every entry of a key).
        let n = layout.n as u64;
        if layout.version >= 3 {
            for (what, at) in [("digest", layout.by_digest), ("path", layout.by_path)] {
                let order = &bytes[at..at + 4 * layout.n];
                if let Some(i) = (order.chunks_exact(4))
                    .position(|d| u64::from(u32::from_le_bytes(d.try_into().expect("4"))) >= n)
                {
                    return Err(FormatError::Corrupt(format!(
                        "entry {i} of the {what} order is past the {n} documents"
                    )));
                }
            }
        }
        let tables = &bytes[layout.band_keys..layout.band_keys + 8 * layout.n * view.table_bands()];
        for (band, table) in tables.chunks_exact(8 * layout.n.max(1)).enumerate() {
            let mut previous = None;
            for (i, entry) in table.chunks_exact(8).enumerate() {
                let entry = u64::from_le_bytes(entry.try_into().expect("8"));
                if entry & u64::from(u32::MAX) >= n || previous.is_some_and(|p| p >= entry) {
                    return Err(FormatError::Corrupt(format!(
                        "band table {band} out of order or past the {n} documents at entry {i}"
                    )));
                }
                previous = Some(entry);
            }
        }
        Ok(view)
    }

    /// Entry `i` of the digest order (version 3).
    fn by_digest(&self, i: usize) -> u32 {
        u32_at(self.bytes, self.layout.by_digest + 4 * i)
    }

    /// Entry `i` of the path order (version 3).
    fn by_path(&self, i: usize) -> u32 {
        u32_at(self.bytes, self.layout.by_path + 4 * i)
    }

    /// Bands with a stored table (version 3 with band keys; 0 otherwise).
    fn table_bands(&self) -> usize {
        match self.layout.settings.bands {
            Some(b) if self.layout.version >= 3 => b.bands as usize,
            _ => 0,
        }
    }

    /// Entry `i` of band `band`'s table (version 3): `key << 32 | document`.
    fn table_entry(&self, band: usize, i: usize) -> u64 {
        u64_at(
            self.bytes,
            self.layout.band_keys + 8 * (band * self.layout.n + i),
        )
    }

    /// The file's format version ([`VERSION`] or an older one it reads).
    pub fn version(&self) -> u32 {
        self.layout.version
    }

    /// The settings that made the fingerprints.
    pub fn settings(&self) -> Settings {
        self.layout.settings
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.layout.n
    }

    pub fn is_empty(&self) -> bool {
        self.layout.n == 0
    }

    /// Every fingerprint, copied out of the file. `None` when `F` is not the index's width.
    pub fn fingerprints<F: Fingerprint>(&self) -> Option<Vec<F>> {
        if F::BITS != self.layout.settings.bits {
            return None;
        }
        let w = F::BITS as usize / 8;
        let start = self.layout.fingerprints;
        let section = &self.bytes[start..start + self.layout.n * w];
        Some(section.chunks_exact(w).map(F::read_le).collect())
    }

    /// Every document's band keys, copied out of the file, if the index has them.
    pub fn band_keys(&self) -> Option<BandKeys> {
        let params = self.layout.settings.bands?;
        let (l, bands) = (&self.layout, params.bands as usize);
        if l.version >= 3 {
            // Each table holds every document once (written so; a crafted file that repeats
            // one leaves another's key 0, never reads out of bounds).
            let mut flat = vec![0u32; l.n * bands];
            for band in 0..bands {
                for i in 0..l.n {
                    let entry = self.table_entry(band, i);
                    flat[(entry as u32) as usize * bands + band] = (entry >> 32) as u32;
                }
            }
            return Some(BandKeys::from_flat(bands, flat));
        }
        let section = &self.bytes[l.band_keys..l.band_keys + l.n * bands * 4];
        let flat = section
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4")))
            .collect();
        Some(BandKeys::from_flat(bands, flat))
    }

    /// The fingerprint of document `i < len()`. `None` when `F` is not the index's width.
    pub fn fingerprint<F: Fingerprint>(&self, i: usize) -> Option<F> {
        if F::BITS != self.layout.settings.bits {
            return None;
        }
        assert!(i < self.layout.n, "document {i} of {}", self.layout.n);
        let w = F::BITS as usize / 8;
        let at = self.layout.fingerprints + i * w;
        Some(F::read_le(&self.bytes[at..at + w]))
    }

    /// The digest of document `i < len()`.
    pub fn digest(&self, i: usize) -> u128 {
        assert!(i < self.layout.n, "document {i} of {}", self.layout.n);
        u128_at(self.bytes, self.layout.digests + 16 * i)
    }

    /// The documents sorted by digest and by band key, for lookups ([`Tables`]): read in
    /// place from a version 3 file, sorted in memory from an older one.
    pub fn tables(&self) -> Tables<'a> {
        if self.layout.version >= 3 {
            return Tables {
                view: *self,
                sorted: None,
            };
        }
        let n = self.layout.n;
        let mut by_digest: Vec<u32> = (0..n as u32).collect();
        by_digest.sort_unstable_by_key(|&i| (self.digest(i as usize), i));
        let mut by_path: Vec<u32> = (0..n as u32).collect();
        by_path.sort_unstable_by_key(|&i| (self.path_bytes(i as usize), i));
        let bands = self.band_keys().map(|keys| {
            let mut entries = Vec::with_capacity(n * keys.bands());
            for band in 0..keys.bands() {
                let start = entries.len();
                entries.extend((0..n).map(|i| u64::from(keys.get(i)[band]) << 32 | i as u64));
                entries[start..].sort_unstable();
            }
            entries
        });
        Tables {
            view: *self,
            sorted: Some(Sorted {
                by_digest,
                by_path,
                bands: bands.unwrap_or_default(),
            }),
        }
    }

    /// The counts of document `i < len()`.
    pub fn doc(&self, i: usize) -> DocRecord {
        let l = &self.layout;
        assert!(i < l.n, "document {i} of {}", l.n);
        DocRecord {
            chars: u64_at(self.bytes, l.chars + 8 * i),
            shingles: u64_at(self.bytes, l.shingles + 8 * i),
            digest: u128_at(self.bytes, l.digests + 16 * i),
        }
    }

    /// The stored bytes of the path of document `i < len()`.
    pub fn path_bytes(&self, i: usize) -> &'a [u8] {
        let l = &self.layout;
        assert!(i < l.n, "document {i} of {}", l.n);
        // Checked in from_bytes: offsets within the path bytes, non-decreasing.
        let (start, end) = (
            u64_at(self.bytes, l.offsets + 8 * i) as usize,
            u64_at(self.bytes, l.offsets + 8 * i + 8) as usize,
        );
        &self.bytes[l.paths + start..l.paths + end]
    }

    /// The path of document `i < len()` (bytes that are not valid on this platform are
    /// replaced, outside Unix).
    pub fn path(&self, i: usize) -> Cow<'a, Path> {
        path_from_bytes(self.path_bytes(i))
    }
}

/// The documents of an index sorted by digest and, band by band, by key: what a query
/// looks up ([`IndexView::tables`]). Each lookup is a binary search, `O(log n)` reads.
#[derive(Clone, Debug)]
pub struct Tables<'a> {
    view: IndexView<'a>,
    /// For files before version 3: the sorted sections, sorted in memory.
    sorted: Option<Sorted>,
}

/// Version 3's sorted sections, for an older file.
#[derive(Clone, Debug)]
struct Sorted {
    by_digest: Vec<u32>,
    by_path: Vec<u32>,
    /// The band tables one after another.
    bands: Vec<u64>,
}

/// The first position in `0..n` where `before` is false (`before` true, then false).
fn lower_bound(n: usize, before: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if before(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

impl Tables<'_> {
    /// The document at position `i` of the digest order.
    fn by_digest(&self, i: usize) -> u32 {
        match &self.sorted {
            Some(sorted) => sorted.by_digest[i],
            None => self.view.by_digest(i),
        }
    }

    /// The document at position `i` of the path order.
    fn by_path(&self, i: usize) -> u32 {
        match &self.sorted {
            Some(sorted) => sorted.by_path[i],
            None => self.view.by_path(i),
        }
    }

    /// Entry `i` of band `band`'s table: `key << 32 | document`.
    fn entry(&self, band: usize, i: usize) -> u64 {
        match &self.sorted {
            Some(sorted) => sorted.bands[band * self.view.len() + i],
            None => self.view.table_entry(band, i),
        }
    }

    /// The indexed documents whose digest is `digest`, ascending.
    pub fn with_digest(&self, digest: u128) -> impl Iterator<Item = u32> + '_ {
        let n = self.view.len();
        let digest_at = move |i: usize| self.view.digest(self.by_digest(i) as usize);
        let start = lower_bound(n, |i| digest_at(i) < digest);
        (start..n)
            .take_while(move |&i| digest_at(i) == digest)
            .map(move |i| self.by_digest(i))
    }

    /// Whether a document's stored path is `path` (bytes, as [`IndexView::path_bytes`]).
    pub fn has_path(&self, path: &[u8]) -> bool {
        let n = self.view.len();
        let at = lower_bound(n, |i| self.view.path_bytes(self.by_path(i) as usize) < path);
        at < n && self.view.path_bytes(self.by_path(at) as usize) == path
    }

    /// The indexed documents whose key in band `band` is `key`, ascending (none when the
    /// index has no band keys).
    pub fn with_key(&self, band: usize, key: u32) -> impl Iterator<Item = u32> + '_ {
        let n = self.view.len();
        let bands = self.view.settings().bands.map_or(0, |b| b.bands as usize);
        let n = if band < bands { n } else { 0 };
        let first = u64::from(key) << 32;
        let start = lower_bound(n, |i| self.entry(band, i) < first);
        (start..n)
            .map(move |i| self.entry(band, i))
            .take_while(move |&e| e >> 32 == u64::from(key))
            .map(|e| e as u32)
    }
}

#[cfg(unix)]
fn path_from_bytes(bytes: &[u8]) -> Cow<'_, Path> {
    use std::os::unix::ffi::OsStrExt;
    Cow::Borrowed(Path::new(std::ffi::OsStr::from_bytes(bytes)))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: &[u8]) -> Cow<'_, Path> {
    Cow::Owned(PathBuf::from(String::from_utf8_lossy(bytes).into_owned()))
}

/// An index file opened through a memory map and checked ([`IndexView::from_bytes`]).
/// A map stays valid when `index add` replaces the file, since it renames a new file over
/// the old name and never writes into the old one.
#[derive(Debug)]
pub struct Index {
    file: PathBuf,
    map: Option<Mmap>,
    layout: Layout,
}

impl Index {
    /// Opens, maps and checks `path`. Errors name the file.
    pub fn open(path: &Path) -> Result<Index, Error> {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        // An empty file cannot be mapped on every platform; it is no index anyway.
        let map = if len == 0 {
            None
        } else {
            // SAFETY: the map is read-only, and simdedup replaces index files by renaming,
            // never writing into them; a file truncated by another program while we read
            // it is outside what any reader of mapped files can defend against.
            Some(unsafe { Mmap::map(&file) }.map_err(io)?)
        };
        let bytes: &[u8] = map.as_deref().unwrap_or(&[]);
        let layout = IndexView::from_bytes(bytes)
            .map_err(|source| Error::Index {
                path: path.to_path_buf(),
                source,
            })?
            .layout;
        Ok(Index {
            file: path.to_path_buf(),
            map,
            layout,
        })
    }

    /// The checked contents.
    pub fn view(&self) -> IndexView<'_> {
        IndexView {
            bytes: self.map.as_deref().unwrap_or(&[]),
            layout: self.layout,
        }
    }

    /// The index file's path.
    pub fn file(&self) -> &Path {
        &self.file
    }
}

/// An index being assembled in memory, then written in one go ([`Builder::save`]).
#[derive(Debug)]
pub struct Builder<'a, F> {
    settings: Settings,
    fingerprints: Vec<F>,
    /// Band keys, when `settings.bands` is set: of the documents after `base`'s.
    band_keys: Option<BandKeys>,
    docs: Vec<DocRecord>,
    offsets: Vec<u64>,
    paths: Vec<u8>,
    /// The version 3 index this one extends ([`Builder::from_view`]): its sorted sections
    /// hold its documents, the first of this one, and what is added is merged into them
    /// (sorting only the new documents).
    base: Option<IndexView<'a>>,
}

impl<'a, F: Fingerprint> Builder<'a, F> {
    /// An empty index of fingerprints made by `text`, `F::BITS` wide, with band keys of
    /// the shape `bands` (documents added must carry them).
    pub fn new(text: TextConfig, bands: Option<BandParams>) -> Builder<'a, F> {
        Builder {
            settings: Settings {
                bits: F::BITS,
                text,
                bands,
            },
            fingerprints: Vec::new(),
            band_keys: bands.map(|b| BandKeys::new(b.bands as usize)),
            docs: Vec::new(),
            offsets: vec![0],
            paths: Vec::new(),
            base: None,
        }
    }

    /// A copy of an existing index, to add to. `None` when `F` is not its width. A
    /// version 3 index stays borrowed: its sorted sections are merged with the new
    /// documents' when written; older versions are copied whole and sorted again.
    pub fn from_view(view: &IndexView<'a>) -> Option<Builder<'a, F>> {
        let fingerprints = view.fingerprints::<F>()?;
        let l = &view.layout;
        let mut offsets = Vec::with_capacity(l.n + 1);
        offsets.extend((0..=l.n).map(|i| u64_at(view.bytes, l.offsets + 8 * i)));
        let base = (l.version >= 3).then_some(*view);
        let band_keys = match base {
            Some(_) => (l.settings.bands).map(|b| BandKeys::new(b.bands as usize)),
            None => view.band_keys(),
        };
        Some(Builder {
            settings: l.settings,
            fingerprints,
            band_keys,
            docs: (0..l.n).map(|i| view.doc(i)).collect(),
            offsets,
            paths: view.bytes[l.paths..l.paths + l.path_len].to_vec(),
            base,
        })
    }

    /// Documents held by `base`'s sorted sections (the first ones).
    fn base_len(&self) -> usize {
        self.base.map_or(0, |b| b.len())
    }

    /// Every document's band keys (the base's read back from its tables).
    fn all_band_keys(&self) -> Option<Cow<'_, BandKeys>> {
        let added = self.band_keys.as_ref()?;
        let Some(base) = self.base else {
            return Some(Cow::Borrowed(added));
        };
        let mut keys = base.band_keys().expect("the base has band keys");
        keys.extend(added);
        Some(Cow::Owned(keys))
    }

    /// The settings of the fingerprints.
    pub fn settings(&self) -> Settings {
        self.settings
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Adds one document, with its band keys when the index has them (`keys` is ignored
    /// otherwise; without them the document cannot be added to such an index: panics).
    pub fn push(&mut self, path: &Path, fingerprint: F, doc: DocRecord, keys: Option<&[u32]>) {
        if let Some(store) = self.band_keys.as_mut() {
            store.push(keys.expect("band keys for an index that has them"));
        }
        self.paths.extend_from_slice(path_bytes(path));
        self.offsets.push(self.paths.len() as u64);
        self.fingerprints.push(fingerprint);
        self.docs.push(doc);
    }

    /// Adds every document of `corpus` (fingerprinted with this index's settings, band
    /// keys of its shape included when it has them).
    pub fn extend(&mut self, corpus: &Corpus<F>) {
        for i in 0..corpus.len() {
            let d = &corpus.docs[i];
            let doc = DocRecord {
                chars: d.chars,
                shingles: d.shingles,
                digest: d.digest,
            };
            let keys = corpus.bands.as_ref().map(|k| k.get(i));
            self.push(corpus.path(i), corpus.fingerprints[i], doc, keys);
        }
    }

    /// Writes the file format (see the module docs) to `out`.
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        self.write_version(out, VERSION)
    }

    /// Writes format `version` (this one; the tests write older ones too).
    fn write_version(&self, out: &mut dyn Write, version: u32) -> io::Result<()> {
        let n = self.docs.len() as u64;
        let layout = Layout::compute(self.settings, version, n, self.paths.len() as u64)
            .ok_or_else(|| io::Error::other("index too large for this platform"))?;
        let mut out = Checksummed {
            out,
            crc: crc32fast::Hasher::new(),
            written: 0,
        };
        out.write_all(&encode_header(
            &self.settings,
            version,
            n,
            self.paths.len() as u64,
        ))?;
        out.pad_to(layout.fingerprints)?;
        let mut word = vec![0u8; F::BITS as usize / 8];
        for fp in &self.fingerprints {
            fp.write_le(&mut word);
            out.write_all(&word)?;
        }
        out.pad_to(layout.chars)?;
        for d in &self.docs {
            out.write_all(&d.chars.to_le_bytes())?;
        }
        out.pad_to(layout.shingles)?;
        for d in &self.docs {
            out.write_all(&d.shingles.to_le_bytes())?;
        }
        out.pad_to(layout.digests)?;
        for d in &self.docs {
            out.write_all(&d.digest.to_le_bytes())?;
        }
        if version < 3 {
            out.pad_to(layout.band_keys)?;
            if let Some(keys) = self.all_band_keys().filter(|_| version == 2) {
                let bytes: Vec<u8> = (0..keys.len())
                    .flat_map(|i| keys.get(i).iter().flat_map(|k| k.to_le_bytes()))
                    .collect();
                out.write_all(&bytes)?;
            }
        } else {
            self.write_tables(&mut out, &layout)?;
        }
        out.pad_to(layout.offsets)?;
        for o in &self.offsets {
            out.write_all(&o.to_le_bytes())?;
        }
        out.pad_to(layout.paths)?;
        out.write_all(&self.paths)?;
        out.pad_to((layout.len - TRAILER_LEN) as usize)?;
        let crc = out.crc.clone().finalize();
        out.write_all(&crc.to_le_bytes())?;
        out.write_all(&[0; 4])?;
        debug_assert_eq!(out.written as u64, layout.len);
        Ok(())
    }

    /// Version 3's sorted sections: the documents by digest and by path, then each band's
    /// table. The documents after `base`'s are sorted, and each is put where it belongs
    /// in the base's section, copied as it is between them (the same order as sorting all
    /// of them: every order breaks ties by document, and the new documents come last).
    fn write_tables(&self, out: &mut Checksummed, layout: &Layout) -> io::Result<()> {
        let (old, n) = (self.base_len(), self.docs.len());
        // The base's section at `start` (`old` entries of `width` bytes), empty without one.
        let section = |start: fn(&Layout) -> usize, width: usize| match &self.base {
            Some(b) => &b.bytes[start(&b.layout)..start(&b.layout) + old * width],
            None => &[][..],
        };
        let entry = |bytes: &[u8], j: usize, width: usize| match width {
            4 => u32_at(bytes, 4 * j) as u64,
            _ => u64_at(bytes, 8 * j),
        };
        let added = || (old as u32..n as u32).collect::<Vec<u32>>();
        let mut bytes = Vec::with_capacity(n * 8);
        out.pad_to(layout.by_digest)?;
        let digest = |&i: &u32| (self.docs[i as usize].digest, i);
        let mut fresh = added();
        fresh.sort_unstable_by_key(digest);
        let base = section(|l| l.by_digest, 4);
        merge_into(&mut bytes, base, 4, &fresh, |f| {
            lower_bound(old, |j| digest(&(entry(base, j, 4) as u32)) < digest(f))
        });
        out.write_all(&bytes)?;
        out.pad_to(layout.by_path)?;
        let path = |&i: &u32| {
            let i = i as usize;
            (
                &self.paths[self.offsets[i] as usize..self.offsets[i + 1] as usize],
                i,
            )
        };
        let mut fresh = added();
        fresh.par_sort_unstable_by_key(path);
        let base = section(|l| l.by_path, 4);
        bytes.clear();
        merge_into(&mut bytes, base, 4, &fresh, |f| {
            lower_bound(old, |j| path(&(entry(base, j, 4) as u32)) < path(f))
        });
        out.write_all(&bytes)?;
        out.pad_to(layout.band_keys)?;
        let Some(keys) = &self.band_keys else {
            return Ok(());
        };
        let tables = section(|l| l.band_keys, 8 * keys.bands());
        let mut fresh = Vec::with_capacity(keys.len());
        for band in 0..keys.bands() {
            fresh.clear();
            fresh.extend(
                (0..keys.len()).map(|i| u64::from(keys.get(i)[band]) << 32 | (old + i) as u64),
            );
            fresh.par_sort_unstable();
            let base = &tables[band * old * 8..(band + 1) * old * 8];
            bytes.clear();
            merge_into(&mut bytes, base, 8, &fresh, |f| {
                lower_bound(old, |j| entry(base, j, 8) < *f)
            });
            out.write_all(&bytes)?;
        }
        Ok(())
    }

    /// Writes the index to `path` through a temporary file in the same directory, flushed
    /// to disk and renamed over `path`: a reader or a crash sees the old file or the new
    /// one, never a half-written one.
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let file = AtomicFile::create(path)?;
        {
            let mut out = BufWriter::with_capacity(1 << 20, file.as_file());
            self.write(&mut out).map_err(|e| file.error(e))?;
            out.flush().map_err(|e| file.error(e))?;
        }
        file.as_file().sync_all().map_err(|e| file.error(e))?;
        file.commit()
    }
}

/// Appends to `out` the sorted section `base` (entries of `width` bytes, little-endian)
/// with the `fresh` entries (ascending, each `width` bytes wide once encoded) put in order:
/// `at(f)` is the number of base entries before `f`. The base is copied as it is between
/// them, so the work is a copy plus a binary search per fresh entry.
fn merge_into<T: Copy + Into<u64>>(
    out: &mut Vec<u8>,
    base: &[u8],
    width: usize,
    fresh: &[T],
    at: impl Fn(&T) -> usize,
) {
    let mut from = 0;
    for f in fresh {
        let to = at(f).max(from);
        out.extend_from_slice(&base[from * width..to * width]);
        out.extend_from_slice(&(*f).into().to_le_bytes()[..width]);
        from = to;
    }
    out.extend_from_slice(&base[from * width..]);
}

/// A writer that keeps the CRC-32 of what passed and counts it, for padding.
struct Checksummed<'a> {
    out: &'a mut dyn Write,
    crc: crc32fast::Hasher,
    written: usize,
}

impl Checksummed<'_> {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.crc.update(bytes);
        self.written += bytes.len();
        Ok(())
    }

    /// Zero bytes up to offset `at`.
    fn pad_to(&mut self, at: usize) -> io::Result<()> {
        debug_assert!(at >= self.written && at - self.written < 16);
        let zeros = [0u8; 16];
        self.write_all(&zeros[..at - self.written])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> TextConfig {
        TextConfig {
            shingling: "word:3".parse().unwrap(),
            normalization: Normalization::ALL,
            weighting: Weighting::Log,
            compat: false,
        }
    }

    const SHAPE: BandParams = BandParams { rows: 2, bands: 3 };

    fn sample(paths: &[&[u8]]) -> Vec<u8> {
        sample_with(paths, Some(SHAPE))
    }

    fn sample_with(paths: &[&[u8]], bands: Option<BandParams>) -> Vec<u8> {
        let mut b = Builder::<u64>::new(config(), bands);
        for (i, p) in paths.iter().enumerate() {
            let i = i as u64;
            let doc = DocRecord {
                chars: 100 + i,
                shingles: 10 * i,
                digest: u128::MAX - i as u128,
            };
            let keys = [i as u32, 7, u32::MAX - i as u32];
            b.push(
                &path_from_bytes(p),
                0x0123_4567_89ab_cdef ^ i,
                doc,
                Some(&keys),
            );
        }
        let mut out = Vec::new();
        b.write(&mut out).unwrap();
        out
    }

    /// A file of an older version (1: no band keys; 2: band keys by document).
    fn older(paths: &[&[u8]], version: u32) -> Vec<u8> {
        let bytes = sample_with(paths, (version >= 2).then_some(SHAPE));
        let view = IndexView::from_bytes(&bytes).unwrap();
        let mut out = Vec::new();
        Builder::<u64>::from_view(&view)
            .unwrap()
            .write_version(&mut out, version)
            .unwrap();
        out
    }

    #[test]
    fn older_versions_are_read() {
        let paths: [&[u8]; 3] = [b"a.txt", b"b.txt", b"c.txt"];
        let current = IndexView::from_bytes(&sample(&paths))
            .unwrap()
            .band_keys()
            .unwrap();
        for version in [1, 2] {
            let bytes = older(&paths, version);
            assert_eq!(u32_at(&bytes, 8), version);
            let view = IndexView::from_bytes(&bytes).unwrap();
            assert_eq!(view.len(), 3);
            assert_eq!(view.path_bytes(1), b"b.txt");
            if version == 1 {
                assert_eq!(view.settings().bands, None);
                assert!(view.band_keys().is_none());
                assert_eq!(view.tables().with_key(0, 7).count(), 0);
            } else {
                assert_eq!(view.band_keys().unwrap(), current);
                // The tables are sorted in memory, with the contents version 3 stores.
                let tables = view.tables();
                assert_eq!(tables.with_key(1, 7).collect::<Vec<_>>(), [0, 1, 2]);
                assert_eq!(tables.with_key(0, 2).collect::<Vec<_>>(), [2]);
            }
            assert_eq!(
                view.tables().with_digest(u128::MAX - 1).collect::<Vec<_>>(),
                [1]
            );
            // Re-written, it becomes the current version, with the band keys it had.
            let mut again = Vec::new();
            Builder::<u64>::from_view(&view)
                .unwrap()
                .write(&mut again)
                .unwrap();
            assert_eq!(u32_at(&again, 8), VERSION);
            let view = IndexView::from_bytes(&again).unwrap();
            assert_eq!(view.band_keys().is_some(), version == 2);
        }
    }

    /// Documents added to an index in rounds (each round's sorted sections merged into
    /// the last file's) give the bytes of one build of them all: digests, keys and paths
    /// that sort before, among (equal ones included) and after the indexed ones.
    #[test]
    fn added_rounds_equal_one_build() {
        let push = |b: &mut Builder<u64>, i: u32| {
            let doc = DocRecord {
                chars: i as u64,
                shingles: 1,
                digest: u128::from(i * 5 % 7) << 100,
            };
            let path = format!("p{:02}", (i * 37) % 61);
            b.push(
                Path::new(&path),
                i as u64,
                doc,
                Some(&[i % 5, i * 7 % 11, 9]),
            );
        };
        let mut whole = Builder::<u64>::new(config(), Some(SHAPE));
        (0..60).for_each(|i| push(&mut whole, i));
        let mut expected = Vec::new();
        whole.write(&mut expected).unwrap();
        for rounds in [
            &[0, 60][..],
            &[1, 60],
            &[30, 31, 60],
            &[0, 20, 40, 59, 60],
            &[60, 60],
        ] {
            let mut b = Builder::<u64>::new(config(), Some(SHAPE));
            (0..rounds[0]).for_each(|i| push(&mut b, i));
            let mut bytes = Vec::new();
            b.write(&mut bytes).unwrap();
            for w in rounds.windows(2) {
                let view = IndexView::from_bytes(&bytes).unwrap();
                let mut b = Builder::<u64>::from_view(&view).unwrap();
                (w[0]..w[1]).for_each(|i| push(&mut b, i));
                let mut out = Vec::new();
                b.write(&mut out).unwrap();
                bytes = out;
            }
            assert!(bytes == expected, "rounds {rounds:?}");
        }
    }

    #[test]
    fn lookups_find_every_document() {
        let mut b = Builder::<u64>::new(config(), Some(SHAPE));
        // Documents 0..40: digest i % 7, band keys i % 5, i % 3 and 9.
        for i in 0..40u32 {
            let doc = DocRecord {
                chars: 1,
                shingles: 1,
                digest: u128::from(i % 7) << 100,
            };
            b.push(Path::new("x"), 0, doc, Some(&[i % 5, i % 3, 9]));
        }
        let mut bytes = Vec::new();
        b.write(&mut bytes).unwrap();
        let view = IndexView::from_bytes(&bytes).unwrap();
        let tables = view.tables();
        let expect = |f: &dyn Fn(u32) -> bool| (0..40).filter(|&i| f(i)).collect::<Vec<u32>>();
        for d in 0..8u32 {
            let found: Vec<u32> = tables.with_digest(u128::from(d) << 100).collect();
            assert_eq!(found, expect(&|i| i % 7 == d));
        }
        for key in 0..6u32 {
            assert_eq!(
                tables.with_key(0, key).collect::<Vec<_>>(),
                expect(&|i| i % 5 == key)
            );
            assert_eq!(
                tables.with_key(1, key).collect::<Vec<_>>(),
                expect(&|i| i % 3 == key)
            );
        }
        assert_eq!(tables.with_key(2, 9).count(), 40);
        assert_eq!(tables.with_key(2, 8).count(), 0);
        assert_eq!(tables.with_key(3, 9).count(), 0, "no such band");
        assert_eq!(view.band_keys().unwrap().get(17), &[2, 2, 9]);
        let paths: [&[u8]; 4] = [b"b", b"a", b"", b"a\xff"];
        let bytes = sample(&paths);
        let tables = IndexView::from_bytes(&bytes).unwrap().tables();
        for p in paths {
            assert!(tables.has_path(p));
        }
        for p in [&b"c"[..], b"a\xfe", b"bb"] {
            assert!(!tables.has_path(p));
        }
    }

    #[test]
    fn round_trip() {
        let paths: [&[u8]; 4] = [b"a.txt", b"dir/tab\there", b"", b"new\nline \xff.txt"];
        let bytes = sample(&paths);
        assert_eq!(bytes.len() % 8, 0);
        let view = IndexView::from_bytes(&bytes).unwrap();
        assert_eq!(view.len(), 4);
        assert_eq!(view.settings().bits, 64);
        assert_eq!(view.settings().text, config());
        let fps = view.fingerprints::<u64>().unwrap();
        assert_eq!(fps[3], 0x0123_4567_89ab_cdef ^ 3);
        assert!(view.fingerprints::<u128>().is_none());
        assert_eq!(view.doc(2).shingles, 20);
        assert_eq!(view.doc(3).digest, u128::MAX - 3);
        assert_eq!(view.settings().bands, Some(SHAPE));
        let keys = view.band_keys().unwrap();
        assert_eq!(keys.get(3), &[3, 7, u32::MAX - 3]);
        for (i, p) in paths.iter().enumerate() {
            assert_eq!(view.path_bytes(i), *p);
        }
        // A copy re-written is byte for byte the same file.
        let copy = Builder::<u64>::from_view(&view).unwrap();
        let mut again = Vec::new();
        copy.write(&mut again).unwrap();
        assert_eq!(again, bytes);
        // An empty index is valid too.
        let empty = sample(&[]);
        assert!(IndexView::from_bytes(&empty).unwrap().is_empty());
    }

    #[test]
    fn damage_is_named() {
        let bytes = sample(&[b"a", b"bb", b"ccc"]);
        let err = |b: &[u8]| IndexView::from_bytes(b).unwrap_err();
        assert!(matches!(err(b"hello world"), FormatError::Magic));
        assert!(matches!(err(&bytes[..40]), FormatError::Truncated { .. }));
        let cut = err(&bytes[..bytes.len() - 16]);
        assert!(
            matches!(cut, FormatError::Truncated { expected, found } if expected == bytes.len() as u64 && found + 16 == expected),
            "{cut}"
        );
        for at in [70, bytes.len() - 20, bytes.len() - 8] {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x10;
            assert!(
                matches!(err(&flipped), FormatError::Checksum { .. }),
                "byte {at}"
            );
        }
        let mut newer = bytes.clone();
        newer[8] = 4;
        assert!(matches!(
            err(&newer),
            FormatError::NewerVersion { found: 4, .. }
        ));
        assert!(err(&newer).to_string().contains("newer"));
        let mut longer = bytes.clone();
        longer.extend_from_slice(&[0; 8]);
        assert!(matches!(err(&longer), FormatError::Checksum { .. }));
    }

    /// A valid checksum over bad contents (a writer bug, or a crafted file) is still caught.
    #[test]
    fn checked_even_with_a_good_checksum() {
        let reseal = |mut b: Vec<u8>| {
            let body = b.len() - 8;
            let crc = crc32fast::hash(&b[..body]);
            b[body..body + 4].copy_from_slice(&crc.to_le_bytes());
            b
        };
        let bytes = sample(&[b"a", b"bb"]);
        let mut huge = bytes.clone();
        huge[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(IndexView::from_bytes(&reseal(huge)).is_err());
        let mut bits = bytes.clone();
        bits[12] = 48;
        let e = IndexView::from_bytes(&reseal(bits)).unwrap_err();
        assert!(e.to_string().contains("width 48"), "{e}");
        let view = IndexView::from_bytes(&bytes).unwrap();
        let offsets = view.layout.offsets;
        let mut order = bytes.clone();
        order[offsets + 8..offsets + 16].copy_from_slice(&9u64.to_le_bytes());
        let e = IndexView::from_bytes(&reseal(order)).unwrap_err();
        assert!(e.to_string().contains("path offset"), "{e}");
        // A document past the end in a sorted section; a band table out of order.
        let l = view.layout;
        let mut past = bytes.clone();
        past[l.by_path..l.by_path + 4].copy_from_slice(&2u32.to_le_bytes());
        let e = IndexView::from_bytes(&reseal(past)).unwrap_err();
        assert!(e.to_string().contains("path order is past"), "{e}");
        let mut swapped = bytes.clone();
        let (first, second) = (l.band_keys, l.band_keys + 8);
        let entry = swapped[first..first + 8].to_vec();
        swapped.copy_within(second..second + 8, first);
        swapped[second..second + 8].copy_from_slice(&entry);
        let e = IndexView::from_bytes(&reseal(swapped)).unwrap_err();
        assert!(e.to_string().contains("band table 0 out of order"), "{e}");
    }

    proptest::proptest! {
        /// Arbitrary damage never panics: every prefix, any byte changed (with the checksum
        /// re-sealed, so the checks behind it are reached too), random bytes.
        #[test]
        fn never_panics(at in 0usize..400, value in proptest::num::u8::ANY, cut in 0usize..400,
                        junk in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let bytes = sample(&[b"one", b"two \xfe", b"three"]);
            let _ = IndexView::from_bytes(&bytes[..cut.min(bytes.len())]);
            let mut changed = bytes.clone();
            let at = at % (changed.len() - 8);
            changed[at] = value;
            let _ = IndexView::from_bytes(&changed);
            let body = changed.len() - 8;
            let crc = crc32fast::hash(&changed[..body]);
            changed[body..body + 4].copy_from_slice(&crc.to_le_bytes());
            if let Ok(view) = IndexView::from_bytes(&changed) {
                for i in 0..view.len() {
                    let _ = (view.doc(i), view.path(i));
                }
                let _ = view.fingerprints::<u64>();
            }
            let mut prefixed = MAGIC.to_vec();
            prefixed.extend_from_slice(&1u32.to_le_bytes());
            prefixed.extend_from_slice(&junk);
            let _ = IndexView::from_bytes(&prefixed);
            let _ = IndexView::from_bytes(&junk);
        }
    }
}

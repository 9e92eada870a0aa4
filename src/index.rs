//! The persistent index: a corpus's fingerprints, per-document counts and paths, with the
//! settings that made them, in one versioned, checksummed file that is read through a
//! memory map. Built once ([`Builder`]), extended without reading old documents again, and
//! queried with new documents ([`crate::ops::incremental::query`]): the pairs equal those of one run over old and new
//! documents together that involve a new document.
//!
//! # File format (version 2; version 1 is read too)
//!
//! All integers little-endian. With `n` documents, `w = bits / 8` bytes per fingerprint and
//! `L` MinHash bands per document:
//!
//! | offset | bytes | content |
//! |---|---|---|
//! | 0 | 8 | magic `\x89SDX\r\n\x1a\n` (catches text-mode transfers, like PNG's) |
//! | 8 | 4 | format version (`u32`, 2; 1 for files without band keys written before them) |
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
//! | 48 | 4 | version 2: MinHash rows per band `r` (`u32`; 0 = no band keys); version 1: 0 |
//! | 52 | 4 | version 2: bands `L` (`u32`, 0 exactly when `r` is 0); version 1: 0 |
//! | 56 | 8 | reserved, 0 |
//! | 64 | n·w | fingerprints, each a `w`-byte integer (bit i = bit i % 8 of byte i / 8) |
//! | | n·8 | characters per document (`u64`) |
//! | | n·8 | shingle occurrences per document (`u64`; 0 = too short to fingerprint) |
//! | | n·16 | digest of the normalised text (`u128`) |
//! | | n·L·4 | version 2: band keys ([`crate::minhash`]), `L` per document (`u32`) |
//! | | (n+1)·8 | path offsets into the path bytes (`u64`; first 0, non-decreasing, last `p`) |
//! | | p | path bytes (the OS bytes of each path, as given when it was added) |
//! | end − 8 | 4 | CRC-32 (IEEE) of every byte before it |
//! | end − 4 | 4 | reserved, 0 |
//!
//! Every section starts at a multiple of 16 bytes (zero padding before it), and the trailer
//! at a multiple of 8, so fingerprints, counts and digests could be viewed in place; this
//! version copies fingerprints and counts into vectors on open (16 + 32 bytes per
//! document) and reads paths from the map when needed. The checksum is checked on every
//! open, before anything else is trusted; a reader refuses a newer version. Band keys let
//! a query use the band search; an index without them (version 1, or built with `-k`)
//! is queried with the exact Hamming search.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use crate::atomic_file::AtomicFile;
use crate::corpus::Corpus;
use crate::error::Error;
pub use crate::error::FormatError;
use crate::fingerprint::Fingerprint;
use crate::input::path_bytes;
use crate::minhash::{BandKeys, BandParams};
use crate::shingle::{Normalization, ShingleKind, Shingling};
use crate::simhash::{TextConfig, Weighting};
use crate::texts::DocStats;

/// The first eight bytes of every index file.
pub const MAGIC: [u8; 8] = *b"\x89SDX\r\n\x1a\n";

/// The format version this build writes and the newest it reads (it reads 1 too).
pub const VERSION: u32 = 2;

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

/// The counts the index keeps per document (see [`crate::corpus::Document`]).
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
    n: usize,
    fingerprints: usize,
    chars: usize,
    shingles: usize,
    digests: usize,
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
    /// Section offsets for `n` documents of `bits` and `path_len` path bytes; `None` when
    /// they overflow.
    fn compute(settings: Settings, n: u64, path_len: u64) -> Option<Layout> {
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
        let (band_keys, end) = section(end, n.checked_mul(bands)?.checked_mul(4)?)?;
        let (offsets, end) = section(end, n.checked_add(1)?.checked_mul(8)?)?;
        let (paths, end) = section(end, path_len)?;
        let len = end.checked_add(7)? & !7;
        let len = len.checked_add(TRAILER_LEN)?;
        let us = |x: u64| usize::try_from(x).ok();
        Some(Layout {
            settings,
            n: us(n)?,
            fingerprints: us(fps)?,
            chars: us(chars)?,
            shingles: us(shingles)?,
            digests: us(digests)?,
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
fn encode_header(settings: &Settings, n: u64, path_len: u64) -> [u8; HEADER_LEN as usize] {
    let mut h = [0u8; HEADER_LEN as usize];
    let t = &settings.text;
    let norm = &t.normalization;
    h[0..8].copy_from_slice(&MAGIC);
    h[8..12].copy_from_slice(&VERSION.to_le_bytes());
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
        match u32_at(bytes, 8) {
            1 | VERSION => {}
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
            .and_then(|&(settings, n, p)| Layout::compute(settings, n, p));
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
        Ok(view)
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
        let l = &self.layout;
        let mut keys = BandKeys::new(params.bands as usize);
        keys.reserve(l.n);
        let section = &self.bytes[l.band_keys..l.band_keys + l.n * params.bands as usize * 4];
        let mut doc = Vec::with_capacity(params.bands as usize);
        for chunk in section.chunks_exact(params.bands as usize * 4) {
            doc.clear();
            doc.extend(
                chunk
                    .chunks_exact(4)
                    .map(|b| u32::from_le_bytes(b.try_into().expect("4"))),
            );
            keys.push(&doc);
        }
        Some(keys)
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
pub struct Builder<F> {
    settings: Settings,
    fingerprints: Vec<F>,
    /// Band keys, when `settings.bands` is set.
    band_keys: Option<BandKeys>,
    docs: Vec<DocRecord>,
    offsets: Vec<u64>,
    paths: Vec<u8>,
}

impl<F: Fingerprint> Builder<F> {
    /// An empty index of fingerprints made by `text`, `F::BITS` wide, with band keys of
    /// the shape `bands` (documents added must carry them).
    pub fn new(text: TextConfig, bands: Option<BandParams>) -> Builder<F> {
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
        }
    }

    /// A copy of an existing index, to add to. `None` when `F` is not its width.
    pub fn from_view(view: &IndexView) -> Option<Builder<F>> {
        let fingerprints = view.fingerprints::<F>()?;
        let l = &view.layout;
        let mut offsets = Vec::with_capacity(l.n + 1);
        offsets.extend((0..=l.n).map(|i| u64_at(view.bytes, l.offsets + 8 * i)));
        Some(Builder {
            settings: l.settings,
            fingerprints,
            band_keys: view.band_keys(),
            docs: (0..l.n).map(|i| view.doc(i)).collect(),
            offsets,
            paths: view.bytes[l.paths..l.paths + l.path_len].to_vec(),
        })
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
        let n = self.docs.len() as u64;
        let layout = Layout::compute(self.settings, n, self.paths.len() as u64)
            .ok_or_else(|| io::Error::other("index too large for this platform"))?;
        let mut out = Checksummed {
            out,
            crc: crc32fast::Hasher::new(),
            written: 0,
        };
        out.write_all(&encode_header(&self.settings, n, self.paths.len() as u64))?;
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
        out.pad_to(layout.band_keys)?;
        if let Some(keys) = &self.band_keys {
            for i in 0..keys.len() {
                for k in keys.get(i) {
                    out.write_all(&k.to_le_bytes())?;
                }
            }
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

    /// A file of the previous version: no band keys, version 1 in the header.
    fn version_1(paths: &[&[u8]]) -> Vec<u8> {
        let mut bytes = sample_with(paths, None);
        bytes[8..12].copy_from_slice(&1u32.to_le_bytes());
        let body = bytes.len() - TRAILER_LEN as usize;
        let crc = crc32fast::hash(&bytes[..body]);
        bytes[body..body + 4].copy_from_slice(&crc.to_le_bytes());
        bytes
    }

    #[test]
    fn version_1_is_read_without_band_keys() {
        let paths: [&[u8]; 2] = [b"a.txt", b"b.txt"];
        let bytes = version_1(&paths);
        let view = IndexView::from_bytes(&bytes).unwrap();
        assert_eq!(view.len(), 2);
        assert_eq!(view.settings().bands, None);
        assert!(view.band_keys().is_none());
        assert_eq!(view.path_bytes(1), b"b.txt");
        // Re-written, it becomes version 2, still without band keys.
        let mut again = Vec::new();
        Builder::<u64>::from_view(&view)
            .unwrap()
            .write(&mut again)
            .unwrap();
        assert_eq!(u32_at(&again, 8), 2);
        assert_eq!(
            IndexView::from_bytes(&again).unwrap().settings().bands,
            None
        );
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
        newer[8] = 3;
        assert!(matches!(
            err(&newer),
            FormatError::NewerVersion { found: 3, .. }
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

//! MinHash band keys for text: the sketch behind the near-linear band search.
//!
//! One-permutation MinHash (Li, Owen and Zhang 2012) splits the 64-bit shingle hashes into
//! `K = rows * bands` bins by their high bits and keeps each bin's smallest hash; empty bins
//! borrow a filled bin chosen by a probe sequence shared by all documents (optimal
//! densification, Shrivastava 2017), so two sets agree on any one bin with probability
//! equal to their Jaccard similarity whatever their sizes. Each band of `rows` bins is
//! hashed to a 32-bit key; documents are stored as `bands` keys (4 bytes each), never as
//! their bins. [`BandParams::solve`] picks `(rows, bands)` from the similarity bar and a
//! recall target: a pair of similarity J shares at least one band key with probability
//! `1 - (1 - J^rows)^bands`.

use crate::error::Error;
use crate::text::sketch::SlotSketcher;

/// Largest sketch the solver considers (`rows * bands` bins).
pub const MAX_BINS: u32 = 320;

/// Background similarity the cost model assumes for pairs that are not duplicates: word
/// shingles of texts sharing a language, a license header or a code style. Only used to
/// trade more bands against more spurious candidates.
const BACKGROUND_J: f64 = 0.02;

/// A spurious candidate (read two documents again, merge their sets) costs about this many
/// table entries (one entry: a key computed, stored, sorted).
const CANDIDATE_COST: f64 = 100.0;

/// The shape of the band search: `bands` tables, each keyed by `rows` MinHash bins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BandParams {
    /// Bins per band (r).
    pub rows: u32,
    /// Number of bands (L), one table each.
    pub bands: u32,
}

/// What a band search asks of its shape before the documents are counted: a pair of
/// similarity `bar` found with probability `recall`. A single-pass reader solves the shape
/// once it has seen the first documents ([`crate::records::read_records`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BandGoal {
    pub bar: f64,
    pub recall: f64,
}

impl BandParams {
    /// The cheapest `(rows, bands)` that catches a pair of similarity exactly `bar` with
    /// probability at least `recall`, for a search over `n` documents: for each `rows`,
    /// the fewest bands that reach the recall, then the shape with the least expected work
    /// (table entries plus spurious candidates at a background similarity of 0.02), within
    /// [`MAX_BINS`] bins. `bar` is clamped to `[0.05, 1]`, `recall` to `[0.5, 0.999999]`.
    pub fn solve(bar: f64, recall: f64, n: usize) -> BandParams {
        Self::solve_with(bar, recall, n, &|p| p.recall_at(BACKGROUND_J))
    }

    /// [`BandParams::solve`] with the background measured: `background` holds the exact
    /// similarities of a sample of document pairs (all pairs of a sample of documents), and
    /// a shape's spurious candidates are estimated as the share of those pairs below the
    /// bar that it would make candidates. An empty sample falls back to [`BandParams::solve`].
    pub fn solve_sampled(bar: f64, recall: f64, n: usize, background: &[f64]) -> BandParams {
        // The pairs below the bar, read in place (no copy of a sample of half a million).
        let below = || background.iter().copied().filter(|&j| j < bar);
        let count = below().count();
        if count == 0 {
            return Self::solve(bar, recall, n);
        }
        let rate = |p: &BandParams| below().map(|j| p.recall_at(j)).sum::<f64>() / count as f64;
        Self::solve_with(bar, recall, n, &rate)
    }

    /// The solver: `spurious(shape)` is the chance that a pair below the bar becomes a
    /// candidate.
    fn solve_with(
        bar: f64,
        recall: f64,
        n: usize,
        spurious: &dyn Fn(&BandParams) -> f64,
    ) -> BandParams {
        let bar = bar.clamp(0.05, 1.0);
        let recall = recall.clamp(0.5, 0.999_999);
        let n = n.max(2) as f64;
        let mut best: Option<(f64, BandParams)> = None;
        for rows in 1..=64u32 {
            let Some(bands) = bands_for(bar, recall, rows) else {
                break;
            };
            if rows * bands > MAX_BINS {
                // More rows need more bins still (the fewest bins grow with rows).
                if best.is_some() {
                    break;
                }
                continue;
            }
            let shape = BandParams { rows, bands };
            let cost = n * bands as f64 + CANDIDATE_COST * n * n / 2.0 * spurious(&shape);
            if best.is_none_or(|(c, _)| cost < c) {
                best = Some((cost, shape));
            }
        }
        // A bar so low that no shape fits: one row per band, as many bands as allowed.
        best.map_or(
            BandParams {
                rows: 1,
                bands: MAX_BINS,
            },
            |(_, shape)| shape,
        )
    }

    /// Bins in the sketch (`rows * bands`).
    pub fn bins(&self) -> usize {
        (self.rows * self.bands) as usize
    }

    /// The probability that a pair of Jaccard similarity `j` shares a band key (the
    /// S-curve), for independent bins: `1 - (1 - j^rows)^bands`.
    pub fn recall_at(&self, j: f64) -> f64 {
        1.0 - (1.0 - j.clamp(0.0, 1.0).powi(self.rows as i32)).powi(self.bands as i32)
    }
}

/// The fewest bands of `rows` bins that reach `recall` at similarity `bar`, or `None` when
/// the count would be absurd (over a million).
fn bands_for(bar: f64, recall: f64, rows: u32) -> Option<u32> {
    let p = bar.powi(rows as i32);
    if p >= 1.0 {
        return Some(1);
    }
    let bands = ((1.0 - recall).ln() / (1.0 - p).ln()).ceil();
    (bands.is_finite() && bands <= 1e6).then_some(bands.max(1.0) as u32)
}

/// The splitmix64 finaliser: a bijective 64-bit mixer.
#[inline]
pub fn mix64(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Probes an empty bin tries before it falls back to the next filled bin to its right.
/// With `m` of `K` bins filled a probe hits with probability `m / K`, so the fallback only
/// ever serves documents of a handful of shingles.
const PROBES: usize = 24;

/// The probe sequence shared by all documents of one shape, and its inverse: built once
/// per [`Sketcher::new`] and shared by its clones (one per thread).
#[derive(Debug)]
struct ProbeTable {
    /// `probes[i * PROBES + t]`: the bin an empty bin `i` looks at on try `t`.
    probes: Vec<u16>,
    /// The tries that look at bin `j`: `tries[starts[j]..starts[j + 1]]`, each
    /// `i << 8 | t` for try `t` of bin `i`.
    starts: Vec<u32>,
    tries: Vec<u32>,
}

impl ProbeTable {
    fn new(k: usize) -> ProbeTable {
        let probes: Vec<u16> = (0..k * PROBES)
            .map(|x| bin_of(mix64(0x5d3e_bb1c_7a4f_0219 ^ x as u64), k) as u16)
            .collect();
        // Counting sort of the tries by the bin they look at.
        let mut starts = vec![0u32; k + 1];
        for &j in &probes {
            starts[j as usize + 1] += 1;
        }
        for j in 0..k {
            starts[j + 1] += starts[j];
        }
        let mut next = starts.clone();
        let mut tries = vec![0u32; probes.len()];
        for (x, &j) in probes.iter().enumerate() {
            let (i, t) = (x / PROBES, x % PROBES);
            tries[next[j as usize] as usize] = (i as u32) << 8 | t as u32;
            next[j as usize] += 1;
        }
        ProbeTable {
            probes,
            starts,
            tries,
        }
    }
}

/// Builds the band keys of one document at a time from its shingle hashes. Reuse one per
/// thread: [`Sketcher::finish`] resets it.
#[derive(Clone, Debug)]
pub struct Sketcher {
    params: BandParams,
    bins: Vec<u64>,
    /// Which bins any hash fell into, one bit each (densification copies only filled bins).
    filled: Vec<u64>,
    table: std::sync::Arc<ProbeTable>,
    /// Per empty bin, the first try that hits a filled bin (scratch for [`Sketcher::densify`]).
    first_hit: Vec<u8>,
    empty: bool,
    /// The similarity sketch, built from the same hashes when asked for
    /// ([`Sketcher::with_similarity_sketch`]).
    slots: Option<SlotSketcher>,
}

impl Sketcher {
    pub fn new(params: BandParams) -> Sketcher {
        let k = params.bins();
        assert!((1..=u16::MAX as usize).contains(&k), "1 to 65535 bins");
        Sketcher {
            params,
            bins: vec![u64::MAX; k],
            filled: vec![0; k.div_ceil(64)],
            table: std::sync::Arc::new(ProbeTable::new(k)),
            first_hit: vec![0; k],
            empty: true,
            slots: None,
        }
    }

    /// Also builds each document's similarity sketch ([`crate::text::sketch`]) from the
    /// same hashes; take it with [`Sketcher::finish_with_sketch`].
    pub fn with_similarity_sketch(mut self) -> Sketcher {
        self.slots = Some(SlotSketcher::new());
        self
    }

    /// The shape this sketcher was built for.
    pub fn params(&self) -> BandParams {
        self.params
    }

    /// Adds one shingle hash (a well-mixed 64-bit value; repeats change nothing).
    #[inline]
    pub fn add(&mut self, hash: u64) {
        let bin = bin_of(hash, self.bins.len());
        let slot = &mut self.bins[bin];
        if hash < *slot {
            *slot = hash;
        }
        self.filled[bin / 64] |= 1 << (bin % 64);
        self.empty = false;
        if let Some(slots) = self.slots.as_mut() {
            slots.add(hash);
        }
    }

    /// Whether no hash was added since the last finish.
    pub fn is_empty(&self) -> bool {
        self.empty
    }

    /// Writes the document's `bands` keys to `out` and resets for the next document. A
    /// document without shingles gets keys that match no other document's (all bins empty
    /// are never compared: callers leave such documents out of the search).
    pub fn finish(&mut self, out: &mut [u32]) {
        debug_assert_eq!(out.len(), self.params.bands as usize);
        let filled: usize = self.filled.iter().map(|w| w.count_ones() as usize).sum();
        // With every bin filled (any document of a few hundred shingles) there is nothing
        // to borrow.
        if !self.empty && filled < self.bins.len() {
            self.densify(filled);
        }
        let rows = self.params.rows as usize;
        for ((b, key), band) in out.iter_mut().enumerate().zip(self.bins.chunks_exact(rows)) {
            let mut acc = 0x243f_6a88_85a3_08d3 ^ (b as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            for &v in band {
                acc = mix64(acc ^ v).wrapping_add(0x632b_e59b_d9b4_e019);
            }
            *key = (mix64(acc) >> 32) as u32;
        }
        self.bins.fill(u64::MAX);
        self.filled.fill(0);
        self.empty = true;
        if let Some(slots) = self.slots.as_mut() {
            slots.clear();
        }
    }

    /// [`Sketcher::finish`], also writing the document's similarity sketch to `sketch`
    /// ([`crate::text::sketch::SLOTS`] bytes) and returning its distinct-shingle count (see
    /// [`SlotSketcher::finish`]); without [`Sketcher::with_similarity_sketch`], `sketch` is
    /// left alone and the count is [`crate::text::sketch::UNCOUNTED`].
    pub fn finish_with_sketch(&mut self, out: &mut [u32], sketch: &mut [u8]) -> u32 {
        let distinct = match self.slots.as_mut() {
            Some(slots) => slots.finish(sketch),
            None => crate::text::sketch::UNCOUNTED,
        };
        self.finish(out);
        distinct
    }

    fn is_filled(&self, j: usize) -> bool {
        self.filled[j / 64] >> (j % 64) & 1 == 1
    }

    /// Fills every empty bin from a filled one, by the shared probe sequence: two documents
    /// copy into bin `i` from the same source bin whenever they have the same filled bins
    /// along the sequence. Copies carry the probe count, so a copy never equals an original.
    ///
    /// The first try of bin `i` that hits a filled bin is found one of two ways, with the
    /// same result: when few bins are filled, by going over the tries that look at each
    /// filled bin (`filled * PROBES` steps); otherwise by walking each empty bin's probes
    /// (about `K / filled` steps each, and an unpredictable branch).
    fn densify(&mut self, filled: usize) {
        let k = self.bins.len();
        let table = &*self.table;
        let sparse = filled * 4 < k;
        if sparse {
            self.first_hit.fill(PROBES as u8);
            for (w, &word) in self.filled.iter().enumerate() {
                let mut bits = word;
                while bits != 0 {
                    let j = w * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    let tries =
                        &table.tries[table.starts[j] as usize..table.starts[j + 1] as usize];
                    for &x in tries {
                        let hit = &mut self.first_hit[(x >> 8) as usize];
                        *hit = (*hit).min(x as u8);
                    }
                }
            }
        }
        for w in 0..self.filled.len() {
            // The empty bins of this word (bits past the last bin are not bins).
            let mut empties = !self.filled[w] & (u64::MAX >> (64 * (w + 1)).saturating_sub(k));
            while empties != 0 {
                let i = w * 64 + empties.trailing_zeros() as usize;
                empties &= empties - 1;
                let probes = &table.probes[i * PROBES..(i + 1) * PROBES];
                let first = if sparse {
                    Some(self.first_hit[i] as usize).filter(|&t| t < PROBES)
                } else {
                    probes.iter().position(|&j| self.is_filled(j as usize))
                };
                let (t, source) = match first {
                    Some(t) => (t as u64, probes[t] as usize),
                    None => {
                        // Fallback: the next filled bin to the right (there is one).
                        let j = self.next_filled(i);
                        (PROBES as u64 + ((j + k - i) % k) as u64, j)
                    }
                };
                self.bins[i] =
                    mix64(self.bins[source] ^ (t + 1).wrapping_mul(0xa076_1d64_78bd_642f));
            }
        }
    }

    /// The first filled bin after `i`, cyclically (at least one bin is filled).
    fn next_filled(&self, i: usize) -> usize {
        let start = (i + 1) % self.bins.len();
        let mut w = start / 64;
        // The bits from `start` on in its word, then whole words, cyclically.
        let mut bits = self.filled[w] & (u64::MAX << (start % 64));
        loop {
            if bits != 0 {
                return w * 64 + bits.trailing_zeros() as usize;
            }
            w = (w + 1) % self.filled.len();
            bits = self.filled[w];
        }
    }
}

/// The bin of a hash: its high bits scaled to `k` (Lemire's multiply-shift range).
#[inline]
fn bin_of(hash: u64, k: usize) -> usize {
    ((hash as u128 * k as u128) >> 64) as usize
}

/// The band keys of many documents: `bands` 32-bit keys per document, document after
/// document (4 * bands bytes each).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BandKeys {
    bands: usize,
    keys: Vec<u32>,
}

impl BandKeys {
    /// An empty store for documents of `bands` keys.
    pub fn new(bands: usize) -> BandKeys {
        BandKeys {
            bands,
            keys: Vec::new(),
        }
    }

    /// The store holding `keys`, `bands` per document, document after document.
    pub fn from_flat(bands: usize, keys: Vec<u32>) -> BandKeys {
        assert!(
            bands > 0 && keys.len().is_multiple_of(bands),
            "whole documents"
        );
        BandKeys { bands, keys }
    }

    /// Keys per document.
    pub fn bands(&self) -> usize {
        self.bands
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.keys.len().checked_div(self.bands).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys of document `i`.
    #[inline]
    pub fn get(&self, i: usize) -> &[u32] {
        &self.keys[i * self.bands..(i + 1) * self.bands]
    }

    /// Appends one document's keys (`keys.len() == bands`).
    pub fn push(&mut self, keys: &[u32]) {
        assert_eq!(keys.len(), self.bands, "one key per band");
        self.keys.extend_from_slice(keys);
    }

    /// Appends the documents of `other` (of the same band count).
    pub fn extend(&mut self, other: &BandKeys) {
        assert_eq!(self.bands, other.bands, "the same band count");
        self.keys.extend_from_slice(&other.keys);
    }

    /// Reserves room for `n` more documents.
    pub fn reserve(&mut self, n: usize) {
        self.keys.reserve(n * self.bands);
    }

    pub fn shrink_to_fit(&mut self) {
        self.keys.shrink_to_fit();
    }
}

/// Band keys stored band by band: the keys of band `b` for all documents are one slice
/// ([`BandColumns::column`]), so a search that is done with a band can free it
/// ([`BandColumns::truncate`], from the last band down).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BandColumns {
    bands: usize,
    docs: usize,
    /// `keys[b * docs + i]` is the key of document `i` in band `b`.
    keys: Vec<u32>,
}

/// Documents copied at a time by [`BandKeys::into_columns`], whose rows are then freed.
const TRANSPOSE_BLOCK: usize = 8192;

impl BandKeys {
    /// The same keys stored band by band. The documents are copied from the last, a block
    /// at a time, and each block's rows freed as soon as it is copied, so the two layouts
    /// never need much more memory than one (the columns' pages are only touched, so only
    /// resident, as they are written).
    pub fn into_columns(mut self) -> BandColumns {
        let (bands, docs) = (self.bands, self.len());
        // Zeroed memory of this size comes untouched from the system.
        let mut keys = vec![0u32; bands * docs];
        let mut end = docs;
        while end > 0 {
            let start = end.saturating_sub(TRANSPOSE_BLOCK);
            for i in start..end {
                for (b, &key) in self.get(i).iter().enumerate() {
                    keys[b * docs + i] = key;
                }
            }
            self.keys.truncate(start * bands);
            self.keys.shrink_to_fit();
            end = start;
        }
        BandColumns { bands, docs, keys }
    }
}

impl BandColumns {
    /// Number of documents.
    pub fn docs(&self) -> usize {
        self.docs
    }

    /// Number of bands still held.
    pub fn bands(&self) -> usize {
        self.bands
    }

    /// The keys of band `b`, one per document.
    pub fn column(&self, b: usize) -> &[u32] {
        &self.keys[b * self.docs..(b + 1) * self.docs]
    }

    /// Keeps the first `bands` bands and frees the others' memory.
    pub fn truncate(&mut self, bands: usize) {
        self.bands = self.bands.min(bands);
        self.keys.truncate(self.bands * self.docs);
        self.keys.shrink_to_fit();
    }
}

/// An error of the band keys' temporary file, named by the directory it is in.
fn spill_error(source: std::io::Error) -> Error {
    Error::Io {
        path: std::env::temp_dir().join("<band keys spill file>"),
        source,
    }
}

/// Documents per block of [`SpilledKeys`]: a band's keys are one read per block (64 KiB).
const SPILL_BLOCK: usize = 16384;

/// Band keys written to a temporary file as they are computed instead of held, for a
/// single pass over a dataset whose size is not known in advance (72 keys a row would hold
/// 288 bytes a row; the page cache holds the file, and the system can write it out). Each
/// block of [`SPILL_BLOCK`] documents is stored band by band, so a search reads one band at
/// a time ([`SpilledKeys::column`]) with one read per block.
#[derive(Debug)]
pub struct SpilledKeys {
    bands: usize,
    docs: usize,
    file: std::fs::File,
    /// Keys of the documents after the last written block, document after document.
    pending: Vec<u32>,
}

impl SpilledKeys {
    /// An empty store for documents of `bands` keys, in a new temporary file (deleted when
    /// the store is dropped, or by the system if the process dies).
    pub fn new(bands: usize) -> Result<SpilledKeys, Error> {
        assert!(bands > 0, "at least one band");
        Ok(SpilledKeys {
            bands,
            docs: 0,
            file: tempfile::tempfile().map_err(spill_error)?,
            pending: Vec::with_capacity(SPILL_BLOCK * bands),
        })
    }

    /// Keys per document.
    pub fn bands(&self) -> usize {
        self.bands
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.docs
    }

    pub fn is_empty(&self) -> bool {
        self.docs == 0
    }

    /// Appends one document's keys (`keys.len() == bands`); a full block is written.
    pub fn push(&mut self, keys: &[u32]) -> Result<(), Error> {
        assert_eq!(keys.len(), self.bands, "one key per band");
        self.pending.extend_from_slice(keys);
        self.docs += 1;
        if self.pending.len() == SPILL_BLOCK * self.bands {
            self.write_block()?;
        }
        Ok(())
    }

    /// Writes the pending documents as a block, band by band. Only the last block may be
    /// short, so block `k` starts at document `k * SPILL_BLOCK`.
    fn write_block(&mut self) -> Result<(), Error> {
        use std::io::Write;
        let m = self.pending.len() / self.bands;
        let mut bytes = Vec::with_capacity(self.pending.len() * 4);
        for b in 0..self.bands {
            for i in 0..m {
                bytes.extend_from_slice(&self.pending[i * self.bands + b].to_ne_bytes());
            }
        }
        self.pending.clear();
        (&self.file).write_all(&bytes).map_err(spill_error)
    }

    /// Writes what is pending: call once, after the last document.
    pub fn finish(&mut self) -> Result<(), Error> {
        if !self.pending.is_empty() {
            self.write_block()?;
        }
        Ok(())
    }

    /// The keys of band `b`, one per document, into `out` (after [`SpilledKeys::finish`]).
    pub fn column(&self, b: usize, out: &mut Vec<u32>) -> Result<(), Error> {
        use std::io::{Read, Seek, SeekFrom};
        assert!(b < self.bands && self.pending.is_empty(), "a written band");
        out.clear();
        out.reserve(self.docs);
        let mut bytes = Vec::new();
        let mut start = 0;
        while start < self.docs {
            let m = SPILL_BLOCK.min(self.docs - start);
            let offset = (start * self.bands + b * m) as u64 * 4;
            bytes.resize(m * 4, 0);
            (&self.file)
                .seek(SeekFrom::Start(offset))
                .and_then(|_| (&self.file).read_exact(&mut bytes))
                .map_err(spill_error)?;
            out.extend(
                bytes
                    .chunks_exact(4)
                    .map(|k| u32::from_ne_bytes(k.try_into().expect("four bytes"))),
            );
            start += m;
        }
        Ok(())
    }
}

/// Band keys as a search takes them: held ([`BandKeys`]) or spilled ([`SpilledKeys`]).
#[derive(Debug)]
pub enum KeyStore {
    Memory(BandKeys),
    Spilled(SpilledKeys),
}

impl KeyStore {
    /// Number of documents.
    pub fn len(&self) -> usize {
        match self {
            KeyStore::Memory(k) => k.len(),
            KeyStore::Spilled(k) => k.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keys per document.
    pub fn bands(&self) -> usize {
        match self {
            KeyStore::Memory(k) => k.bands(),
            KeyStore::Spilled(k) => k.bands(),
        }
    }
}

/// Keys a [`KeyStore::for_documents`] store holds before it spills (64 MiB).
pub const SPILL_KEYS: usize = 1 << 24;

impl KeyStore {
    /// A store for about `docs` documents of `bands` keys: held up to [`SPILL_KEYS`] keys,
    /// spilled to a temporary file above.
    pub fn for_documents(bands: usize, docs: usize) -> Result<KeyStore, Error> {
        Ok(if bands.saturating_mul(docs) > SPILL_KEYS {
            KeyStore::Spilled(SpilledKeys::new(bands)?)
        } else {
            KeyStore::Memory(BandKeys::new(bands))
        })
    }

    /// The keys held in memory: a spilled store (after [`KeyStore::finish`]) read back
    /// band by band.
    pub fn into_memory(self) -> Result<BandKeys, Error> {
        let spilled = match self {
            KeyStore::Memory(k) => return Ok(k),
            KeyStore::Spilled(k) => k,
        };
        let (n, bands) = (spilled.len(), spilled.bands());
        let mut flat = vec![0u32; n * bands];
        let mut column = Vec::new();
        for b in 0..bands {
            spilled.column(b, &mut column)?;
            for (i, &key) in column.iter().enumerate() {
                flat[i * bands + b] = key;
            }
        }
        Ok(BandKeys::from_flat(bands, flat))
    }

    /// Appends one document's keys (`keys.len() == bands`).
    pub fn push(&mut self, keys: &[u32]) -> Result<(), Error> {
        match self {
            KeyStore::Memory(k) => {
                k.push(keys);
                Ok(())
            }
            KeyStore::Spilled(k) => k.push(keys),
        }
    }

    /// Writes what a spilled store has pending: call once, after the last document.
    pub fn finish(&mut self) -> Result<(), Error> {
        match self {
            KeyStore::Memory(_) => Ok(()),
            KeyStore::Spilled(k) => k.finish(),
        }
    }
}

impl From<BandKeys> for KeyStore {
    fn from(keys: BandKeys) -> KeyStore {
        KeyStore::Memory(keys)
    }
}

/// The band keys of a set of 64-bit hashes, for tests and one-off use.
pub fn band_keys_of(hashes: impl IntoIterator<Item = u64>, params: BandParams) -> Vec<u32> {
    let mut sketcher = Sketcher::new(params);
    for h in hashes {
        sketcher.add(h);
    }
    let mut out = vec![0; params.bands as usize];
    sketcher.finish(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spilled_keys_read_back_band_by_band() {
        // Two full blocks and a short one.
        let bands = 3;
        let docs = 2 * SPILL_BLOCK + 5;
        let key = |i: usize, b: usize| (i * 7 + b * 1_000_003) as u32;
        let mut spilled = SpilledKeys::new(bands).unwrap();
        for i in 0..docs {
            let keys: Vec<u32> = (0..bands).map(|b| key(i, b)).collect();
            spilled.push(&keys).unwrap();
        }
        spilled.finish().unwrap();
        assert_eq!((spilled.len(), spilled.bands()), (docs, bands));
        let mut column = Vec::new();
        for b in (0..bands).rev() {
            spilled.column(b, &mut column).unwrap();
            let expected: Vec<u32> = (0..docs).map(|i| key(i, b)).collect();
            assert_eq!(column, expected, "band {b}");
        }
        // Held in memory, document by document.
        let held = KeyStore::Spilled(spilled).into_memory().unwrap();
        assert_eq!((held.len(), held.bands()), (docs, bands));
        for i in [0, 1, SPILL_BLOCK - 1, SPILL_BLOCK, docs - 1] {
            let expected: Vec<u32> = (0..bands).map(|b| key(i, b)).collect();
            assert_eq!(held.get(i), expected, "document {i}");
        }
    }

    #[test]
    fn solved_shapes_reach_the_recall() {
        for bar in [0.3, 0.5, 0.7, 0.8, 0.9, 0.95] {
            for n in [1_000, 1_000_000, 10_000_000] {
                let p = BandParams::solve(bar, 0.99, n);
                assert!(p.recall_at(bar) >= 0.99, "{bar} {n}: {p:?}");
                assert!(p.bins() <= MAX_BINS as usize, "{p:?}");
                assert!(p.recall_at(bar + 0.05) > p.recall_at(bar));
            }
        }
        assert_eq!(
            BandParams::solve(0.5, 0.99, 1_000_000),
            BandParams { rows: 4, bands: 72 }
        );
    }

    #[test]
    fn a_measured_background_sets_the_rows() {
        // Strangers: fewer, shorter bands. Boilerplate near the bar: longer bands.
        let quiet = BandParams::solve_sampled(0.5, 0.99, 1_000_000, &[0.0; 1000]);
        let noisy = BandParams::solve_sampled(0.5, 0.99, 1_000_000, &[0.3; 1000]);
        assert!(quiet.rows < noisy.rows, "{quiet:?} {noisy:?}");
        assert!(quiet.recall_at(0.5) >= 0.99 && noisy.recall_at(0.5) >= 0.99);
        // Pairs above the bar are wanted, not spurious.
        assert_eq!(
            BandParams::solve_sampled(0.5, 0.99, 1_000_000, &[0.9; 10]),
            BandParams::solve(0.5, 0.99, 1_000_000)
        );
    }

    /// Sets of `size` hashes sharing `common` of them.
    fn pair(size: u64, common: u64, seed: u64) -> (Vec<u64>, Vec<u64>) {
        let h = |x: u64| mix64(x ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let a: Vec<u64> = (0..size).map(h).collect();
        let b: Vec<u64> = (0..common)
            .chain(1_000_000..1_000_000 + size - common)
            .map(h)
            .collect();
        (a, b)
    }

    /// Each band agrees with probability about J^rows: measured over many pairs at J = 0.5
    /// (100 of 150 hashes shared out of 200 distinct), big and small sets alike.
    #[test]
    fn band_agreement_follows_jaccard() {
        let params = BandParams { rows: 2, bands: 40 };
        for (size, common) in [(150u64, 100u64), (12, 8)] {
            let j = common as f64 / (2 * size - common) as f64;
            let (mut agree, mut total) = (0usize, 0usize);
            for seed in 0..300 {
                let (a, b) = pair(size, common, seed);
                let (ka, kb) = (band_keys_of(a, params), band_keys_of(b, params));
                agree += ka.iter().zip(&kb).filter(|(x, y)| x == y).count();
                total += ka.len();
            }
            let rate = agree as f64 / total as f64;
            let expected = j * j;
            assert!(
                (rate - expected).abs() < 0.05,
                "size {size}: rate {rate}, expected {expected}"
            );
        }
    }

    #[test]
    fn equal_sets_equal_keys_and_order_does_not_matter() {
        let params = BandParams { rows: 3, bands: 10 };
        let (a, _) = pair(50, 0, 1);
        let mut rev = a.clone();
        rev.reverse();
        rev.extend_from_slice(&a[..10]);
        assert_eq!(band_keys_of(a.clone(), params), band_keys_of(rev, params));
        let (c, _) = pair(50, 0, 2);
        let (ka, kc) = (band_keys_of(a, params), band_keys_of(c, params));
        assert!(ka.iter().zip(&kc).all(|(x, y)| x != y));
    }

    /// The band keys as first written: each empty bin walks its probes one by one.
    fn reference_keys(hashes: &[u64], params: BandParams) -> Vec<u32> {
        let k = params.bins();
        let probes: Vec<usize> = (0..k * PROBES)
            .map(|x| bin_of(mix64(0x5d3e_bb1c_7a4f_0219 ^ x as u64), k))
            .collect();
        let mut bins = vec![u64::MAX; k];
        let mut filled = vec![false; k];
        for &h in hashes {
            let b = bin_of(h, k);
            bins[b] = bins[b].min(h);
            filled[b] = true;
        }
        if !hashes.is_empty() {
            let original = bins.clone();
            for i in (0..k).filter(|&i| !filled[i]) {
                let (t, j) = (0..PROBES)
                    .find(|&t| filled[probes[i * PROBES + t]])
                    .map(|t| (t, probes[i * PROBES + t]))
                    .unwrap_or_else(|| {
                        let j = (1..k).map(|d| (i + d) % k).find(|&j| filled[j]).unwrap();
                        (PROBES + (j + k - i) % k, j)
                    });
                bins[i] = mix64(original[j] ^ (t as u64 + 1).wrapping_mul(0xa076_1d64_78bd_642f));
            }
        }
        bins.chunks(params.rows as usize)
            .enumerate()
            .map(|(b, band)| {
                let mut acc =
                    0x243f_6a88_85a3_08d3 ^ (b as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                for &v in band {
                    acc = mix64(acc ^ v).wrapping_add(0x632b_e59b_d9b4_e019);
                }
                (mix64(acc) >> 32) as u32
            })
            .collect()
    }

    proptest::proptest! {
        /// Both ways of finding the first hit (sparse and dense documents), and the
        /// fallback, give the keys of the one-probe-at-a-time definition.
        #[test]
        fn densification_equals_reference(
            size in 0usize..400,
            seed: u64,
            shape in proptest::sample::select(vec![(4u32, 72u32), (1, 5), (3, 10), (7, 45), (2, 100)]),
        ) {
            let params = BandParams { rows: shape.0, bands: shape.1 };
            let hashes: Vec<u64> = (0..size as u64).map(|x| mix64(x ^ seed)).collect();
            let mut sketcher = Sketcher::new(params);
            let mut keys = vec![0; params.bands as usize];
            // Twice with one sketcher: finish resets it.
            for _ in 0..2 {
                for &h in &hashes {
                    sketcher.add(h);
                }
                sketcher.finish(&mut keys);
                proptest::prop_assert_eq!(&keys, &reference_keys(&hashes, params));
            }
        }
    }

    #[test]
    fn columns_hold_the_same_keys() {
        let mut keys = BandKeys::new(3);
        let n = 2 * TRANSPOSE_BLOCK + 5;
        for i in 0..n as u32 {
            keys.push(&[i, i * 7, !i]);
        }
        let mut cols = keys.clone().into_columns();
        assert_eq!((cols.bands(), cols.docs()), (3, n));
        for b in 0..3 {
            let column: Vec<u32> = (0..n).map(|i| keys.get(i)[b]).collect();
            assert_eq!(cols.column(b), &column[..]);
        }
        cols.truncate(1);
        assert_eq!(cols.bands(), 1);
        assert_eq!(cols.column(0)[5], 5);
        assert_eq!(BandKeys::new(4).into_columns().bands(), 4);
    }

    #[test]
    fn store_keeps_documents_in_order() {
        let mut keys = BandKeys::new(2);
        keys.push(&[1, 2]);
        keys.push(&[3, 4]);
        let mut more = BandKeys::new(2);
        more.push(&[5, 6]);
        keys.extend(&more);
        assert_eq!(keys.len(), 3);
        assert_eq!(keys.get(1), &[3, 4]);
        assert_eq!(keys.get(2), &[5, 6]);
    }
}

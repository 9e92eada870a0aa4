//! The text deduplication of [`super::dedup`] cut into stages over partitions, for a
//! distributed engine (the Spark job, `python/simdedup/spark.py`) that only moves byte
//! blobs between tasks. Each stage takes blobs and returns blobs keyed by where they go,
//! so an engine carries a few large records per task instead of one record per band key.
//! Every stage sorts what it is given before it decides, so its output depends only on
//! the set of blobs it receives: a retried or speculative task gives the same bytes.
//!
//! Rows are named by `u64` ids increasing in input order (greedy keep-first visits them in
//! that order). A row's *home* is `row >> HOME_BITS`: a block of at most 16,384
//! consecutive rows of one input partition, whose texts one [`TextHome`] blob holds.
//! Spark's `monotonically_increasing_id` (partition << 33 | position) gives such ids. The
//! stages, with the blob each sends (`dest` is a partition in `0..parts`):
//!
//! 1. [`sketch`]: a block of rows becomes, per home, its band entries `(band, key, row)`
//!    by bucket partition (rows with shingles, copies included: exact copies are not
//!    known yet), its [`TextHome`] (ids and the compressed texts), kept by the engine at
//!    the home's partition, and digest entries `(digest, row)` by digest partition;
//! 2. [`exact`]: per digest partition, the exact copies `(row, rep)` by the copy's home,
//!    and their rows ([`copy_rows`]) for every bucket partition;
//! 3. [`band_pairs`]: per bucket partition, every pair sharing a bucket, the copies left
//!    out, to the homes of both rows; a bucket of more than [`SPLIT_RUN`] rows is cut into
//!    blocks, whose pairs (3b) [`block_pairs`] makes, block pair by block pair, over all
//!    partitions;
//! 4. [`texts`]: per home, each of its pairs once: a pair of two rows of this home is
//!    verified at once; of the others, this home's side sends its row's text to the
//!    pair's meeting partition;
//! 5. [`meet`]: per meeting partition, both texts of each pair, verified;
//! 6. [`decide`]: over all verified pairs and copies, greedy keep-first
//!    ([`crate::ops::cluster::greedy_sparse`]), copies following their representative.
//!
//! The texts are read once after the sketch (stage 4), the band keys once (stage 3).
//! The candidates are the pairs of representatives that share a band bucket, the scores
//! are [`field_jaccard`] of their shingle sets, and only pairs at the bar decide: the rules
//! of the local run over dataset rows, which therefore decides the same.

use rayon::prelude::*;

use crate::ops::cluster::greedy_sparse;
use crate::output::report::{RunPair, expand_over_copies};
use crate::text::batch::{TextBatch, TextColumn};
use crate::text::minhash::BandParams;
use crate::text::simhash::{CityHash, FIELD_SEPARATOR, TextConfig};
use crate::text::texts::{field_jaccard, shingle_set};

/// Bits of a row id below its home: a home holds at most `1 << HOME_BITS` rows (16,384: a home blob of ordinary texts is a few MB).
pub const HOME_BITS: u32 = 14;

/// The home of `row`.
pub fn home(row: u64) -> u64 {
    row >> HOME_BITS
}

/// Bits of a row id below its input partition (Spark's `monotonically_increasing_id`).
const POSITION_BITS: u32 = 33;

/// The partition of `parts` that keeps `home` (of ids `partition << 33 | position`):
/// consecutive homes of an input partition go to consecutive partitions, from an offset
/// of its own (the partition times the golden ratio, so the offsets spread evenly). A
/// function of the home alone: no task needs the list of homes.
pub fn home_part(home: u64, parts: u64) -> u64 {
    let parts = parts.max(1);
    let partition = home >> (POSITION_BITS - HOME_BITS);
    let block = home & ((1 << (POSITION_BITS - HOME_BITS)) - 1);
    let offset =
        (u128::from(partition.wrapping_mul(0x9e37_79b9_7f4a_7c15)) * u128::from(parts)) >> 64;
    (block % parts + offset as u64) % parts
}

/// A malformed blob (one no stage wrote, or truncated in transit).
#[derive(Debug, thiserror::Error)]
#[error("partitioned dedup: a malformed {what} blob")]
pub struct BadBlob {
    what: &'static str,
}

/// A blob for each destination: `(dest, bytes)`, by increasing `dest`, empty ones left out.
pub type Routed = Vec<(u64, Vec<u8>)>;

/// The partition of `parts` that a 64-bit value goes to (mixed, so band keys and digests
/// spread evenly whatever their low bits).
fn route(x: u64, parts: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) % parts.max(1)
}

/// Little-endian writing and reading of the blobs' fields.
#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn u16(&mut self, x: u16) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    fn u32(&mut self, x: u32) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    fn u64(&mut self, x: u64) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    fn f64(&mut self, x: f64) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.0.extend_from_slice(b);
    }
    /// LEB128: 7 bits a byte, low bits first, the high bit set on all but the last.
    fn varint(&mut self, mut x: u64) {
        while x >= 0x80 {
            self.0.push(x as u8 | 0x80);
            x >>= 7;
        }
        self.0.push(x as u8);
    }
}

struct Reader<'a> {
    data: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8], what: &'static str) -> Reader<'a> {
        Reader { data, what }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], BadBlob> {
        if self.data.len() < n {
            return Err(BadBlob { what: self.what });
        }
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        Ok(head)
    }
    fn u16(&mut self) -> Result<u16, BadBlob> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().expect("2")))
    }
    fn u32(&mut self) -> Result<u32, BadBlob> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4")))
    }
    fn u64(&mut self) -> Result<u64, BadBlob> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8")))
    }
    fn f64(&mut self) -> Result<f64, BadBlob> {
        Ok(f64::from_le_bytes(self.take(8)?.try_into().expect("8")))
    }
    fn bytes(&mut self) -> Result<&'a [u8], BadBlob> {
        let n = self.u64()? as usize;
        self.take(n)
    }
    fn varint(&mut self) -> Result<u64, BadBlob> {
        let mut x = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.take(1)?[0];
            x |= ((b & 0x7f) as u64) << shift;
            if b < 0x80 {
                return Ok(x);
            }
        }
        Err(BadBlob { what: self.what })
    }
    fn done(&self) -> bool {
        self.data.is_empty()
    }
}

/// Whether `rows` increase and share one home.
fn one_home(rows: &[u64]) -> bool {
    rows.windows(2)
        .all(|w| w[0] < w[1] && home(w[0]) == home(w[1]))
}

/// A home's texts (combined fields, joined by [`FIELD_SEPARATOR`]): what stage 4 needs.
/// They travel compressed (zstd), a third of their size for prose.
pub struct TextHome {
    pub rows: Vec<u64>,
    /// Text `i` is `text[offsets[i]..offsets[i + 1]]`.
    pub offsets: Vec<u64>,
    pub text: Vec<u8>,
}

/// zstd's fastest level: the blobs are compressed once and read once.
const ZSTD_LEVEL: i32 = 1;

impl TextHome {
    /// Text of the row at `position`.
    pub fn text(&self, position: usize) -> &str {
        let (a, b) = (
            self.offsets[position] as usize,
            self.offsets[position + 1] as usize,
        );
        std::str::from_utf8(&self.text[a..b]).expect("checked when decoded")
    }

    /// Position of `row` among the home's rows.
    fn position(&self, row: u64) -> Option<usize> {
        self.rows.binary_search(&row).ok()
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u64(self.rows.len() as u64);
        self.rows.iter().for_each(|&r| w.u64(r));
        self.offsets.iter().for_each(|&o| w.u64(o));
        let packed = zstd::bulk::compress(&self.text, ZSTD_LEVEL).expect("in memory");
        w.bytes(&packed);
        w.0
    }

    pub fn decode(data: &[u8]) -> Result<TextHome, BadBlob> {
        let bad = || BadBlob { what: "text home" };
        let mut r = Reader::new(data, "text home");
        let n = r.u64()? as usize;
        let rows = (0..n).map(|_| r.u64()).collect::<Result<Vec<_>, _>>()?;
        let offsets: Vec<u64> = (0..=n).map(|_| r.u64()).collect::<Result<_, _>>()?;
        let size = *offsets.last().ok_or_else(bad)? as usize;
        let text = zstd::bulk::decompress(r.bytes()?, size).map_err(|_| bad())?;
        let fits = offsets.windows(2).all(|w| w[0] <= w[1])
            && offsets.first() == Some(&0)
            && text.len() == size;
        if !r.done() || !one_home(&rows) || !fits || std::str::from_utf8(&text).is_err() {
            return Err(bad());
        }
        Ok(TextHome {
            rows,
            offsets,
            text,
        })
    }
}

/// The output of [`sketch`]: the band entries of each home in the block by bucket
/// partition, its text blobs, and the digest entries by digest partition.
pub struct Sketched {
    /// `(bucket partition, entry blob)`: one blob per home and partition, by increasing
    /// partition, then home.
    pub entries: Routed,
    /// `(home, TextHome blob)`, by increasing home.
    pub texts: Routed,
    pub digests: Routed,
}

/// Stage 1: sketches rows `rows` (increasing ids) with combined texts `texts` (fields
/// joined by [`crate::text::batch::join_fields`]) for band shape `params`, with shingle hashes
/// of `F`'s width (the command line's `--bits`: `u64` or `u128`).
pub fn sketch<F: CityHash>(
    rows: &[u64],
    texts: Vec<String>,
    config: &TextConfig,
    params: BandParams,
    parts: u64,
) -> Sketched {
    assert_eq!(rows.len(), texts.len(), "one id per text");
    assert!(rows.windows(2).all(|w| w[0] < w[1]), "increasing row ids");
    let batch = TextBatch::<F>::keys_only(texts, config, params);
    let keys = batch.bands.as_ref().expect("asked for");
    let bands = params.bands as usize;
    let mut blocks = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let h = home(rows[start]);
        let end = start + rows[start..].partition_point(|&r| home(r) == h);
        blocks.push((h, start, end));
        start = end;
    }
    let (entries, texts_out): (Vec<Routed>, Routed) = blocks
        .par_iter()
        .map(|&(h, start, end)| {
            let mut offsets = vec![0u64];
            let mut text = Vec::new();
            for i in start..end {
                text.extend_from_slice(batch.texts.get(i).as_bytes());
                offsets.push(text.len() as u64);
            }
            // Rows without shingles have no band keys; exact copies are dropped by the
            // bucket partitions (stage 3), which get the copies from stage 2.
            let with_keys: Vec<(usize, u16)> = (start..end)
                .filter(|&i| batch.docs[i].shingles != 0)
                .map(|i| (i, (rows[i] - (h << HOME_BITS)) as u16))
                .collect();
            let entries = home_entries(h, &with_keys, bands, parts, |i, b| keys.get(i)[b]);
            let text_home = TextHome {
                rows: rows[start..end].to_vec(),
                offsets,
                text,
            };
            (entries, (h, text_home.encode()))
        })
        .unzip();
    let mut entries: Routed = entries.into_iter().flatten().collect();
    entries.sort_by_key(|e| e.0); // stable: homes stay in increasing order
    let mut by_dest: Vec<Writer> = (0..parts).map(|_| Writer::default()).collect();
    for (doc, &row) in batch.docs.iter().zip(rows) {
        let w = &mut by_dest[route(doc.digest as u64, parts) as usize];
        w.u64((doc.digest >> 64) as u64);
        w.u64(doc.digest as u64);
        w.u64(row);
    }
    Sketched {
        entries,
        texts: texts_out,
        digests: routed(by_dest),
    }
}

fn routed(writers: Vec<Writer>) -> Routed {
    writers
        .into_iter()
        .enumerate()
        .filter(|(_, w)| !w.0.is_empty())
        .map(|(d, w)| (d as u64, w.0))
        .collect()
}

/// Entries `(row, other)` sorted by row, grouped into one blob per home of `row`.
fn by_home(mut entries: Vec<(u64, u64)>) -> Routed {
    entries.par_sort_unstable();
    entries.dedup();
    let mut out: Routed = Vec::new();
    for (row, other) in entries {
        let h = home(row);
        if out.last().is_none_or(|(k, _)| *k != h) {
            out.push((h, Vec::new()));
        }
        let blob = &mut out.last_mut().expect("pushed").1;
        blob.extend_from_slice(&row.to_le_bytes());
        blob.extend_from_slice(&other.to_le_bytes());
    }
    out
}

/// Decodes blobs of `(u64, u64)` entries (as [`by_home`] writes them).
fn pairs_of(blobs: &[&[u8]], what: &'static str) -> Result<Vec<(u64, u64)>, BadBlob> {
    let mut out = Vec::with_capacity(blobs.iter().map(|b| b.len() / 16).sum());
    for blob in blobs {
        let mut r = Reader::new(blob, what);
        while !r.done() {
            out.push((r.u64()?, r.u64()?));
        }
    }
    Ok(out)
}

/// Stage 2: the digest entries of one digest partition (blobs from any number of
/// [`sketch`] calls) grouped by digest: every row but the first of each group is a copy.
/// Returns `(copy, representative)` entries by home of the copy.
pub fn exact(blobs: &[&[u8]]) -> Result<Routed, BadBlob> {
    let mut entries = Vec::with_capacity(blobs.iter().map(|b| b.len() / 24).sum());
    for blob in blobs {
        let mut r = Reader::new(blob, "digest");
        while !r.done() {
            entries.push(((r.u64()? as u128) << 64 | r.u64()? as u128, r.u64()?));
        }
    }
    entries.par_sort_unstable();
    let mut copies = Vec::new();
    for run in entries.chunk_by(|x, y| x.0 == y.0) {
        copies.extend(run[1..].iter().map(|&(_, row)| (row, run[0].1)));
    }
    Ok(by_home(copies))
}

/// The band entries of home `h`'s rows `rows` (index, position in the home; positions
/// increasing), `key(index, band)` their keys, by bucket partition. An entry blob holds
/// its home, then for each band a group: the band (u16), its entries' count (a LEB128
/// varint), and each entry as its key (u32) and its position in the home, as a varint of
/// the difference from the one before (from 0): about 5 bytes an entry where `(band, key,
/// position)` take 8, with no sorting.
fn home_entries(
    h: u64,
    rows: &[(usize, u16)],
    bands: usize,
    parts: u64,
    key: impl Fn(usize, usize) -> u32,
) -> Routed {
    let mut by_dest: Vec<Writer> = (0..parts).map(|_| Writer::default()).collect();
    let mut groups: Vec<Vec<(u32, u16)>> = vec![Vec::new(); parts as usize];
    for b in 0..bands {
        for &(i, position) in rows {
            let k = key(i, b);
            let dest = route((b as u64) << 32 | k as u64, parts) as usize;
            groups[dest].push((k, position));
        }
        for (w, group) in by_dest.iter_mut().zip(groups.iter_mut()) {
            entry_group(w, h, b as u16, group);
            group.clear();
        }
    }
    routed(by_dest)
}

/// The copies of [`exact`]'s blobs (`(copy, rep)` entries) as one blob of their rows,
/// increasing, each a LEB128 varint of its difference from the one before: what every
/// bucket partition is sent, to leave the copies out of its buckets ([`band_pairs`]).
pub fn copy_rows(copies: &[&[u8]]) -> Result<Vec<u8>, BadBlob> {
    let mut rows: Vec<u64> = pairs_of(copies, "copies")?.iter().map(|p| p.0).collect();
    rows.sort_unstable();
    rows.dedup();
    let mut w = Writer::default();
    let mut last = 0;
    for row in rows {
        w.varint(row - last);
        last = row;
    }
    Ok(w.0)
}

/// The rows of [`copy_rows`] blobs, sorted.
fn read_copy_rows(blobs: &[&[u8]]) -> Result<Vec<u64>, BadBlob> {
    let mut rows = Vec::new();
    for blob in blobs {
        let mut r = Reader::new(blob, "copy rows");
        let mut row = 0u64;
        while !r.done() {
            row = row
                .checked_add(r.varint()?)
                .ok_or(BadBlob { what: "copy rows" })?;
            rows.push(row);
        }
    }
    rows.sort_unstable();
    Ok(rows)
}

/// Appends band `band`'s `entries` (key, position; positions increasing) to the entry blob
/// of home `h` in `w`, which starts with the home.
fn entry_group(w: &mut Writer, h: u64, band: u16, entries: &[(u32, u16)]) {
    if entries.is_empty() {
        return;
    }
    if w.0.is_empty() {
        w.u64(h);
    }
    w.u16(band);
    w.varint(entries.len() as u64);
    let mut last = 0;
    for &(key, position) in entries {
        w.u32(key);
        w.varint((position - last) as u64);
        last = position;
    }
}

/// An entry blob read band group by band group (bands never decrease), the rows in
/// `copies` left out: a bit a row of the blob's home marks them, so a blob costs one
/// search of the copies and an entry one bit test.
struct EntryReader<'a> {
    r: Reader<'a>,
    base: u64,
    skip: Vec<u64>,
    /// The band of the next group, if any.
    next: Option<u16>,
}

impl<'a> EntryReader<'a> {
    fn new(blob: &'a [u8], copies: &[u64]) -> Result<EntryReader<'a>, BadBlob> {
        let mut r = Reader::new(blob, "band entries");
        let h = r.u64()?;
        if h >> (64 - HOME_BITS) != 0 {
            return Err(BadBlob {
                what: "band entries",
            });
        }
        let base = h << HOME_BITS;
        let from = copies.partition_point(|&c| c < base);
        let mut skip = vec![0u64; (1 << HOME_BITS) / 64];
        for &c in copies[from..].iter().take_while(|&&c| home(c) == h) {
            let p = (c - base) as usize;
            skip[p / 64] |= 1 << (p % 64);
        }
        let next = if r.done() { None } else { Some(r.u16()?) };
        Ok(EntryReader {
            r,
            base,
            skip,
            next,
        })
    }

    /// Appends the next group's `(band << 32 | key, row)` entries to `out`.
    fn group(&mut self, out: &mut Vec<(u64, u64)>) -> Result<(), BadBlob> {
        let bad = || BadBlob {
            what: "band entries",
        };
        let band = self.next.ok_or_else(bad)?;
        let count = self.r.varint()?;
        let mut position = 0u64;
        for _ in 0..count {
            let key = self.r.u32()? as u64;
            position = position.checked_add(self.r.varint()?).ok_or_else(bad)?;
            if position >> HOME_BITS != 0 {
                return Err(bad());
            }
            if self.skip[position as usize / 64] >> (position % 64) & 1 == 0 {
                out.push(((band as u64) << 32 | key, self.base | position));
            }
        }
        self.next = if self.r.done() {
            None
        } else {
            let next = self.r.u16()?;
            if next < band {
                return Err(bad());
            }
            Some(next)
        };
        Ok(())
    }
}

fn home_of(rows: &[u64]) -> u64 {
    rows.first().map_or(0, |&r| home(r))
}

/// Entries of one bucket above which its bucket partition does not pair them itself: the
/// pairs of a longer run (k near-copies of one row make k²/2) are split over tasks in
/// blocks of this many rows ([`band_pairs`], [`block_pairs`]).
pub const SPLIT_RUN: usize = 2048;

/// The output of [`band_pairs`].
pub struct BucketPairs {
    /// `(a, b)` pair entries by home, as [`texts`] takes them.
    pub addressed: Routed,
    /// The blocks of the runs longer than the split, by partition, for [`block_pairs`].
    pub blocks: Routed,
}

/// Stage 3: every pair of rows that share a bucket in the entry blobs of one bucket
/// partition, the rows of `copies` ([`copy_rows`] blobs) left out, each once, as `(a, b)`
/// with `a < b`, to the home of `a` and to the home of
/// `b` when it is another. A bucket of more than `split` entries is not paired here: its
/// rows, sorted, are cut into blocks of `split`, and each pair of blocks (a block with
/// itself, and with each later one) goes as a job to a partition of `parts` that the
/// bucket and the two blocks pick, so its k²/2 pairs spread over the tasks of
/// [`block_pairs`]. A job blob holds the first block's rows (a u64 count, then u64 ids)
/// and the second's (count 0: the pairs within the first).
pub fn band_pairs(
    blobs: &[&[u8]],
    copies: &[&[u8]],
    parts: u64,
    split: usize,
) -> Result<BucketPairs, BadBlob> {
    let copies = read_copy_rows(copies)?;
    let mut readers = blobs
        .iter()
        .map(|b| EntryReader::new(b, &copies))
        .collect::<Result<Vec<_>, _>>()?;
    let split = split.max(1);
    let mut jobs: Vec<Writer> = (0..parts.max(1)).map(|_| Writer::default()).collect();
    let mut pairs = Vec::new();
    // A band at a time, its entries from every blob: the table in hand is one band's.
    let mut entries: Vec<(u64, u64)> = Vec::new();
    while let Some(band) = readers.iter().filter_map(|r| r.next).min() {
        entries.clear();
        for r in readers.iter_mut() {
            while r.next == Some(band) {
                r.group(&mut entries)?;
            }
        }
        sort_by_bucket(&mut entries);
        for run in entries.chunk_by(|x, y| x.0 == y.0) {
            if run.len() <= split {
                for (x, &(_, a)) in run.iter().enumerate() {
                    pairs.extend(run[x + 1..].iter().map(|&(_, b)| (a.min(b), a.max(b))));
                }
                continue;
            }
            let mut rows: Vec<u64> = run.iter().map(|e| e.1).collect();
            rows.sort_unstable();
            let blocks: Vec<&[u64]> = rows.chunks(split).collect();
            for i in 0..blocks.len() {
                for j in i..blocks.len() {
                    let job = run[0].0.rotate_left(24) ^ ((i as u64) << 40 | j as u64);
                    let w = &mut jobs[route(job, parts) as usize];
                    let other: &[u64] = if i == j { &[] } else { blocks[j] };
                    for block in [blocks[i], other] {
                        w.u64(block.len() as u64);
                        block.iter().for_each(|&r| w.u64(r));
                    }
                }
            }
        }
    }
    Ok(BucketPairs {
        addressed: to_both_homes(pairs),
        blocks: routed(jobs),
    })
}

/// Stage 3b: the pairs of the block jobs of one partition ([`band_pairs`] of long runs),
/// each once, to both rows' homes as [`band_pairs`] sends them.
pub fn block_pairs(blobs: &[&[u8]]) -> Result<Routed, BadBlob> {
    let mut pairs = Vec::new();
    for blob in blobs {
        let mut r = Reader::new(blob, "block job");
        while !r.done() {
            let mut block = || -> Result<Vec<u64>, BadBlob> {
                let n = r.u64()? as usize;
                if n > r.data.len() / 8 {
                    return Err(BadBlob { what: "block job" });
                }
                (0..n).map(|_| r.u64()).collect()
            };
            let (first, second) = (block()?, block()?);
            if second.is_empty() {
                for (x, &a) in first.iter().enumerate() {
                    pairs.extend(first[x + 1..].iter().map(|&b| (a.min(b), a.max(b))));
                }
            } else {
                for &a in &first {
                    pairs.extend(second.iter().map(|&b| (a.min(b), a.max(b))));
                }
            }
        }
    }
    Ok(to_both_homes(pairs))
}

/// Pairs `(a, b)`, `a < b`, each once, keyed by the home of `a` and, when another, of `b`
/// (as `(b, a)`).
fn to_both_homes(mut pairs: Vec<(u64, u64)>) -> Routed {
    pairs.par_sort_unstable();
    pairs.dedup();
    let mut addressed = Vec::with_capacity(pairs.len() * 2);
    for &(a, b) in &pairs {
        addressed.push((a, b));
        if home(a) != home(b) {
            addressed.push((b, a));
        }
    }
    by_home(addressed)
}

/// Sorts `(bucket, row)` entries by bucket: a stable least-significant-digit radix sort,
/// 8 bits a pass over the buckets' bits (band << 32 | key: 39 of them at 72 bands), a pass
/// whose digit is the same in every entry skipped. Rows within a bucket keep the order they
/// came in, which the pairs do not depend on (they are sorted after). On one core, 8.6M
/// entries took 214 ms against 288 ms for `sort_unstable`.
fn sort_by_bucket(entries: &mut Vec<(u64, u64)>) {
    let top = entries.iter().map(|e| e.0).max().unwrap_or(0);
    let bits = u64::BITS - top.leading_zeros();
    let mut out = vec![(0, 0); entries.len()];
    for shift in (0..bits).step_by(8) {
        let mut start = [0usize; 256];
        for e in entries.iter() {
            start[(e.0 >> shift) as usize & 255] += 1;
        }
        if start.contains(&entries.len()) {
            continue;
        }
        let mut at = 0;
        for s in start.iter_mut() {
            (*s, at) = (at, at + *s);
        }
        for &e in entries.iter() {
            let d = (e.0 >> shift) as usize & 255;
            out[start[d]] = e;
            start[d] += 1;
        }
        std::mem::swap(entries, &mut out);
    }
}

/// The output of [`texts`].
pub struct Sides {
    /// Pairs whose rows are both in this home, verified: a verified blob.
    pub verified: Vec<u8>,
    /// The other pairs, each with this home's row's text, by meeting partition.
    pub sides: Routed,
    /// Distinct candidate pairs counted here: those within the home, and those with another
    /// home whose first row is this home's (the sum over all homes counts each once).
    pub candidates: u64,
}

/// The meeting partition of pair `(a, b)`, where both its texts go.
fn meeting(a: u64, b: u64, parts: u64) -> u64 {
    route(a.rotate_left(32) ^ b, parts)
}

/// Stage 4: the pairs addressed to one home (the [`band_pairs`] blobs for it, each entry
/// `(row of this home, other row)`), each once. A pair of two rows of this home is
/// verified at `threshold` at once; for the others, this home's row's text goes to the
/// pair's meeting partition as `(a, b, text)` (a side blob).
pub fn texts(
    home_blob: &[u8],
    pairs: &[&[u8]],
    threshold: f64,
    config: &TextConfig,
    parts: u64,
) -> Result<Sides, BadBlob> {
    let home = TextHome::decode(home_blob)?;
    let mut pairs = pairs_of(pairs, "pairs")?;
    pairs.par_sort_unstable();
    pairs.dedup();
    let position = |row| home.position(row).ok_or(BadBlob { what: "pairs" });
    let h = home_of(&home.rows);
    let mut local = Vec::new();
    let mut sides: std::collections::BTreeMap<u64, Writer> = Default::default();
    let mut candidates = 0;
    for (mine, other) in pairs {
        candidates += (self::home(other) == h || mine < other) as u64;
        if self::home(other) == h {
            // Both rows here: the pair arrived once, as (a, b).
            local.push((mine, position(mine)?, other, position(other)?));
            continue;
        }
        let (a, b) = (mine.min(other), mine.max(other));
        let w = sides.entry(meeting(a, b, parts)).or_default();
        w.u64(a);
        w.u64(b);
        w.u64(mine);
        w.bytes(home.text(position(mine)?).as_bytes());
    }
    let verified = score_pairs(
        &local,
        |p| home.text(p),
        |p| home.text(p),
        threshold,
        config,
    );
    Ok(Sides {
        verified,
        sides: sides.into_iter().map(|(k, w)| (k, w.0)).collect(),
        candidates,
    })
}

/// Scores pairs `(a, position of a, b, position of b)`, sorted by `a`, by
/// [`field_jaccard`], keeping those at `threshold` as a verified blob; a run of one
/// `a` builds its shingle set once.
fn score_pairs<'t>(
    pairs: &[(u64, usize, u64, usize)],
    text_a: impl Fn(usize) -> &'t str + Sync,
    text_b: impl Fn(usize) -> &'t str + Sync,
    threshold: f64,
    config: &TextConfig,
) -> Vec<u8> {
    let set = |t: &str| shingle_set(t, Some(FIELD_SEPARATOR), config).0;
    let scores: Vec<f64> = pairs
        .par_chunk_by(|x, y| x.0 == y.0)
        .flat_map_iter(|run| {
            let sa = set(text_a(run[0].1));
            run.iter()
                .map(|p| field_jaccard(&sa, &set(text_b(p.3))))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut w = Writer::default();
    for (p, &s) in pairs.iter().zip(&scores) {
        if s >= threshold {
            w.u64(p.0);
            w.u64(p.2);
            w.f64(s);
        }
    }
    w.0
}

/// Stage 5: the side blobs of one meeting partition: each pair's two texts, verified at
/// `threshold`. Returns a verified blob.
pub fn meet(blobs: &[&[u8]], threshold: f64, config: &TextConfig) -> Result<Vec<u8>, BadBlob> {
    let bad = || BadBlob { what: "side blobs" };
    let mut sides: Vec<(u64, u64, u64, &str)> = Vec::new();
    for blob in blobs {
        let mut r = Reader::new(blob, "side blobs");
        while !r.done() {
            let (a, b, row) = (r.u64()?, r.u64()?, r.u64()?);
            let text = std::str::from_utf8(r.bytes()?).map_err(|_| bad())?;
            sides.push((a, b, row, text));
        }
    }
    sides.par_sort_unstable();
    sides.dedup();
    // Each row's text once, by row; each pair as positions into it.
    let mut rows: Vec<(u64, &str)> = sides.iter().map(|s| (s.2, s.3)).collect();
    rows.par_sort_unstable();
    rows.dedup_by_key(|r| r.0);
    let at = |row: u64| rows.binary_search_by_key(&row, |r| r.0).expect("collected");
    let mut pairs = Vec::new();
    for two in sides.chunk_by(|x, y| (x.0, x.1) == (y.0, y.1)) {
        match two {
            [x, y] if x.2 == x.0 && y.2 == x.1 => pairs.push((x.0, at(x.0), x.1, at(x.1))),
            _ => return Err(bad()),
        }
    }
    Ok(score_pairs(
        &pairs,
        |i| rows[i].1,
        |i| rows[i].1,
        threshold,
        config,
    ))
}

/// The verified pairs `(a, b, score)`, `a < b`, of blobs [`texts`] and [`meet`] wrote.
fn verified_pairs(blobs: &[&[u8]]) -> Result<Vec<(u64, u64, f64)>, BadBlob> {
    let mut out = Vec::new();
    for blob in blobs {
        let mut r = Reader::new(blob, "verified pairs");
        while !r.done() {
            out.push((r.u64()?, r.u64()?, r.f64()?));
        }
    }
    Ok(out)
}

/// A removed row: the kept row it duplicates and the score.
pub type Decision = (u64, u64, f64);

/// Stage 6: greedy keep-first over the verified pairs (the [`texts`] and [`meet`] blobs), with every exact copy (the [`exact`] blobs) following its
/// representative: a copy of a kept row is its duplicate at score 1, a copy of a removed
/// row shares that row's decision. Returns every removed row, by increasing row.
pub fn decide(verified: &[&[u8]], copies: &[&[u8]]) -> Result<Vec<Decision>, BadBlob> {
    let mut pairs = verified_pairs(verified)?;
    pairs.par_sort_unstable_by(|x, y| (x.0, x.1).cmp(&(y.0, y.1)));
    pairs.dedup_by(|x, y| (x.0, x.1) == (y.0, y.1));
    let removed = greedy_sparse(&pairs);
    let mut out = removed.clone();
    for (copy, rep) in pairs_of(copies, "copies")? {
        out.push(match removed.binary_search_by_key(&rep, |d| d.0) {
            Ok(i) => (copy, removed[i].1, removed[i].2),
            Err(_) => (copy, rep, 1.0),
        });
    }
    out.par_sort_unstable_by_key(|d| d.0);
    Ok(out)
}

/// A run as a report takes it ([`crate::output::report`]), from the blobs stage 6 takes:
/// the pairs the local run lists ([`expand_over_copies`]) and the decisions of [`decide`] with
/// whether each removed row is an exact copy of its kept row.
pub fn run_pairs_and_decisions(
    verified: &[&[u8]],
    copies: &[&[u8]],
) -> Result<(Vec<RunPair>, Vec<RunPair>), BadBlob> {
    let decisions = decide(verified, copies)?;
    let mut copy_of = pairs_of(copies, "copies")?;
    copy_of.sort_unstable();
    let exact = |row: u64, kept: u64| {
        copy_of
            .binary_search_by_key(&row, |c| c.0)
            .is_ok_and(|i| copy_of[i].1 == kept)
    };
    let mut near = verified_pairs(verified)?;
    near.sort_unstable_by_key(|x| (x.0, x.1));
    near.dedup_by(|x, y| (x.0, x.1) == (y.0, y.1));
    let near: Vec<RunPair> = near.into_iter().map(|(a, b, s)| (a, b, s, false)).collect();
    let pairs = expand_over_copies(&near, &copy_of);
    let decisions = decisions
        .into_iter()
        .map(|(row, kept, score)| (row, kept, score, exact(row, kept)))
        .collect();
    Ok((pairs, decisions))
}

/// The id column's values of a block of rows (increasing ids; the value's JSON text, `None`
/// where a row has none), one blob per home, `(home, blob)` by increasing home: what the
/// output's `duplicate_of` needs, kept at each home's partition beside its texts.
pub fn id_homes(rows: &[u64], ids: &[Option<String>]) -> Routed {
    let mut out: Routed = Vec::new();
    let mut at = 0;
    while at < rows.len() {
        let h = home(rows[at]);
        let end = at + rows[at..].partition_point(|&r| home(r) == h);
        let mut w = Writer::default();
        w.u64((end - at) as u64);
        for (&row, id) in rows[at..end].iter().zip(&ids[at..end]) {
            w.u64(row);
            // Length + 1, 0 for no value.
            w.u64(id.as_ref().map_or(0, |s| s.len() as u64 + 1));
            w.0.extend_from_slice(id.as_deref().unwrap_or("").as_bytes());
        }
        out.push((h, w.0));
        at = end;
    }
    out
}

/// The ids of `rows` from the [`id_homes`] blobs of their homes (in any order): `None`
/// for a row without a value, or whose home is not among the blobs.
pub fn names(id_blobs: &[&[u8]], rows: &[u64]) -> Result<Vec<Option<String>>, BadBlob> {
    let mut found: Vec<(u64, Option<&str>)> = Vec::new();
    for blob in id_blobs {
        let mut r = Reader::new(blob, "id home");
        for _ in 0..r.u64()? {
            let row = r.u64()?;
            let n = r.u64()? as usize;
            let text = r.take(n.saturating_sub(1))?;
            let text = std::str::from_utf8(text).map_err(|_| BadBlob { what: "id home" })?;
            found.push((row, (n > 0).then_some(text)));
        }
        if !r.done() {
            return Err(BadBlob { what: "id home" });
        }
    }
    found.sort_unstable_by_key(|f| f.0);
    Ok(rows
        .iter()
        .map(|row| {
            found
                .binary_search_by_key(row, |f| f.0)
                .ok()
                .and_then(|i| found[i].1.map(str::to_string))
        })
        .collect())
}

/// The rows of one batch of text `columns` split by nulls: the rows with a value in every
/// column and their texts (the fields joined as a record's, [`crate::text::batch::join_fields`]),
/// and the rows with a null in some column (bad rows), each in order.
pub fn join_columns(columns: &[TextColumn]) -> (Vec<usize>, Vec<String>, Vec<usize>) {
    let n = columns.first().map_or(0, TextColumn::len);
    let (good, bad): (Vec<usize>, Vec<usize>) =
        (0..n).partition(|&i| !columns.iter().any(|c| c.is_null(i)));
    let texts = good
        .par_iter()
        .map(|&i| {
            let fields: Vec<&str> = columns.iter().map(|c| c.get(i)).collect();
            crate::text::batch::join_fields(&fields)
        })
        .collect();
    (good, texts, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> TextConfig {
        TextConfig::default()
    }

    #[test]
    fn homes_spread_over_the_partitions() {
        let homes_of = |partition: u64, blocks: u64| {
            (0..blocks).map(move |b| (partition << (POSITION_BITS - HOME_BITS)) + b)
        };
        // Four input partitions of 18 homes and one of 10 over 16 partitions: about 5 each.
        let mut load = [0; 16];
        for home in (0..4).flat_map(|p| homes_of(p, 18)).chain(homes_of(4, 10)) {
            load[home_part(home, 16) as usize] += 1;
        }
        assert!(load.iter().all(|&n| (4..=7).contains(&n)), "{load:?}");
        // An input partition's homes go round the partitions.
        let mut parts: Vec<u64> = homes_of(3, 5).map(|h| home_part(h, 5)).collect();
        parts.sort_unstable();
        assert_eq!(parts, [0, 1, 2, 3, 4]);
        assert_eq!(home_part(7, 1), 0);
    }

    fn run(docs: &[&str], parts: u64, threshold: f64) -> Vec<Decision> {
        run_split(docs, parts, threshold, SPLIT_RUN)
    }

    /// The stages with buckets of more than `split` rows split over the partitions.
    fn run_split(docs: &[&str], parts: u64, threshold: f64, split: usize) -> Vec<Decision> {
        let params = BandParams { rows: 2, bands: 8 };
        // Two input partitions: rows 0.. of partition 0 and partition 1 (Spark's layout).
        let rows: Vec<u64> = (0..docs.len() as u64)
            .map(|i| {
                if i % 2 == 0 {
                    i / 2
                } else {
                    (1 << 33) | (i / 2)
                }
            })
            .collect();
        let mut entries: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut text_homes: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut digests: Vec<(u64, Vec<u8>)> = Vec::new();
        for part in [0u64, 1] {
            let (r, t): (Vec<u64>, Vec<String>) = rows
                .iter()
                .zip(docs)
                .filter(|(r, _)| **r >> 33 == part)
                .map(|(r, t)| (*r, t.to_string()))
                .unzip();
            let s = sketch::<u128>(&r, t, &config(), params, parts);
            entries.extend(s.entries);
            text_homes.extend(s.texts);
            digests.extend(s.digests);
        }
        // Each digest partition's copies, and their rows, sent to every bucket partition.
        let (mut copies, mut rows_sent) = (Vec::new(), Vec::new());
        for d in 0..parts {
            let found = exact(&group(&digests, d)).unwrap();
            let blobs: Vec<&[u8]> = found.iter().map(|(_, b)| b.as_slice()).collect();
            rows_sent.push(copy_rows(&blobs).unwrap());
            copies.extend(found);
        }
        let rows_sent: Vec<&[u8]> = rows_sent.iter().map(|b| b.as_slice()).collect();
        let (mut pairs, mut blocks) = (Vec::new(), Vec::new());
        for d in 0..parts {
            let found = band_pairs(&group(&entries, d), &rows_sent, parts, split).unwrap();
            pairs.extend(found.addressed);
            blocks.extend(found.blocks);
        }
        for d in 0..parts {
            pairs.extend(block_pairs(&group(&blocks, d)).unwrap());
        }
        let mut verified = Vec::new();
        let mut sides = Vec::new();
        for (h, blob) in &text_homes {
            let s = texts(blob, &group(&pairs, *h), threshold, &config(), parts).unwrap();
            verified.push(s.verified);
            sides.extend(s.sides);
        }
        for d in 0..parts {
            verified.push(meet(&group(&sides, d), threshold, &config()).unwrap());
        }
        let v: Vec<&[u8]> = verified.iter().map(|b| b.as_slice()).collect();
        let c: Vec<&[u8]> = copies.iter().map(|(_, b)| b.as_slice()).collect();
        // Back to input positions.
        let index = |r: u64| rows.iter().position(|&x| x == r).unwrap() as u64;
        let mut got: Vec<Decision> = decide(&v, &c)
            .unwrap()
            .into_iter()
            .map(|(r, k, s)| (index(r), index(k), s))
            .collect();
        got.sort_by_key(|d| d.0);
        got
    }

    fn group(routed: &[(u64, Vec<u8>)], key: u64) -> Vec<&[u8]> {
        routed
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, b)| b.as_slice())
            .collect()
    }

    #[test]
    fn copies_and_near_copies_across_partitions() {
        let texts = [
            "the quick brown fox jumps over the lazy dog today",
            "a completely different sentence about cats and their naps",
            "the quick brown fox jumps over the lazy dog today",
            "the quick brown fox jumps over the lazy dog tonight",
            "short",
            "short",
        ];
        for parts in [1, 3, 7] {
            let got = run(&texts, parts, 0.5);
            let rows: Vec<(u64, u64)> = got.iter().map(|d| (d.0, d.1)).collect();
            // Row 2 copies 0, row 3 is a near copy of 0, row 5 copies 4 (no shingles).
            assert_eq!(rows, vec![(2, 0), (3, 0), (5, 4)], "parts {parts}");
            assert_eq!(got[0].2, 1.0);
            assert!(got[1].2 >= 0.5 && got[1].2 < 1.0);
        }
    }

    #[test]
    fn split_buckets_decide_as_whole_ones() {
        // 40 near-copies of one row (runs of 40 in most bands) among other rows.
        let base = "this page is part of the documentation of our product";
        let mut docs: Vec<String> = (0..40).map(|i| format!("{base} see section {i}")).collect();
        docs.extend((0..30).map(|i| format!("an unrelated row number {i} about {}", i * 7)));
        let docs: Vec<&str> = docs.iter().map(|d| d.as_str()).collect();
        for parts in [1, 3] {
            let whole = run_split(&docs, parts, 0.5, SPLIT_RUN);
            assert!(whole.len() >= 30, "{} removed", whole.len());
            for split in [1, 3, 16] {
                assert_eq!(
                    run_split(&docs, parts, 0.5, split),
                    whole,
                    "split {split}, parts {parts}"
                );
            }
        }
    }

    #[test]
    fn a_copy_of_a_removed_row_follows_it() {
        let texts = [
            "one two three four five six seven eight nine ten",
            "one two three four five six seven eight nine eleven",
            "one two three four five six seven eight nine eleven",
        ];
        let got = run(&texts, 2, 0.5);
        let rows: Vec<(u64, u64)> = got.iter().map(|d| (d.0, d.1)).collect();
        assert_eq!(rows, vec![(1, 0), (2, 0)]);
        assert_eq!(got[0].2, got[1].2);
    }

    #[test]
    fn stages_give_the_same_bytes_whatever_order_blobs_arrive_in() {
        // 50 distinct texts, then copies of the first 10 (rows 50 to 59).
        let docs: Vec<String> = (0..60)
            .map(|i| {
                format!(
                    "row {} of a set of texts that share words {}",
                    (i % 50) % 20,
                    (i % 50) % 7
                )
            })
            .collect();
        let rows: Vec<u64> = (0..60).collect();
        let params = BandParams { rows: 2, bands: 6 };
        let s = sketch::<u128>(&rows, docs, &config(), params, 3);
        let mut digests: Vec<&[u8]> = s.digests.iter().map(|(_, b)| b.as_slice()).collect();
        let forward = exact(&digests).unwrap();
        digests.reverse();
        assert_eq!(exact(&digests).unwrap(), forward);
        let copies: Vec<&[u8]> = forward.iter().map(|(_, b)| b.as_slice()).collect();
        let rows_blob = copy_rows(&copies).unwrap();
        assert_eq!(
            read_copy_rows(&[&rows_blob]).unwrap(),
            (50..60).collect::<Vec<u64>>()
        );
        let copies: &[&[u8]] = &[&rows_blob];
        let entries = &s.entries;
        // An entry blob split in two, in both orders (each entry a group of its own).
        let mut all = Vec::new();
        let mut reader = EntryReader::new(&entries[0].1, &[]).unwrap();
        while reader.next.is_some() {
            reader.group(&mut all).unwrap();
        }
        let h = home(all[0].1);
        let blob = |e: &[(u64, u64)]| {
            let mut w = Writer::default();
            for &(bucket, row) in e {
                let position = (row - (h << HOME_BITS)) as u16;
                entry_group(
                    &mut w,
                    h,
                    (bucket >> 32) as u16,
                    &[(bucket as u32, position)],
                );
            }
            w.0
        };
        let (head, second) = (blob(&all[..5]), blob(&all[5..]));
        let pairs = |blobs: &[&[u8]], split| {
            let found = band_pairs(blobs, copies, 3, split).unwrap();
            (found.addressed, found.blocks)
        };
        let one = pairs(&[&entries[0].1], SPLIT_RUN);
        assert!(one.1.is_empty(), "no long run");
        // The copies are in the buckets (the sketch does not know them) but in no pair.
        assert!(all.iter().any(|e| e.1 >= 50));
        let paired = pairs_of(
            &one.0.iter().map(|(_, b)| b.as_slice()).collect::<Vec<_>>(),
            "pairs",
        )
        .unwrap();
        assert!(!paired.is_empty() && paired.iter().all(|&(a, b)| a < 50 && b < 50));
        assert_eq!(pairs(&[&head, &second], SPLIT_RUN), one);
        assert_eq!(pairs(&[&second, &head], SPLIT_RUN), one);
        // Runs split into blocks of 2 wherever the entries come from: the same jobs.
        let split = pairs(&[&head, &second], 2);
        assert!(!split.1.is_empty());
        assert_eq!(pairs(&[&second, &head], 2), split);
        // A truncated entry blob, or a position step past the home, is a malformed blob.
        let blob0 = &entries[0].1;
        assert!(band_pairs(&[&blob0[..blob0.len() - 1]], copies, 3, SPLIT_RUN).is_err());
        let mut far = Writer::default();
        far.u64(h);
        far.u16(0);
        far.varint(1);
        far.u32(7);
        far.varint(u64::MAX);
        assert!(band_pairs(&[&far.0], copies, 3, SPLIT_RUN).is_err());
        // Bands that go back in a blob: malformed (the reader takes a band at a time).
        let mut back = Writer::default();
        entry_group(&mut back, h, 2, &[(7, 0)]);
        entry_group(&mut back, h, 1, &[(7, 1)]);
        assert!(band_pairs(&[&back.0], copies, 3, SPLIT_RUN).is_err());
        assert!(block_pairs(&[&7u64.to_le_bytes()]).is_err());
    }

    #[test]
    fn buckets_sort_as_a_comparison_sort_does() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut entries: Vec<(u64, u64)> = (0..5000)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Few distinct bands and keys: long runs, and digits that never vary.
                (((x % 7) << 32) | ((x >> 40) % 300), i)
            })
            .collect();
        let mut want = entries.clone();
        want.sort_by_key(|e| e.0); // stable, as the radix sort is
        sort_by_bucket(&mut entries);
        assert_eq!(entries, want);
        let mut empty = Vec::new();
        sort_by_bucket(&mut empty);
        assert!(empty.is_empty());
    }

    #[test]
    fn names_come_from_the_id_homes() {
        let rows: Vec<u64> = vec![1, 2, (1 << HOME_BITS) + 5, (1 << HOME_BITS) + 6];
        let ids = vec![
            Some("\"a\"".to_string()),
            None,
            Some("7".to_string()),
            Some(String::new()),
        ];
        let homes = id_homes(&rows, &ids);
        assert_eq!(homes.iter().map(|h| h.0).collect::<Vec<_>>(), vec![0, 1]);
        let blobs: Vec<&[u8]> = homes.iter().rev().map(|h| &h.1[..]).collect();
        let got = names(
            &blobs,
            &[(1 << HOME_BITS) + 6, 1, 2, 99, (1 << HOME_BITS) + 5],
        )
        .unwrap();
        assert_eq!(
            got,
            vec![
                Some(String::new()),
                Some("\"a\"".into()),
                None,
                None,
                Some("7".into())
            ]
        );
        assert!(names(&[&homes[0].1[..5]], &[1]).is_err());
    }

    #[test]
    fn malformed_blobs_are_errors() {
        assert!(TextHome::decode(&[0u8; 16]).is_err());
        assert!(meet(&[&[0u8; 30]], 0.5, &config()).is_err());
        assert!(exact(&[&[0u8; 5]]).is_err());
        assert!(band_pairs(&[&[0u8; 9]], &[], 3, SPLIT_RUN).is_err());
        assert!(band_pairs(&[], &[&[0xff]], 3, SPLIT_RUN).is_err());
    }
}

//! Near-duplicate paragraphs and lines inside documents (issue 31): every document is cut
//! into units ([`crate::text::units`]), each unit kept as a 64-bit SimHash, a digest and
//! its place; exact copies are grouped by digest, the groups' first members searched for
//! pairs within a Hamming radius ([`crate::search::find_pairs`]), every candidate verified
//! by the exact Jaccard of the two shingle sets (the documents with candidates are read
//! again, once each), and the decisions taken in input order ([`crate::ops::units`]).

use std::path::Path;

use rayon::prelude::*;

use crate::error::{Error, Report};
use crate::input::{FileKind, PathList, read_byte_chunks};
use crate::ops::dedup::{ExactGroups, candidate_radius};
use crate::ops::units::{Removal, UnitKeep, UnitPair, decide};
use crate::progress::Progress;
use crate::search::{Method, SearchOptions, find_pairs_with_stats};
use crate::text::simhash::TextConfig;
use crate::text::texts::jaccard;
use crate::text::units::{Span, Splitter, Unit, UnitKind, UnitText};

/// SimHash width of a unit: 64 bits.
pub const UNIT_BITS: u32 = 64;

/// The candidate recall the automatic radius aims at for a pair exactly at the bar, under
/// the binomial model of [`candidate_radius`]: 0.9, so 22 bits of 64 at J = 0.5, where the
/// model keeps 0.99 of the pairs at J = 0.6. The radius for 0.99 at the bar (26) lets
/// about a tenth of all pairs of real text through (a 40 MB corpus of Debian
/// documentation: 275 million candidates, 141 s); see `docs/units.md`.
pub const UNIT_RECALL: f64 = 0.9;

/// Documents to cut into units, read as often as needed (twice for those with candidates).
pub trait UnitSource: Sync {
    /// Number of documents.
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// A document's name in messages.
    fn name(&self, doc: usize) -> String;
    /// Passes the document's bytes to `f(piece, last)`, in pieces.
    fn read(&self, doc: usize, f: &mut dyn FnMut(&[u8], bool)) -> Result<FileKind, Error>;
}

/// Files, read in pieces of `chunk_bytes`.
pub struct Files<'a> {
    pub paths: &'a PathList,
    /// Read files holding NUL bytes instead of skipping them as binary.
    pub allow_binary: bool,
    pub chunk_bytes: usize,
}

impl<'a> Files<'a> {
    pub fn new(paths: &'a PathList, allow_binary: bool) -> Files<'a> {
        Files {
            paths,
            allow_binary,
            chunk_bytes: crate::input::CHUNK_BYTES,
        }
    }

    pub fn path(&self, doc: usize) -> &Path {
        self.paths.get(doc)
    }
}

impl UnitSource for Files<'_> {
    fn len(&self) -> usize {
        self.paths.len()
    }
    fn name(&self, doc: usize) -> String {
        self.paths.get(doc).display().to_string()
    }
    fn read(&self, doc: usize, f: &mut dyn FnMut(&[u8], bool)) -> Result<FileKind, Error> {
        read_byte_chunks(self.paths.get(doc), self.allow_binary, self.chunk_bytes, f)
    }
}

/// Texts in memory (offsets are into their UTF-8 bytes).
pub struct InMemory<'a, S>(pub &'a [S]);

impl<S: AsRef<[u8]> + Sync> UnitSource for InMemory<'_, S> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn name(&self, doc: usize) -> String {
        format!("text {doc}")
    }
    fn read(&self, doc: usize, f: &mut dyn FnMut(&[u8], bool)) -> Result<FileKind, Error> {
        f(self.0[doc].as_ref(), true);
        Ok(FileKind::Text)
    }
}

/// A unit deduplication: what a unit is, what is similar, how it is searched, who stays.
#[derive(Clone, Copy, Debug)]
pub struct UnitJob {
    pub kind: UnitKind,
    pub text: UnitText,
    /// Units with exact Jaccard similarity at or above this are near copies.
    pub threshold: f64,
    /// The Hamming search over the units' 64-bit SimHashes and its radius.
    pub search: SearchOptions,
    pub keep: UnitKeep,
}

impl UnitJob {
    /// The defaults: `kind`'s minimum words, the radius that keeps [`UNIT_RECALL`] of the
    /// pairs at the bar, the exact block search, the first occurrence kept.
    pub fn new(kind: UnitKind, config: TextConfig, threshold: f64) -> UnitJob {
        UnitJob {
            kind,
            text: UnitText {
                config,
                min_words: kind.default_min_words(),
            },
            threshold,
            search: SearchOptions {
                method: Method::default(),
                max_distance: candidate_radius(UNIT_BITS, threshold, UNIT_RECALL),
            },
            keep: UnitKeep::First,
        }
    }
}

/// What a unit run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UnitStats {
    pub documents: usize,
    /// Documents left out as binary (NUL bytes).
    pub binary_skipped: usize,
    /// Units fingerprinted (long enough to be removed).
    pub units: usize,
    /// Distinct digests among them: the search works on these.
    pub distinct: usize,
    /// Candidate pairs within the radius.
    pub candidates: u64,
    /// Candidates at or above the bar.
    pub verified: u64,
    /// Documents read again for verification.
    pub reread: usize,
}

/// The result: every unit fingerprinted (input order), the verified pairs (between
/// distinct digests; sorted) and the removals (by unit).
#[derive(Clone, Debug, Default)]
pub struct UnitResult {
    pub units: Vec<Unit>,
    pub pairs: Vec<UnitPair>,
    pub removals: Vec<Removal>,
    pub stats: UnitStats,
}

impl UnitResult {
    /// The spans removed from document `doc`, in order (the removals are sorted by unit,
    /// so by document and offset).
    pub fn removed_spans(&self, doc: u32) -> impl Iterator<Item = Span> + '_ {
        let lo = self
            .removals
            .partition_point(|r| self.units[r.unit as usize].doc < doc);
        self.removals[lo..]
            .iter()
            .map(|r| self.units[r.unit as usize])
            .take_while(move |u| u.doc == doc)
            .map(|u| u.span())
    }

    /// Bytes removed from document `doc`.
    pub fn removed_bytes(&self, doc: u32) -> u64 {
        self.removed_spans(doc).map(|s| s.end - s.start).sum()
    }
}

/// The units of every document of `source`, in input order (in parallel over documents).
/// Unreadable documents are reported and have no units.
pub fn fingerprint_units(
    source: &dyn UnitSource,
    job: &UnitJob,
    progress: &dyn Progress,
    report: &dyn Report,
) -> (Vec<Unit>, usize) {
    let n = source.len();
    assert!(n < u32::MAX as usize, "at most 2^32 - 1 documents");
    progress.start("fingerprinting units", n as u64, "documents");
    let per_doc: Vec<(Vec<Unit>, bool)> = (0..n)
        .into_par_iter()
        .map(|d| {
            let mut units = Vec::new();
            let mut splitter = Splitter::new(job.kind);
            let mut add = |span: Span, content: &[u8]| {
                if let Some(u) = job.text.unit(d as u32, span, content) {
                    units.push(u);
                }
            };
            let read = source.read(d, &mut |piece, _| splitter.push(piece, &mut add));
            progress.inc(1);
            match read {
                Ok(FileKind::Text) => {
                    splitter.finish(&mut add);
                    (units, false)
                }
                Ok(FileKind::Binary) => (Vec::new(), true),
                Err(e) => {
                    report.report(e);
                    (Vec::new(), false)
                }
            }
        })
        .collect();
    progress.finish();
    let binary = per_doc.iter().filter(|(_, b)| *b).count();
    let mut units = Vec::with_capacity(per_doc.iter().map(|(u, _)| u.len()).sum());
    for (u, _) in per_doc {
        units.extend_from_slice(&u);
    }
    (units, binary)
}

/// Deduplicates the paragraphs or lines of `source`.
pub fn dedup_units(
    source: &dyn UnitSource,
    job: &UnitJob,
    progress: &dyn Progress,
    report: &dyn Report,
) -> UnitResult {
    let (units, binary_skipped) = fingerprint_units(source, job, progress, report);
    assert!(units.len() < u32::MAX as usize, "at most 2^32 - 2 units");
    let groups = ExactGroups::by_key((0..units.len() as u32).collect(), |i| {
        units[i as usize].digest
    });
    let reps: Vec<u32> = groups.iter().map(|g| g[0]).collect();
    let fps: Vec<u64> = reps
        .iter()
        .map(|&r| units[r as usize].fingerprint)
        .collect();
    let (found, _) = find_pairs_with_stats(&fps, &job.search, progress);
    drop(fps);
    // Groups are ordered by their first member, so `reps` ascends and a < b carries over.
    let candidates: Vec<(u32, u32)> = found
        .iter()
        .map(|p| (reps[p.a as usize], reps[p.b as usize]))
        .collect();
    drop(found);
    let (mut pairs, reread) = verify(source, job, &units, &candidates, progress, report);
    pairs.sort_by_key(|p| (p.a, p.b));
    let removals = decide(units.len(), &groups, &pairs, job.keep);
    let stats = UnitStats {
        documents: source.len(),
        binary_skipped,
        units: units.len(),
        distinct: reps.len(),
        candidates: candidates.len() as u64,
        verified: pairs.len() as u64,
        reread,
    };
    UnitResult {
        units,
        pairs,
        removals,
        stats,
    }
}

/// The candidates at or above the bar, with their exact similarity, and the number of
/// documents read again. The shingle sets of the units in candidate pairs are built from
/// one more read of each document holding one (8 bytes per distinct shingle); a document
/// whose units changed since they were fingerprinted is named and its pairs left out.
fn verify(
    source: &dyn UnitSource,
    job: &UnitJob,
    units: &[Unit],
    candidates: &[(u32, u32)],
    progress: &dyn Progress,
    report: &dyn Report,
) -> (Vec<UnitPair>, usize) {
    let mut wanted: Vec<u32> = candidates.iter().flat_map(|&(a, b)| [a, b]).collect();
    wanted.sort_unstable();
    wanted.dedup();
    // Runs of `wanted` by document.
    let mut docs: Vec<(u32, usize, usize)> = Vec::new();
    for (i, &u) in wanted.iter().enumerate() {
        let d = units[u as usize].doc;
        match docs.last_mut() {
            Some((last, _, end)) if *last == d => *end = i + 1,
            _ => docs.push((d, i, i + 1)),
        }
    }
    progress.start("verifying units", docs.len() as u64, "documents");
    let sets: Vec<Vec<Option<Vec<u64>>>> = docs
        .par_iter()
        .map(|&(d, lo, hi)| {
            let want = &wanted[lo..hi];
            let mut sets: Vec<Option<Vec<u64>>> = vec![None; want.len()];
            let mut k = 0;
            let mut splitter = Splitter::new(job.kind);
            let mut changed = false;
            let mut take = |span: Span, content: &[u8]| {
                while k < want.len() && units[want[k] as usize].start < span.start {
                    k += 1;
                }
                if k < want.len() && units[want[k] as usize].start == span.start {
                    let u = &units[want[k] as usize];
                    match job.text.shingle_set(content) {
                        Some((set, digest)) if digest == u.digest && u.span() == span => {
                            sets[k] = Some(set)
                        }
                        _ => changed = true,
                    }
                    k += 1;
                }
            };
            let read = source.read(d as usize, &mut |p, _| splitter.push(p, &mut take));
            if let Ok(FileKind::Text) = read {
                splitter.finish(&mut take);
            }
            progress.inc(1);
            let lost = sets.iter().any(Option::is_none);
            match read {
                Ok(FileKind::Text) if !changed && !lost => {}
                Err(e) => report.report(e),
                _ => report.report(Error::Changed {
                    name: source.name(d as usize),
                }),
            }
            if changed || lost {
                sets.iter_mut().for_each(|s| *s = None);
            }
            sets
        })
        .collect();
    progress.finish();
    let sets: Vec<Option<Vec<u64>>> = sets.into_iter().flatten().collect();
    let set = |u: u32| sets[wanted.binary_search(&u).expect("wanted")].as_deref();
    let pairs = candidates
        .par_iter()
        .filter_map(|&(a, b)| {
            let (sa, sb) = (set(a)?, set(b)?);
            let similarity = jaccard(sa, sb);
            (similarity >= job.threshold).then_some(UnitPair { a, b, similarity })
        })
        .collect();
    (pairs, docs.len())
}

/// `bytes` without `spans` (sorted, disjoint, within `bytes`): the rewritten document.
pub fn cut(bytes: &[u8], spans: impl IntoIterator<Item = Span>) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0usize;
    for s in spans {
        out.extend_from_slice(&bytes[at..s.start as usize]);
        at = s.end as usize;
    }
    out.extend_from_slice(&bytes[at..]);
    out
}

#[cfg(test)]
mod tests;

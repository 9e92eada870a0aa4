//! Near-duplicate pairs of a fingerprinted corpus, in output order.
//!
//! The normal mode leaves out documents without shingles (too short to say anything) and
//! lists pairs by input order. The seed-compatible mode searches every document, as the
//! seed does, and writes each pair longer document first, grouped as the seed groups them.

use std::cmp::Reverse;
use std::collections::HashMap;

use crate::corpus::Corpus;
use crate::fingerprint::Fingerprint;
use crate::progress::Progress;
use crate::search::{self, Method, SearchOptions, rotate};

/// A near-duplicate pair of documents, as indexes into `Corpus::docs`, in output order
/// (`first` is written first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DocPair {
    pub first: usize,
    pub second: usize,
    pub distance: u32,
    /// For the rotate method: the rotation (pass) in which the pair was first found.
    pub pass: Option<u32>,
}

/// Every pair within `opts.max_distance` among documents that have shingles, sorted by
/// input order (`first < second`).
pub fn near_pairs<F: Fingerprint>(
    corpus: &Corpus<F>,
    opts: &SearchOptions,
    progress: &dyn Progress,
) -> Vec<DocPair> {
    let eligible: Vec<usize> = (0..corpus.docs.len())
        .filter(|&i| corpus.docs[i].shingles > 0)
        .collect();
    let fps: Vec<F> = eligible.iter().map(|&i| corpus.fingerprints[i]).collect();
    search::find_pairs(&fps, opts, progress)
        .into_iter()
        .map(|p| DocPair {
            first: eligible[p.a as usize],
            second: eligible[p.b as usize],
            distance: p.distance,
            pass: None,
        })
        .collect()
}

/// The seed script's pairs: rotate passes over every document (short ones included), each
/// pair written longer document first (in characters), ties by the smaller path; pairs
/// grouped by their first document, groups in order of first discovery.
pub fn seed_pairs<F: Fingerprint>(
    corpus: &Corpus<F>,
    max_distance: u32,
    window: usize,
    progress: &dyn Progress,
) -> Vec<DocPair> {
    let found = rotate::search(&corpus.fingerprints, max_distance, window, progress);
    let docs = &corpus.docs;
    let mut groups: Vec<Vec<DocPair>> = Vec::new();
    let mut group_of: HashMap<usize, usize> = HashMap::new();
    for f in found {
        let (a, b) = (f.pair.a as usize, f.pair.b as usize);
        let key = |i: usize| (Reverse(docs[i].chars), &docs[i].path);
        let (first, second) = if key(a) <= key(b) { (a, b) } else { (b, a) };
        let g = *group_of.entry(first).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(DocPair {
            first,
            second,
            distance: f.pair.distance,
            pass: Some(f.pass),
        });
    }
    groups.into_iter().flatten().collect()
}

/// The search options of a method name, for callers that pick the method at run time.
pub fn rotate_options(max_distance: u32, window: usize) -> SearchOptions {
    SearchOptions {
        method: Method::Rotate { window },
        max_distance,
    }
}

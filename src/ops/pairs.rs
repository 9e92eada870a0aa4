//! Near-duplicate pairs of a fingerprinted corpus, in output order.
//!
//! The normal mode leaves out documents without shingles (too short to say anything) and
//! lists pairs by input order. The seed-compatible mode searches every document, as the
//! seed does, and writes each pair longer document first, grouped as the seed groups them.

use std::cmp::Reverse;
use std::collections::HashMap;

use crate::fingerprint::Fingerprint;
use crate::progress::Progress;
use crate::search::{self, Method, Pair, SearchOptions, rotate};
use crate::text::corpus::Corpus;

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

/// The seed script's pairs, in discovery order: every document searched (short ones
/// included), each pair oriented longer document first (in characters), ties by the
/// smaller path. With the rotate method (the seed's), discovery order is pass order and
/// each pair remembers its pass; other methods discover pairs in input order.
/// [`group_by_first`] gives the order in which the seed writes them.
pub fn seed_pairs<F: Fingerprint>(
    corpus: &Corpus<F>,
    opts: &SearchOptions,
    progress: &dyn Progress,
) -> Vec<DocPair> {
    let found: Vec<(Pair, Option<u32>)> = match opts.method {
        Method::Rotate { window } => {
            rotate::search(&corpus.fingerprints, opts.max_distance, window, progress)
                .into_iter()
                .map(|f| (f.pair, Some(f.pass)))
                .collect()
        }
        _ => search::find_pairs(&corpus.fingerprints, opts, progress)
            .into_iter()
            .map(|p| (p, None))
            .collect(),
    };
    let docs = &corpus.docs;
    let key = |i: usize| (Reverse(docs[i].chars), corpus.path(i));
    found
        .into_iter()
        .map(|(pair, pass)| {
            let (a, b) = (pair.a as usize, pair.b as usize);
            let (first, second) = if key(a) <= key(b) { (a, b) } else { (b, a) };
            DocPair {
                first,
                second,
                distance: pair.distance,
                pass,
            }
        })
        .collect()
}

/// Groups pairs by their first document, groups in order of first appearance, keeping the
/// order within each group: the order in which the seed writes its pairs.
pub fn group_by_first(pairs: &[DocPair]) -> Vec<DocPair> {
    let mut groups: Vec<Vec<DocPair>> = Vec::new();
    let mut group_of: HashMap<usize, usize> = HashMap::new();
    for p in pairs {
        let g = *group_of.entry(p.first).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(*p);
    }
    groups.into_iter().flatten().collect()
}

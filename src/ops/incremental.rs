//! New documents against an index: the pairs one deduplication run over the indexed
//! documents and the new ones would report, restricted to pairs that touch a new document.
//! The index supplies the stored fingerprints, counts and band keys; indexed files in
//! candidate pairs are read again for verification.

use std::borrow::Cow;
use std::path::Path;

use crate::error::{Error, Report};
use crate::fingerprint::Fingerprint;
use crate::index::{DocRecord, Index, IndexView};
use crate::input::{CHUNK_BYTES, Contents, read_chunks, read_text};
use crate::ops::dedup::{DedupOptions, KeepOrder, NewPairs, pairs_with_new};
use crate::progress::Progress;
use crate::search::{self, Pair};
use crate::text::corpus::Corpus;
use crate::text::minhash::BandKeys;
use crate::text::simhash::TextConfig;
use crate::text::texts::{DocStats, TextSource};
use crate::verify::{ScoredPair, verify_pairs};

/// The indexed documents, then the new ones, numbered as one run over both would number
/// them; files are read again for verification (and for a query's report).
pub struct Union<'a, F> {
    index: IndexView<'a>,
    corpus: &'a Corpus<F>,
}

impl<'a, F> Union<'a, F> {
    /// The documents of `index`, then those of `corpus`.
    pub fn new(index: IndexView<'a>, corpus: &'a Corpus<F>) -> Union<'a, F> {
        Union { index, corpus }
    }

    fn path(&self, i: usize) -> Cow<'_, Path> {
        match i.checked_sub(self.index.len()) {
            None => self.index.path(i),
            Some(j) => Cow::Borrowed(self.corpus.path(j)),
        }
    }
}

/// Files are read again as the plain run reads them (streamed; a file that turned binary
/// counts as changed: its digest no longer matches).
impl<F: Sync> TextSource for Union<'_, F> {
    fn text(&self, i: usize) -> Result<String, Error> {
        match read_text(&self.path(i), true)? {
            Contents::Text(text) => Ok(text),
            Contents::Binary => unreachable!("binary files are read as text here"),
        }
    }

    fn name(&self, i: usize) -> String {
        self.path(i).display().to_string()
    }

    fn shingle_set(&self, i: usize, config: &TextConfig) -> Result<(Vec<u64>, u128), Error> {
        crate::text::texts::stream_shingle_set(config, |push| {
            read_chunks(&self.path(i), true, CHUNK_BYTES, push).map(|_| ())
        })
    }
}

/// New documents against an index: every pair a single deduplication run over the indexed
/// documents followed by `corpus` would report ([`crate::ops::dedup::dedup`] with `opts`)
/// that involves a document of `corpus`. Documents are numbered as in that run: indexed
/// ones `0..index.len()`, then `corpus`'s. `corpus` must be fingerprinted with the index's
/// settings (an error otherwise); indexed files in candidate pairs are read again for
/// verification, and one that changed or vanished is reported and its pairs left out.
///
/// When the index and `corpus` have band keys of one shape, the indexed documents are
/// looked up ([`pairs_with_new_indexed`]): the work grows with the new documents and their matches,
/// not with the index. Otherwise the exact Hamming search runs over both
/// ([`pairs_with_new`]).
pub fn query<F: Fingerprint>(
    index: &Index,
    corpus: &Corpus<F>,
    opts: &DedupOptions,
    progress: &dyn Progress,
    report: &dyn Report,
) -> Result<NewPairs, Error> {
    let view = index.view();
    if F::BITS != view.settings().bits {
        return Err(Error::Incompatible {
            path: index.file().to_path_buf(),
            message: format!(
                "the index holds {}-bit fingerprints, not {}-bit",
                view.settings().bits,
                F::BITS
            ),
        });
    }
    let source = Union {
        index: view,
        corpus,
    };
    match (view.settings().bands, &corpus.bands) {
        (Some(shape), Some(keys)) if keys.bands() == shape.bands as usize => {
            Ok(pairs_with_new_indexed(
                view,
                &corpus.fingerprints,
                &corpus.docs,
                keys,
                &source,
                opts,
                progress,
                report,
            ))
        }
        _ => {
            let mut fingerprints = view.fingerprints::<F>().expect("width checked");
            fingerprints.extend_from_slice(&corpus.fingerprints);
            let mut docs: Vec<DocRecord> = (0..view.len()).map(|i| view.doc(i)).collect();
            docs.extend(corpus.docs.iter().map(|d| DocRecord {
                chars: d.chars,
                shingles: d.shingles,
                digest: d.digest,
            }));
            Ok(pairs_with_new(
                &fingerprints,
                &docs,
                view.len(),
                &source,
                &view.settings().text,
                opts,
                progress,
                report,
            ))
        }
    }
}

/// A group of exact duplicates (one digest) that holds a new document: its indexed members
/// (from the index's digest order), then its new ones, ascending; the first represents it.
struct FreshGroup {
    digest: u128,
    members: Vec<u32>,
    /// A new member, whose band keys are the group's.
    new: usize,
}

/// [`query`] with band keys: the new documents (`fingerprints`, `docs`, `keys`, numbered
/// after the index's) against the index `view`, by lookups in its sorted tables
/// ([`crate::index::Tables`]), texts from `source`. The candidates are those of the band search over the
/// representatives of old and new documents together, restricted to pairs with a new
/// document, as [`pairs_with_new`] finds them: the fresh groups' representatives with each
/// other (the band search over them alone), and each with every indexed representative
/// sharing one of its band keys (each indexed document found stands for its group: equal
/// texts have equal keys).
#[allow(clippy::too_many_arguments)]
pub(crate) fn pairs_with_new_indexed<F: Fingerprint, D: DocStats>(
    view: IndexView,
    fingerprints: &[F],
    docs: &[D],
    keys: &BandKeys,
    source: &dyn TextSource,
    opts: &DedupOptions,
    progress: &dyn Progress,
    report: &dyn Report,
) -> NewPairs {
    assert_eq!(
        opts.keep,
        KeepOrder::First,
        "an index keeps the first document"
    );
    let n = view.len();
    let tables = view.tables();
    let shingles = |i: usize| match i.checked_sub(n) {
        None => view.doc(i).shingles,
        Some(j) => docs[j].shingles(),
    };
    let digest = |i: usize| match i.checked_sub(n) {
        None => view.digest(i),
        Some(j) => docs[j].digest(),
    };
    let fingerprint = |i: usize| match i.checked_sub(n) {
        None => view.fingerprint::<F>(i).expect("width checked"),
        Some(j) => fingerprints[j],
    };

    // 1. The groups that hold a new document, by digest.
    let mut new_order: Vec<u32> = (0..docs.len() as u32).collect();
    new_order.sort_by_key(|&j| docs[j as usize].digest());
    let mut fresh: Vec<FreshGroup> = new_order
        .chunk_by(|&x, &y| docs[x as usize].digest() == docs[y as usize].digest())
        .map(|run| {
            let digest = docs[run[0] as usize].digest();
            let mut members: Vec<u32> = tables.with_digest(digest).collect();
            members.extend(run.iter().map(|&j| n as u32 + j));
            FreshGroup {
                digest,
                members,
                new: run[0] as usize,
            }
        })
        .collect();
    fresh.sort_by_key(|g| g.members[0]);
    let searched: Vec<&FreshGroup> = fresh
        .iter()
        .filter(|g| shingles(g.members[0] as usize) > 0)
        .collect();

    // 2. Candidates among fresh representatives: the band search over them.
    let mut candidates: Vec<Pair> = Vec::new();
    let mut own = BandKeys::new(keys.bands());
    for g in &searched {
        own.push(keys.get(g.new));
    }
    let positions: Vec<u32> = (0..searched.len() as u32).collect();
    search::bands::search(&own, &positions, progress, &mut |group| {
        candidates.extend(group.iter().map(|p| {
            let (a, b) = (
                searched[p.a as usize].members[0],
                searched[p.b as usize].members[0],
            );
            Pair::new(a, b, 0)
        }))
    });
    drop(own);

    // 3. Each fresh representative against the indexed documents sharing a band key: the
    //    stale groups they stand for (a document of a fresh group was paired in 2).
    let mut fresh_digests: Vec<u128> = fresh.iter().map(|g| g.digest).collect();
    fresh_digests.sort_unstable();
    let stale_rep = |d: u32| -> Option<u32> {
        let digest = view.digest(d as usize);
        if fresh_digests.binary_search(&digest).is_ok() || view.doc(d as usize).shingles == 0 {
            return None;
        }
        tables.with_digest(digest).next()
    };
    for g in &searched {
        let rep = g.members[0];
        let mut found: Vec<u32> = Vec::new();
        for (band, &key) in keys.get(g.new).iter().enumerate() {
            found.extend(tables.with_key(band, key));
        }
        found.sort_unstable();
        found.dedup();
        let mut reps: Vec<u32> = found.into_iter().filter_map(stale_rep).collect();
        reps.sort_unstable();
        reps.dedup();
        candidates.extend(reps.into_iter().map(|r| Pair::new(r, rep, 0)));
    }
    for p in &mut candidates {
        p.distance = fingerprint(p.a as usize).distance(&fingerprint(p.b as usize));
    }
    candidates.sort_unstable();
    candidates.dedup();

    // 4. Verification, then each pair over both groups' members.
    let near = verify_pairs(
        &candidates,
        source,
        &view.settings().text,
        &digest,
        opts.min_similarity,
        progress,
        report,
    );
    let members = |r: u32| -> Vec<u32> {
        match fresh.binary_search_by_key(&r, |g| g.members[0]) {
            Ok(g) => fresh[g].members.clone(),
            Err(_) => tables.with_digest(view.digest(r as usize)).collect(),
        }
    };
    let mut pairs = Vec::new();
    for g in &fresh {
        for (x, &a) in g.members.iter().enumerate() {
            for &b in &g.members[x + 1..] {
                pairs.push(ScoredPair {
                    a,
                    b,
                    distance: 0,
                    score: 1.0,
                    exact: true,
                });
            }
        }
    }
    for p in &near {
        let (left, right) = (members(p.a), members(p.b));
        for &a in &left {
            for &b in &right {
                pairs.push(ScoredPair {
                    a: a.min(b),
                    b: a.max(b),
                    ..*p
                });
            }
        }
    }
    pairs.retain(|p| p.b as usize >= n);
    pairs.sort_unstable_by_key(|p| (p.a, p.b));
    NewPairs {
        pairs,
        candidates: candidates.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Builder;
    use crate::ops::dedup::tests::{Sample, sample};
    use crate::ops::dedup::{Candidates, Grouping, candidate_radius, dedup};
    use crate::search::SearchOptions;

    /// Lookups in an index of the first documents give the full band run's pairs that
    /// involve the others, for every split: exact copies across the split (old A ~ old B,
    /// new A' = A gives B ~ A'), near copies and texts too short for a shingle.
    #[test]
    fn indexed_pairs_equal_the_full_band_run_restricted() {
        let Sample {
            config,
            texts,
            fps,
            docs,
            keys,
        } = sample();
        let report = |e: Error| panic!("{e}");
        let opts = DedupOptions {
            search: SearchOptions::exact(candidate_radius(64, 0.5, 0.99)),
            min_similarity: 0.5,
            keep: KeepOrder::First,
            grouping: Grouping::Greedy,
        };
        let full = dedup(
            &fps,
            &docs,
            Candidates::Bands(&keys),
            &texts,
            &config,
            &opts,
            &(),
            &report,
        );
        assert!(full.pairs.iter().any(|p| p.exact) && full.pairs.iter().any(|p| !p.exact));
        let shape = crate::text::minhash::BandParams { rows: 2, bands: 12 };
        for first_new in [0, 1, 17, 40, docs.len() - 2, docs.len()] {
            let mut builder = Builder::<u64>::new(config, Some(shape));
            for i in 0..first_new {
                let doc = DocRecord {
                    chars: docs[i].chars(),
                    shingles: docs[i].shingles(),
                    digest: docs[i].digest(),
                };
                builder.push(Path::new("x"), fps[i], doc, Some(keys.get(i)));
            }
            let mut bytes = Vec::new();
            builder.write(&mut bytes).unwrap();
            let view = IndexView::from_bytes(&bytes).unwrap();
            let mut new_keys = BandKeys::new(keys.bands());
            for i in first_new..docs.len() {
                new_keys.push(keys.get(i));
            }
            let new = pairs_with_new_indexed(
                view,
                &fps[first_new..],
                &docs[first_new..],
                &new_keys,
                &texts,
                &opts,
                &(),
                &report,
            );
            let expected: Vec<ScoredPair> = full
                .pairs
                .iter()
                .filter(|p| p.b as usize >= first_new)
                .copied()
                .collect();
            assert_eq!(new.pairs, expected, "first_new {first_new}");
        }
    }
}

//! A self-contained HTML report of a deduplication run, for choosing the threshold and
//! trusting the result: the similarity histogram of the verified pairs under the candidate
//! search's S-curve, removals at stricter bars (computed by [`Rethreshold`], as `simdedup
//! rethreshold` does), the pairs closest to the bar side by side, the largest clusters and
//! the facts of the run. The front ends hand over plain data ([`RunData`]); this module
//! summarises it ([`summarize`]) and [`html`] renders it with inline CSS and SVG only.

use std::io::{self, Write};
use std::time::Duration;

use rayon::prelude::*;

use crate::atomic_file::AtomicFile;
use crate::error::Error;
use crate::ops::cluster::{Assignment, Duplicate};
use crate::ops::dedup::{Grouping, candidate_probability};
use crate::ops::semantic::{Leak, Rethreshold};
use crate::text::minhash::BandParams;
use crate::text::texts::TextSource;
use crate::verify::ScoredPair;

pub mod html;

/// Histogram bins over similarity 0..1 (each 0.02 wide).
pub const BINS: usize = 50;
/// Pairs shown side by side: the near pairs closest to the bar.
pub const BORDERLINE: usize = 50;
/// Clusters listed, largest first.
pub const CLUSTERS: usize = 20;
/// Members named per cluster.
const CLUSTER_MEMBERS: usize = 5;
/// Words of each text compared and shown in a borderline pair (the rest is cut).
pub const PAIR_WORDS: usize = 300;
/// Characters of each text of a borderline pair read at most (a text without spaces is
/// one word): bounds the page whatever the documents.
pub const PAIR_CHARS: usize = 4000;
/// Characters of a kept member's text shown with its cluster.
const SNIPPET_CHARS: usize = 200;

/// The candidate search's chance of proposing a pair at similarity J.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Curve {
    /// MinHash bands: 1 - (1 - J^rows)^bands.
    Bands(BandParams),
    /// SimHash fingerprints within Hamming distance `radius` of `bits`: the binomial
    /// model of [`crate::ops::dedup::candidate_radius`].
    Hamming { bits: u32, radius: u32 },
    /// Not drawn (a vector search, whose bar lives in centred cosine space).
    None,
}

impl Curve {
    /// The probability that a pair at similarity `j` is a candidate, or `None` without a
    /// model.
    pub fn probability(&self, j: f64) -> Option<f64> {
        match *self {
            Curve::Bands(p) => Some(p.recall_at(j)),
            Curve::Hamming { bits, radius } => Some(candidate_probability(bits, j, radius)),
            Curve::None => None,
        }
    }
}

/// What the front end knows of the run besides its pairs and decisions.
#[derive(Clone, Debug)]
pub struct RunFacts {
    /// What ran, for the page's title (for example `simdedup dedup data.jsonl`).
    pub title: String,
    /// "Jaccard" or "cosine".
    pub similarity: String,
    /// The run's bar.
    pub threshold: f64,
    /// Inputs seen (files listed, rows read), skipped ones included.
    pub inputs: u64,
    /// Inputs left out, by reason (reasons with a count of 0 are not shown).
    pub skipped: Vec<(String, u64)>,
    /// How candidates were searched, as the summary line says it.
    pub method: String,
    pub curve: Curve,
    /// Candidate pairs the search proposed (before verification).
    pub candidates: usize,
    pub grouping: Grouping,
    /// Whether the first record of a set is kept (what [`Rethreshold`] assumes).
    pub keep_first: bool,
    /// Wall time of the run so far and the peak resident memory ([`peak_memory`]): the
    /// one line that differs between two runs of the same input.
    pub elapsed: Duration,
    pub peak_memory: Option<u64>,
}

/// A run as the report takes it.
pub struct RunData<'a> {
    pub facts: RunFacts,
    /// Number of records (the length of `assignment`).
    pub records: usize,
    /// Record `i`'s name as the TSV prints it (an escaped path, an id, a row number).
    pub name: &'a (dyn Fn(u32) -> String + Sync),
    /// Every verified pair at or above the bar, as the run returned them.
    pub pairs: &'a [ScoredPair],
    pub assignment: &'a Assignment,
    /// Records that took no part (non-finite vectors).
    pub skipped_records: &'a [u32],
    /// Where the texts are read again for the borderline pairs and clusters; `None` for
    /// vectors.
    pub texts: Option<&'a (dyn TextSource + Sync)>,
}

/// One row of the threshold table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ThresholdRow {
    pub bar: f64,
    /// Records removed at this bar.
    pub removed: usize,
    /// Verified pairs at or above it.
    pub pairs: usize,
}

/// A text cut into words, each marked when the other text of its pair lacks it there.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Marked {
    /// (word with the whitespace that follows it, differs).
    pub words: Vec<(String, bool)>,
    /// Words left out at the end (after [`PAIR_WORDS`] words).
    pub cut: usize,
    /// The text was cut at [`PAIR_CHARS`] characters first.
    pub clipped: bool,
    /// The text could not be read again (the message).
    pub unreadable: Option<String>,
}

/// A pair close to the bar, with both texts marked.
#[derive(Clone, Debug)]
pub struct Borderline {
    pub score: f64,
    pub a: String,
    pub b: String,
    pub text_a: Option<Marked>,
    pub text_b: Option<Marked>,
}

/// A kept record and the records removed as its duplicates.
#[derive(Clone, Debug)]
pub struct Cluster {
    pub kept: String,
    /// Members, the kept one included.
    pub size: usize,
    pub exact: usize,
    /// The first few removed members' names.
    pub members: Vec<String>,
    /// The start of the kept record's text.
    pub snippet: Option<String>,
}

/// Everything the page shows, computed from a [`RunData`].
#[derive(Clone, Debug)]
pub struct Summary {
    /// Pairs per similarity bin: bin `k` holds scores s with `k / BINS <= s < (k + 1) /
    /// BINS` after rounding to 4 decimals as the TSV prints them (1.0 in the last bin).
    pub bins: Vec<u64>,
    pub exact_pairs: usize,
    pub near_pairs: usize,
    pub removed: usize,
    pub thresholds: Vec<ThresholdRow>,
    pub borderline: Vec<Borderline>,
    pub clusters: Vec<Cluster>,
    /// Clusters in all (records kept with at least one duplicate).
    pub clusters_total: usize,
}

/// The bin of a score, from its 4-decimal rendering (so the histogram counts what the TSV
/// shows).
pub fn bin_of(score: f64) -> usize {
    let shown = format!("{:.4}", score.clamp(0.0, 1.0));
    let ten_thousandths: usize = shown.replace('.', "").parse().expect("digits");
    (ten_thousandths * BINS / 10_000).min(BINS - 1)
}

/// The bars of the threshold table: the run's, then each multiple of 0.05 above it, up to
/// 1.0.
pub fn table_bars(threshold: f64) -> Vec<f64> {
    let mut bars = vec![threshold];
    bars.extend(
        (1..=20)
            .map(|k| k as f64 / 20.0)
            .filter(|&b| b > threshold + 1e-9),
    );
    bars
}

/// Computes what the page shows. Reads the texts of the borderline pairs and of the
/// largest clusters' kept records again (at most [`BORDERLINE`] pairs and [`CLUSTERS`]
/// records), whatever the size of the run.
pub fn summarize(data: &RunData) -> Summary {
    let mut bins = vec![0u64; BINS];
    for p in data.pairs {
        bins[bin_of(p.score)] += 1;
    }
    let exact_pairs = data.pairs.iter().filter(|p| p.exact).count();
    // The table is computing; the texts are read meanwhile.
    let (thresholds, (borderline, (clusters_total, clusters))) = rayon::join(
        || threshold_table(data),
        || {
            rayon::join(
                || borderline(data),
                || {
                    let sizes = cluster_sizes(data.assignment);
                    (sizes.len(), clusters(data, sizes))
                },
            )
        },
    );
    Summary {
        bins,
        exact_pairs,
        near_pairs: data.pairs.len() - exact_pairs,
        removed: data.assignment.removed(),
        thresholds,
        borderline,
        clusters_total,
        clusters,
    }
}

/// Removals at each bar of [`table_bars`], by [`Rethreshold`] over the run's pairs.
fn threshold_table(data: &RunData) -> Vec<ThresholdRow> {
    let pairs: Vec<(u32, u32, f64, bool)> = data
        .pairs
        .iter()
        .map(|p| (p.a, p.b, p.score, p.exact))
        .collect();
    // The exact groups once, then one decision pass per bar, the bars in parallel.
    let decisions = Rethreshold::new(data.records, data.skipped_records, &pairs);
    let grouping = data.facts.grouping;
    let verified = data.pairs;
    table_bars(data.facts.threshold)
        .into_par_iter()
        .map(|bar| ThresholdRow {
            bar,
            removed: decisions.removed_at(bar, grouping),
            pairs: verified.iter().filter(|p| p.score >= bar).count(),
        })
        .collect()
}

/// A leakage run (`dedup --against`) as a report takes it: the reference's records first
/// (`0..references`), then the queries' (`references + q`), each leak a pair (reference,
/// query) and its query removed as a duplicate of that reference record. Deciding again at
/// a stricter bar then flags the queries whose leak reaches it, as a run at that bar would.
pub fn leak_run(
    leaks: &[Leak],
    references: usize,
    queries: usize,
) -> (Vec<ScoredPair>, Assignment) {
    let mut duplicate_of = vec![None; references + queries];
    let mut pairs: Vec<ScoredPair> = leaks
        .iter()
        .map(|l| {
            let query = references as u32 + l.query;
            duplicate_of[query as usize] = Some(Duplicate {
                kept: l.reference,
                score: l.score,
                exact: false,
            });
            ScoredPair {
                a: l.reference,
                b: query,
                distance: 0,
                score: l.score,
                exact: false,
            }
        })
        .collect();
    pairs.sort_unstable_by_key(|p| (p.a, p.b));
    (pairs, Assignment { duplicate_of })
}

/// `(a, b, score, exact)`: a pair of a run, or a removed row's decision `(row, kept,
/// score, exact)`.
pub type RunPair = (u64, u64, f64, bool);

/// The pairs of a run whose exact copies were grouped before the search, as the local run
/// lists them ([`crate::ops::dedup`]): every pair inside a group (a representative and
/// its `copies`, `(copy, representative)`) at score 1, exact, and each `near` pair between
/// representatives expanded over both groups' members; `(a, b, score, exact)` with `a < b`,
/// sorted.
pub fn expand_over_copies(near: &[RunPair], copies: &[(u64, u64)]) -> Vec<RunPair> {
    // Each representative's group: itself, then its copies in row order.
    let mut groups: std::collections::HashMap<u64, Vec<u64>> = Default::default();
    for &(copy, rep) in copies {
        groups.entry(rep).or_insert_with(|| vec![rep]).push(copy);
    }
    let mut pairs: Vec<RunPair> = Vec::new();
    for members in groups.values_mut() {
        members.sort_unstable();
        for (x, &a) in members.iter().enumerate() {
            pairs.extend(members[x + 1..].iter().map(|&b| (a, b, 1.0, true)));
        }
    }
    for (a, b, score, exact) in near {
        let ga = groups.get(a).map_or(std::slice::from_ref(a), Vec::as_slice);
        let gb = groups.get(b).map_or(std::slice::from_ref(b), Vec::as_slice);
        for &x in ga {
            pairs.extend(gb.iter().map(|&y| (x.min(y), x.max(y), *score, *exact)));
        }
    }
    pairs.par_sort_unstable_by_key(|p| (p.0, p.1));
    pairs
}

/// Two text sources as one, for [`leak_run`]'s numbering: `first`'s records, then
/// `second`'s.
pub struct Joined<'a> {
    pub first: &'a (dyn TextSource + Sync),
    pub first_len: usize,
    pub second: &'a (dyn TextSource + Sync),
}

impl TextSource for Joined<'_> {
    fn text(&self, i: usize) -> Result<String, Error> {
        match i.checked_sub(self.first_len) {
            None => self.first.text(i),
            Some(j) => self.second.text(j),
        }
    }
    fn name(&self, i: usize) -> String {
        match i.checked_sub(self.first_len) {
            None => self.first.name(i),
            Some(j) => self.second.name(j),
        }
    }
    fn separator(&self) -> Option<char> {
        self.first.separator()
    }
}

/// The near pairs closest to the bar: lowest score first, ties by record.
fn borderline_pairs<'a>(data: &RunData<'a>) -> Vec<&'a ScoredPair> {
    let mut near: Vec<&ScoredPair> = data.pairs.iter().filter(|p| !p.exact).collect();
    near.sort_by(|x, y| {
        x.score
            .total_cmp(&y.score)
            .then((x.a, x.b).cmp(&(y.a, y.b)))
    });
    near.truncate(BORDERLINE);
    near
}

/// The records whose texts the page shows (both records of each borderline pair, each
/// large cluster's kept record), sorted: a front end that holds its texts elsewhere (a
/// Spark job) fetches these alone, into [`Excerpts`].
pub fn shown_records(data: &RunData) -> Vec<u32> {
    let mut rows: Vec<u32> = borderline_pairs(data)
        .iter()
        .flat_map(|p| [p.a, p.b])
        .chain(
            cluster_sizes(data.assignment)
                .iter()
                .take(CLUSTERS)
                .map(|c| c.0),
        )
        .collect();
    rows.sort_unstable();
    rows.dedup();
    rows
}

/// The records the page names (those of [`shown_records`] and the first members listed
/// with each large cluster), sorted: a front end that names records by ids held elsewhere
/// looks up these alone.
pub fn named_records(data: &RunData) -> Vec<u32> {
    let mut rows = shown_records(data);
    for (_, members, _) in cluster_sizes(data.assignment).iter().take(CLUSTERS) {
        rows.extend(members.iter().take(CLUSTER_MEMBERS));
    }
    rows.sort_unstable();
    rows.dedup();
    rows
}

/// The texts of some records (those of [`shown_records`]) as a [`TextSource`] for the
/// report: another record's text is an error.
pub struct Excerpts {
    pub texts: std::collections::HashMap<u32, String>,
    /// The separator of the fields of a record of several, as in the run.
    pub separator: Option<char>,
}

impl TextSource for Excerpts {
    fn text(&self, i: usize) -> Result<String, Error> {
        self.texts
            .get(&(i as u32))
            .cloned()
            .ok_or_else(|| Error::Setting {
                message: format!("record {i}: its text was not fetched"),
            })
    }
    fn name(&self, i: usize) -> String {
        format!("record {i}")
    }
    fn separator(&self) -> Option<char> {
        self.separator
    }
}

/// The near pairs closest to the bar (lowest score first, ties by record), texts marked.
fn borderline(data: &RunData) -> Vec<Borderline> {
    borderline_pairs(data)
        .into_iter()
        .map(|p| {
            let (text_a, text_b) = match data.texts {
                Some(src) => {
                    let (a, b) = mark_pair(read(src, p.a), read(src, p.b));
                    (Some(a), Some(b))
                }
                None => (None, None),
            };
            Borderline {
                score: p.score,
                a: (data.name)(p.a),
                b: (data.name)(p.b),
                text_a,
                text_b,
            }
        })
        .collect()
}

/// A record's text for display: fields of a record separated by " | ".
fn read(src: &dyn TextSource, i: u32) -> Result<String, String> {
    let text = src.text(i as usize).map_err(|e| e.to_string())?;
    Ok(match src.separator() {
        Some(sep) => text.replace(sep, " | "),
        None => text,
    })
}

/// Words of `text` with the whitespace after each; at most [`PAIR_WORDS`], and the count
/// cut.
/// `text` cut at [`PAIR_CHARS`] characters, and whether it was.
fn clip(text: &str) -> (&str, bool) {
    match text.char_indices().nth(PAIR_CHARS) {
        Some((end, _)) => (&text[..end], true),
        None => (text, false),
    }
}

fn words(text: &str) -> (Vec<String>, usize) {
    let mut starts = vec![0];
    let (mut after_space, mut seen_word) = (false, false);
    for (i, c) in text.char_indices() {
        let space = c.is_whitespace();
        if !space && after_space && seen_word {
            starts.push(i);
        }
        after_space = space;
        seen_word |= !space;
    }
    let total = if text.trim().is_empty() {
        0
    } else {
        starts.len()
    };
    let shown = total.min(PAIR_WORDS);
    let end = |k: usize| starts.get(k + 1).copied().unwrap_or(text.len());
    let out = (0..shown)
        .map(|k| text[starts[k]..end(k)].to_string())
        .collect();
    (out, total - shown)
}

/// How two words compare: case and surrounding punctuation aside.
fn key(word: &str) -> String {
    word.trim()
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase()
}

/// Both texts cut into words, the words outside their longest common subsequence marked.
pub fn mark_pair(a: Result<String, String>, b: Result<String, String>) -> (Marked, Marked) {
    let (a, b) = match (a, b) {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => {
            let one = |t: Result<String, String>| match t {
                Ok(t) => {
                    let (t, clipped) = clip(&t);
                    let (w, cut) = words(t);
                    Marked {
                        words: w.into_iter().map(|w| (w, false)).collect(),
                        cut,
                        clipped,
                        unreadable: None,
                    }
                }
                Err(e) => Marked {
                    unreadable: Some(e),
                    ..Marked::default()
                },
            };
            return (one(a), one(b));
        }
    };
    let ((a, clip_a), (b, clip_b)) = (clip(&a), clip(&b));
    let (wa, cut_a) = words(a);
    let (wb, cut_b) = words(b);
    let ka: Vec<String> = wa.iter().map(|w| key(w)).collect();
    let kb: Vec<String> = wb.iter().map(|w| key(w)).collect();
    // lcs[i][j]: the longest common subsequence of ka[i..] and kb[j..].
    let (n, m) = (ka.len(), kb.len());
    let mut lcs = vec![0u16; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[at(i, j)] = if ka[i] == kb[j] {
                lcs[at(i + 1, j + 1)] + 1
            } else {
                lcs[at(i + 1, j)].max(lcs[at(i, j + 1)])
            };
        }
    }
    let (mut diff_a, mut diff_b) = (vec![true; n], vec![true; m]);
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if ka[i] == kb[j] {
            diff_a[i] = false;
            diff_b[j] = false;
            i += 1;
            j += 1;
        } else if lcs[at(i + 1, j)] >= lcs[at(i, j + 1)] {
            i += 1;
        } else {
            j += 1;
        }
    }
    let marked = |w: Vec<String>, d: Vec<bool>, cut, clipped| Marked {
        words: w.into_iter().zip(d).collect(),
        cut,
        clipped,
        unreadable: None,
    };
    (
        marked(wa, diff_a, cut_a, clip_a),
        marked(wb, diff_b, cut_b, clip_b),
    )
}

/// (kept record, removed members, of which exact) for every kept record with duplicates,
/// largest first, ties by record.
fn cluster_sizes(a: &Assignment) -> Vec<(u32, Vec<u32>, usize)> {
    let mut members: std::collections::BTreeMap<u32, (Vec<u32>, usize)> = Default::default();
    for (i, d) in a.duplicate_of.iter().enumerate() {
        if let Some(d) = d {
            let e = members.entry(d.kept).or_default();
            e.0.push(i as u32);
            e.1 += d.exact as usize;
        }
    }
    let mut list: Vec<(u32, Vec<u32>, usize)> =
        members.into_iter().map(|(k, (m, e))| (k, m, e)).collect();
    list.sort_by(|x, y| y.1.len().cmp(&x.1.len()).then(x.0.cmp(&y.0)));
    list
}

/// The largest clusters of `list` ([`cluster_sizes`]), with their kept records' texts.
fn clusters(data: &RunData, mut list: Vec<(u32, Vec<u32>, usize)>) -> Vec<Cluster> {
    list.truncate(CLUSTERS);
    list.into_iter()
        .map(|(kept, members, exact)| Cluster {
            kept: (data.name)(kept),
            size: members.len() + 1,
            exact,
            members: members
                .iter()
                .take(CLUSTER_MEMBERS)
                .map(|&m| (data.name)(m))
                .collect(),
            snippet: data.texts.map(|src| match read(src, kept) {
                Ok(t) => {
                    let mut s: String = t.chars().take(SNIPPET_CHARS).collect();
                    if t.chars().nth(SNIPPET_CHARS).is_some() {
                        s.push_str(" ...");
                    }
                    s
                }
                Err(e) => format!("(cannot read it again: {e})"),
            }),
        })
        .collect()
}

/// The process's peak resident memory in bytes (Linux: `VmHWM` of /proc/self/status),
/// `None` where it cannot be read.
pub fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Writes the report of `data` to `file` (made by the caller before the run, so that a
/// bad path fails before the work) and commits it: the file is whole or absent.
pub fn write_report(file: AtomicFile, data: &RunData) -> Result<(), Error> {
    let summary = summarize(data);
    let page = html::render(data, &summary);
    let mut out = io::BufWriter::new(file.as_file());
    out.write_all(page.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| file.error(e))?;
    drop(out);
    file.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_follow_the_printed_score() {
        assert_eq!(bin_of(0.0), 0);
        assert_eq!(bin_of(0.5), 25);
        // 0.61999999 prints 0.6200: the bin of 0.62.
        assert_eq!(bin_of(0.619_999_99), 31);
        assert_eq!(bin_of(0.6199), 30);
        assert_eq!(bin_of(1.0), BINS - 1);
    }

    #[test]
    fn table_bars_start_at_the_run_bar() {
        assert_eq!(table_bars(0.9), vec![0.9, 0.95, 1.0]);
        let bars = table_bars(0.73);
        assert_eq!(bars[..3], [0.73, 0.75, 0.8]);
        assert_eq!(*bars.last().unwrap(), 1.0);
        assert_eq!(table_bars(1.0), vec![1.0]);
    }

    #[test]
    fn differing_words_are_marked() {
        let (a, b) = mark_pair(
            Ok("the cat sat on the mat".into()),
            Ok("The cat sat under the mat!".into()),
        );
        let diff = |m: &Marked| -> Vec<String> {
            m.words
                .iter()
                .filter(|w| w.1)
                .map(|w| w.0.trim().to_string())
                .collect()
        };
        assert_eq!(diff(&a), ["on"]);
        assert_eq!(diff(&b), ["under"]);
        let text: String = a.words.iter().map(|w| w.0.as_str()).collect();
        assert_eq!(text, "the cat sat on the mat");
    }

    #[test]
    fn long_texts_are_cut() {
        let long = vec!["w"; PAIR_WORDS + 7].join(" ");
        let (a, _) = mark_pair(Ok(long.clone()), Ok(long));
        assert_eq!(a.words.len(), PAIR_WORDS);
        assert_eq!(a.cut, 7);
        assert!(!a.clipped);
        // One word of a million characters is cut at PAIR_CHARS.
        let (a, b) = mark_pair(Ok("x".repeat(1 << 20)), Ok("y".into()));
        assert_eq!(a.words.len(), 1);
        assert_eq!(a.words[0].0.chars().count(), PAIR_CHARS);
        assert!(a.clipped && !b.clipped);
    }

    #[test]
    fn the_band_curve_is_the_shapes_recall() {
        let p = BandParams { rows: 5, bands: 20 };
        let c = Curve::Bands(p);
        // Not bit for bit: `powi` folded at compile time may round differently from the
        // call at run time.
        let got = c.probability(0.5).unwrap();
        assert!((got - p.recall_at(0.5)).abs() < 1e-12, "{got}");
        let h = Curve::Hamming {
            bits: 64,
            radius: 10,
        };
        let (lo, hi) = (h.probability(0.3).unwrap(), h.probability(0.9).unwrap());
        assert!(lo < hi && hi <= 1.0, "{lo} {hi}");
        assert_eq!(Curve::None.probability(0.5), None);
    }
}

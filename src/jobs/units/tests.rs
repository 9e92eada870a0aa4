//! The unit search against a brute-force oracle, and the offsets' round trip.

use proptest::prelude::*;

use super::*;
use crate::fingerprint::Fingerprint;
use crate::text::units::split;

/// Every unit of every text with its content, as the splitter gives them.
fn all_units(texts: &[Vec<u8>], kind: UnitKind) -> Vec<Vec<(Span, Vec<u8>)>> {
    texts
        .iter()
        .map(|t| {
            let mut v = Vec::new();
            split(t, kind, |s, c| v.push((s, c.to_vec())));
            v
        })
        .collect()
}

/// The oracle: every pair of fingerprinted units compared, joined when their digests are
/// equal or they are within the radius and at the bar; then greedy in input order. The
/// removed units and, for each, the best similarity to a kept earlier unit.
fn oracle(texts: &[Vec<u8>], job: &UnitJob) -> Vec<(u32, f64)> {
    let mut units = Vec::new();
    let mut sets = Vec::new();
    for (d, doc) in all_units(texts, job.kind).iter().enumerate() {
        for (span, content) in doc {
            if let Some(u) = job.text.unit(d as u32, *span, content) {
                units.push(u);
                sets.push(job.text.shingle_set(content).unwrap().0);
            }
        }
    }
    let mut kept: Vec<usize> = Vec::new();
    let mut removed = Vec::new();
    for i in 0..units.len() {
        let mut best: Option<f64> = None;
        for &j in &kept {
            let s = if units[i].digest == units[j].digest {
                1.0
            } else if units[i].fingerprint.distance(&units[j].fingerprint)
                <= job.search.max_distance
            {
                jaccard(&sets[i], &sets[j])
            } else {
                continue;
            };
            if s >= job.threshold && best.is_none_or(|b| s > b) {
                best = Some(s);
            }
        }
        match best {
            Some(s) => removed.push((i as u32, s)),
            None => kept.push(i),
        }
    }
    removed
}

/// Paragraphs drawn from a few bases over a small vocabulary, each a copy or edited in a
/// few words; documents separate them by blank lines of every kind.
fn corpus() -> impl Strategy<Value = Vec<Vec<u8>>> {
    let word = prop::sample::select(vec![
        "alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "iota", "kappa",
        "lambda", "mu", "nu", "xi", "omicron", "pi",
    ]);
    let base = prop::collection::vec(word.clone(), 3..24);
    (
        prop::collection::vec(base, 1..5),
        prop::collection::vec(
            (
                0usize..5,
                prop::collection::vec((0usize..24, word), 0..4),
                0usize..4,
            ),
            1..30,
        ),
        1usize..5,
    )
        .prop_map(|(bases, paras, docs)| {
            let mut texts = vec![Vec::new(); docs];
            for (k, (b, edits, sep)) in paras.into_iter().enumerate() {
                let mut words: Vec<&str> = bases[b % bases.len()].clone();
                for (at, w) in edits {
                    let at = at % words.len();
                    words[at] = w;
                }
                let t = &mut texts[k % docs];
                t.extend_from_slice(words.join(" ").as_bytes());
                t.extend_from_slice([&b"\n\n"[..], b"\r\n\r\n", b"\n \n\t\n", b"\n"][sep]);
            }
            texts
        })
}

fn job(kind: UnitKind, method: Method) -> UnitJob {
    let mut job = UnitJob::new(kind, TextConfig::default(), 0.5);
    job.text.min_words = 3;
    job.search.method = method;
    job
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn unit_search_equals_the_oracle(texts in corpus(), line in any::<bool>(), radius in 0u32..40) {
        let kind = if line { UnitKind::Line } else { UnitKind::Paragraph };
        for method in [Method::Exact { blocks: None }, Method::Brute] {
            let mut job = job(kind, method);
            job.search.max_distance = radius;
            let result = dedup_units(&InMemory(&texts), &job, &(), &|e| panic!("{e}"));
            let got: Vec<(u32, f64)> =
                result.removals.iter().map(|r| (r.unit, r.similarity)).collect();
            prop_assert_eq!(got, oracle(&texts, &job));
            // Every removal names a kept unit at the bar.
            for r in &result.removals {
                prop_assert!(r.similarity >= job.threshold);
                prop_assert!(result.removals.binary_search_by_key(&r.duplicate_of, |x| x.unit).is_err());
            }
        }
    }

    #[test]
    fn cutting_the_spans_leaves_the_other_units(texts in corpus(), line in any::<bool>()) {
        let kind = if line { UnitKind::Line } else { UnitKind::Paragraph };
        for keep in [UnitKeep::First, UnitKeep::None { min_repeats: 2 }] {
            let mut job = job(kind, Method::default());
            job.keep = keep;
            let result = dedup_units(&InMemory(&texts), &job, &(), &|e| panic!("{e}"));
            let before = all_units(&texts, kind);
            let cut_texts: Vec<Vec<u8>> = texts
                .iter()
                .enumerate()
                .map(|(d, t)| cut(t, result.removed_spans(d as u32)))
                .collect();
            let after = all_units(&cut_texts, kind);
            for d in 0..texts.len() {
                let removed: Vec<Span> = result.removed_spans(d as u32).collect();
                let expected: Vec<&Vec<u8>> = before[d]
                    .iter()
                    .filter(|(s, _)| !removed.contains(s))
                    .map(|(_, c)| c)
                    .collect();
                let got: Vec<&Vec<u8>> = after[d].iter().map(|(_, c)| c).collect();
                prop_assert_eq!(got, expected);
                prop_assert_eq!(
                    cut_texts[d].len() as u64,
                    texts[d].len() as u64 - result.removed_bytes(d as u32)
                );
            }
        }
    }
}

#[test]
fn a_changed_date_is_removed_and_short_lines_stay() {
    let a = "The meeting of the board was held on 12 March 2021 in the main hall of the \
             old town library, as every year.";
    let b = a.replace("12 March 2021", "3 June 2024");
    let texts = [
        format!(
            "{a}\n\nshort line here\n\nAn unrelated paragraph about compilers, linkers and the many ways they fail.\n"
        ),
        format!("intro\n\n{b}\n\nshort line here\n"),
    ];
    let job = UnitJob::new(UnitKind::Paragraph, TextConfig::default(), 0.5);
    let result = dedup_units(&InMemory(&texts), &job, &(), &|e| panic!("{e}"));
    assert_eq!(result.removals.len(), 1);
    let r = result.removals[0];
    let (u, k) = (
        result.units[r.unit as usize],
        result.units[r.duplicate_of as usize],
    );
    assert_eq!((u.doc, k.doc, k.start), (1, 0, 0));
    assert_eq!(
        &texts[1][u.start as usize..u.start as usize + u.len as usize],
        format!("{b}\n\n")
    );
    assert!(r.similarity >= 0.5 && r.similarity < 1.0 && !r.exact);
}

#[test]
fn a_paragraph_longer_than_the_read_piece() {
    let dir = tempfile::tempdir().unwrap();
    let long: String = (0..3000).map(|i| format!("w{} ", i % 977)).collect();
    let text = format!(
        "{long}\r\n\r\nmiddle words that stand alone here today and then some more\r\n\r\n{long}"
    );
    let mut paths = PathList::new();
    for name in ["a.txt", "b.txt"] {
        let p = dir.path().join(name);
        std::fs::write(&p, &text).unwrap();
        paths.push(&p);
    }
    let job = UnitJob::new(UnitKind::Paragraph, TextConfig::default(), 0.5);
    let whole = dedup_units(&Files::new(&paths, false), &job, &(), &|e| panic!("{e}"));
    let mut small = Files::new(&paths, false);
    small.chunk_bytes = 100;
    let pieces = dedup_units(&small, &job, &(), &|e| panic!("{e}"));
    assert_eq!(whole.units, pieces.units);
    assert_eq!(whole.removals, pieces.removals);
    // The second long paragraph of a.txt and all of b.txt go.
    assert_eq!(whole.removals.len(), 4);
    assert_eq!(whole.removed_bytes(1), text.len() as u64);
}

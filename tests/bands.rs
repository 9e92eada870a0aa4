//! The band search: against the brute-force oracle, its recall against the S-curve on
//! planted prose pairs, and the small documents the old sketch prefilter dropped.

use std::collections::BTreeMap;

use simdedup::plant::{measure_recall, plant_pairs};
use simdedup::search::synth::SplitMix64;
use simdedup::text::minhash::BandParams;
use simdedup::text::shingle::Normalization;
use simdedup::text::simhash::TextConfig;

use crate::util::{Rng, TestEnv, edit, random_text, testdata};

/// `(path_a, path_b) -> similarity` from `--scores` output.
fn scored(stdout: &str) -> BTreeMap<(String, String), String> {
    stdout
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            ((f[0].to_string(), f[1].to_string()), f[3].to_string())
        })
        .collect()
}

/// Originals with copies edited at 1 to 20 substitutions per 50 words, some of 6 words.
fn corpus(seed: u64) -> TestEnv {
    let env = TestEnv::new();
    let mut rng = Rng(seed);
    let mut texts: Vec<String> = Vec::new();
    for i in 0..120 {
        let text = if i % 3 != 0 {
            let base = texts[i - 1 - rng.below(i.min(4))].clone();
            let edits = 1 + rng.below(20);
            edit(&mut rng, &base, edits)
        } else {
            random_text(&mut rng, if i % 9 == 0 { 6 } else { 50 })
        };
        env.file(&format!("t/{i:03}.txt"), &text);
        texts.push(text);
    }
    env
}

/// Every pair the band search reports is one brute force reports, with the same exact
/// score, and the output is the same for 1 and 2 threads.
#[test]
fn band_pairs_are_brute_force_pairs_with_exact_scores() {
    for seed in [1, 2, 3] {
        let env = corpus(seed);
        for bar in ["0.3", "0.5", "0.7"] {
            let brute = env.run(&["-j", bar, "-k", "128", "--method", "brute", "--scores", "."]);
            let truth = scored(&brute.stdout);
            assert!(truth.len() > 3, "seed {seed} bar {bar}: {}", truth.len());
            let args = ["-j", bar, "--method", "bands", "--scores", "."];
            let one = env.run_env(&args, b"", &[("RAYON_NUM_THREADS", "1")]);
            let two = env.run_env(&args, b"", &[("RAYON_NUM_THREADS", "2")]);
            assert_eq!(one.stdout, two.stdout, "seed {seed} bar {bar}");
            assert!(one.stderr.contains("bands of"), "{}", one.stderr);
            let got = scored(&one.stdout);
            for (pair, score) in &got {
                assert_eq!(
                    truth.get(pair),
                    Some(score),
                    "seed {seed} bar {bar}: {pair:?}"
                );
            }
            // Recall 0.99 at the bar and more above: on ~100 pairs at most a few misses.
            let missed = truth.len() - got.len();
            assert!(
                missed <= 3,
                "seed {seed} bar {bar}: {missed} of {}",
                truth.len()
            );
        }
    }
}

/// Two tiny files with Jaccard 0.8: the old 32-bin prefilter dropped this pair although
/// the exact score accepts it. Every method reports it now.
#[test]
fn small_documents_are_not_dropped_before_the_exact_score() {
    let env = TestEnv::new();
    env.file("a.txt", "# SPDX-License-Identifier: GPL-2.0\n");
    env.file(
        "b.txt",
        "{# SPDX-License-Identifier: GPL-2.0 #}\ndefault:\n",
    );
    for method in ["bands", "exact", "brute"] {
        let run = env.run(&["-j", "0.5", "--scores", "--method", method, "."]);
        assert_eq!(
            run.stdout, "./a.txt\t./b.txt\t23\t0.8000\tnear\n",
            "{method}: {}",
            run.stderr
        );
    }
}

#[test]
fn bands_are_refused_where_the_search_is_over_fingerprints() {
    let env = TestEnv::new();
    env.file(
        "fps.tsv",
        "#bits=64\na\t0000000000000000\nb\t0000000000000001\n",
    );
    let run = env.run(&["pairs", "fps.tsv", "--method", "bands"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("--method bands needs verified text"),
        "{}",
        run.stderr
    );
}

/// Planted pairs of real prose (the GPL-3 text) at the bar 0.5 and above it: recall agrees
/// with the solved S-curve within binomial error, and is at least 0.99 at bar + 0.05.
#[test]
fn recall_of_planted_prose_pairs_follows_the_s_curve() {
    let prose = std::fs::read_to_string(testdata().join("prose/GPL-3.txt")).unwrap();
    let words: Vec<&str> = prose.split_whitespace().collect();
    let config = TextConfig {
        shingling: "word:3".parse().unwrap(),
        normalization: Normalization::ALL,
        weighting: Default::default(),
        compat: false,
    };
    let params = BandParams::solve(0.5, 0.99, 1_000_000);
    let mut rng = SplitMix64::new(5);
    for (level, words_per_text) in [(0.5, 20..300), (0.55, 20..300), (0.5, 6..20)] {
        let pairs = plant_pairs(&words, level, 0.01, 1000, words_per_text, &config, &mut rng);
        let r = measure_recall(&pairs, params, &config);
        // Small texts copy bins into several rows of a band, which only raises recall.
        assert!(r.z() > -4.0, "J {level}: {r:?}");
        assert!(
            r.rate() >= if level > 0.5 { 0.99 } else { 0.97 },
            "J {level}: {r:?}"
        );
    }
}

/// Leakage of a test set into a training set (`dedup --against`): the band search flags
/// the same queries as the exact search, with the same closest reference and score, short
/// texts (exact duplicates only) included.
#[test]
fn against_by_bands_equals_the_exact_search() {
    let env = TestEnv::new();
    let mut rng = Rng(17);
    let mut train = Vec::new();
    for i in 0..60 {
        let text = random_text(&mut rng, 40);
        env.file(&format!("train/{i:02}.txt"), &text);
        train.push(text);
    }
    env.file("train/short.txt", "Hi there");
    for (i, original) in train.iter().take(40).enumerate() {
        let text = if i % 2 == 0 {
            let edits = 1 + rng.below(10);
            edit(&mut rng, original, edits)
        } else {
            random_text(&mut rng, 40)
        };
        env.file(&format!("test/{i:02}.txt"), &text);
    }
    env.file("test/short.txt", "hi, there!");
    let run = |method: &str| {
        let args = ["dedup", "test", "--against", "train", "--method", method];
        let run = env.run(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run
    };
    let (bands, exact) = (run("bands"), run("exact"));
    assert!(bands.stderr.contains("bands of"), "{}", bands.stderr);
    assert!(bands.stdout.lines().count() > 5, "{}", bands.stdout);
    assert!(bands.stdout.contains("short.txt"), "{}", bands.stdout);
    assert_eq!(bands.stdout, exact.stdout);
}

/// The same for datasets (`dedup --columns --against`): the reference is keyed with the
/// queries' band shape and searched across, with the exact search's result.
#[test]
fn dataset_against_by_bands_equals_the_exact_search() {
    let env = TestEnv::new();
    let mut rng = Rng(29);
    let row = |id: String, text: &str| format!("{{\"id\": \"{id}\", \"text\": {text:?}}}\n");
    let train: Vec<String> = (0..60).map(|_| random_text(&mut rng, 40)).collect();
    let mut lines: String = (train.iter().enumerate())
        .map(|(i, t)| row(format!("r{i}"), t))
        .collect();
    lines.push_str(&row("r-short".into(), "Hi there"));
    env.file("train.jsonl", &lines);
    let mut lines = String::new();
    for (i, original) in train.iter().take(40).enumerate() {
        let text = if i % 2 == 0 {
            let edits = 1 + rng.below(10);
            edit(&mut rng, original, edits)
        } else {
            random_text(&mut rng, 40)
        };
        lines.push_str(&row(format!("q{i}"), &text));
    }
    lines.push_str(&row("q-short".into(), "hi, there!"));
    env.file("test.jsonl", &lines);
    let run = |method: &str| {
        let args = [
            "dedup",
            "test.jsonl",
            "--columns",
            "text",
            "--id-column",
            "id",
            "--against",
            "train.jsonl",
            "--method",
            method,
        ];
        let run = env.run(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run
    };
    let (bands, exact) = (run("bands"), run("exact"));
    assert!(bands.stderr.contains("bands of"), "{}", bands.stderr);
    assert!(!exact.stderr.contains("bands of"), "{}", exact.stderr);
    assert!(bands.stdout.lines().count() > 5, "{}", bands.stdout);
    assert!(
        bands.stdout.contains("q-short\tr-short"),
        "{}",
        bands.stdout
    );
    assert_eq!(bands.stdout, exact.stdout);
}

//! Verified similarity against the exact oracle: every reported pair's similarity is the
//! exact Jaccard of word 3-shingle sets, computed here independently over all pairs.

use std::collections::{BTreeMap, HashSet};

use crate::util::{Rng, TestEnv, edit, random_text};

fn shingles(text: &str) -> HashSet<String> {
    let normal: String = text
        .chars()
        .flat_map(|c| c.to_lowercase())
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let words: Vec<&str> = normal.split_whitespace().collect();
    words.windows(3).map(|w| w.join(" ")).collect()
}

fn jaccard(a: &HashSet<String>, b: &HashSet<String>) -> f64 {
    a.intersection(b).count() as f64 / a.union(b).count() as f64
}

/// A corpus of originals and copies edited at 1 to 12 substitutions per 60 words.
fn corpus() -> (TestEnv, Vec<String>, Vec<String>) {
    let env = TestEnv::new();
    let mut rng = Rng(99);
    let (mut names, mut texts): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    for i in 0..160 {
        let text = if i % 4 != 0 && i > 0 {
            let edits = 1 + rng.below(12);
            let base = texts[i - 1 - rng.below(i.min(3))].clone();
            edit(&mut rng, &base, edits)
        } else {
            random_text(&mut rng, 60)
        };
        let name = format!("q/{i:03}.txt");
        env.file(&name, &text);
        names.push(format!("./{name}"));
        texts.push(text);
    }
    (env, names, texts)
}

fn oracle(names: &[String], texts: &[String], bar: f64) -> BTreeMap<(String, String), f64> {
    let sets: Vec<HashSet<String>> = texts.iter().map(|t| shingles(t)).collect();
    let mut pairs = BTreeMap::new();
    for i in 0..texts.len() {
        for j in i + 1..texts.len() {
            let s = jaccard(&sets[i], &sets[j]);
            if s >= bar {
                pairs.insert((names[i].clone(), names[j].clone()), s);
            }
        }
    }
    pairs
}

fn reported(stdout: &str) -> BTreeMap<(String, String), f64> {
    stdout
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            ((f[0].to_string(), f[1].to_string()), f[3].parse().unwrap())
        })
        .collect()
}

#[test]
fn verified_pairs_equal_the_exact_jaccard_oracle() {
    let (env, names, texts) = corpus();
    for bar in [0.5, 0.8] {
        let truth = oracle(&names, &texts, bar);
        assert!(
            truth.len() > 20,
            "too few true pairs at {bar}: {}",
            truth.len()
        );
        let j = bar.to_string();
        // With every pair a candidate, the output is exactly the oracle.
        let all = env.run(&["-j", &j, "-k", "64", "--method", "brute", "--scores", "."]);
        let got = reported(&all.stdout);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            truth.keys().collect::<Vec<_>>(),
            "bar {bar}"
        );
        for (k, s) in &got {
            assert!((s - truth[k]).abs() < 5e-5, "{k:?}: {s} vs {}", truth[k]);
        }
        // With the automatic radius, nothing false is reported and little is missed.
        let auto = reported(&env.run(&["-j", &j, "--scores", "."]).stdout);
        for (k, s) in &auto {
            assert!((s - truth[k]).abs() < 5e-5, "{k:?}");
        }
        let recall = auto.len() as f64 / truth.len() as f64;
        assert!(recall >= 0.95, "recall {recall} at bar {bar}");
    }
}

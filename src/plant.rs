//! Planted near-duplicate pairs at a chosen Jaccard similarity, for measuring recall.
//!
//! A pair starts from a run of real prose and a copy of it; the copy is edited one word at
//! a time (a word replaced, inserted or deleted, drawn from the same prose) until the exact
//! Jaccard similarity of the two shingle sets ([`crate::text::texts::shingle_set`]) falls into
//! the requested window. The similarity of every pair is exact, so a recall measured on
//! these pairs can be held against the band search's S-curve at that similarity.

use std::ops::Range;

use crate::search::synth::SplitMix64;
use crate::text::minhash::{BandParams, Sketcher};
use crate::text::simhash::{TextConfig, sketch_text};
use crate::text::texts::jaccard;
use crate::text::texts::shingle_set;

/// Two texts and the exact Jaccard similarity of their shingle sets.
#[derive(Clone, Debug)]
pub struct PlantedPair {
    pub a: String,
    pub b: String,
    pub jaccard: f64,
}

/// `count` pairs with similarity in `target ± tolerance`, each cut from `words` (the prose,
/// in order) with a length drawn from `len` words. Deterministic for a given `rng` state.
/// Panics when the prose is shorter than the longest length asked for.
pub fn plant_pairs(
    words: &[&str],
    target: f64,
    tolerance: f64,
    count: usize,
    len: Range<usize>,
    config: &TextConfig,
    rng: &mut SplitMix64,
) -> Vec<PlantedPair> {
    assert!(words.len() > len.end, "the prose is shorter than the texts");
    let mut pairs = Vec::with_capacity(count);
    while pairs.len() < count {
        let n = len.start + rng.below((len.end - len.start) as u64) as usize;
        let start = rng.below((words.len() - n) as u64) as usize;
        let base = &words[start..start + n];
        let a = base.join(" ");
        let (set_a, _) = shingle_set(&a, None, config);
        let mut copy: Vec<&str> = base.to_vec();
        // Edit until the similarity drops to the window's top, then keep it if it landed in
        // the window (an edit can remove several shingles at once: retry from scratch).
        for _ in 0..4 * n {
            let pos = rng.below(copy.len() as u64) as usize;
            let word = words[rng.below(words.len() as u64) as usize];
            match rng.below(4) {
                0 if copy.len() > 2 => {
                    copy.remove(pos);
                }
                1 => copy.insert(pos, word),
                _ => copy[pos] = word,
            }
            let b = copy.join(" ");
            let j = jaccard(&set_a, &shingle_set(&b, None, config).0);
            if j <= target + tolerance {
                if j >= target - tolerance {
                    pairs.push(PlantedPair {
                        a: a.clone(),
                        b,
                        jaccard: j,
                    });
                }
                break;
            }
        }
    }
    pairs
}

/// Recall of planted pairs under a band shape, against its S-curve.
#[derive(Clone, Copy, Debug)]
pub struct Recall {
    /// Pairs measured.
    pub pairs: usize,
    /// Pairs that share at least one band key (candidates of the band search).
    pub found: usize,
    /// Mean similarity of the pairs.
    pub mean_jaccard: f64,
    /// The S-curve's expected recall, averaged over the pairs' exact similarities.
    pub expected: f64,
    /// Standard error of the measured recall if each pair were caught independently with
    /// the S-curve's probability: sqrt(sum p (1 - p)) / pairs.
    pub sigma: f64,
}

impl Recall {
    /// The measured recall.
    pub fn rate(&self) -> f64 {
        self.found as f64 / self.pairs.max(1) as f64
    }

    /// How many standard errors the measurement lies from the S-curve (positive: above).
    pub fn z(&self) -> f64 {
        (self.rate() - self.expected) / self.sigma.max(1e-12)
    }
}

/// Computes both texts' band keys as the corpus pass does (128-bit CityHash shingles) and
/// counts the pairs that share a key.
pub fn measure_recall(pairs: &[PlantedPair], params: BandParams, config: &TextConfig) -> Recall {
    let mut sketcher = Sketcher::new(params);
    let (mut found, mut sum_j, mut expected, mut var) = (0, 0.0, 0.0, 0.0);
    for p in pairs {
        let (_, ka) = sketch_text::<u128>(&p.a, config, &mut sketcher);
        let (_, kb) = sketch_text::<u128>(&p.b, config, &mut sketcher);
        found += ka.iter().zip(&kb).any(|(x, y)| x == y) as usize;
        let q = params.recall_at(p.jaccard);
        sum_j += p.jaccard;
        expected += q;
        var += q * (1.0 - q);
    }
    let n = pairs.len().max(1) as f64;
    Recall {
        pairs: pairs.len(),
        found,
        mean_jaccard: sum_j / n,
        expected: expected / n,
        sigma: var.sqrt() / n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_land_in_the_window() {
        let prose = "the quick brown fox jumps over the lazy dog while a small bird sings \
                     in the old tree near the river and the farmer walks home at dusk";
        let words: Vec<&str> = prose.split(' ').collect();
        let config = TextConfig {
            shingling: "word:2".parse().unwrap(),
            normalization: crate::text::shingle::Normalization::ALL,
            weighting: Default::default(),
            compat: false,
        };
        let mut rng = SplitMix64::new(3);
        let pairs = plant_pairs(&words, 0.5, 0.05, 20, 12..20, &config, &mut rng);
        assert_eq!(pairs.len(), 20);
        for p in &pairs {
            let (a, _) = shingle_set(&p.a, None, &config);
            let (b, _) = shingle_set(&p.b, None, &config);
            assert_eq!(jaccard(&a, &b), p.jaccard);
            assert!((0.45..=0.55).contains(&p.jaccard), "{}", p.jaccard);
        }
    }
}

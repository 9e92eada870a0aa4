//! The seed script's own numbers (testdata/seed/seed-*.txt, copied from the seed document):
//! `--compat dedup-py` must print the same fingerprints, ratios and pairs.

use std::collections::BTreeSet;

use crate::util::{run_in, testdata};

/// One `-v` block: both paths, both fingerprints in binary, the ratio.
type Block = (String, String, String, String, String);

struct Seed {
    blocks: Vec<Block>,
    pairs: BTreeSet<String>,
}

fn seed(bits: u32) -> Seed {
    let text = std::fs::read_to_string(testdata().join(format!("seed/seed-{bits}.txt"))).unwrap();
    let mut blocks = Vec::new();
    let mut pairs = BTreeSet::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        match f[0] {
            "pair" => blocks.push((
                f[1].into(),
                f[2].into(),
                f[3].into(),
                f[4].into(),
                f[5].into(),
            )),
            "out" => {
                pairs.insert(format!("{}\t{}", f[1], f[2]));
            }
            _ => panic!("bad golden line {line}"),
        }
    }
    Seed { blocks, pairs }
}

/// Parses our `-v` stderr into blocks (5 lines each) until the `found` summary.
fn verbose_blocks(stderr: &str) -> Vec<Block> {
    let lines: Vec<&str> = stderr
        .lines()
        .take_while(|l| !l.starts_with("found "))
        .collect();
    assert_eq!(lines.len() % 5, 0, "unexpected -v output:\n{stderr}");
    lines
        .chunks(5)
        .map(|c| {
            (
                c[0].into(),
                c[1].into(),
                c[2].into(),
                c[3].into(),
                c[4].into(),
            )
        })
        .collect()
}

fn check_bits(bits: u32) {
    let seed = seed(bits);
    let b = bits.to_string();
    let run = run_in(
        &testdata().join("seed"),
        &["--compat", "dedup-py", "-b", &b, "-v", "test"],
        b"",
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The same pairs (the seed prints them from a Python set, so compare as sets).
    let ours: BTreeSet<String> = run.stdout.lines().map(String::from).collect();
    assert_eq!(ours, seed.pairs, "pairs at {bits} bits");
    assert_eq!(run.stdout.lines().count(), seed.pairs.len());
    // The same fingerprints, bit for bit, in the pass that found each pair, and the same
    // ratios, in the same discovery order.
    assert_eq!(
        verbose_blocks(&run.stderr),
        seed.blocks,
        "-v blocks at {bits} bits"
    );
    assert!(
        run.stderr
            .contains(&format!("found {} duplicate(s) in total", seed.pairs.len()))
    );
}

#[test]
fn seed_32_bits() {
    check_bits(32);
}

#[test]
fn seed_64_bits() {
    check_bits(64);
}

#[test]
fn seed_128_bits() {
    check_bits(128);
}

#[test]
fn seed_pair_counts() {
    assert_eq!(seed(32).pairs.len(), 5);
    assert_eq!(seed(64).pairs.len(), 5);
    assert_eq!(seed(128).pairs.len(), 3);
}

fn rotate_right(v: u128, n: u32, bits: u32) -> u128 {
    let mask = if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    let n = n % bits;
    if n == 0 {
        v
    } else {
        ((v >> n) | (v << (bits - n))) & mask
    }
}

/// `simdedup fingerprint --compat dedup-py` prints the unrotated fingerprints: every
/// fingerprint pair the seed prints is those two values rotated by one common amount.
#[test]
fn compat_fingerprints_are_the_unrotated_seed_values() {
    for bits in [32u32, 64, 128] {
        let b = bits.to_string();
        let run = run_in(
            &testdata().join("seed"),
            &["fingerprint", "--compat", "dedup-py", "-b", &b, "test"],
            b"",
            &[],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        let mut lines = run.stdout.lines();
        assert_eq!(lines.next(), Some(format!("#bits={bits}").as_str()));
        let fps: std::collections::HashMap<String, u128> = lines
            .map(|l| {
                let (p, h) = l.split_once('\t').unwrap();
                assert_eq!(h.len(), bits as usize / 4);
                (p.to_string(), u128::from_str_radix(h, 16).unwrap())
            })
            .collect();
        assert_eq!(fps.len(), 7);
        for (a, b, fa, fb, _) in seed(bits).blocks {
            let (fa, fb) = (
                u128::from_str_radix(&fa, 2).unwrap(),
                u128::from_str_radix(&fb, 2).unwrap(),
            );
            let pass = (0..bits).find(|&p| {
                rotate_right(fps[&a], p, bits) == fa && rotate_right(fps[&b], p, bits) == fb
            });
            assert!(pass.is_some(), "{a} {b} at {bits} bits: no common rotation");
        }
        // And they equal our Python reconstruction's values (testdata/seed/recon-fingerprints.tsv).
        let recon =
            std::fs::read_to_string(testdata().join("seed/recon-fingerprints.tsv")).unwrap();
        for line in recon.lines() {
            let f: Vec<&str> = line.split('\t').collect();
            if f[0] == b {
                assert_eq!(fps[f[1]], u128::from_str_radix(f[2], 16).unwrap(), "{line}");
            }
        }
    }
}

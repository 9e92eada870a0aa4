//! The semantic subcommands on the small `.npy` files of testdata/vectors/, checked against
//! an exact all-pairs cosine oracle computed here (f64, straight from the rows).

use std::collections::BTreeMap;

use simdedup::vectors::npy::Vectors;

use crate::util::{TestEnv, run_in, testdata};

fn dir() -> std::path::PathBuf {
    testdata().join("vectors")
}

fn run(args: &[&str]) -> crate::util::Run {
    run_in(&dir(), args, b"", &[])
}

/// The rows of a file as f64; `None` for rows holding NaN or infinity.
fn rows(name: &str) -> Vec<Option<Vec<f64>>> {
    let v = Vectors::open(&dir().join(name)).unwrap();
    let mut buf = vec![0f32; v.dim()];
    (0..v.rows())
        .map(|i| {
            let r: Vec<f64> = v.row(i, &mut buf).iter().map(|&x| x as f64).collect();
            r.iter().all(|x| x.is_finite()).then_some(r)
        })
        .collect()
}

fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

/// SemHash's self-deduplication, written plainly: identical rows are exact duplicates of
/// the first; then, in input order, a row goes when its cosine to a kept row reaches the
/// threshold, naming the most similar kept row. Returns removed row -> (kept row, score).
fn oracle_dedup(rows: &[Option<Vec<f64>>], t: f64) -> BTreeMap<usize, (usize, f64)> {
    let mut removed = BTreeMap::new();
    let mut kept: Vec<usize> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let Some(r) = r else { continue };
        if let Some(&k) = kept.iter().find(|&&k| rows[k].as_ref() == Some(r)) {
            removed.insert(i, (k, 1.0));
            continue;
        }
        let best = kept
            .iter()
            .map(|&k| (k, cosine(r, rows[k].as_ref().unwrap())))
            .filter(|&(_, s)| s >= t)
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
        match best {
            Some(b) => {
                removed.insert(i, b);
            }
            None => kept.push(i),
        }
    }
    removed
}

/// `id<TAB>duplicate_of<TAB>score` lines as a map (ids are row numbers here).
fn parse_remove(stdout: &str) -> BTreeMap<usize, (usize, f64)> {
    stdout
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (
                f[0].parse().unwrap(),
                (f[1].parse().unwrap(), f[2].parse().unwrap()),
            )
        })
        .collect()
}

fn assert_same(got: &BTreeMap<usize, (usize, f64)>, want: &BTreeMap<usize, (usize, f64)>) {
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (i, (k, s)) in got {
        assert_eq!(*k, want[i].0, "row {i}");
        assert!(
            (s - want[i].1).abs() < 6e-5,
            "row {i}: {s} vs {}",
            want[i].1
        );
    }
}

#[test]
fn dedup_at_full_radius_equals_the_oracle() {
    let oracle = oracle_dedup(&rows("planted.npy"), 0.9);
    for t in ["0.9", "0.95"] {
        let want = oracle_dedup(&rows("planted.npy"), t.parse().unwrap());
        let r = run(&["dedup", "--vectors", "planted.npy", "-t", t, "-k", "256"]);
        assert_eq!(r.code, 2, "the NaN row makes it exit 2: {}", r.stderr);
        assert_same(&parse_remove(&r.stdout), &want);
    }
    // The planted copies at 0.99 .. 0.905, two exact copies and the chained copy of row 41
    // (which names row 1: row 41 itself was removed).
    assert_eq!(oracle.len(), 9);
    assert_eq!(oracle[&52].0, 1);
}

#[test]
fn dedup_with_the_automatic_radius_reports_only_true_duplicates() {
    let rows = rows("planted.npy");
    let r = run(&["dedup", "--vectors", "planted.npy", "--output", "pairs"]);
    assert!(
        r.stderr.contains("candidates within Hamming distance"),
        "{}",
        r.stderr
    );
    let mut n = 0;
    for line in r.stdout.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let (a, b): (usize, usize) = (f[0].parse().unwrap(), f[1].parse().unwrap());
        let c = cosine(rows[a].as_ref().unwrap(), rows[b].as_ref().unwrap());
        assert!(c >= 0.9, "{line}: cosine {c}");
        n += 1;
    }
    // On this small set the automatic radius also finds every pair.
    let removed = parse_remove(&run(&["dedup", "--vectors", "planted.npy"]).stdout);
    assert_same(&removed, &oracle_dedup(&rows, 0.9));
    assert!(n >= removed.len());
}

#[test]
fn float16_and_float64_files_agree_with_float32() {
    let f32_out = run(&["dedup", "--vectors", "planted.npy"]).stdout;
    assert_eq!(
        run(&["dedup", "--vectors", "planted-f64.npy"]).stdout,
        f32_out
    );
    let f16 = parse_remove(&run(&["dedup", "--vectors", "planted-f16.npy"]).stdout);
    assert_eq!(
        f16.keys().collect::<Vec<_>>(),
        parse_remove(&f32_out).keys().collect::<Vec<_>>()
    );
}

#[test]
fn output_is_identical_for_any_thread_count_and_fixed_by_the_seed() {
    let args = [
        "dedup",
        "--vectors",
        "planted.npy",
        "--output",
        "pairs",
        "-b",
        "64",
    ];
    let one = run_in(&dir(), &args, b"", &[("RAYON_NUM_THREADS", "1")]);
    let many = run_in(&dir(), &args, b"", &[("RAYON_NUM_THREADS", "4")]);
    assert_eq!(one.stdout, many.stdout);
    assert_eq!(one.stderr, many.stderr);
}

#[test]
fn ids_name_the_rows_and_bad_rows_are_named() {
    let r = run(&["dedup", "--vectors", "planted.npy", "--ids", "planted.ids"]);
    assert!(
        r.stdout.starts_with("doc-040\tdoc-000\t0.9900\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr
            .contains("planted.npy, row 54 (doc-054): NaN, row skipped")
    );
    assert!(r.stderr.contains("1 zero vector(s) (doc-053)"));
    assert!(
        r.stderr
            .contains("54 records, 9 duplicates (duplicate ratio 0.1667")
    );
    let keep = run(&["dedup", "--vectors", "planted.npy", "--output", "keep"]);
    let kept: Vec<&str> = keep.stdout.lines().collect();
    assert_eq!(kept.len(), 54 - 9);
    assert!(!kept.contains(&"54") && kept.contains(&"53"));
}

#[test]
fn broken_files_are_clear_errors() {
    for (file, message) in [
        ("fortran.npy", "fortran.npy: Fortran-order array"),
        ("int32.npy", "int32.npy: dtype '<i4' is not supported"),
        ("one-d.npy", "one-d.npy: shape (5,) is not 2-D"),
        ("truncated.npy", "truncated.npy: truncated"),
        ("planted.ids", "planted.ids: not a .npy file"),
    ] {
        let r = run(&["dedup", "--vectors", file]);
        assert_eq!(r.code, 2);
        assert!(r.stderr.contains(message), "{file}: {}", r.stderr);
        assert!(r.stdout.is_empty());
    }
    let r = run(&["dedup", "--vectors", "queries.npy", "--ids", "planted.ids"]);
    assert!(
        r.stderr.contains("planted.ids: 55 ids for 15 rows"),
        "{}",
        r.stderr
    );
}

#[test]
fn against_names_the_closest_reference_row() {
    let q = rows("queries.npy");
    let refs = rows("reference.npy");
    let mut want = Vec::new();
    for (i, x) in q.iter().enumerate() {
        let x = x.as_ref().unwrap();
        let best = (0..refs.len())
            .map(|j| (j, cosine(x, refs[j].as_ref().unwrap())))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        if best.1 >= 0.9 {
            want.push(format!("{i}\t{}\t{:.4}", best.0, best.1));
        }
    }
    assert_eq!(want.len(), 4, "queries 0, 1, 2 and 4 leak");
    let r = run(&[
        "dedup",
        "--vectors",
        "queries.npy",
        "--against",
        "reference.npy",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().collect::<Vec<_>>(), want);
    let keep = run(&[
        "dedup",
        "--vectors",
        "queries.npy",
        "--against",
        "reference.npy",
        "--output",
        "keep",
    ]);
    assert_eq!(keep.stdout.lines().count(), 15 - 4);
}

#[test]
fn outliers_are_the_lone_rows() {
    let r = run(&[
        "outliers",
        "--vectors",
        "clusters.npy",
        "-K",
        "10",
        "--percent",
        "5",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut ids: Vec<u32> = r
        .stdout
        .lines()
        .map(|l| l.split('\t').next().unwrap().parse().unwrap())
        .collect();
    let scores: Vec<f64> = r
        .stdout
        .lines()
        .map(|l| l.split('\t').nth(1).unwrap().parse().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] <= w[1]), "lowest first");
    ids.sort();
    assert_eq!(ids, [90, 91, 92, 93, 94]);
}

#[test]
fn representatives_cover_the_clusters() {
    let r = run(&[
        "represent",
        "--vectors",
        "clusters.npy",
        "-K",
        "10",
        "-n",
        "3",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut clusters: Vec<u32> = r
        .stdout
        .lines()
        .map(|l| l.split('\t').next().unwrap().parse::<u32>().unwrap() / 30)
        .collect();
    clusters.sort();
    assert_eq!(clusters, [0, 1, 2]);
}

#[test]
fn rethreshold_equals_a_fresh_run() {
    let env = TestEnv::new();
    let saved = env.path().join("run.json");
    let saved = saved.to_str().unwrap();
    let first = run(&["dedup", "--vectors", "planted.npy", "--save", saved]);
    let again = run_in(env.path(), &["rethreshold", saved, "-t", "0.95"], b"", &[]);
    let fresh = run(&["dedup", "--vectors", "planted.npy", "-t", "0.95"]);
    assert_eq!(again.stdout, fresh.stdout);
    assert_ne!(first.stdout, fresh.stdout);
    let looser = run_in(env.path(), &["rethreshold", saved, "-t", "0.8"], b"", &[]);
    assert_eq!(looser.code, 2);
    assert!(
        looser.stderr.contains("saved at threshold 0.9"),
        "{}",
        looser.stderr
    );
}

#[test]
fn rethreshold_to_a_target_size() {
    let env = TestEnv::new();
    let saved = env.path().join("run.json");
    let saved = saved.to_str().unwrap();
    run(&[
        "dedup",
        "--vectors",
        "planted.npy",
        "-t",
        "0.8",
        "--save",
        saved,
    ]);
    let fresh = run(&["dedup", "--vectors", "planted.npy", "-t", "0.95"]);
    // Rows 0..55 minus the NaN row: the count that 0.95 keeps, asked for.
    let kept = 54 - fresh.stdout.lines().count();
    let again = run_in(
        env.path(),
        &["rethreshold", saved, "--target-size", &kept.to_string()],
        b"",
        &[],
    );
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(54 - again.stdout.lines().count(), kept);
    assert!(
        again.stderr.contains("keeps the count closest to"),
        "{}",
        again.stderr
    );
    let both = run_in(
        env.path(),
        &["rethreshold", saved, "-t", "0.9", "--target-size", "3"],
        b"",
        &[],
    );
    assert_eq!(both.code, 2);
}

#[test]
fn text_inputs_get_the_same_operations() {
    let ex = testdata().join("example");
    let plain = run_in(&ex, &["--output", "remove", "notes", "mirror"], b"", &[]);
    let sem = run_in(
        &ex,
        &["dedup", "notes", "mirror", "--threshold", "0.5"],
        b"",
        &[],
    );
    assert_eq!(sem.code, 0, "{}", sem.stderr);
    assert_eq!(sem.stdout, plain.stdout);
    assert!(!sem.stdout.is_empty());
    let leak = run_in(&ex, &["dedup", "mirror", "--against", "notes"], b"", &[]);
    assert_eq!(leak.stdout.lines().count(), plain.stdout.lines().count());
    assert!(leak.stdout.lines().all(|l| l.starts_with("mirror/")));
    let out = run_in(
        &ex,
        &["outliers", "notes", "mirror", "-K", "2", "--percent", "25"],
        b"",
        &[],
    );
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.stderr);
    let rep = run_in(
        &ex,
        &["represent", "notes", "mirror", "-K", "2", "-n", "3"],
        b"",
        &[],
    );
    assert_eq!(rep.stdout.lines().count(), 3, "{}", rep.stderr);
}

/// A `.npy` file of float32 rows.
fn npy(rows: &[Vec<f32>]) -> Vec<u8> {
    let dim = rows.first().map_or(0, |r| r.len());
    let mut header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {dim}), }}",
        rows.len()
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for r in rows {
        for x in r {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    out
}

/// A Gaussian vector of `dim` dimensions and expected norm `scale`.
fn gaussian(rng: &mut simdedup::vectors::hyperplane::Rng, dim: usize, scale: f64) -> Vec<f64> {
    (0..dim)
        .map(|_| rng.gaussian() * scale / (dim as f64).sqrt())
        .collect()
}

/// `x` scaled to norm 1.
fn unit(x: Vec<f64>) -> Vec<f64> {
    let n = x.iter().map(|a| a * a).sum::<f64>().sqrt();
    x.into_iter().map(|a| a / n).collect()
}

/// 3,000 clustered rows of 32 dimensions around a shared offset, one in ten replaced by a
/// copy of an earlier row at a cosine between 0.85 and 0.99 (as scripts/make_vectors.py).
fn clustered_rows() -> Vec<Vec<f32>> {
    let mut rng = simdedup::vectors::hyperplane::Rng::new(5);
    let dim = 32;
    let mut gauss = |scale: f64| gaussian(&mut rng, dim, scale);
    let offset = gauss(1.2);
    let centres: Vec<Vec<f64>> = (0..30).map(|_| gauss(1.0)).collect();
    let mut rows: Vec<Vec<f64>> = Vec::new();
    for i in 0..3000usize {
        if i % 10 == 9 {
            let base = rows[(i * 7919) % i].clone();
            let c = 0.85 + 0.14 * ((i * 37) % 100) as f64 / 100.0;
            let r = gauss(1.0);
            let along: f64 = r.iter().zip(&base).map(|(a, b)| a * b).sum();
            let r = unit(r.iter().zip(&base).map(|(a, b)| a - along * b).collect());
            rows.push(
                base.iter()
                    .zip(&r)
                    .map(|(b, r)| c * b + (1.0 - c * c).sqrt() * r)
                    .collect(),
            );
        } else {
            let noise = gauss(0.8);
            let centre = &centres[i % 30];
            rows.push(unit(
                (0..dim).map(|d| offset[d] + centre[d] + noise[d]).collect(),
            ));
        }
    }
    rows.into_iter()
        .map(|r| r.into_iter().map(|x| x as f32).collect())
        .collect()
}

#[test]
fn band_search_finds_a_subset_of_the_exact_pairs_with_exact_scores() {
    let env = TestEnv::new();
    env.file("x.npy", npy(&clustered_rows()));
    let pairs = ["dedup", "--vectors", "x.npy", "--output", "pairs"];
    let exact = env.run(&[&pairs[..], &["--method", "exact", "-k", "128"]].concat());
    let bands = env.run(&[&pairs[..], &["--method", "bands"]].concat());
    assert_eq!((exact.code, bands.code), (0, 0), "{}", bands.stderr);
    assert!(
        bands.stderr.contains("band search: 512 bits")
            && bands
                .stderr
                .contains("verified by exact cosine; recall 0.99"),
        "{}",
        bands.stderr
    );
    let all: std::collections::HashSet<&str> = exact.stdout.lines().collect();
    let found: Vec<&str> = bands.stdout.lines().collect();
    for line in &found {
        assert!(
            all.contains(line),
            "{line} is not an exact pair (or its score differs)"
        );
    }
    // A recall of 0.99 at the worst-case bar: far above it on 300 planted copies.
    assert!(all.len() > 200, "{}", all.len());
    assert!(
        found.len() as f64 >= 0.95 * all.len() as f64,
        "{} of {}",
        found.len(),
        all.len()
    );
}

#[test]
fn band_search_output_is_identical_for_one_and_two_threads() {
    let env = TestEnv::new();
    env.file("x.npy", npy(&clustered_rows()));
    let args = [
        "dedup",
        "--vectors",
        "x.npy",
        "--method",
        "bands",
        "--output",
        "pairs",
    ];
    let one = env.run_env(&args, b"", &[("RAYON_NUM_THREADS", "1")]);
    let two = env.run_env(&args, b"", &[("RAYON_NUM_THREADS", "2")]);
    assert_eq!(one.code, 0, "{}", one.stderr);
    assert!(!one.stdout.is_empty());
    assert_eq!(one.stdout, two.stdout);
    assert_eq!(one.stderr, two.stderr);
}

/// 1,500 rows in 60 tight clusters of 25, interleaved: each member at cosine about 0.95
/// to its centre, so members are at about 0.90 to each other, on both sides of the bar.
fn tight_clusters() -> Vec<Vec<f32>> {
    let mut rng = simdedup::vectors::hyperplane::Rng::new(11);
    let dim = 32;
    let mut gauss = |scale: f64| gaussian(&mut rng, dim, scale);
    let centres: Vec<Vec<f64>> = (0..60).map(|_| unit(gauss(1.0))).collect();
    (0..1500)
        .map(|i| {
            let noise = gauss(0.33);
            let c = &centres[(i * 7) % 60];
            unit(c.iter().zip(&noise).map(|(a, b)| a + b).collect())
                .into_iter()
                .map(|x| x as f32)
                .collect()
        })
        .collect()
}

#[test]
fn keep_first_search_decides_as_the_full_band_search() {
    let env = TestEnv::new();
    env.file("t.npy", npy(&tight_clusters()));
    let args = ["dedup", "--vectors", "t.npy", "--method", "bands"];
    let first = env.run(&args);
    // --save needs every pair, so the full band search runs.
    let full = env.run(&[&args[..], &["--save", "s.json"]].concat());
    assert_eq!((first.code, full.code), (0, 0), "{}", first.stderr);
    assert!(
        first.stderr.contains("band search (keep-first"),
        "{}",
        first.stderr
    );
    assert!(!full.stderr.contains("keep-first"), "{}", full.stderr);
    let removed = first.stdout.lines().count();
    assert!(removed > 300 && removed < 1400, "{removed} removed");
    assert_eq!(first.stdout, full.stdout);
    // Against the exhaustive search: the bands' recall, far above the worst case here.
    let exact = env.run(&[
        "dedup",
        "--vectors",
        "t.npy",
        "--method",
        "exact",
        "-k",
        "128",
    ]);
    let oracle: std::collections::HashSet<&str> = exact.stdout.lines().collect();
    let same = first.stdout.lines().filter(|l| oracle.contains(l)).count();
    assert!(same as f64 >= 0.95 * removed as f64, "{same} of {removed}");
}

#[test]
fn the_cost_model_keeps_the_exact_search_on_small_files() {
    let r = run(&["dedup", "--vectors", "planted.npy", "--output", "pairs"]);
    assert!(r.stderr.contains("exact search: 128 bits"), "{}", r.stderr);
}

/// `dedup --target-size N` decides as `rethreshold --target-size N` does on the same
/// run saved at the floor, and as a plain run at the threshold it prints: vectors (floor
/// 0.7 by default) and dataset text (floor 0.3), with the kept rows written.
#[test]
fn dedup_to_a_target_size() {
    let env = TestEnv::new();
    let saved = env.path().join("run.json");
    let saved = saved.to_str().unwrap();
    let threshold_of = |stderr: &str| -> String {
        let line = stderr
            .lines()
            .find(|l| l.contains("keeps the count closest to"))
            .unwrap_or_else(|| panic!("{stderr}"));
        line.split_whitespace()
            .skip_while(|w| !w.ends_with("threshold"))
            .nth(1)
            .unwrap()
            .to_string()
    };
    // Vectors: 54 usable rows of planted.npy.
    run(&[
        "dedup",
        "--vectors",
        "planted.npy",
        "-t",
        "0.7",
        "--save",
        saved,
    ]);
    for target in ["40", "47", "50"] {
        // Exit 2: the NaN row is reported and skipped, as in every run of this file.
        let aimed = run(&["dedup", "--vectors", "planted.npy", "--target-size", target]);
        assert_eq!(aimed.code, 2, "{}", aimed.stderr);
        let again = run(&["rethreshold", saved, "--target-size", target]);
        assert_eq!(aimed.stdout, again.stdout, "target {target}");
        let t = threshold_of(&aimed.stderr);
        let plain = run(&["dedup", "--vectors", "planted.npy", "-t", &t]);
        assert_eq!(aimed.stdout, plain.stdout, "target {target} at {t}");
    }
    // Dataset text: sentences that share less and less of a base.
    let base: Vec<String> = (0..24).map(|i| format!("w{i}")).collect();
    let mut lines = String::new();
    for row in 0..40 {
        let mut words = base.clone();
        for k in 0..row % 8 {
            words[(k * 5 + row) % 24] = format!("x{row}_{k}");
        }
        if row % 10 == 9 {
            words = (0..24).map(|k| format!("u{row}_{k}")).collect();
        }
        lines.push_str(&format!(
            "{{\"id\": {row}, \"text\": \"{}\"}}\n",
            words.join(" ")
        ));
    }
    env.file("rows.jsonl", lines.as_bytes());
    let data = |extra: &[&str]| {
        let mut args = vec!["dedup", "rows.jsonl", "--columns", "text"];
        args.extend_from_slice(extra);
        let r = run_in(env.path(), &args, b"", &[]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r
    };
    data(&["-t", "0.3", "--save", saved]);
    let mut seen = std::collections::BTreeSet::new();
    for target in [20usize, 25, 30, 35] {
        let aimed = data(&["--target-size", &target.to_string(), "-o", "kept.jsonl"]);
        let again = run_in(
            env.path(),
            &["rethreshold", saved, "--target-size", &target.to_string()],
            b"",
            &[],
        );
        assert_eq!(aimed.stdout, again.stdout, "target {target}");
        let t = threshold_of(&aimed.stderr);
        assert_eq!(
            aimed.stdout,
            data(&["-t", &t]).stdout,
            "target {target} at {t}"
        );
        let kept = std::fs::read_to_string(env.path().join("kept.jsonl")).unwrap();
        assert_eq!(kept.lines().count(), 40 - aimed.stdout.lines().count());
        seen.insert(kept.lines().count());
    }
    assert!(seen.len() >= 3, "the targets gave {seen:?} kept rows");
    let both = run(&[
        "dedup",
        "--vectors",
        "planted.npy",
        "--target-size",
        "3",
        "--against",
        "reference.npy",
    ]);
    assert!(
        both.stderr.contains("cannot be used with"),
        "{}",
        both.stderr
    );
}

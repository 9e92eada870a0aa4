//! `--report FILE.html`: the page's numbers are the run's (pairs per histogram bin from the
//! `--scores` TSV, removals per bar from `--output remove` runs at that bar), input text
//! is escaped, nothing is loaded from outside the page, and the bytes are the same for one
//! and two threads apart from the run-time line.

use std::collections::BTreeMap;

use crate::util::{Rng, TestEnv, edit, random_text};

/// Every pair compared and verified: a run at any bar finds exactly the pairs at or above
/// it, so a run at a stricter bar is the oracle of the report's threshold table.
const ALL_PAIRS: &[&str] = &["--method", "brute", "-k", "128"];

/// 30 families of a text and 3 edited copies (near pairs at many similarities), 2 exact
/// copies, 20 unrelated texts.
fn corpus(env: &TestEnv) {
    let mut rng = Rng(32);
    for f in 0..30 {
        let base = random_text(&mut rng, 60);
        env.file(&format!("docs/f{f:02}-0.txt"), &base);
        for c in 1..4 {
            let copy = edit(&mut rng, &base, 2 + 4 * c);
            env.file(&format!("docs/f{f:02}-{c}.txt"), copy);
        }
    }
    let same = random_text(&mut rng, 40);
    env.file("docs/same-a.txt", &same);
    env.file("docs/same-b.txt", &same);
    for u in 0..20 {
        env.file(&format!("docs/u{u:02}.txt"), random_text(&mut rng, 50));
    }
}

/// The values of attribute `name` in `html`, in order.
fn attr<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let key = format!("{name}=\"");
    html.match_indices(&key)
        .map(|(i, _)| {
            let rest = &html[i + key.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

fn read(env: &TestEnv, name: &str) -> String {
    std::fs::read_to_string(env.path().join(name)).expect("the report was written")
}

#[test]
fn report_numbers_equal_the_runs_tsv() {
    let env = TestEnv::new();
    corpus(&env);
    let mut args = vec!["docs", "-j", "0.3", "--scores", "--report", "r.html"];
    args.extend(ALL_PAIRS);
    let run = env.run(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let html = read(&env, "r.html");

    // Pairs per bin: from the similarity column as printed (4 decimals), 0.02 wide.
    let mut from_tsv: BTreeMap<String, u64> = BTreeMap::new();
    for line in run.stdout.lines() {
        let score = line.split('\t').nth(3).unwrap();
        let ten_thousandths: usize = score.replace('.', "").parse().unwrap();
        let bin = (ten_thousandths / 200).min(49);
        *from_tsv
            .entry(format!("{:.2}", bin as f64 / 50.0))
            .or_default() += 1;
    }
    let bins = attr(&html, "data-bin");
    let counts = attr(&html, "data-count");
    let from_report: BTreeMap<String, u64> = bins
        .iter()
        .zip(&counts)
        .map(|(b, c)| (b.to_string(), c.parse().unwrap()))
        .collect();
    assert!(from_tsv.len() >= 5, "too few bins to test: {from_tsv:?}");
    assert_eq!(from_report, from_tsv);

    // Removals per bar: a run at that bar removes that many rows.
    let bars = attr(&html, "data-bar");
    let removed = attr(&html, "data-removed");
    assert_eq!(bars.first(), Some(&"0.3"));
    assert_eq!(bars.last(), Some(&"1"));
    let mut distinct: Vec<&str> = removed.clone();
    distinct.dedup();
    assert!(distinct.len() >= 3, "the table should vary: {removed:?}");
    for (bar, removed) in bars.iter().zip(&removed) {
        let mut args = vec!["docs", "-j", bar, "--output", "remove"];
        args.extend(ALL_PAIRS);
        let run = env.run(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(
            run.stdout.lines().count().to_string(),
            *removed,
            "rows removed at bar {bar}"
        );
    }

    // More near pairs than are shown: 50 of them, and the page says it samples.
    assert_eq!(html.matches("<div class=\"pair\">").count(), 50);
    assert!(html.contains("The 50 of "), "the sample is not announced");
}

#[test]
fn hostile_text_and_names_show_as_text() {
    let env = TestEnv::new();
    let text = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi \
                omicron pi rho sigma tau upsilon phi chi psi omega";
    env.file(
        "docs/a.txt",
        format!("{text} <script>alert(1)</script> </textarea> x"),
    );
    env.file(
        "docs/<img src=x onerror=alert(2)>.txt",
        format!("{text} <script>alert(1)</script> </textarea> y"),
    );
    let run = env.run(&["docs", "--report", "r.html"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 1, "the two files are a pair");
    let html = read(&env, "r.html");
    for raw in ["<script", "</textarea", "<img"] {
        assert!(!html.contains(raw), "{raw} is not escaped");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&lt;/textarea&gt;"));
    assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;.txt"));
}

#[test]
fn dataset_rows_are_escaped_and_counted() {
    let env = TestEnv::new();
    let text = "one two three four five six seven eight nine ten eleven twelve thirteen";
    let rows = [
        format!("{{\"id\":\"a\",\"text\":\"{text} <script>x</script>\"}}"),
        format!("{{\"id\":\"b\",\"text\":\"{text} <script>y</script>\"}}"),
        "{\"id\":\"c\",\"text\":\"something else entirely, not like the others\"}".into(),
    ];
    env.file("d.jsonl", rows.join("\n") + "\n");
    let run = env.run(&[
        "dedup",
        "d.jsonl",
        "--columns",
        "text",
        "--id-column",
        "id",
        "--report",
        "r.html",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let html = read(&env, "r.html");
    assert_eq!(run.stdout.lines().count(), 1);
    assert_eq!(attr(&html, "data-removed").first(), Some(&"1"));
    assert!(!html.contains("<script"));
    assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
}

#[test]
fn report_loads_nothing_from_outside_the_page() {
    let env = TestEnv::new();
    corpus(&env);
    let run = env.run(&["docs", "--report", "r.html"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let html = read(&env, "r.html");
    assert!(html.contains("<svg"), "the histogram is inline SVG");
    for bad in ["src=", "@import", "<script", "<link", "<iframe", "<img"] {
        assert!(!html.contains(bad), "the page holds {bad}");
    }
    for href in attr(&html, "href") {
        assert!(href.starts_with('#'), "href to {href}");
    }
    for (i, _) in html.match_indices("url(") {
        let target = &html[i + 4..];
        assert!(
            target.starts_with('#') || target.starts_with("data:"),
            "url({}",
            &target[..20.min(target.len())]
        );
    }
}

#[test]
fn same_bytes_for_one_and_two_threads_but_the_run_time() {
    let env = TestEnv::new();
    corpus(&env);
    let strip = |html: String| -> String {
        let volatile: Vec<&str> = html
            .lines()
            .filter(|l| l.contains("data-volatile=\"run-time\""))
            .collect();
        assert_eq!(volatile.len(), 1, "one run-time line");
        html.lines()
            .filter(|l| !l.contains("data-volatile=\"run-time\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut pages = Vec::new();
    for threads in ["1", "2"] {
        let name = format!("r{threads}.html");
        let run = env.run_env(
            &["docs", "--report", &name],
            b"",
            &[("RAYON_NUM_THREADS", threads)],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        pages.push(strip(read(&env, &name)));
    }
    assert!(pages[0].contains("class=\"pair\""));
    assert_eq!(pages[0], pages[1]);
}

#[test]
fn a_report_path_that_cannot_be_written_fails_before_the_run() {
    let env = TestEnv::new();
    corpus(&env);
    let run = env.run(&["docs", "--report", "no/such/dir/r.html"]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.is_empty(), "the run did not start");
    assert!(
        run.stderr
            .contains("cannot write the --report file: no/such/dir/r.html"),
        "{}",
        run.stderr
    );
    let run = env.run(&["docs", "--no-verify", "--report", "r.html"]);
    assert_eq!(run.code, 2, "--no-verify has no verified pairs to report");
}

#[test]
fn index_query_reports_the_new_files_removed() {
    let env = TestEnv::new();
    let mut rng = Rng(7);
    let texts: Vec<String> = (0..6).map(|_| random_text(&mut rng, 60)).collect();
    for (i, t) in texts.iter().enumerate() {
        env.file(&format!("old/{i}.txt"), t);
    }
    env.file("new/exact.txt", &texts[1]);
    env.file("new/<near>.txt", edit(&mut rng, &texts[2], 4));
    env.file("new/other.txt", random_text(&mut rng, 60));
    let built = env.run(&["index", "build", "old", "-o", "i.sdx"]);
    assert_eq!(built.code, 0, "{}", built.stderr);
    let run = env.run(&["index", "query", "i.sdx", "new", "--report", "q.html"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 2, "{}", run.stdout);
    let html = read(&env, "q.html");
    assert_eq!(attr(&html, "data-removed").first(), Some(&"2"));
    assert!(html.contains("new/&lt;near&gt;.txt"));
    assert!(!html.contains("<near>"));
}

/// `dedup --against`: each flagged query is a pair with its reference record; the bins
/// are the leaks' scores, each bar's count is what a run at that bar flags, and the texts
/// of both sides are shown.
#[test]
fn against_reports_the_leaks() {
    let env = TestEnv::new();
    corpus(&env);
    // The queries: the edited copies; the reference: the originals and the unrelated texts.
    for entry in std::fs::read_dir(env.path().join("docs")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let to = if name.ends_with("-0.txt") || name.starts_with('u') || name == "same-a.txt" {
            "train"
        } else {
            "test"
        };
        std::fs::create_dir_all(env.path().join(to)).unwrap();
        std::fs::rename(
            env.path().join("docs").join(&name),
            env.path().join(to).join(&name),
        )
        .unwrap();
    }
    let leaks = |bar: &str, report: bool| {
        let mut args = vec!["dedup", "test", "--against", "train", "-t", bar];
        args.extend(ALL_PAIRS);
        if report {
            args.extend(["--report", "leaks.html"]);
        }
        let run = env.run(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout
    };
    let tsv = leaks("0.3", true);
    let html = read(&env, "leaks.html");
    assert!(
        html.contains("--against train"),
        "the title names the reference"
    );
    let mut from_tsv: BTreeMap<String, u64> = BTreeMap::new();
    for line in tsv.lines() {
        let score = line.split('\t').nth(2).unwrap();
        let bin = (score.replace('.', "").parse::<usize>().unwrap() / 200).min(49);
        *from_tsv
            .entry(format!("{:.2}", bin as f64 / 50.0))
            .or_default() += 1;
    }
    let counts: BTreeMap<String, u64> = attr(&html, "data-bin")
        .iter()
        .zip(attr(&html, "data-count"))
        .map(|(b, c)| (b.to_string(), c.parse().unwrap()))
        .collect();
    assert!(from_tsv.len() >= 3, "too few bins to test: {from_tsv:?}");
    assert_eq!(counts, from_tsv);
    let removed = attr(&html, "data-removed");
    for (bar, removed) in attr(&html, "data-bar").iter().zip(&removed) {
        assert_eq!(
            leaks(bar, false).lines().count().to_string(),
            *removed,
            "flagged at {bar}"
        );
    }
    // The closest pair's both texts are on the page: a query's and its reference's.
    assert!(html.matches("<div class=\"pair\">").count() >= 10);
    assert!(html.contains("test/f") && html.contains("train/f"));
}

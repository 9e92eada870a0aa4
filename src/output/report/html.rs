//! The report as one HTML page: inline CSS and SVG, no script, font, image or link outside
//! the page, so that it reads the same offline. Every string from the inputs (names,
//! texts) goes through [`escape`]. The run-time line is the only one that differs between
//! two runs of the same input; it carries `data-volatile="run-time"` and stands on a line
//! of its own.

use std::fmt::Write;

use super::{
    BINS, BORDERLINE, CLUSTERS, Curve, Marked, PAIR_CHARS, PAIR_WORDS, RunData, SNIPPET_CHARS,
    Summary,
};
use crate::ops::dedup::Grouping;

/// `text` with `& < > " '` written as character references: safe in element content and
/// in quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "\
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;max-width:1180px;padding:16px 24px;color:#1d2330;background:#fff}
h1{font-size:24px;margin:8px 0 2px}h2{font-size:19px;margin:28px 0 8px;border-bottom:1px solid #dde;padding-bottom:4px}
.sub{color:#556;margin:0 0 10px}nav a{margin-right:14px;color:#2456a6}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}.card{border:1px solid #dde;border-radius:6px;padding:8px 14px;min-width:120px}
.card b{display:block;font-size:21px}.note{color:#556;font-size:13px}
table{border-collapse:collapse;margin:6px 0}th,td{padding:3px 10px;border-bottom:1px solid #eef;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}tr.run td{background:#fff4d6;font-weight:600}
.pair{border:1px solid #dde;border-radius:6px;margin:10px 0;overflow:hidden}
.pair .head{background:#f4f6fa;padding:5px 10px;font-size:13px}.score{font-weight:700;margin-right:8px}
.sides{display:grid;grid-template-columns:1fr 1fr}.side{padding:6px 10px;white-space:pre-wrap;overflow-wrap:anywhere;font-size:13px;max-height:260px;overflow:auto}
.side+.side{border-left:1px solid #dde}mark{background:#ffd7a8;border-radius:2px}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;overflow-wrap:anywhere}
svg text{font:11px system-ui,sans-serif;fill:#445}details{margin:6px 0}";

/// Plot area of the histogram, in SVG user units.
const X0: f64 = 60.0;
const X1: f64 = 840.0;
const Y0: f64 = 20.0;
const Y1: f64 = 270.0;

fn x_of(j: f64) -> f64 {
    X0 + j.clamp(0.0, 1.0) * (X1 - X0)
}

/// The page for `data`, summarised in `s`.
pub fn render(data: &RunData, s: &Summary) -> String {
    let f = &data.facts;
    let mut h = String::with_capacity(64 << 10);
    let title = escape(&f.title);
    let _ = writeln!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>simdedup report: {title}</title>\n<style>\n{STYLE}\n</style>\n</head>\n<body>"
    );
    let _ = writeln!(
        h,
        "<h1>simdedup report</h1>\n<p class=\"sub\"><code>{title}</code></p>\n<nav><a href=\"#histogram\">Histogram</a><a href=\"#thresholds\">Thresholds</a><a href=\"#borderline\">Borderline pairs</a><a href=\"#clusters\">Clusters</a><a href=\"#facts\">Run facts</a></nav>"
    );
    let records = data.records - data.skipped_records.len();
    let share = s.removed as f64 / records.max(1) as f64;
    let _ = writeln!(
        h,
        "<div class=\"cards\"><div class=\"card\"><b>{records}</b>records</div><div class=\"card\"><b>{}</b>removed ({:.2}%)</div><div class=\"card\"><b>{}</b>verified pairs ({} exact)</div><div class=\"card\"><b>{}</b>candidates</div><div class=\"card\"><b>{}</b>{} bar</div></div>",
        s.removed,
        share * 100.0,
        s.exact_pairs + s.near_pairs,
        s.exact_pairs,
        f.candidates,
        f.threshold,
        escape(&f.similarity)
    );
    histogram(&mut h, data, s);
    thresholds(&mut h, data, s, records);
    borderline(&mut h, data, s);
    clusters(&mut h, s);
    facts(&mut h, data, s);
    let _ = writeln!(
        h,
        "<p class=\"note\">Written by simdedup {}. One file, no script and nothing loaded from elsewhere.</p>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION")
    );
    h
}

fn histogram(h: &mut String, data: &RunData, s: &Summary) {
    let f = &data.facts;
    let max = s.bins.iter().copied().max().unwrap_or(0).max(1);
    let _ = writeln!(
        h,
        "<section id=\"histogram\">\n<h2>Similarity of the verified pairs</h2>\n<p class=\"note\">Bars: verified pairs per {} bin of {} similarity (left axis; every pair at or above the bar, exact duplicates at 1). Curve: the probability that the candidate search proposes a pair of that similarity (right axis). The dashed line is the bar.</p>",
        1.0 / BINS as f64,
        escape(&f.similarity)
    );
    let _ = writeln!(
        h,
        "<svg viewBox=\"0 0 900 310\" width=\"900\" height=\"310\" role=\"img\" aria-label=\"similarity histogram\">"
    );
    // Axes and ticks.
    let _ = writeln!(
        h,
        "<line x1=\"{X0}\" y1=\"{Y1}\" x2=\"{X1}\" y2=\"{Y1}\" stroke=\"#889\"/><line x1=\"{X0}\" y1=\"{Y0}\" x2=\"{X0}\" y2=\"{Y1}\" stroke=\"#889\"/>"
    );
    for t in 0..=10 {
        let x = x_of(t as f64 / 10.0);
        let _ = writeln!(
            h,
            "<line x1=\"{x:.1}\" y1=\"{Y1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#889\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{:.1}</text>",
            Y1 + 4.0,
            Y1 + 16.0,
            t as f64 / 10.0
        );
    }
    for (v, label) in [(0, "0".to_string()), (max, max.to_string())] {
        let y = Y1 - (Y1 - Y0) * v as f64 / max as f64;
        let _ = writeln!(
            h,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{label}</text>",
            X0 - 6.0,
            y + 4.0
        );
    }
    let _ = writeln!(
        h,
        "<text x=\"{:.1}\" y=\"302\" text-anchor=\"middle\">{} similarity</text><text x=\"14\" y=\"{:.1}\" transform=\"rotate(-90 14 {:.1})\" text-anchor=\"middle\">pairs</text>",
        (X0 + X1) / 2.0,
        escape(&f.similarity),
        (Y0 + Y1) / 2.0,
        (Y0 + Y1) / 2.0
    );
    let width = (X1 - X0) / BINS as f64;
    for (k, &c) in s.bins.iter().enumerate() {
        if c == 0 {
            continue;
        }
        let bh = ((Y1 - Y0) * c as f64 / max as f64).max(1.0);
        let _ = writeln!(
            h,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"#7a9cd6\"><title>{:.2}-{:.2}: {c} pairs</title></rect>",
            X0 + k as f64 * width + 0.5,
            Y1 - bh,
            width - 1.0,
            k as f64 / BINS as f64,
            (k + 1) as f64 / BINS as f64
        );
    }
    // The S-curve and its axis.
    if f.curve.probability(0.5).is_some() {
        let points: Vec<String> = (0..=200)
            .map(|i| {
                let j = i as f64 / 200.0;
                let p = f.curve.probability(j).unwrap_or(0.0);
                format!("{:.1},{:.1}", x_of(j), Y1 - (Y1 - Y0) * p)
            })
            .collect();
        let _ = writeln!(
            h,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"#d0552a\" stroke-width=\"2\"/>",
            points.join(" ")
        );
        let _ = writeln!(
            h,
            "<line x1=\"{X1}\" y1=\"{Y0}\" x2=\"{X1}\" y2=\"{Y1}\" stroke=\"#d0552a\"/><text x=\"{:.1}\" y=\"{:.1}\">1</text><text x=\"{:.1}\" y=\"{:.1}\">0</text><text x=\"{:.1}\" y=\"{:.1}\" transform=\"rotate(90 {:.1} {:.1})\" text-anchor=\"middle\">P(candidate)</text>",
            X1 + 5.0,
            Y0 + 4.0,
            X1 + 5.0,
            Y1 + 4.0,
            X1 + 30.0,
            (Y0 + Y1) / 2.0,
            X1 + 30.0,
            (Y0 + Y1) / 2.0
        );
    }
    let xb = x_of(f.threshold);
    let _ = writeln!(
        h,
        "<line x1=\"{xb:.1}\" y1=\"{:.1}\" x2=\"{xb:.1}\" y2=\"{Y1}\" stroke=\"#b0002a\" stroke-width=\"1.5\" stroke-dasharray=\"5 4\"/><text x=\"{:.1}\" y=\"{:.1}\" fill=\"#b0002a\">bar {}</text>",
        Y0 - 6.0,
        xb + 4.0,
        Y0 + 2.0,
        f.threshold
    );
    h.push_str("</svg>\n");
    let recall = match f.curve.probability(f.threshold) {
        Some(p) => format!("{p:.4} at the bar"),
        None => "no model for this search".to_string(),
    };
    let _ = writeln!(
        h,
        "<p>Candidate search: {}; candidate probability {recall}; <b>{}</b> candidates measured, {} pairs verified at or above the bar (exact duplicates are grouped by digest before the search, and a near pair between two groups counts for each of their members).</p>",
        escape(&f.method),
        f.candidates,
        s.exact_pairs + s.near_pairs
    );
    h.push_str("<details><summary>Pairs per bin</summary>\n<table class=\"bins\"><tr><th>similarity</th><th class=\"n\">pairs</th></tr>\n");
    for (k, &c) in s.bins.iter().enumerate() {
        if c > 0 {
            let lo = k as f64 / BINS as f64;
            let _ = writeln!(
                h,
                "<tr data-bin=\"{lo:.2}\" data-count=\"{c}\"><td>{lo:.2} to {:.2}</td><td class=\"n\">{c}</td></tr>",
                (k + 1) as f64 / BINS as f64
            );
        }
    }
    h.push_str("</table></details>\n</section>\n");
}

fn thresholds(h: &mut String, data: &RunData, s: &Summary, records: usize) {
    let f = &data.facts;
    let _ = writeln!(
        h,
        "<section id=\"thresholds\">\n<h2>What a stricter bar would remove</h2>\n<p class=\"note\">From this run's verified pairs, decided again at each bar as <code>simdedup rethreshold</code> does ({}). A lower bar needs a new run: its pairs were not kept.</p>",
        match f.grouping {
            Grouping::Greedy => "greedy assignment in input order",
            Grouping::Components => "connected components",
        }
    );
    if !f.keep_first {
        h.push_str("<p class=\"note\">This run kept another member than the first of each set (--keep); the table keeps the first, as rethreshold does, so its counts may differ slightly from the run's.</p>\n");
    }
    h.push_str("<table class=\"thresholds\"><tr><th class=\"n\">bar</th><th class=\"n\">rows removed</th><th class=\"n\">share</th><th class=\"n\">pairs at or above</th></tr>\n");
    for (i, row) in s.thresholds.iter().enumerate() {
        let _ = writeln!(
            h,
            "<tr{} data-bar=\"{}\" data-removed=\"{}\"><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:.2}%</td><td class=\"n\">{}</td></tr>",
            if i == 0 { " class=\"run\"" } else { "" },
            row.bar,
            row.removed,
            row.bar,
            row.removed,
            100.0 * row.removed as f64 / records.max(1) as f64,
            row.pairs
        );
    }
    h.push_str("</table>\n</section>\n");
}

fn marked(h: &mut String, m: &Option<Marked>) {
    let Some(m) = m else {
        h.push_str("<span class=\"note\">(no text: vectors)</span>");
        return;
    };
    if let Some(e) = &m.unreadable {
        let _ = write!(
            h,
            "<span class=\"note\">(cannot read it again: {})</span>",
            escape(e)
        );
        return;
    }
    for (word, differs) in &m.words {
        if *differs {
            let core = word.trim_end();
            let _ = write!(
                h,
                "<mark>{}</mark>{}",
                escape(core),
                escape(&word[core.len()..])
            );
        } else {
            h.push_str(&escape(word));
        }
    }
    if m.cut > 0 {
        let _ = write!(h, "<span class=\"note\"> [... {} more words]</span>", m.cut);
    } else if m.clipped {
        h.push_str("<span class=\"note\"> [... cut]</span>");
    }
}

fn borderline(h: &mut String, data: &RunData, s: &Summary) {
    let _ = writeln!(
        h,
        "<section id=\"borderline\">\n<h2>Pairs closest to the bar</h2>\n<p class=\"note\">{}. Words one text has and the other lacks at that place are <mark>marked</mark>; each text is shown up to {PAIR_WORDS} words ({PAIR_CHARS} characters).</p>",
        if s.near_pairs > BORDERLINE {
            format!(
                "The {BORDERLINE} of {} near pairs with the lowest score (a sample: the rest score higher)",
                s.near_pairs
            )
        } else {
            format!("All {} near pairs, lowest score first", s.near_pairs)
        }
    );
    for (k, p) in s.borderline.iter().enumerate() {
        let _ = write!(
            h,
            "<div class=\"pair\"><div class=\"head\"><span class=\"score\">{:.4}</span>#{} <code>{}</code> and <code>{}</code></div><div class=\"sides\"><div class=\"side\">",
            p.score,
            k + 1,
            escape(&p.a),
            escape(&p.b)
        );
        marked(h, &p.text_a);
        h.push_str("</div><div class=\"side\">");
        marked(h, &p.text_b);
        h.push_str("</div></div></div>\n");
    }
    if s.borderline.is_empty() {
        h.push_str("<p>No near pair at or above the bar.</p>\n");
    }
    let _ = data;
    h.push_str("</section>\n");
}

fn clusters(h: &mut String, s: &Summary) {
    let _ = writeln!(
        h,
        "<section id=\"clusters\">\n<h2>Largest clusters</h2>\n<p class=\"note\">{}; a cluster is a kept record and the records removed as its duplicates. The kept record's text is shown up to {SNIPPET_CHARS} characters.</p>",
        if s.clusters_total > CLUSTERS {
            format!("The {CLUSTERS} largest of {} clusters", s.clusters_total)
        } else {
            format!("All {} clusters, largest first", s.clusters_total)
        }
    );
    h.push_str("<table class=\"clusters\"><tr><th class=\"n\">size</th><th class=\"n\">exact</th><th>kept</th><th>removed (first few)</th><th>kept text</th></tr>\n");
    for c in &s.clusters {
        let members: Vec<String> = c
            .members
            .iter()
            .map(|m| format!("<code>{}</code>", escape(m)))
            .collect();
        let more = c.size - 1 - c.members.len();
        let _ = writeln!(
            h,
            "<tr data-size=\"{}\"><td class=\"n\">{}</td><td class=\"n\">{}</td><td><code>{}</code></td><td>{}{}</td><td>{}</td></tr>",
            c.size,
            c.size,
            c.exact,
            escape(&c.kept),
            members.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            },
            c.snippet.as_deref().map(escape).unwrap_or_default()
        );
    }
    h.push_str("</table>\n</section>\n");
}

fn facts(h: &mut String, data: &RunData, s: &Summary) {
    let f = &data.facts;
    h.push_str("<section id=\"facts\">\n<h2>Run facts</h2>\n<table class=\"facts\">\n");
    let mut row = |name: &str, value: String| {
        let _ = writeln!(h, "<tr><th>{name}</th><td>{value}</td></tr>");
    };
    row("inputs", f.inputs.to_string());
    let skipped: Vec<String> = f
        .skipped
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(why, n)| format!("{n} {}", escape(why)))
        .collect();
    row(
        "skipped",
        if skipped.is_empty() {
            "none".to_string()
        } else {
            skipped.join("; ")
        },
    );
    row(
        "records compared",
        (data.records - data.skipped_records.len()).to_string(),
    );
    row("similarity", escape(&f.similarity));
    row("bar", f.threshold.to_string());
    row("candidate search", escape(&f.method));
    row(
        "shape",
        match f.curve {
            Curve::Bands(p) => format!("{} bands of {} rows", p.bands, p.rows),
            Curve::Hamming { bits, radius } => format!("{bits}-bit SimHash, radius {radius}"),
            Curve::None => "see the candidate search".to_string(),
        },
    );
    row(
        "recall at the bar",
        match f.curve.probability(f.threshold) {
            Some(p) => format!("{p:.4} (model)"),
            None => "no model".to_string(),
        },
    );
    row("candidates", f.candidates.to_string());
    row(
        "verified pairs",
        format!(
            "{} ({} exact, {} near)",
            s.exact_pairs + s.near_pairs,
            s.exact_pairs,
            s.near_pairs
        ),
    );
    row("removed", s.removed.to_string());
    row(
        "grouping",
        match f.grouping {
            Grouping::Greedy => "greedy (SemHash's)".to_string(),
            Grouping::Components => "connected components".to_string(),
        },
    );
    let memory = match f.peak_memory {
        Some(b) => format!("{:.1} MB peak resident memory", b as f64 / 1e6),
        None => "peak memory not known".to_string(),
    };
    let _ = writeln!(
        h,
        "<tr data-volatile=\"run-time\"><th>time, memory</th><td>{:.2} s until the report, {memory}</td></tr>",
        f.elapsed.as_secs_f64()
    );
    h.push_str("</table>\n</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}

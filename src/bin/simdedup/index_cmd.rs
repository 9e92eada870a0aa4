//! `simdedup index build|add|query`: the persistent index ([`simdedup::index`]) from the
//! command line. Settings of `add` and `query` come from the index; any given must match.

use std::io::{self, Write};

use anyhow::{Result, bail};
use bitvec::vec::BitVec;

use simdedup::index::{Index, IndexView, Settings, VERSION};
use simdedup::input::FileList;
use simdedup::input::path_bytes;
use simdedup::jobs::index as jobs;
use simdedup::ops::dedup::{Grouping, candidate_radius};
use simdedup::ops::incremental::Union;
use simdedup::ops::semantic::rethreshold;
use simdedup::output::escape_path;
use simdedup::output::report::{self, Curve, RunData, RunFacts};
use simdedup::search::{Method, SearchOptions};
use simdedup::text::shingle::Normalization;
use simdedup::text::simhash::{CityHash, Weighting};

use crate::cli::{
    IndexAddArgs, IndexArgs, IndexBuildArgs, IndexCommand, IndexQueryArgs, IndexSettingsArgs,
    InputArgs, normalization,
};
use crate::commands::{
    CANDIDATE_RECALL, Ctx, describe_search, files, max_distance, note_binary, report_title,
    with_width, write_pairs,
};

/// `simdedup index ...`.
pub fn index(ctx: &Ctx, args: &IndexArgs) -> Result<()> {
    match &args.command {
        IndexCommand::Build(args) => build(ctx, args),
        IndexCommand::Add(args) => add(ctx, args),
        IndexCommand::Query(args) => query(ctx, args),
    }
}

fn build(ctx: &Ctx, args: &IndexBuildArgs) -> Result<()> {
    let bits: u32 = args.bits.parse()?;
    with_width!(bits, F => build_with::<F>(ctx, args))
}

fn build_with<F: CityHash>(ctx: &Ctx, args: &IndexBuildArgs) -> Result<()> {
    let list = files(ctx, &args.input);
    let (written, bands) = jobs::build::<F>(
        list.files,
        &args.features.config(),
        args.min_similarity,
        args.recall,
        args.input.binary,
        &args.out,
        &ctx.bars,
        ctx,
    )?;
    note_binary(ctx, written.corpus.binary_skipped);
    ctx.note(&format!(
        "{}: {} documents indexed, with {} band keys of {} rows (recall {:.3} at J {})",
        args.out.display(),
        written.total,
        bands.bands,
        bands.rows,
        bands.recall_at(args.min_similarity),
        args.min_similarity
    ));
    Ok(())
}

fn add(ctx: &Ctx, args: &IndexAddArgs) -> Result<()> {
    let index = Index::open(&args.index)?;
    let settings = resolve(&index, &args.settings)?;
    with_width!(settings.bits, F => add_with::<F>(ctx, args, &index))
}

fn add_with<F: CityHash>(ctx: &Ctx, args: &IndexAddArgs, index: &Index) -> Result<()> {
    let list = new_files(ctx, &args.input, &index.view(), "skipped");
    let written = jobs::add::<F>(index, list.files, args.input.binary, &ctx.bars, ctx)?;
    note_binary(ctx, written.corpus.binary_skipped);
    ctx.note(&format!(
        "{}: {} documents added, {} in all",
        args.index.display(),
        written.corpus.len(),
        written.total
    ));
    Ok(())
}

fn query(ctx: &Ctx, args: &IndexQueryArgs) -> Result<()> {
    let index = Index::open(&args.index)?;
    let settings = resolve(&index, &args.settings)?;
    let version = index.view().version();
    if version < VERSION {
        ctx.note(&format!(
            "{}: index format version {version} has no sorted tables; each query sorts it \
             again (`simdedup index add` rewrites it as version {VERSION})",
            args.index.display()
        ));
    }
    with_width!(settings.bits, F => query_with::<F>(ctx, args, &index, settings))
}

fn query_with<F: CityHash>(
    ctx: &Ctx,
    args: &IndexQueryArgs,
    index: &Index,
    settings: Settings,
) -> Result<()> {
    ctx.open_report(args.report.as_deref())?;
    let view = index.view();
    let list = new_files(
        ctx,
        &args.input,
        &view,
        "compared as indexed documents only",
    );
    // The band search when the index has keys shaped for this bar and no radius is given.
    let radius = args.threshold.max_distance.is_some() || args.threshold.ratio.is_some();
    let bands = settings.bands.filter(|b| {
        !args.exact && !radius && b.recall_at(args.min_similarity) >= args.recall - 1e-9
    });
    if let (Some(b), None) = (settings.bands, bands)
        && !args.exact
        && !radius
    {
        ctx.note(&format!(
            "the index's band keys catch pairs at J {} with probability {:.3} only (below \
             --recall {}): exact Hamming search",
            args.min_similarity,
            b.recall_at(args.min_similarity),
            args.recall
        ));
    }
    // The candidate radius exactly as the plain run chooses it.
    let k = match (args.threshold.max_distance, args.threshold.ratio) {
        (None, None) => candidate_radius(F::BITS, args.min_similarity, CANDIDATE_RECALL),
        _ => max_distance(&args.threshold, F::BITS, false)?,
    };
    let search = SearchOptions {
        method: Method::Exact {
            blocks: args.blocks,
        },
        max_distance: k,
    };
    let (corpus, result) = jobs::query::<F>(
        index,
        list.files,
        args.min_similarity,
        bands,
        search,
        args.input.binary,
        &ctx.bars,
        ctx,
    )?;
    note_binary(ctx, corpus.binary_skipped);
    let short = corpus.docs.iter().filter(|d| d.shingles == 0).count();
    if short > 0 {
        ctx.note(&format!(
            "{short} document(s) too short for {} shingles: compared only as exact duplicates",
            settings.text.shingling
        ));
    }
    let exact = result.pairs.iter().filter(|p| p.exact).count();
    ctx.note(&format!(
        "{} indexed and {} new documents, {} duplicate pairs with a new document ({exact} exact), {} candidates {}",
        view.len(),
        corpus.len(),
        result.pairs.len(),
        result.candidates,
        describe_search(bands, k, args.min_similarity)
    ));
    let old = view.len();
    let path = |i: u32| -> String {
        let i = i as usize;
        match i.checked_sub(old) {
            None => escape_path(&view.path(i)),
            Some(j) => escape_path(corpus.path(j)),
        }
    };
    if ctx.wants_report() {
        // The decisions: indexed files are kept (they come first and have no pairs among
        // themselves here), new files removed greedily, as rethreshold decides at the bar.
        let n = old + corpus.len();
        let pairs: Vec<(u32, u32, f64, bool)> = result
            .pairs
            .iter()
            .map(|p| (p.a, p.b, p.score, p.exact))
            .collect();
        let decided = rethreshold(n, &[], &pairs, args.min_similarity, Grouping::Greedy);
        let union = Union::new(index.view(), &corpus);
        let data = RunData {
            facts: RunFacts {
                title: report_title(
                    &format!("index query {} ", escape_path(&args.index)),
                    &args.input.paths,
                ),
                similarity: "Jaccard".into(),
                threshold: args.min_similarity,
                inputs: (old + corpus.len() + corpus.binary_skipped + corpus.unreadable) as u64,
                skipped: vec![
                    ("binary (NUL bytes)".into(), corpus.binary_skipped as u64),
                    ("unreadable".into(), corpus.unreadable as u64),
                ],
                method: describe_search(bands, k, args.min_similarity),
                curve: match bands {
                    Some(p) => Curve::Bands(p),
                    None => Curve::Hamming {
                        bits: F::BITS,
                        radius: k,
                    },
                },
                candidates: result.candidates,
                grouping: Grouping::Greedy,
                keep_first: true,
                elapsed: ctx.started.elapsed(),
                peak_memory: report::peak_memory(),
            },
            records: n,
            name: &path,
            pairs: &result.pairs,
            assignment: &decided.assignment,
            skipped_records: &[],
            texts: Some(&union),
        };
        ctx.write_report(&data)?;
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    write_pairs(&mut out, &result.pairs, &path, &args.output)?;
    out.flush()?;
    Ok(())
}

/// The files of `input` that are not in the index yet. A path already in it (the same
/// bytes, as the plain run compares repeated paths) is left out with a note: a run over
/// the indexed files and these would read it once, as the indexed document.
fn new_files(ctx: &Ctx, input: &InputArgs, view: &IndexView, what: &str) -> FileList {
    let mut list = files(ctx, input);
    let tables = view.tables();
    let keep: BitVec = list
        .files
        .iter()
        .map(|p| !tables.has_path(path_bytes(p)))
        .collect();
    let known = keep.count_zeros();
    list.files.retain(&keep);
    if known > 0 {
        ctx.note(&format!("{known} path(s) already in the index: {what}"));
    }
    list
}

/// The index's settings, after checking that each one given on the command line equals it.
fn resolve(index: &Index, given: &IndexSettingsArgs) -> Result<Settings> {
    let stored = index.view().settings();
    let text = &stored.text;
    let mut conflicts = Vec::new();
    if let Some(bits) = &given.bits {
        let bits: u32 = bits.parse()?;
        if bits != stored.bits {
            conflicts.push(format!("--bits {bits} (the index has {})", stored.bits));
        }
    }
    if let Some(shingle) = given.shingle
        && shingle != text.shingling
    {
        conflicts.push(format!(
            "--shingle {shingle} (the index has {})",
            text.shingling
        ));
    }
    if let Some(steps) = &given.normalize {
        let wanted = normalization(steps);
        if wanted != text.normalization {
            conflicts.push(format!(
                "--normalize {} (the index has {})",
                steps_text(&wanted),
                steps_text(&text.normalization)
            ));
        }
    }
    if let Some(weights) = given.weights {
        let wanted: Weighting = weights.into();
        if wanted != text.weighting {
            conflicts.push(format!(
                "--weights {} (the index has {})",
                weights_text(wanted),
                weights_text(text.weighting)
            ));
        }
    }
    if !conflicts.is_empty() {
        bail!(
            "{}: settings differ from the index's: {}; leave them out to use the index's settings",
            index.file().display(),
            conflicts.join(", ")
        );
    }
    Ok(stored)
}

/// `--normalize` steps as typed.
fn steps_text(n: &Normalization) -> String {
    let steps: Vec<&str> = [
        (n.nfkc, "nfkc"),
        (n.lowercase, "lowercase"),
        (n.strip_punctuation, "punctuation"),
        (n.collapse_whitespace, "whitespace"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|&(_, name)| name)
    .collect();
    if steps.is_empty() {
        "none".into()
    } else {
        steps.join(",")
    }
}

fn weights_text(w: Weighting) -> &'static str {
    match w {
        Weighting::Raw => "raw",
        Weighting::Log => "log",
        Weighting::Set => "set",
    }
}

//! The semantic subcommands (`dedup`, `outliers`, `represent`, `rethreshold`): each reads
//! text files or a `.npy` file, calls [`simdedup::ops::semantic`] and prints TSV on stdout,
//! with a summary on stderr.

use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};

use simdedup::atomic_file::{AtomicFile, TempFile};
use simdedup::corpus::{Corpus, fingerprint_files};
use simdedup::minhash::{BandKeys, BandParams};
use simdedup::ops::cluster::Assignment;
use simdedup::ops::dedup::{
    self, Candidates, Dedup, DedupOptions, DocStats, Grouping, KeepOrder, candidate_radius,
};
use simdedup::ops::semantic::{
    self, CANDIDATE_RECALL, Centring, Cosine, Plan, SavedResult, SearchRequest, ShingleSets,
    VectorMethod, VectorOptions,
};
use simdedup::output::escape_path;
use simdedup::records::{RecordOptions, RecordSet, read_records, write_records};
use simdedup::search::{Method, SearchOptions};
use simdedup::simhash::{CityHash, TextConfig};
use simdedup::vectors::{Scan, Vectors, read_ids};
use simdedup::verify::TextSource;
use simdedup::{Fingerprint, Wide};

use crate::cli::{
    MethodArg, OutliersArgs, OutputKind, RepresentArgs, RethresholdArgs, SearchArgs, SemDedupArgs,
    SemanticInput, ThresholdArgs,
};
use crate::commands::{
    Ctx, band_params, describe_search, files, search_options, uses_bands, with_width,
};

/// A vector file with its ids and row scan; non-finite rows reported, zero rows noted.
struct Loaded {
    v: Vectors,
    ids: Vec<String>,
    scan: Scan,
}

fn load(ctx: &Ctx, path: &Path, ids: Option<&Path>) -> Result<Loaded> {
    let v = Vectors::open(path)?;
    let ids = read_ids(ids, v.rows())?;
    let scan = v.scan();
    semantic::report_non_finite(&v, &scan, &ids, ctx);
    if !scan.zero.is_empty() {
        let names: Vec<&str> = scan.zero.iter().take(5).map(|&i| ids[i].as_str()).collect();
        ctx.note(&format!(
            "{}: {} zero vector(s) ({}{}): cosine is undefined, they match only exact copies",
            path.display(),
            scan.zero.len(),
            names.join(", "),
            if scan.zero.len() > 5 { ", ..." } else { "" }
        ));
    }
    Ok(Loaded { v, ids, scan })
}

fn vector_options(input: &SemanticInput, threshold: f64, k: Option<u32>) -> VectorOptions {
    VectorOptions {
        seed: input.seed,
        center: !input.no_center,
        threshold,
        max_distance: k,
    }
}

fn check_vector_bits(bits: u32) -> Result<()> {
    if bits < 64 {
        bail!("--bits {bits} is for text; vectors use 64, 128, 256, 512 or 1024");
    }
    Ok(())
}

fn check_text_bits(bits: u32) -> Result<()> {
    if bits > 128 {
        bail!("--bits {bits} is for vectors; text uses 32, 64 or 128");
    }
    Ok(())
}

fn plan_note(ctx: &Ctx, plan: &Plan, threshold: f64, candidates: usize) {
    let bar = format!(
        "centred cosine {:.4}, the image of cosine {threshold} for rows of centred norm >= {:.3}",
        plan.hashed_bar, plan.low_norm
    );
    match plan.bands {
        Some(shape) => ctx.note(&format!(
            "band search: {} bits, {} bands of {} bits, candidates also within Hamming distance \
             {} ({candidates} candidate pairs, verified by exact cosine; recall {:.3} at {bar})",
            shape.bits,
            shape.bands,
            shape.rows,
            shape.radius,
            shape.recall_at(plan.hashed_bar)
        )),
        None => ctx.note(&format!(
            "exact search: {} bits, candidates within Hamming distance {} ({candidates} \
             candidate pairs; radius for {:.0}% recall at {bar})",
            plan.bits,
            plan.radius,
            CANDIDATE_RECALL * 100.0,
        )),
    }
}

/// What `--method` asks of the vector search.
fn vector_method(search: &SearchArgs) -> VectorMethod {
    match search.method {
        None => VectorMethod::Auto,
        Some(MethodArg::Bands) => VectorMethod::Bands,
        Some(MethodArg::Exact) => VectorMethod::Hamming(Method::Exact {
            blocks: search.blocks,
        }),
        Some(MethodArg::Brute) => VectorMethod::Hamming(Method::Brute),
        Some(MethodArg::Rotate) => VectorMethod::Hamming(Method::Rotate {
            window: search.window,
        }),
    }
}

/// Self-deduplication of the vectors `v`: the search chosen (and its width), then run.
fn vector_dedup(
    ctx: &Ctx,
    args: &SemDedupArgs,
    v: &Vectors,
    scan: &Scan,
    opts: &VectorOptions,
) -> Result<(Dedup, Plan)> {
    let rows = semantic::usable_rows(scan);
    let centring = Centring::of(&[(v, &rows, &scan.norms)], opts);
    let request = SearchRequest {
        method: vector_method(&args.search),
        bits: args.input.bits.as_ref().map(|_| args.input.bits()),
        recall: args.search.recall,
    };
    let (search, bits) = semantic::choose_search(v, &rows, &scan.norms, opts, &centring, request);
    drop(rows);
    let grouping = grouping(args.connected);
    with_width!(bits, F => Ok(semantic::dedup_vectors::<F>(
        v, scan, opts, &centring, search, grouping, &ctx.bars
    )), wide)
}

/// Text documents fingerprinted from the paths of `input`.
/// With `bands`, the band shape is solved for the number of files at `bar` and band keys
/// are computed in the same pass (unless -k or --method asks for the Hamming search).
fn text_corpus<F: CityHash>(
    ctx: &Ctx,
    input: &SemanticInput,
    config: &TextConfig,
    bands: Option<(&SearchArgs, Option<u32>, f64)>,
) -> (Corpus<F>, Option<BandParams>) {
    let args = input.input_args();
    let list = files(ctx, &args);
    let params = bands.and_then(|(search, k, bar)| {
        let threshold = ThresholdArgs {
            ratio: None,
            max_distance: k,
        };
        band_params(search, &threshold, bar, &list, config)
    });
    let corpus = fingerprint_files::<F>(list.files, config, params, args.binary, &ctx.bars, ctx);
    (corpus, params)
}

/// `simdedup dedup`: self-deduplication or leakage against a reference.
pub fn dedup(ctx: &Ctx, args: &SemDedupArgs) -> Result<()> {
    let bits = args.input.bits();
    match &args.input.vectors {
        Some(path) => {
            check_vector_bits(bits)?;
            dedup_vectors(ctx, args, path)
        }
        None if !args.input.records.columns.is_empty() => {
            check_text_bits(bits)?;
            match bits {
                32 => dedup_records::<u32>(ctx, args),
                64 => dedup_records::<u64>(ctx, args),
                _ => dedup_records::<u128>(ctx, args),
            }
        }
        None => {
            check_text_bits(bits)?;
            match bits {
                32 => dedup_text::<u32>(ctx, args),
                64 => dedup_text::<u64>(ctx, args),
                _ => dedup_text::<u128>(ctx, args),
            }
        }
    }
}

fn grouping(connected: bool) -> Grouping {
    if connected {
        Grouping::Components
    } else {
        Grouping::Greedy
    }
}

fn dedup_vectors(ctx: &Ctx, args: &SemDedupArgs, path: &Path) -> Result<()> {
    let threshold = args.threshold.unwrap_or(0.9);
    let opts = vector_options(&args.input, threshold, args.max_distance);
    let q = load(ctx, path, args.input.ids.as_deref())?;
    if !args.against.is_empty() {
        if args.against.len() != 1 {
            bail!("with --vectors, --against takes one .npy file");
        }
        let r = load(ctx, &args.against[0], args.against_ids.as_deref())?;
        if r.v.dim() != q.v.dim() {
            bail!(
                "{} has {} dimensions, {} has {}",
                path.display(),
                q.v.dim(),
                args.against[0].display(),
                r.v.dim()
            );
        }
        let (leaks, plan, candidates) = with_width!(args.input.bits(), F => Ok::<_, anyhow::Error>(
            semantic::against_vectors::<F>((&q.v, &q.scan), (&r.v, &r.scan), &opts, &ctx.bars)
        ), wide)?;
        plan_note(ctx, &plan, threshold, candidates);
        let skipped: Vec<u32> = q.scan.non_finite.iter().map(|x| x.0 as u32).collect();
        let leaks: Vec<(u32, u32, f64)> = leaks
            .iter()
            .map(|l| (l.query, l.reference, l.score))
            .collect();
        return write_leaks(ctx, args, &q.ids, &r.ids, &leaks, &skipped);
    }
    let (result, plan) = vector_dedup(ctx, args, &q.v, &q.scan, &opts)?;
    plan_note(ctx, &plan, threshold, result.candidates);
    let skipped: Vec<u32> = q.scan.non_finite.iter().map(|x| x.0 as u32).collect();
    finish_dedup(ctx, args, &q.ids, &result, &skipped, "cosine", threshold)
}

fn dedup_text<F: CityHash>(ctx: &Ctx, args: &SemDedupArgs) -> Result<()> {
    let threshold = args.threshold.unwrap_or(0.5);
    let config = args.input.text_config();
    let bands = Some((&args.search, args.max_distance, threshold));
    let (mut corpus, params) = text_corpus::<F>(ctx, &args.input, &config, bands);
    let k = args
        .max_distance
        .unwrap_or_else(|| candidate_radius(F::BITS, threshold, CANDIDATE_RECALL));
    let ids: Vec<String> = (0..corpus.len())
        .map(|i| escape_path(corpus.path(i)))
        .collect();
    if !args.against.is_empty() {
        return against_text::<F>(ctx, args, corpus, params, &config, threshold, k);
    }
    let keys = corpus.bands.take();
    let result = verified_dedup(
        ctx,
        args,
        &corpus.fingerprints,
        &corpus.docs,
        keys,
        &corpus,
        &config,
        k,
        threshold,
    )?;
    ctx.note(&format!(
        "{} bits, {} candidate pairs {}, verified by exact Jaccard",
        F::BITS,
        result.candidates,
        describe_search(params, k, threshold)
    ));
    finish_dedup(ctx, args, &ids, &result, &[], "jaccard", threshold)
}

/// Texts (files or dataset rows) deduplicated in input order, SemHash's greedy rule,
/// candidates within `k` verified by exact Jaccard at `threshold`.
#[allow(clippy::too_many_arguments)]
fn verified_dedup<F: Fingerprint, D: DocStats>(
    ctx: &Ctx,
    args: &SemDedupArgs,
    fingerprints: &[F],
    docs: &[D],
    keys: Option<BandKeys>,
    source: &dyn TextSource,
    config: &TextConfig,
    k: u32,
    threshold: f64,
) -> Result<Dedup> {
    let search = match keys {
        Some(_) => SearchOptions::exact(k),
        None => search_options(&args.search, k, false)?,
    };
    let opts = DedupOptions {
        search,
        min_similarity: threshold,
        keep: KeepOrder::First,
        grouping: grouping(args.connected),
    };
    // Band keys go to the search, which frees them before verification.
    let (bars, hamming) = (&ctx.bars, Candidates::Hamming);
    Ok(match keys {
        Some(keys) => {
            dedup::dedup_with_keys(fingerprints, docs, keys, source, config, &opts, bars, ctx)
        }
        None => dedup::dedup(
            fingerprints,
            docs,
            hamming,
            source,
            config,
            &opts,
            bars,
            ctx,
        ),
    })
}

/// A dataset file: rows read once (fingerprints and locations kept, not texts), verified
/// by re-reading, kept and removed rows written through temporary files.
fn dedup_records<F: CityHash>(ctx: &Ctx, args: &SemDedupArgs) -> Result<()> {
    let [path] = args.input.paths.as_slice() else {
        bail!("--columns reads one dataset file; give exactly one PATH");
    };
    let threshold = args.threshold.unwrap_or(0.5);
    let config = args.input.text_config();
    // The row count is not known before the single pass: the shape is solved for one row
    // per 200 bytes of the file (the shape changes slowly with the count).
    let radius = ThresholdArgs {
        ratio: None,
        max_distance: args.max_distance,
    };
    let bands = (args.against.is_empty()
        && args.input.records.embedding_column.is_none()
        && uses_bands(&args.search, &radius))
    .then(|| {
        let bytes = std::fs::metadata(path).map_or(0, |m| m.len());
        BandParams::solve(threshold, args.search.recall, (bytes / 200) as usize)
    });
    let mut set = dataset::<F>(ctx, &args.input, path, &config, bands)?;
    if set.embeddings.is_some() {
        return dedup_record_vectors(ctx, args, &set, threshold);
    }
    let k = args
        .max_distance
        .unwrap_or_else(|| candidate_radius(F::BITS, threshold, CANDIDATE_RECALL));
    if !args.against.is_empty() {
        return against_records(ctx, args, set, &config, threshold, k);
    }
    let keys = set.bands.take();
    let result = verified_dedup(
        ctx,
        args,
        &set.fingerprints,
        &set.rows,
        keys,
        &set,
        &config,
        k,
        threshold,
    )?;
    ctx.note(&format!(
        "{} rows read, {} skipped, {} bits, {} candidate pairs {}, verified by exact Jaccard \
         of every column",
        set.rows_read,
        set.skipped,
        F::BITS,
        result.candidates,
        describe_search(bands, k, threshold)
    ));
    if args.out.is_some() || args.removed.is_some() {
        let stats = write_records(
            &set,
            &result.assignment,
            args.out.as_deref(),
            args.removed.as_deref(),
        )?;
        ctx.note(&format!(
            "{} rows kept, {} removed",
            stats.kept, stats.removed
        ));
    }
    finish_dedup(
        ctx,
        args,
        &record_ids(&set),
        &result,
        &[],
        "jaccard",
        threshold,
    )
}

/// Dataset rows deduplicated by their --embedding-column vectors: the vectors go to a
/// temporary `.npy` file that the embedding mode memory-maps, decisions come back to the
/// rows (and to -o / --removed).
fn dedup_record_vectors<T>(
    ctx: &Ctx,
    args: &SemDedupArgs,
    set: &RecordSet<T>,
    threshold: f64,
) -> Result<()> {
    if !args.against.is_empty() {
        bail!("--embedding-column with --against is not supported yet");
    }
    let bits = args.input.bits();
    check_vector_bits(bits)?;
    let embeddings = set.embeddings.as_ref().expect("asked for");
    let spill = TempFile::new()?;
    let mut out = io::BufWriter::new(spill.as_file());
    embeddings
        .write_npy(&mut out)
        .and_then(|()| out.flush())
        .with_context(|| format!("{}", spill.path().display()))?;
    drop(out);
    let ids = record_ids(set);
    let v = Vectors::open(spill.path())?;
    let scan = v.scan();
    semantic::report_non_finite(&v, &scan, &ids, ctx);
    let threshold = args.threshold.map_or(0.9, |_| threshold);
    let opts = vector_options(&args.input, threshold, args.max_distance);
    let (result, plan) = vector_dedup(ctx, args, &v, &scan, &opts)?;
    plan_note(ctx, &plan, threshold, result.candidates);
    if args.out.is_some() || args.removed.is_some() {
        let stats = write_records(
            set,
            &result.assignment,
            args.out.as_deref(),
            args.removed.as_deref(),
        )?;
        ctx.note(&format!(
            "{} rows kept, {} removed",
            stats.kept, stats.removed
        ));
    }
    let skipped: Vec<u32> = scan.non_finite.iter().map(|x| x.0 as u32).collect();
    finish_dedup(ctx, args, &ids, &result, &skipped, "cosine", threshold)
}

/// Reads one dataset file with the --columns options: fingerprints, and band keys when
/// `bands` is given.
fn dataset<F: CityHash>(
    ctx: &Ctx,
    input: &SemanticInput,
    path: &Path,
    config: &TextConfig,
    bands: Option<BandParams>,
) -> Result<RecordSet<F>> {
    let r = &input.records;
    let opts = RecordOptions {
        columns: r.columns.clone(),
        embedding_column: None,
        id_column: r.id_column.clone(),
        skip_bad_rows: r.skip_bad_rows,
        format: r.format,
        bands,
    };
    let mut opts = opts;
    opts.embedding_column = r.embedding_column.clone();
    let set = read_records::<F>(path, &opts, config, &ctx.bars, ctx)?;
    if set.lossy > 0 {
        ctx.note(&format!(
            "{}: {} row(s) with text that is not UTF-8, read with replacement characters",
            path.display(),
            set.lossy
        ));
    }
    Ok(set)
}

/// How rows are named on stdout: the --id-column value (a JSON string printed as the
/// string itself), or the row index from 0.
fn record_ids<F>(set: &RecordSet<F>) -> Vec<String> {
    match &set.ids {
        Some(ids) => ids
            .iter()
            .map(|id| serde_json::from_str::<String>(id).unwrap_or_else(|_| id.clone()))
            .map(|id| simdedup::output::escape_field(&id))
            .collect(),
        None => set.rows.iter().map(|row| row.row.to_string()).collect(),
    }
}

/// The per-row shingle sets of a dataset (fields tagged, for `semantic::FieldSets`), read
/// again.
fn record_sets<F: Sync>(ctx: &Ctx, set: &RecordSet<F>, config: &TextConfig) -> Vec<Vec<u64>> {
    use rayon::prelude::*;
    (0..set.rows.len())
        .into_par_iter()
        .map(|i| match set.shingle_set(i, config) {
            Ok((shingles, _)) => shingles,
            Err(e) => {
                simdedup::Report::report(ctx, e);
                Vec::new()
            }
        })
        .collect()
}

/// Dataset leakage: rows of the query dataset that duplicate a row of the --against
/// dataset (same columns), verified by the smallest per-column Jaccard.
fn against_records<F: CityHash>(
    ctx: &Ctx,
    args: &SemDedupArgs,
    queries: RecordSet<F>,
    config: &TextConfig,
    threshold: f64,
    k: u32,
) -> Result<()> {
    let [ref_path] = args.against.as_slice() else {
        bail!("with --columns, --against takes one dataset file");
    };
    let reference = dataset::<F>(ctx, &args.input, ref_path, config, None)?;
    let (cross, _) = simdedup::search::find_cross_pairs(
        &queries.fingerprints,
        &reference.fingerprints,
        k,
        None,
        &ctx.bars,
    );
    let (q_sets, r_sets) = (
        semantic::FieldSets(record_sets(ctx, &queries, config)),
        semantic::FieldSets(record_sets(ctx, &reference, config)),
    );
    let mut best: Vec<Option<(u32, f64)>> = vec![None; queries.rows.len()];
    for p in &cross {
        let score = semantic::FieldSets::score(
            &q_sets.0[p.query as usize],
            &r_sets.0[p.reference as usize],
        );
        let slot = &mut best[p.query as usize];
        if score >= threshold && slot.is_none_or(|(_, s): (u32, f64)| score > s) {
            *slot = Some((p.reference, score));
        }
    }
    let leaks: Vec<(u32, u32, f64)> = best
        .iter()
        .enumerate()
        .filter_map(|(q, b)| b.map(|(r, s)| (q as u32, r, s)))
        .collect();
    ctx.note(&format!(
        "{} bits, candidates within Hamming distance {k} ({} candidate pairs), verified by \
         exact Jaccard of every column",
        F::BITS,
        cross.len()
    ));
    write_leaks(
        ctx,
        args,
        &record_ids(&queries),
        &record_ids(&reference),
        &leaks,
        &[],
    )
}

/// Text leakage: queries and reference fingerprinted alike, cross candidates verified by
/// exact Jaccard on one combined corpus (queries first).
#[allow(clippy::too_many_arguments)]
fn against_text<F: CityHash>(
    ctx: &Ctx,
    args: &SemDedupArgs,
    queries: Corpus<F>,
    params: Option<BandParams>,
    config: &TextConfig,
    threshold: f64,
    k: u32,
) -> Result<()> {
    let mut ref_input = args.input.input_args();
    ref_input.paths = args.against.clone();
    let list = files(ctx, &ref_input);
    let bands = queries
        .bands
        .as_ref()
        .map(|_| params.expect("the queries' band shape"));
    let reference =
        fingerprint_files::<F>(list.files, config, bands, ref_input.binary, &ctx.bars, ctx);
    let q_ids: Vec<String> = (0..queries.len())
        .map(|i| escape_path(queries.path(i)))
        .collect();
    let r_ids: Vec<String> = (0..reference.len())
        .map(|i| escape_path(reference.path(i)))
        .collect();
    let (leaks, candidates) =
        semantic::against_corpus(queries, reference, config, threshold, k, &ctx.bars, ctx);
    let leaks: Vec<(u32, u32, f64)> = leaks
        .iter()
        .map(|l| (l.query, l.reference, l.score))
        .collect();
    ctx.note(&format!(
        "{} bits, {candidates} candidate pairs {}, verified by exact Jaccard",
        F::BITS,
        describe_search(params, k, threshold)
    ));
    write_leaks(ctx, args, &q_ids, &r_ids, &leaks, &[])
}

/// Prints leakage results: `remove` lists each flagged query, its closest reference record
/// and the score; `keep` the other queries; `pairs` and `clusters` are the same as `remove`.
fn write_leaks(
    ctx: &Ctx,
    args: &SemDedupArgs,
    q_ids: &[String],
    r_ids: &[String],
    leaks: &[(u32, u32, f64)],
    skipped: &[u32],
) -> Result<()> {
    let n = q_ids.len() - skipped.len();
    ctx.note(&format!(
        "{n} records, {} found in the reference ({:.4} of the records)",
        leaks.len(),
        leaks.len() as f64 / n.max(1) as f64
    ));
    if let Some(count) = args.least_similar {
        let mut sorted = leaks.to_vec();
        sorted.sort_by(|a, b| a.2.total_cmp(&b.2));
        for &(q, r, s) in sorted.iter().take(count) {
            ctx.note(&format!(
                "least similar: {}\t{}\t{s:.4}",
                q_ids[q as usize], r_ids[r as usize]
            ));
        }
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    if args.output == OutputKind::Keep {
        let flagged: std::collections::HashSet<u32> = leaks.iter().map(|l| l.0).collect();
        for (i, id) in q_ids.iter().enumerate() {
            if !flagged.contains(&(i as u32)) && !skipped.contains(&(i as u32)) {
                writeln!(out, "{id}")?;
            }
        }
    } else {
        for &(q, r, s) in leaks {
            writeln!(out, "{}\t{}\t{s:.4}", q_ids[q as usize], r_ids[r as usize])?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Summary, least-similar pairs, the saved result and the chosen output.
fn finish_dedup(
    ctx: &Ctx,
    args: &SemDedupArgs,
    ids: &[String],
    result: &Dedup,
    skipped: &[u32],
    similarity: &str,
    threshold: f64,
) -> Result<()> {
    summary(ctx, &result.assignment, skipped);
    if let Some(count) = args.least_similar {
        least_similar(ctx, ids, &result.assignment, count);
    }
    if let Some(path) = &args.save {
        let saved = SavedResult {
            similarity: similarity.to_string(),
            threshold,
            ids: ids.to_vec(),
            skipped: skipped.to_vec(),
            pairs: result
                .pairs
                .iter()
                .map(|p| (p.a, p.b, p.score, p.exact))
                .collect(),
        };
        let file = AtomicFile::create(path)?;
        let mut out = io::BufWriter::new(file.as_file());
        serde_json::to_writer(&mut out, &saved)
            .map_err(io::Error::from)
            .and_then(|()| out.flush())
            .map_err(|e| file.error(e))?;
        drop(out);
        file.commit()?;
    }
    write_assignment(ids, result, skipped, args.output)
}

/// SemHash's inspection figures on stderr.
fn summary(ctx: &Ctx, a: &Assignment, skipped: &[u32]) {
    let n = a.duplicate_of.len() - skipped.len();
    let removed = a.removed();
    let exact = a.duplicate_of.iter().flatten().filter(|d| d.exact).count();
    ctx.note(&format!(
        "{n} records, {removed} duplicates (duplicate ratio {:.4}, exact-duplicate ratio {:.4})",
        removed as f64 / n.max(1) as f64,
        exact as f64 / n.max(1) as f64
    ));
}

/// The `count` removed records whose score is lowest (closest to the threshold).
fn least_similar(ctx: &Ctx, ids: &[String], a: &Assignment, count: usize) {
    let mut dups: Vec<(usize, u32, f64)> = a
        .duplicate_of
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.map(|d| (i, d.kept, d.score)))
        .collect();
    dups.sort_by(|x, y| x.2.total_cmp(&y.2).then(x.0.cmp(&y.0)));
    for &(i, kept, score) in dups.iter().take(count) {
        ctx.note(&format!(
            "least similar: {}\t{}\t{score:.4}",
            ids[i], ids[kept as usize]
        ));
    }
}

fn write_assignment(
    ids: &[String],
    result: &Dedup,
    skipped: &[u32],
    kind: OutputKind,
) -> Result<()> {
    let skip: std::collections::HashSet<u32> = skipped.iter().copied().collect();
    let mut out = io::BufWriter::new(io::stdout().lock());
    let dup = &result.assignment.duplicate_of;
    let role = |exact: bool| if exact { "exact" } else { "near" };
    match kind {
        OutputKind::Remove => {
            for (i, d) in dup.iter().enumerate() {
                if let Some(d) = d {
                    writeln!(out, "{}\t{}\t{:.4}", ids[i], ids[d.kept as usize], d.score)?;
                }
            }
        }
        OutputKind::Keep => {
            for (i, d) in dup.iter().enumerate() {
                if d.is_none() && !skip.contains(&(i as u32)) {
                    writeln!(out, "{}", ids[i])?;
                }
            }
        }
        OutputKind::Pairs => {
            for p in &result.pairs {
                writeln!(
                    out,
                    "{}\t{}\t{:.4}\t{}",
                    ids[p.a as usize],
                    ids[p.b as usize],
                    p.score,
                    role(p.exact)
                )?;
            }
        }
        OutputKind::Clusters => {
            let mut members: Vec<Vec<(usize, f64, bool)>> = vec![Vec::new(); dup.len()];
            for (i, d) in dup.iter().enumerate() {
                if let Some(d) = d {
                    members[d.kept as usize].push((i, d.score, d.exact));
                }
            }
            let mut cluster = 0;
            for (kept, list) in members.iter().enumerate() {
                if list.is_empty() {
                    continue;
                }
                cluster += 1;
                writeln!(out, "{cluster}\t{}\t1.0000\tkept", ids[kept])?;
                for &(i, score, exact) in list {
                    writeln!(out, "{cluster}\t{}\t{score:.4}\t{}", ids[i], role(exact))?;
                }
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// `simdedup rethreshold RESULT --threshold T`.
pub fn rethreshold(ctx: &Ctx, args: &RethresholdArgs) -> Result<()> {
    let file =
        std::fs::File::open(&args.result).with_context(|| args.result.display().to_string())?;
    let saved: SavedResult = serde_json::from_reader(io::BufReader::new(file))
        .with_context(|| format!("{}: not a saved result", args.result.display()))?;
    if args.threshold < saved.threshold {
        bail!(
            "{}: saved at threshold {}; it holds no pairs below it, so {} cannot be applied \
             (rerun simdedup dedup)",
            args.result.display(),
            saved.threshold,
            args.threshold
        );
    }
    let result = saved.rethreshold(args.threshold, grouping(args.connected));
    summary(ctx, &result.assignment, &saved.skipped);
    write_assignment(&saved.ids, &result, &saved.skipped, args.output)
}

/// Density scores for either input, with the similarity used and the record ids.
fn densities(ctx: &Ctx, input: &SemanticInput, k: usize) -> Result<Densities> {
    let bits = input.bits();
    match &input.vectors {
        Some(path) => {
            check_vector_bits(bits)?;
            let l = load(ctx, path, input.ids.as_deref())?;
            with_width!(bits, F => vector_densities::<F>(ctx, input, l, k), wide)
        }
        None if !input.records.columns.is_empty() => {
            check_text_bits(bits)?;
            match bits {
                32 => record_densities::<u32>(ctx, input, k),
                64 => record_densities::<u64>(ctx, input, k),
                _ => record_densities::<u128>(ctx, input, k),
            }
        }
        None => {
            check_text_bits(bits)?;
            match bits {
                32 => text_densities::<u32>(ctx, input, k),
                64 => text_densities::<u64>(ctx, input, k),
                _ => text_densities::<u128>(ctx, input, k),
            }
        }
    }
}

/// Density scores of dataset rows: the smallest per-column Jaccard to their neighbours.
fn record_densities<F: CityHash>(ctx: &Ctx, input: &SemanticInput, k: usize) -> Result<Densities> {
    let [path] = input.paths.as_slice() else {
        bail!("--columns reads one dataset file; give exactly one PATH");
    };
    let config = input.text_config();
    let set = dataset::<F>(ctx, input, path, &config, None)?;
    let sets = semantic::FieldSets(record_sets(ctx, &set, &config));
    let items: Vec<u32> = (0..set.rows.len() as u32).collect();
    let scores = semantic::density(&set.fingerprints, &items, &sets, k, &ctx.bars);
    let ids = record_ids(&set);
    let sim = move |a: u32, b: u32| semantic::Similarity::similarity(&sets, a, b);
    Ok(Densities {
        scores,
        ids,
        sim: Box::new(sim),
    })
}

/// Scores of the records that could be scored, their ids, and a similarity over them.
struct Densities {
    scores: Vec<f64>,
    /// `ids[i]` names score `i`.
    ids: Vec<String>,
    sim: Box<dyn Fn(u32, u32) -> f64 + Sync>,
}

struct Boxed<'a>(&'a (dyn Fn(u32, u32) -> f64 + Sync));

impl semantic::Similarity for Boxed<'_> {
    fn similarity(&self, a: u32, b: u32) -> f64 {
        (self.0)(a, b)
    }
}

fn vector_densities<F: Fingerprint>(
    ctx: &Ctx,
    input: &SemanticInput,
    l: Loaded,
    k: usize,
) -> Result<Densities> {
    let rows = semantic::usable_rows(&l.scan);
    let opts = vector_options(input, 0.9, None);
    let (fps, _) = semantic::embed::<F>(&[(&l.v, &rows, &l.scan.norms)], &opts, &ctx.bars);
    let scores = {
        let sim = Cosine::new(&l.v, &l.scan.norms);
        semantic::density(&fps[0], &rows, &sim, k, &ctx.bars)
    };
    let ids = rows.iter().map(|&r| l.ids[r as usize].clone()).collect();
    let Loaded { v, scan, .. } = l;
    let sim = move |a: u32, b: u32| {
        semantic::Similarity::similarity(
            &Cosine::new(&v, &scan.norms),
            rows[a as usize],
            rows[b as usize],
        )
    };
    Ok(Densities {
        scores,
        ids,
        sim: Box::new(sim),
    })
}

fn text_densities<F: CityHash>(ctx: &Ctx, input: &SemanticInput, k: usize) -> Result<Densities> {
    let config = input.text_config();
    let (corpus, _) = text_corpus::<F>(ctx, input, &config, None);
    let sets: Vec<Vec<u64>> = {
        use rayon::prelude::*;
        (0..corpus.docs.len())
            .into_par_iter()
            .map(|i| match corpus.shingle_set(i, &config) {
                Ok((shingles, _)) => shingles,
                Err(e) => {
                    simdedup::Report::report(ctx, e);
                    Vec::new()
                }
            })
            .collect()
    };
    let sets = ShingleSets(sets);
    let items: Vec<u32> = (0..corpus.docs.len() as u32).collect();
    let scores = semantic::density(&corpus.fingerprints, &items, &sets, k, &ctx.bars);
    let ids = (0..corpus.len())
        .map(|i| escape_path(corpus.path(i)))
        .collect();
    let sim = move |a: u32, b: u32| semantic::Similarity::similarity(&sets, a, b);
    Ok(Densities {
        scores,
        ids,
        sim: Box::new(sim),
    })
}

/// `simdedup outliers`: `id<TAB>score`, lowest density first.
pub fn outliers(ctx: &Ctx, args: &OutliersArgs) -> Result<()> {
    if !(0.0..=100.0).contains(&args.percent) {
        bail!("--percent {} is not between 0 and 100", args.percent);
    }
    let d = densities(ctx, &args.input, args.neighbours)?;
    let list = semantic::outliers(&d.scores, args.percent / 100.0);
    ctx.note(&format!(
        "{} records, {} outliers (mean similarity to {} nearest neighbours)",
        d.scores.len(),
        list.len(),
        args.neighbours
    ));
    let mut out = io::BufWriter::new(io::stdout().lock());
    for (i, s) in list {
        writeln!(out, "{}\t{s:.4}", d.ids[i as usize])?;
    }
    out.flush()?;
    Ok(())
}

/// `simdedup represent`: `id<TAB>density`, in selection order.
pub fn represent(ctx: &Ctx, args: &RepresentArgs) -> Result<()> {
    let d = densities(ctx, &args.input, args.neighbours)?;
    let n = d.scores.len();
    let limit = args
        .candidates
        .unwrap_or_else(|| semantic::candidate_limit(n, args.count))
        .min(n);
    let items: Vec<u32> = (0..n as u32).collect();
    let chosen = semantic::representatives(
        &d.scores,
        &items,
        &Boxed(&*d.sim),
        args.count,
        args.diversity,
        limit,
    );
    let mut out = io::BufWriter::new(io::stdout().lock());
    for (i, s) in chosen {
        writeln!(out, "{}\t{s:.4}", d.ids[i as usize])?;
    }
    out.flush()?;
    Ok(())
}

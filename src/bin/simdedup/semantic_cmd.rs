//! The semantic subcommands (`dedup`, `outliers`, `represent`, `rethreshold`): each turns
//! its arguments into a [`simdedup::jobs`] configuration, runs the job on text files, a
//! dataset or a `.npy` file, and prints TSV on stdout, with a summary on stderr.

use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};

use simdedup::atomic_file::{AtomicFile, TempFile};
use simdedup::jobs::dedup::{self as jobs, load_dataset, load_files};
use simdedup::jobs::density::{self, Densities};
use simdedup::jobs::embed::{embed_files, embed_source};
use simdedup::jobs::{TextJob, TextSearch, Texts, VectorJob};
use simdedup::ops::cluster::Assignment;
use simdedup::ops::dedup::{Dedup, Grouping, KeepOrder, PairSet};
use simdedup::ops::semantic::{self, CANDIDATE_RECALL, Leak, Plan, SavedResult, VectorMethod};
use simdedup::output::escape_path;
use simdedup::output::records::write_records;
use simdedup::output::report::{self, Curve, RunData, RunFacts};
use simdedup::records::{RecordOptions, RecordSet};
use simdedup::search::Method;
use simdedup::text::corpus::Corpus;
use simdedup::text::minhash::{BandParams, KeyStore};
use simdedup::text::simhash::CityHash;
use simdedup::text::texts::TextSource;
use simdedup::vectors::embed::StaticModel;
use simdedup::vectors::npy::{Scan, Vectors, read_ids};

use crate::cli::{
    MethodArg, OutliersArgs, OutputKind, RepresentArgs, RethresholdArgs, SearchArgs, SemDedupArgs,
    SemanticInput, ThresholdArgs,
};
use crate::commands::{Ctx, files, report_title, search_options, uses_bands};

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

/// The vector deduplication the arguments ask for. Only the pairs that decide are
/// searched for, unless the output needs them all (`--output pairs`, `--save`,
/// `--connected`).
fn vector_job(args: &SemDedupArgs, threshold: f64) -> VectorJob {
    let input = &args.input;
    // The report's histogram and threshold table need every pair too.
    let all = args.connected
        || args.save.is_some()
        || args.target_size.is_some()
        || args.report.is_some()
        || args.output == OutputKind::Pairs;
    VectorJob {
        seed: input.seed,
        center: !input.no_center,
        threshold,
        max_distance: args.max_distance,
        method: vector_method(&args.search),
        bits: input.bits.as_ref().map(|_| input.bits()),
        recall: args.search.recall,
        grouping: grouping(args.connected),
        pairs: if all { PairSet::All } else { PairSet::Deciding },
    }
}

/// The text job the arguments ask for: the band search unless -k or a Hamming method is
/// given.
fn text_job(
    input: &SemanticInput,
    search: &SearchArgs,
    threshold: f64,
    k: Option<u32>,
    connected: bool,
) -> Result<TextJob> {
    let radius = ThresholdArgs {
        ratio: None,
        max_distance: k,
    };
    let search = if uses_bands(search, &radius) {
        TextSearch::Bands {
            recall: search.recall,
        }
    } else {
        TextSearch::Hamming {
            method: search_options(search, 0, false)?.method,
            max_distance: k,
        }
    };
    Ok(TextJob {
        text: input.text_config(),
        threshold,
        search,
        grouping: grouping(connected),
        keep: KeepOrder::First,
    })
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
            "band search{}: {} bits, {} bands of {} bits, candidates also within Hamming \
             distance {} ({candidates} candidate pairs, verified by exact cosine; recall {:.3} \
             at {bar})",
            if plan.keep_first {
                " (keep-first: each row against the rows kept before it)"
            } else {
                ""
            },
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

/// How the report names a vector search's plan.
fn plan_method(plan: &Plan) -> String {
    match plan.bands {
        Some(shape) => format!(
            "bit-sampling bands: {} bits, {} bands of {} bits, within Hamming distance {} \
             (centred cosine bar {:.4})",
            shape.bits, shape.bands, shape.rows, shape.radius, plan.hashed_bar
        ),
        None => format!(
            "exact Hamming search: {} bits, within distance {} (centred cosine bar {:.4})",
            plan.bits, plan.radius, plan.hashed_bar
        ),
    }
}

/// What the report of a dedup run says besides the result: counts of the inputs, the
/// search, and where the texts are read again (none for vectors).
struct RunInfo<'a> {
    inputs: u64,
    skipped: Vec<(String, u64)>,
    method: String,
    curve: Curve,
    texts: Option<&'a (dyn TextSource + Sync)>,
}

impl RunInfo<'_> {
    /// A vector run of `rows` rows, `skipped` of them non-finite.
    fn vectors(rows: usize, skipped: usize, plan: &Plan) -> RunInfo<'static> {
        RunInfo {
            inputs: rows as u64,
            skipped: vec![("non-finite vectors".into(), skipped as u64)],
            method: plan_method(plan),
            curve: Curve::None,
            texts: None,
        }
    }
}

/// The candidate curve of a text run: its band shape, or its Hamming radius.
fn text_curve(job: &TextJob, bands: Option<BandParams>, bits: u32) -> Curve {
    match bands {
        Some(p) => Curve::Bands(p),
        None => Curve::Hamming {
            bits,
            radius: job.radius(bits),
        },
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

/// Text documents fingerprinted from the paths of `input` for `job`.
fn text_corpus<F: CityHash>(
    ctx: &Ctx,
    input: &SemanticInput,
    job: &TextJob,
) -> (Corpus<F>, Option<BandParams>) {
    let args = input.input_args();
    let list = files(ctx, &args);
    load_files::<F>(list.files, args.binary, job, &ctx.bars, ctx)
}

/// `simdedup dedup`: self-deduplication or leakage against a reference.
pub fn dedup(ctx: &Ctx, args: &SemDedupArgs) -> Result<()> {
    ctx.open_report(args.report.as_deref())?;
    let bits = args.input.bits();
    if args.input.model.is_some() {
        check_vector_bits(bits)?;
        return dedup_model(ctx, args);
    }
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
    let threshold = args.bar(COSINE);
    let job = vector_job(args, threshold);
    let q = load(ctx, path, args.input.ids.as_deref())?;
    let skipped: Vec<u32> = q.scan.non_finite.iter().map(|x| x.0 as u32).collect();
    if !args.against.is_empty() {
        if args.against.len() != 1 {
            bail!("with --vectors, --against takes one .npy file");
        }
        let r = load(ctx, &args.against[0], args.against_ids.as_deref())?;
        return vector_leaks(ctx, args, &job, &q, &r, &skipped);
    }
    let (result, plan) = jobs::dedup_vectors(&q.v, &q.scan, &job, &ctx.bars)?;
    plan_note(ctx, &plan, threshold, result.candidates);
    let (threshold, result) = aim(ctx, args, threshold, result, q.ids.len(), &skipped);
    let info = RunInfo::vectors(q.ids.len(), skipped.len(), &plan);
    finish_dedup(
        ctx, args, &q.ids, &result, &skipped, "cosine", threshold, info,
    )
}

/// Vector leakage of `q` into `r` ([`jobs::against_vectors`]): the plan on stderr, the
/// leaks on stdout (`skipped`: query rows left out).
fn vector_leaks(
    ctx: &Ctx,
    args: &SemDedupArgs,
    job: &VectorJob,
    q: &Loaded,
    r: &Loaded,
    skipped: &[u32],
) -> Result<()> {
    let (leaks, plan, candidates) =
        jobs::against_vectors((&q.v, &q.scan), (&r.v, &r.scan), job, &ctx.bars)?;
    plan_note(ctx, &plan, job.threshold, candidates);
    let facts = LeakFacts {
        similarity: "cosine",
        threshold: job.threshold,
        method: plan_method(&plan),
        curve: Curve::None,
        candidates,
        texts: None,
    };
    write_leaks(ctx, args, (&q.ids, &r.ids), &leaks, skipped, facts)
}

/// Texts embedded with `--model`: their vectors (held in memory), ids and, for a dataset,
/// the record set (for -o / --removed).
struct Embedded {
    loaded: Loaded,
    set: Option<RecordSet<u64>>,
}

/// Embeds the texts of `input` (files, or the rows of one dataset) with its `--model`.
fn embed_input(ctx: &Ctx, input: &SemanticInput, paths: &[std::path::PathBuf]) -> Result<Embedded> {
    let dir = input.model.as_ref().expect("--model given");
    let model = StaticModel::load(dir).context("cannot load the model")?;
    let dim = model.dim();
    let (values, ids, set) = if input.records.columns.is_empty() {
        let mut args = input.input_args();
        args.paths = paths.to_vec();
        let list = files(ctx, &args);
        let mut values = Vec::with_capacity(list.files.len() * dim);
        let mut ids = Vec::with_capacity(list.files.len());
        embed_files(
            &model,
            &list.files,
            args.binary,
            &ctx.bars,
            ctx,
            &mut |path, v| {
                values.extend_from_slice(v);
                ids.push(escape_path(path));
                Ok::<(), std::convert::Infallible>(())
            },
        )
        .unwrap_or_else(|never| match never {});
        (values, ids, None)
    } else {
        let [path] = paths else {
            bail!("--columns reads one dataset file; give exactly one PATH");
        };
        let set = dataset::<u64>(ctx, input, path, &density_job(input), None)?;
        let fields = input.records.columns.len();
        let values = embed_source(&model, &set, set.rows.len(), fields, &ctx.bars)?;
        (values, record_ids(&set), Some(set))
    };
    let width = dim * input.records.columns.len().max(1);
    let v = Vectors::from_values(dir, values, width)?;
    let scan = v.scan();
    Ok(Embedded {
        loaded: Loaded { v, ids, scan },
        set,
    })
}

/// `dedup --model`: the texts embedded, then the vector deduplication (or leakage).
fn dedup_model(ctx: &Ctx, args: &SemDedupArgs) -> Result<()> {
    let threshold = args.bar(COSINE);
    let job = vector_job(args, threshold);
    let q = embed_input(ctx, &args.input, &args.input.paths)?;
    let ql = &q.loaded;
    if !args.against.is_empty() {
        let r = embed_input(ctx, &args.input, &args.against)?;
        return vector_leaks(ctx, args, &job, ql, &r.loaded, &[]);
    }
    let (result, plan) = jobs::dedup_vectors(&ql.v, &ql.scan, &job, &ctx.bars)?;
    plan_note(ctx, &plan, threshold, result.candidates);
    let (threshold, result) = aim(ctx, args, threshold, result, ql.ids.len(), &[]);
    if let Some(set) = &q.set {
        write_dataset(ctx, args, set, &result.assignment)?;
    }
    let info = RunInfo {
        texts: q.set.as_ref().map(|s| s as &(dyn TextSource + Sync)),
        ..RunInfo::vectors(ql.ids.len(), 0, &plan)
    };
    finish_dedup(ctx, args, &ql.ids, &result, &[], "cosine", threshold, info)
}

fn dedup_text<F: CityHash>(ctx: &Ctx, args: &SemDedupArgs) -> Result<()> {
    let threshold = args.bar(JACCARD);
    let job = text_job(
        &args.input,
        &args.search,
        threshold,
        args.max_distance,
        args.connected,
    )?;
    let (mut corpus, bands) = text_corpus::<F>(ctx, &args.input, &job);
    let ids: Vec<String> = (0..corpus.len())
        .map(|i| escape_path(corpus.path(i)))
        .collect();
    if !args.against.is_empty() {
        let mut ref_input = args.input.input_args();
        ref_input.paths = args.against.clone();
        let list = files(ctx, &ref_input);
        // The reference is fingerprinted with the queries' band shape.
        let reference = simdedup::text::corpus::fingerprint_files::<F>(
            list.files,
            &job.text,
            bands,
            ref_input.binary,
            &ctx.bars,
            ctx,
        );
        let r_ids: Vec<String> = (0..reference.len())
            .map(|i| escape_path(reference.path(i)))
            .collect();
        let (leaks, candidates) =
            jobs::against_texts((&corpus).into(), (&reference).into(), &job, &ctx.bars, ctx);
        ctx.note(&format!(
            "{} bits, {candidates} candidate pairs {}, verified by exact Jaccard",
            F::BITS,
            job.describe_search(bands, F::BITS)
        ));
        let facts = LeakFacts {
            similarity: "jaccard",
            threshold,
            method: job.describe_search(bands, F::BITS),
            curve: text_curve(&job, bands, F::BITS),
            candidates,
            texts: Some((&corpus, &reference)),
        };
        return write_leaks(ctx, args, (&ids, &r_ids), &leaks, &[], facts);
    }
    let keys = corpus.bands.take().map(Into::into);
    let result = jobs::dedup_texts(Texts::from(&corpus), keys, &job, &ctx.bars, ctx)?;
    ctx.note(&format!(
        "{} bits, {} candidate pairs {}, verified by exact Jaccard",
        F::BITS,
        result.candidates,
        job.describe_search(bands, F::BITS)
    ));
    let (threshold, result) = aim(ctx, args, threshold, result, ids.len(), &[]);
    let info = RunInfo {
        inputs: (corpus.len() + corpus.binary_skipped + corpus.unreadable) as u64,
        skipped: vec![
            ("binary (NUL bytes)".into(), corpus.binary_skipped as u64),
            ("unreadable".into(), corpus.unreadable as u64),
        ],
        method: job.describe_search(bands, F::BITS),
        curve: text_curve(&job, bands, F::BITS),
        texts: Some(&corpus),
    };
    finish_dedup(ctx, args, &ids, &result, &[], "jaccard", threshold, info)
}

/// A dataset file: rows read once (fingerprints and locations kept, not texts), verified
/// by re-reading, kept and removed rows written through temporary files.
fn dedup_records<F: CityHash>(ctx: &Ctx, args: &SemDedupArgs) -> Result<()> {
    let [path] = args.input.paths.as_slice() else {
        bail!("--columns reads one dataset file; give exactly one PATH");
    };
    let threshold = args.bar(JACCARD);
    let mut job = text_job(
        &args.input,
        &args.search,
        threshold,
        args.max_distance,
        args.connected,
    )?;
    // Embedding columns search by cosine (band keys are not computed).
    let radius_only = args.input.records.embedding_column.is_some();
    if radius_only && job.band_recall().is_some() {
        job.search = TextSearch::Hamming {
            method: Method::default(),
            max_distance: args.max_distance,
        };
    }
    let mut set = dataset::<F>(ctx, &args.input, path, &job, None)?;
    if set.embeddings.is_some() {
        return dedup_record_vectors(ctx, args, &set, &job, threshold);
    }
    if !args.against.is_empty() {
        return against_records(ctx, args, set, &job);
    }
    let keys = set.bands.take();
    let bands = keys.as_ref().and(set.shape);
    let result = jobs::dedup_texts(Texts::from(&set), keys, &job, &ctx.bars, ctx)?;
    ctx.note(&format!(
        "{} rows read, {} skipped, {} bits, {} candidate pairs {}, verified by exact Jaccard \
         of every column",
        set.rows_read,
        set.skipped,
        F::BITS,
        result.candidates,
        job.describe_search(bands, F::BITS)
    ));
    let (threshold, result) = aim(ctx, args, threshold, result, set.rows.len(), &[]);
    write_dataset(ctx, args, &set, &result.assignment)?;
    let info = RunInfo {
        inputs: set.rows_read,
        skipped: vec![("bad rows".into(), set.skipped as u64)],
        method: job.describe_search(bands, F::BITS),
        curve: text_curve(&job, bands, F::BITS),
        texts: Some(&set),
    };
    finish_dedup(
        ctx,
        args,
        &record_ids(&set),
        &result,
        &[],
        "jaccard",
        threshold,
        info,
    )
}

/// Writes the kept and removed rows (-o, --removed) when asked.
fn write_dataset<T>(
    ctx: &Ctx,
    args: &SemDedupArgs,
    set: &RecordSet<T>,
    assignment: &Assignment,
) -> Result<()> {
    if args.out.is_some() || args.removed.is_some() {
        assert_eq!(
            assignment.duplicate_of.len(),
            set.rows.len(),
            "one decision per row"
        );
        let stats = write_records(
            set,
            simdedup::jobs::dedup::removed_as(assignment),
            args.out.as_deref(),
            args.removed.as_deref(),
        )?;
        ctx.note(&format!(
            "{} rows kept, {} removed",
            stats.kept, stats.removed
        ));
    }
    Ok(())
}

/// Dataset rows deduplicated by their --embedding-column vectors: the vectors go to a
/// temporary `.npy` file that the embedding mode memory-maps, decisions come back to the
/// rows (and to -o / --removed). With --against, the reference dataset's vectors (the
/// same column) are read alike, and the rows that leak into it are printed.
fn dedup_record_vectors<F: CityHash>(
    ctx: &Ctx,
    args: &SemDedupArgs,
    set: &RecordSet<F>,
    text_job: &TextJob,
    threshold: f64,
) -> Result<()> {
    let bits = args.input.bits();
    check_vector_bits(bits)?;
    let (_queries_npy, q) = record_vectors(ctx, set)?;
    let skipped: Vec<u32> = q.scan.non_finite.iter().map(|x| x.0 as u32).collect();
    let threshold = args.threshold.map_or(args.bar(COSINE), |_| threshold);
    let job = vector_job(args, threshold);
    if !args.against.is_empty() {
        let [ref_path] = args.against.as_slice() else {
            bail!("with --columns, --against takes one dataset file");
        };
        let reference = dataset::<F>(ctx, &args.input, ref_path, text_job, None)?;
        let (_reference_npy, r) = record_vectors(ctx, &reference)?;
        if q.v.dim() != r.v.dim() {
            bail!(
                "{}: the --embedding-column vectors have {} dimensions, {} in {}",
                ref_path.display(),
                r.v.dim(),
                q.v.dim(),
                args.input.paths[0].display()
            );
        }
        return vector_leaks(ctx, args, &job, &q, &r, &skipped);
    }
    let (result, plan) = jobs::dedup_vectors(&q.v, &q.scan, &job, &ctx.bars)?;
    plan_note(ctx, &plan, threshold, result.candidates);
    let (threshold, result) = aim(ctx, args, threshold, result, q.ids.len(), &skipped);
    write_dataset(ctx, args, set, &result.assignment)?;
    let info = RunInfo {
        inputs: set.rows_read,
        skipped: vec![
            ("bad rows".into(), set.skipped as u64),
            ("non-finite vectors".into(), skipped.len() as u64),
        ],
        texts: Some(set),
        ..RunInfo::vectors(q.ids.len(), skipped.len(), &plan)
    };
    finish_dedup(
        ctx, args, &q.ids, &result, &skipped, "cosine", threshold, info,
    )
}

/// A dataset's --embedding-column vectors, written to a temporary `.npy` file (returned:
/// it lives as long as the map) and mapped; its non-finite rows reported by id.
fn record_vectors<T>(ctx: &Ctx, set: &RecordSet<T>) -> Result<(TempFile, Loaded)> {
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
    Ok((spill, Loaded { v, ids, scan }))
}

/// Reads one dataset file with the --columns options for `job`; band keys (when the job
/// asks for them) in `shape` if given, else in a shape solved from the first rows.
fn dataset<F: CityHash>(
    ctx: &Ctx,
    input: &SemanticInput,
    path: &Path,
    job: &TextJob,
    shape: Option<BandParams>,
) -> Result<RecordSet<F>> {
    let r = &input.records;
    let opts = RecordOptions {
        columns: r.columns.clone(),
        embedding_column: r.embedding_column.clone(),
        id_column: r.id_column.clone(),
        skip_bad_rows: r.skip_bad_rows,
        format: r.format,
        bands: None,
        shape,
    };
    let (set, _) = load_dataset::<F>(path, &opts, job, &ctx.bars, ctx)?;
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
            .map(|id| serde_json::from_str::<String>(id).unwrap_or_else(|_| id.to_string()))
            .map(|id| simdedup::output::escape_field(&id))
            .collect(),
        None => set.rows.iter().map(|row| row.row.to_string()).collect(),
    }
}

/// Dataset leakage: rows of the query dataset that duplicate a row of the --against
/// dataset (same columns), verified by the smallest per-column Jaccard. The reference is
/// keyed with the queries' band shape, and the band search runs across the two (their
/// keys held in memory); without band keys (`-k`, a Hamming method), the radius search.
fn against_records<F: CityHash>(
    ctx: &Ctx,
    args: &SemDedupArgs,
    mut queries: RecordSet<F>,
    job: &TextJob,
) -> Result<()> {
    let [ref_path] = args.against.as_slice() else {
        bail!("with --columns, --against takes one dataset file");
    };
    let mut reference = dataset::<F>(ctx, &args.input, ref_path, job, queries.shape)?;
    let held = |set: &mut RecordSet<F>| set.bands.take().map(KeyStore::into_memory).transpose();
    let (q_keys, r_keys) = (held(&mut queries)?, held(&mut reference)?);
    let bands = q_keys.as_ref().and(queries.shape);
    let (leaks, candidates) = jobs::against_texts(
        Texts {
            bands: q_keys.as_ref(),
            ..Texts::from(&queries)
        },
        Texts {
            bands: r_keys.as_ref(),
            ..Texts::from(&reference)
        },
        job,
        &ctx.bars,
        ctx,
    );
    ctx.note(&format!(
        "{} bits, {candidates} candidate pairs {}, verified by exact Jaccard of every column",
        F::BITS,
        job.describe_search(bands, F::BITS)
    ));
    let facts = LeakFacts {
        similarity: "jaccard",
        threshold: job.threshold,
        method: job.describe_search(bands, F::BITS),
        curve: text_curve(job, bands, F::BITS),
        candidates,
        texts: Some((&queries, &reference)),
    };
    let ids = (record_ids(&queries), record_ids(&reference));
    write_leaks(ctx, args, (&ids.0, &ids.1), &leaks, &[], facts)
}

/// What a leakage run's report needs beside its leaks.
struct LeakFacts<'a> {
    similarity: &'static str,
    threshold: f64,
    method: String,
    curve: Curve,
    candidates: usize,
    /// The queries' and the reference's texts (`None` for vectors).
    texts: Option<(&'a (dyn TextSource + Sync), &'a (dyn TextSource + Sync))>,
}

/// The report's title of a `dedup` run: the command and its input.
fn dedup_title(args: &SemDedupArgs) -> String {
    let source = match (&args.input.vectors, &args.input.paths[..]) {
        (Some(v), _) => std::slice::from_ref(v),
        (None, paths) => paths,
    };
    report_title("dedup ", source)
}

/// How the report names a similarity ("jaccard" or "cosine", as saved results name it).
fn report_similarity(similarity: &str) -> String {
    match similarity {
        "jaccard" => "Jaccard".into(),
        other => other.into(),
    }
}

/// The report of a leakage run: the reference's records, then the queries', each leak a
/// pair and its query flagged ([`report::leak_run`]).
fn leak_report(
    ctx: &Ctx,
    args: &SemDedupArgs,
    (q_ids, r_ids): (&[String], &[String]),
    leaks: &[Leak],
    skipped: &[u32],
    facts: LeakFacts,
) -> Result<()> {
    let nr = r_ids.len();
    let (pairs, assignment) = report::leak_run(leaks, nr, q_ids.len());
    let skipped: Vec<u32> = skipped.iter().map(|&q| nr as u32 + q).collect();
    let joined = facts.texts.map(|(queries, reference)| report::Joined {
        first: reference,
        first_len: nr,
        second: queries,
    });
    let against: Vec<String> = args.against.iter().map(|p| escape_path(p)).collect();
    let name = |i: u32| match (i as usize).checked_sub(nr) {
        None => r_ids[i as usize].clone(),
        Some(q) => q_ids[q].clone(),
    };
    let data = RunData {
        facts: RunFacts {
            title: format!("{} --against {}", dedup_title(args), against.join(" ")),
            similarity: report_similarity(facts.similarity),
            threshold: facts.threshold,
            inputs: (q_ids.len() + nr) as u64,
            skipped: vec![("non-finite query vectors".into(), skipped.len() as u64)],
            method: facts.method,
            curve: facts.curve,
            candidates: facts.candidates,
            grouping: Grouping::Greedy,
            keep_first: true,
            elapsed: ctx.started.elapsed(),
            peak_memory: report::peak_memory(),
        },
        records: q_ids.len() + nr,
        name: &name,
        pairs: &pairs,
        assignment: &assignment,
        skipped_records: &skipped,
        texts: joined.as_ref().map(|j| j as &(dyn TextSource + Sync)),
    };
    ctx.write_report(&data)
}

/// Prints leakage results: `remove` lists each flagged query, its closest reference record
/// and the score; `keep` the other queries; `pairs` and `clusters` are the same as `remove`.
fn write_leaks(
    ctx: &Ctx,
    args: &SemDedupArgs,
    (q_ids, r_ids): (&[String], &[String]),
    leaks: &[Leak],
    skipped: &[u32],
    facts: LeakFacts,
) -> Result<()> {
    if ctx.wants_report() {
        leak_report(ctx, args, (q_ids, r_ids), leaks, skipped, facts)?;
    }
    let n = q_ids.len() - skipped.len();
    ctx.note(&format!(
        "{n} records, {} found in the reference ({:.4} of the records)",
        leaks.len(),
        leaks.len() as f64 / n.max(1) as f64
    ));
    if let Some(count) = args.least_similar {
        let mut sorted = leaks.to_vec();
        sorted.sort_by(|a, b| a.score.total_cmp(&b.score));
        for &Leak {
            query: q,
            reference: r,
            score: s,
        } in sorted.iter().take(count)
        {
            ctx.note(&format!(
                "least similar: {}\t{}\t{s:.4}",
                q_ids[q as usize], r_ids[r as usize]
            ));
        }
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    if args.output == OutputKind::Keep {
        let flagged: std::collections::HashSet<u32> = leaks.iter().map(|l| l.query).collect();
        for (i, id) in q_ids.iter().enumerate() {
            if !flagged.contains(&(i as u32)) && !skipped.contains(&(i as u32)) {
                writeln!(out, "{id}")?;
            }
        }
    } else {
        for &Leak {
            query: q,
            reference: r,
            score: s,
        } in leaks
        {
            writeln!(out, "{}\t{}\t{s:.4}", q_ids[q as usize], r_ids[r as usize])?;
        }
    }
    out.flush()?;
    Ok(())
}

/// A similarity's default thresholds: the bar of a run, and the lowest bar a
/// `--target-size` run considers.
struct Bars {
    bar: f64,
    target_floor: f64,
}

const COSINE: Bars = Bars {
    bar: 0.9,
    target_floor: 0.7,
};
const JACCARD: Bars = Bars {
    bar: 0.5,
    target_floor: 0.3,
};

impl SemDedupArgs {
    /// The threshold of the search: -t, else the similarity's default (with
    /// `--target-size`, its lowest bar considered).
    fn bar(&self, defaults: Bars) -> f64 {
        self.threshold.unwrap_or(match self.target_size {
            Some(_) => defaults.target_floor,
            None => defaults.bar,
        })
    }
}

/// With `--target-size N`: the threshold at or above the search's `floor` whose decisions
/// keep the count closest to N, and those decisions, from every pair the search verified
/// ([`simdedup::jobs::dedup::to_target_size`]; no search again). Without it, the run's.
fn aim(
    ctx: &Ctx,
    args: &SemDedupArgs,
    floor: f64,
    result: Dedup,
    records: usize,
    skipped: &[u32],
) -> (f64, Dedup) {
    let Some(target) = args.target_size else {
        return (floor, result);
    };
    let saved = SavedResult {
        similarity: String::new(),
        threshold: floor,
        // Only the count is used.
        ids: vec![String::new(); records],
        skipped: skipped.to_vec(),
        pairs: result
            .pairs
            .iter()
            .map(|p| (p.a, p.b, p.score, p.exact))
            .collect(),
    };
    let (threshold, mut aimed) =
        simdedup::jobs::dedup::to_target_size(&saved, target, grouping(args.connected));
    ctx.note(&format!(
        "threshold {threshold} keeps the count closest to {target} (searched at {floor})"
    ));
    aimed.candidates = result.candidates;
    aimed.read = result.read;
    aimed.documents_read = result.documents_read;
    (threshold, aimed)
}

/// Summary, least-similar pairs, the saved result, the report and the chosen output.
#[allow(clippy::too_many_arguments)]
fn finish_dedup(
    ctx: &Ctx,
    args: &SemDedupArgs,
    ids: &[String],
    result: &Dedup,
    skipped: &[u32],
    similarity: &str,
    threshold: f64,
    info: RunInfo,
) -> Result<()> {
    summary(ctx, &result.assignment, skipped);
    if ctx.wants_report() {
        let data = RunData {
            facts: RunFacts {
                title: dedup_title(args),
                similarity: report_similarity(similarity),
                threshold,
                inputs: info.inputs,
                skipped: info.skipped,
                method: info.method,
                curve: info.curve,
                candidates: result.candidates,
                grouping: grouping(args.connected),
                keep_first: true,
                elapsed: ctx.started.elapsed(),
                peak_memory: report::peak_memory(),
            },
            records: ids.len(),
            name: &|i| ids[i as usize].clone(),
            pairs: &result.pairs,
            assignment: &result.assignment,
            skipped_records: skipped,
            texts: info.texts,
        };
        ctx.write_report(&data)?;
    }
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
    let result = match (args.threshold, args.target_size) {
        (_, Some(target)) => {
            let (t, result) =
                simdedup::jobs::dedup::to_target_size(&saved, target, grouping(args.connected));
            ctx.note(&format!(
                "threshold {t} keeps the count closest to {target}"
            ));
            result
        }
        (Some(t), None) if t < saved.threshold => bail!(
            "{}: saved at threshold {}; it holds no pairs below it, so {} cannot be applied \
             (rerun simdedup dedup)",
            args.result.display(),
            saved.threshold,
            t
        ),
        (Some(t), None) => saved.rethreshold(t, grouping(args.connected)),
        (None, None) => unreachable!("clap requires --threshold or --target-size"),
    };
    summary(ctx, &result.assignment, &saved.skipped);
    write_assignment(&saved.ids, &result, &saved.skipped, args.output)
}

/// Density scores for either input, with the ids of the records.
fn densities<'a>(
    ctx: &Ctx,
    input: &SemanticInput,
    k: usize,
    loaded: &'a mut Option<Loaded>,
) -> Result<(Densities<'a>, Vec<String>)> {
    let bits = input.bits();
    if input.model.is_some() {
        check_vector_bits(bits)?;
        let l = loaded.insert(embed_input(ctx, input, &input.paths)?.loaded);
        let job = VectorJob {
            seed: input.seed,
            center: !input.no_center,
            bits: Some(bits),
            ..VectorJob::new(0.9)
        };
        let d = density::vector_densities(&l.v, &l.scan, &job, k, &ctx.bars)?;
        return Ok((d, l.ids.clone()));
    }
    match &input.vectors {
        Some(path) => {
            check_vector_bits(bits)?;
            let l = loaded.insert(load(ctx, path, input.ids.as_deref())?);
            let job = VectorJob {
                seed: input.seed,
                center: !input.no_center,
                bits: Some(bits),
                ..VectorJob::new(0.9)
            };
            let d = density::vector_densities(&l.v, &l.scan, &job, k, &ctx.bars)?;
            Ok((d, l.ids.clone()))
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

/// The job for reading texts whose densities are scored (no band keys: kNN runs over the
/// fingerprints).
fn density_job(input: &SemanticInput) -> TextJob {
    TextJob {
        search: TextSearch::Hamming {
            method: Method::default(),
            max_distance: None,
        },
        ..TextJob::new(input.text_config(), 0.5)
    }
}

/// Density scores of dataset rows: the smallest per-column Jaccard to their neighbours.
fn record_densities<F: CityHash>(
    ctx: &Ctx,
    input: &SemanticInput,
    k: usize,
) -> Result<(Densities<'static>, Vec<String>)> {
    let [path] = input.paths.as_slice() else {
        bail!("--columns reads one dataset file; give exactly one PATH");
    };
    let job = density_job(input);
    let set = dataset::<F>(ctx, input, path, &job, None)?;
    let d = density::text_densities(Texts::from(&set), &job.text, k, &ctx.bars, ctx);
    Ok((d, record_ids(&set)))
}

fn text_densities<F: CityHash>(
    ctx: &Ctx,
    input: &SemanticInput,
    k: usize,
) -> Result<(Densities<'static>, Vec<String>)> {
    let job = density_job(input);
    let (corpus, _) = text_corpus::<F>(ctx, input, &job);
    let d = density::text_densities(Texts::from(&corpus), &job.text, k, &ctx.bars, ctx);
    let ids = (0..corpus.len())
        .map(|i| escape_path(corpus.path(i)))
        .collect();
    Ok((d, ids))
}

/// `simdedup outliers`: `id<TAB>score`, lowest density first.
pub fn outliers(ctx: &Ctx, args: &OutliersArgs) -> Result<()> {
    if !(0.0..=100.0).contains(&args.percent) {
        bail!("--percent {} is not between 0 and 100", args.percent);
    }
    let mut loaded = None;
    let (d, ids) = densities(ctx, &args.input, args.neighbours, &mut loaded)?;
    let list = d.outliers(args.percent / 100.0);
    ctx.note(&format!(
        "{} records, {} outliers (mean similarity to {} nearest neighbours)",
        d.scores.len(),
        list.len(),
        args.neighbours
    ));
    let mut out = io::BufWriter::new(io::stdout().lock());
    for (i, s) in list {
        writeln!(out, "{}\t{s:.4}", ids[i as usize])?;
    }
    out.flush()?;
    Ok(())
}

/// `simdedup represent`: `id<TAB>density`, in selection order.
pub fn represent(ctx: &Ctx, args: &RepresentArgs) -> Result<()> {
    let mut loaded = None;
    let (d, ids) = densities(ctx, &args.input, args.neighbours, &mut loaded)?;
    let chosen = d.representatives(args.count, args.diversity, args.candidates);
    let mut out = io::BufWriter::new(io::stdout().lock());
    for (i, s) in chosen {
        writeln!(out, "{}\t{s:.4}", ids[i as usize])?;
    }
    out.flush()?;
    Ok(())
}

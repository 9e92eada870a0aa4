//! The subcommands: each turns parsed arguments into library calls and writes the results.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use simdedup::atomic_file::AtomicFile;
use simdedup::fpfile::{self, Records};
use simdedup::input::{FileList, WalkOptions, collect_files};
use simdedup::jobs::dedup as jobs;
use simdedup::jobs::{TextJob, TextSearch, Texts};
use simdedup::ops::dedup::{Grouping, KeepOrder, candidate_radius};
use simdedup::ops::pairs::{DocPair, group_by_first, near_pairs, seed_pairs};
use simdedup::output::report::{self, Curve, RunData, RunFacts};
use simdedup::output::{escape_path, write_path};
use simdedup::search::{self, Method, SearchOptions, max_distance_for_ratio};
use simdedup::text::corpus::{Corpus, band_shape, fingerprint_files_keeping};
use simdedup::text::minhash::BandParams;
use simdedup::text::simhash::CityHash;
use simdedup::verify::ScoredPair;
use simdedup::{Error, Fingerprint, Report};

use crate::bars::Bars;
use crate::cli::{
    FindArgs, FingerprintArgs, InputArgs, KeepArg, MethodArg, OutputArgs, OutputKind, PairsArgs,
    SearchArgs, ThresholdArgs, UnitArg,
};

/// The candidate recall the automatic Hamming radius aims at, for pairs right at the
/// similarity bar (pairs above it are caught more often).
pub(crate) const CANDIDATE_RECALL: f64 = 0.99;

/// What every command shares: progress bars, the error count, whether notes are shown.
pub struct Ctx {
    pub bars: Bars,
    pub quiet: bool,
    errors: AtomicUsize,
    /// An input expanded to no file at all (exit code 1 when nothing else went wrong).
    no_input: AtomicBool,
    /// When the command started (for the report's run-time line).
    pub started: Instant,
    /// The `--report` file, opened before the work ([`Ctx::open_report`]).
    report: Mutex<Option<AtomicFile>>,
}

impl Ctx {
    pub fn new(quiet: bool) -> Ctx {
        Ctx {
            bars: Bars::new(quiet),
            quiet,
            errors: AtomicUsize::new(0),
            no_input: AtomicBool::new(false),
            started: Instant::now(),
            report: Mutex::new(None),
        }
    }

    /// Creates the `--report` file's temporary file before the run, so that a bad path
    /// fails before the work (exit 2); [`Ctx::write_report`] commits it.
    pub(crate) fn open_report(&self, path: Option<&Path>) -> Result<()> {
        if let Some(p) = path {
            let file = AtomicFile::create(p).context("cannot write the --report file")?;
            *self.report.lock().expect("not poisoned") = Some(file);
        }
        Ok(())
    }

    /// Whether a report was asked for.
    pub(crate) fn wants_report(&self) -> bool {
        self.report.lock().expect("not poisoned").is_some()
    }

    /// Writes the report of `data` to the file [`Ctx::open_report`] opened, if any.
    pub(crate) fn write_report(&self, data: &RunData) -> Result<()> {
        let file = self.report.lock().expect("not poisoned").take();
        if let Some(file) = file {
            report::write_report(file, data)?;
        }
        Ok(())
    }

    /// Number of input errors reported so far.
    pub fn errors(&self) -> usize {
        self.errors.load(Ordering::Relaxed)
    }

    /// Whether some input expanded to no file at all.
    pub fn no_input(&self) -> bool {
        self.no_input.load(Ordering::Relaxed)
    }

    /// An informational line on stderr, unless `--quiet`.
    pub(crate) fn note(&self, message: &str) {
        if !self.quiet {
            self.bars.suspend(|| eprintln!("simdedup: {message}"));
        }
    }
}

impl Report for Ctx {
    fn report(&self, error: Error) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.bars.suspend(|| eprintln!("simdedup: {error}"));
    }
}

/// Runs `$body` with the type alias `$F` bound to the fingerprint type of `$bits` bits.
macro_rules! with_width {
    // Every width, vectors' included: the library's macro.
    ($bits:expr, $F:ident => $body:expr, wide) => {
        simdedup::with_width!($bits, $F => $body)
    };
    ($bits:expr, $F:ident => $body:expr) => {
        match $bits {
            32 => {
                type $F = u32;
                $body
            }
            64 => {
                type $F = u64;
                $body
            }
            128 => {
                type $F = u128;
                $body
            }
            other => bail!("unsupported text fingerprint width {other} (use 32, 64 or 128)"),
        }
    };
}
pub(crate) use with_width;

pub(crate) fn files(ctx: &Ctx, input: &InputArgs) -> FileList {
    let options = WalkOptions {
        follow_links: input.follow,
        null_separated: input.null,
    };
    let mut stdin = io::stdin().lock();
    let list = collect_files(&input.paths, &options, &mut stdin, ctx);
    if list.repeated > 0 {
        ctx.note(&format!("{} repeated path(s) read once", list.repeated));
    }
    if list.files.is_empty() {
        ctx.no_input.store(true, Ordering::Relaxed);
        ctx.bars.suspend(|| eprintln!("simdedup: no input files"));
    }
    list
}

fn fingerprint_corpus<F: CityHash>(
    ctx: &Ctx,
    input: &InputArgs,
    config: &simdedup::text::simhash::TextConfig,
) -> Corpus<F> {
    fingerprint_list(ctx, files(ctx, input), input, config, None)
}

/// Fingerprints the files of `list` (found from `input`), with band keys when `bands` is
/// given, noting binary files skipped.
pub(crate) fn fingerprint_list<F: CityHash>(
    ctx: &Ctx,
    list: FileList,
    input: &InputArgs,
    config: &simdedup::text::simhash::TextConfig,
    bands: Option<BandParams>,
) -> Corpus<F> {
    fingerprint_list_keeping(ctx, list, input, config, bands, true)
}

/// [`fingerprint_list`], keeping the fingerprints only if `keep_fingerprints`.
fn fingerprint_list_keeping<F: CityHash>(
    ctx: &Ctx,
    list: FileList,
    input: &InputArgs,
    config: &simdedup::text::simhash::TextConfig,
    bands: Option<BandParams>,
    keep_fingerprints: bool,
) -> Corpus<F> {
    let (files, binary) = (list.files, input.binary);
    let corpus = fingerprint_files_keeping::<F>(
        files,
        config,
        bands,
        keep_fingerprints,
        binary,
        &ctx.bars,
        ctx,
    );
    note_binary(ctx, corpus.binary_skipped);
    corpus
}

/// Notes binary files left out of a run.
pub(crate) fn note_binary(ctx: &Ctx, skipped: usize) {
    if skipped > 0 {
        ctx.note(&format!(
            "{skipped} binary file(s) skipped (they contain NUL bytes; --binary reads them)"
        ));
    }
}

/// The distance bound from `-k`, `-r` or the default.
pub(crate) fn max_distance(threshold: &ThresholdArgs, bits: u32, compat: bool) -> Result<u32> {
    if let Some(k) = threshold.max_distance {
        return Ok(k.min(bits));
    }
    let ratio = match threshold.ratio {
        Some(r) => r,
        None if compat => 0.25,
        // Until verified similarity picks the candidate radius: 3/16 of the bits.
        None => return Ok(bits * 3 / 16),
    };
    max_distance_for_ratio(ratio, bits)
        .with_context(|| format!("--ratio {ratio} admits no distance (it must be above 0)"))
}

/// The Hamming search `--method` asks for (the default: exact; rotate with --compat).
/// `--method bands` is refused here: callers that can run the band search check for it
/// first.
pub(crate) fn search_options(
    search: &SearchArgs,
    max_distance: u32,
    compat: bool,
) -> Result<SearchOptions> {
    let rotate = Method::Rotate {
        window: search.window,
    };
    let method = match search.method {
        Some(MethodArg::Exact) => Method::Exact {
            blocks: search.blocks,
        },
        Some(MethodArg::Brute) => Method::Brute,
        Some(MethodArg::Rotate) => rotate,
        Some(MethodArg::Bands) => bail!(
            "--method bands needs verified text (MinHash bands of shingles) or `dedup \
             --vectors` (bands of hyperplane bits); here the search is over fingerprints: use \
             exact, brute or rotate"
        ),
        None if compat => rotate,
        None => Method::Exact {
            blocks: search.blocks,
        },
    };
    Ok(SearchOptions {
        method,
        max_distance,
    })
}

/// The band shape for a verified text run over the files of `list`
/// ([`simdedup::text::corpus::band_shape`]), or `None` when the Hamming search runs instead
/// (see [`uses_bands`]).
pub(crate) fn band_params(
    search: &SearchArgs,
    threshold: &ThresholdArgs,
    min_similarity: f64,
    list: &FileList,
    config: &simdedup::text::simhash::TextConfig,
) -> Option<BandParams> {
    uses_bands(search, threshold)
        .then(|| band_shape(&list.files, config, min_similarity, search.recall))
}

/// Whether a verified text run uses the band search: `--method bands`, or no method and
/// no radius (-k, -r) given.
pub(crate) fn uses_bands(search: &SearchArgs, threshold: &ThresholdArgs) -> bool {
    let radius = threshold.max_distance.is_some() || threshold.ratio.is_some();
    match search.method {
        Some(MethodArg::Bands) => true,
        None => !radius,
        _ => false,
    }
}

/// How the summary line names the candidate search.
pub(crate) fn describe_search(bands: Option<BandParams>, k: u32, min_similarity: f64) -> String {
    match bands {
        Some(p) => format!(
            "from {} bands of {} (recall {:.3} at J {min_similarity})",
            p.bands,
            p.rows,
            p.recall_at(min_similarity)
        ),
        None => format!("within distance {k}"),
    }
}

/// SimHash's estimate of the cosine similarity of the two shingle vectors:
/// cos(pi * distance / bits) (Charikar: a bit differs with probability angle / pi).
fn estimated_similarity(distance: u32, bits: u32) -> f64 {
    (std::f64::consts::PI * distance as f64 / bits as f64).cos()
}

fn write_header(out: &mut dyn Write, output: &OutputArgs, a: &str, b: &str) -> io::Result<()> {
    if output.header {
        if output.scores {
            writeln!(out, "{a}\t{b}\tdistance\tsimilarity")?;
        } else {
            writeln!(out, "{a}\t{b}")?;
        }
    }
    Ok(())
}

fn write_scores(
    out: &mut dyn Write,
    output: &OutputArgs,
    distance: u32,
    bits: u32,
) -> io::Result<()> {
    if output.scores {
        write!(
            out,
            "\t{distance}\t{:.4}",
            estimated_similarity(distance, bits)
        )?;
    }
    writeln!(out)
}

/// `simdedup PATH...`: near-duplicate pairs among files.
pub fn find(ctx: &Ctx, args: &FindArgs) -> Result<()> {
    if args.unit.unit != UnitArg::Document {
        return crate::units_cmd::find_units(ctx, args);
    }
    if args.text.compat.is_some() {
        let d = &args.dedup;
        if d.output.is_some_and(|o| o != OutputKind::Pairs)
            || d.keep != KeepArg::First
            || d.connected
        {
            bail!(
                "--compat prints pairs as the seed does; --output, --keep and --connected need the normal mode"
            );
        }
    }
    with_width!(args.text.bits(), F => find_with::<F>(ctx, args))
}

/// What a run's report says of its command: the subcommand and the input paths.
pub(crate) fn report_title(command: &str, paths: &[PathBuf]) -> String {
    let paths: Vec<String> = paths.iter().map(|p| escape_path(p)).collect();
    format!("simdedup {command}{}", paths.join(" "))
}

fn find_with<F: CityHash>(ctx: &Ctx, args: &FindArgs) -> Result<()> {
    let compat = args.text.compat.is_some();
    let config = args.text.config();
    if compat || args.dedup.no_verify {
        let corpus = fingerprint_corpus::<F>(ctx, &args.input, &config);
        return hamming_pairs(ctx, args, &corpus, compat);
    }
    ctx.open_report(args.report.as_deref())?;
    let list = files(ctx, &args.input);
    let bands = band_params(
        &args.search,
        &args.threshold,
        args.dedup.min_similarity,
        &list,
        &config,
    );
    // The band search needs the fingerprints only for the distances --scores prints.
    let keep = bands.is_none() || args.output.scores;
    let mut corpus = fingerprint_list_keeping::<F>(ctx, list, &args.input, &config, bands, keep);
    let short = corpus.docs.iter().filter(|d| d.shingles == 0).count();
    if short > 0 {
        ctx.note(&format!(
            "{short} document(s) too short for {} shingles: compared only as exact duplicates",
            config.shingling
        ));
    }
    let k = match (args.threshold.max_distance, args.threshold.ratio) {
        (None, None) => candidate_radius(F::BITS, args.dedup.min_similarity, CANDIDATE_RECALL),
        _ => max_distance(&args.threshold, F::BITS, false)?,
    };
    let job = TextJob {
        text: config,
        threshold: args.dedup.min_similarity,
        search: match bands {
            Some(_) => TextSearch::Bands {
                recall: args.search.recall,
            },
            None => TextSearch::Hamming {
                method: search_options(&args.search, k, false)?.method,
                max_distance: Some(k),
            },
        },
        keep: match args.dedup.keep {
            KeepArg::First => KeepOrder::First,
            KeepArg::Longest => KeepOrder::Longest,
            KeepArg::Shortest => KeepOrder::Shortest,
            KeepArg::None => bail!("--keep none needs --unit paragraph or --unit line"),
        },
        grouping: if args.dedup.connected {
            Grouping::Components
        } else {
            Grouping::Greedy
        },
    };
    // The keys go to the search, which frees them early.
    let keys = corpus.bands.take().map(Into::into);
    let result = jobs::dedup_texts(Texts::from(&corpus), keys, &job, &ctx.bars, ctx)?;
    let exact = result.pairs.iter().filter(|p| p.exact).count();
    ctx.note(&format!(
        "{} documents, {} duplicate pairs ({} exact), {} candidates {}, {} read after \
         the sketches ({} documents read again), {} removed",
        corpus.docs.len(),
        result.pairs.len(),
        exact,
        result.candidates,
        describe_search(bands, k, args.dedup.min_similarity),
        result.read,
        result.documents_read,
        result.assignment.removed()
    ));
    let path = |i: u32| escape_path(corpus.path(i as usize));
    if ctx.wants_report() {
        let facts = RunFacts {
            title: report_title("", &args.input.paths),
            similarity: "Jaccard".into(),
            threshold: args.dedup.min_similarity,
            inputs: (corpus.len() + corpus.binary_skipped + corpus.unreadable) as u64,
            skipped: vec![
                ("binary (NUL bytes)".into(), corpus.binary_skipped as u64),
                ("unreadable".into(), corpus.unreadable as u64),
            ],
            method: describe_search(bands, k, args.dedup.min_similarity),
            curve: match bands {
                Some(p) => Curve::Bands(p),
                None => Curve::Hamming {
                    bits: F::BITS,
                    radius: k,
                },
            },
            candidates: result.candidates,
            grouping: job.grouping,
            keep_first: job.keep == KeepOrder::First,
            elapsed: ctx.started.elapsed(),
            peak_memory: report::peak_memory(),
        };
        let data = RunData {
            facts,
            records: corpus.len(),
            name: &path,
            pairs: &result.pairs,
            assignment: &result.assignment,
            skipped_records: &[],
            texts: Some(&corpus),
        };
        ctx.write_report(&data)?;
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    let kind = |exact: bool| if exact { "exact" } else { "near" };
    match args.dedup.output.unwrap_or(OutputKind::Pairs) {
        OutputKind::Pairs => write_pairs(&mut out, &result.pairs, &path, &args.output)?,
        OutputKind::Remove => {
            if args.output.header {
                writeln!(out, "path\tduplicate_of\tsimilarity")?;
            }
            for (i, d) in result.assignment.duplicate_of.iter().enumerate() {
                if let Some(d) = d {
                    writeln!(out, "{}\t{}\t{:.4}", path(i as u32), path(d.kept), d.score)?;
                }
            }
        }
        OutputKind::Keep => {
            if args.output.header {
                writeln!(out, "path")?;
            }
            for (i, d) in result.assignment.duplicate_of.iter().enumerate() {
                if d.is_none() {
                    writeln!(out, "{}", path(i as u32))?;
                }
            }
        }
        OutputKind::Clusters => {
            if args.output.header {
                writeln!(out, "cluster\tpath\tsimilarity\trole")?;
            }
            let mut members: Vec<Vec<(u32, f64, bool)>> = vec![Vec::new(); corpus.docs.len()];
            for (i, d) in result.assignment.duplicate_of.iter().enumerate() {
                if let Some(d) = d {
                    members[d.kept as usize].push((i as u32, d.score, d.exact));
                }
            }
            let mut cluster = 0;
            for (kept, dups) in members.iter().enumerate() {
                if dups.is_empty() {
                    continue;
                }
                cluster += 1;
                writeln!(out, "{cluster}\t{}\t1.0000\tkept", path(kept as u32))?;
                for &(i, score, exact) in dups {
                    writeln!(out, "{cluster}\t{}\t{score:.4}\t{}", path(i), kind(exact))?;
                }
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// Verified pairs as `path_a<TAB>path_b`, with `--scores` plus distance, similarity and
/// exact|near; `path` names document `i`, escaped.
pub(crate) fn write_pairs(
    out: &mut dyn Write,
    pairs: &[ScoredPair],
    path: &dyn Fn(u32) -> String,
    output: &OutputArgs,
) -> io::Result<()> {
    if output.header {
        let scores = if output.scores {
            "\tdistance\tsimilarity\tkind"
        } else {
            ""
        };
        writeln!(out, "path_a\tpath_b{scores}")?;
    }
    for p in pairs {
        write!(out, "{}\t{}", path(p.a), path(p.b))?;
        if output.scores {
            let kind = if p.exact { "exact" } else { "near" };
            write!(out, "\t{}\t{:.4}\t{kind}", p.distance, p.score)?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// Pairs straight from the Hamming search (compat mode and --no-verify).
fn hamming_pairs<F: Fingerprint>(
    ctx: &Ctx,
    args: &FindArgs,
    corpus: &Corpus<F>,
    compat: bool,
) -> Result<()> {
    let k = max_distance(&args.threshold, F::BITS, compat)?;
    let opts = search_options(&args.search, k, compat)?;
    let pairs = if compat {
        seed_pairs(corpus, &opts, &ctx.bars)
    } else {
        near_pairs(corpus, &opts, &ctx.bars)
    };
    if args.verbose {
        ctx.bars.suspend(|| verbose_report(corpus, &pairs, compat));
    }
    let pairs = if compat {
        group_by_first(&pairs)
    } else {
        pairs
    };
    let mut out = io::BufWriter::new(io::stdout().lock());
    write_header(&mut out, &args.output, "path_a", "path_b")?;
    for p in &pairs {
        write_path(&mut out, corpus.path(p.first))?;
        out.write_all(b"\t")?;
        write_path(&mut out, corpus.path(p.second))?;
        write_scores(&mut out, &args.output, p.distance, F::BITS)?;
    }
    out.flush()?;
    Ok(())
}

/// The seed's `-v` report on stderr: per pair in discovery order both paths, both
/// fingerprints in binary (as they stood in the pass that found the pair, padded to 128
/// digits in compat mode) and the distance ratio; then per first document the number of its
/// duplicates, and a total.
fn verbose_report<F: Fingerprint>(corpus: &Corpus<F>, pairs: &[DocPair], compat: bool) {
    let width = if compat { 128 } else { F::BITS as usize };
    let mut err = io::stderr().lock();
    let path = |i: usize| escape_path(corpus.path(i));
    let _ = (|| -> io::Result<()> {
        for p in pairs {
            let rot = p.pass.unwrap_or(0);
            let fa = corpus.fingerprints[p.first].rotate_right(rot);
            let fb = corpus.fingerprints[p.second].rotate_right(rot);
            writeln!(err, "{}\n{}", path(p.first), path(p.second))?;
            writeln!(err, "{}\n{}", fa.to_binary(width), fb.to_binary(width))?;
            writeln!(err, "{}", p.distance as f64 / F::BITS as f64)?;
        }
        let grouped = group_by_first(pairs);
        for run in grouped.chunk_by(|x, y| x.first == y.first) {
            let n = run.len();
            writeln!(
                err,
                "found {n} duplicate(s) of file: {}",
                path(run[0].first)
            )?;
        }
        writeln!(err, "found {} duplicate(s) in total", pairs.len())
    })();
}

/// `simdedup fingerprint PATH...`: `#bits=N` then `path<TAB>hex` lines.
pub fn fingerprint(ctx: &Ctx, args: &FingerprintArgs) -> Result<()> {
    with_width!(args.text.bits(), F => fingerprint_with::<F>(ctx, args))
}

fn fingerprint_with<F: CityHash>(ctx: &Ctx, args: &FingerprintArgs) -> Result<()> {
    let corpus = fingerprint_corpus::<F>(ctx, &args.input, &args.text.config());
    let mut out = io::BufWriter::new(io::stdout().lock());
    fpfile::write_header(&mut out, F::BITS)?;
    for (i, fp) in corpus.fingerprints.iter().enumerate() {
        fpfile::write_record(&mut out, &escape_path(corpus.path(i)), fp)?;
    }
    out.flush()?;
    Ok(())
}

fn open(path: &PathBuf) -> Result<Box<dyn BufRead>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(BufReader::new(io::stdin())));
    }
    let file = File::open(path).with_context(|| format!("{}", path.display()))?;
    Ok(Box::new(BufReader::with_capacity(1 << 20, file)))
}

/// `simdedup pairs FILE...`: search fingerprint files.
pub fn pairs(ctx: &Ctx, args: &PairsArgs) -> Result<()> {
    // The width comes from the first file's header.
    let mut first = open(&args.files[0])?;
    let mut line = String::new();
    first
        .read_line(&mut line)
        .with_context(|| format!("{}", args.files[0].display()))?;
    let bits = fpfile::parse_header(&line).with_context(|| {
        format!(
            "{}, line 1: expected '#bits=N', found '{}'",
            args.files[0].display(),
            line.trim_end()
        )
    })?;
    let header_then_rest = io::Cursor::new(line.into_bytes()).chain(first);
    let mut readers: Vec<Box<dyn BufRead>> = vec![Box::new(header_then_rest)];
    for path in &args.files[1..] {
        readers.push(open(path)?);
    }
    with_width!(bits, F => pairs_with::<F>(ctx, args, readers), wide)
}

fn pairs_with<F: Fingerprint>(
    ctx: &Ctx,
    args: &PairsArgs,
    readers: Vec<Box<dyn BufRead>>,
) -> Result<()> {
    let mut records = Records::<F>::default();
    for (mut reader, path) in readers.into_iter().zip(&args.files) {
        let name = path.display().to_string();
        fpfile::read_records(&mut *reader, &name, &mut records, ctx)
            .with_context(|| name.clone())?;
    }
    let k = max_distance(&args.threshold, F::BITS, false)?;
    let opts = search_options(&args.search, k, false)?;
    let found = search::find_pairs(&records.fingerprints, &opts, &ctx.bars);
    let mut out = io::BufWriter::new(io::stdout().lock());
    write_header(&mut out, &args.output, "id_a", "id_b")?;
    for p in found {
        let (a, b) = (&records.ids[p.a as usize], &records.ids[p.b as usize]);
        write!(out, "{a}\t{b}")?;
        write_scores(&mut out, &args.output, p.distance, F::BITS)?;
    }
    out.flush()?;
    Ok(())
}

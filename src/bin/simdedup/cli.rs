//! Command-line arguments (clap derive). The `///` comments are the help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use simdedup::text::shingle::{Normalization, Shingling};
use simdedup::text::simhash::{TextConfig, Weighting};

const EXAMPLES: &str = "\
Examples:
  simdedup docs/                          near-duplicate pairs in a tree, as TSV
  find . -name '*.txt' | simdedup -       files listed on stdin, one per line
  fd -e md -0 | simdedup -0 - --scores    NUL-separated list; add distance and similarity
  simdedup docs/ -j 0.8 --recall 0.999    a stricter bar, more bands (fewer pairs missed)
  simdedup docs/ --method exact           every pair within the Hamming radius (slower)
  simdedup --compat dedup-py -v test/     reproduce the seed script dedup.py
  simdedup docs/ --report run.html        also an HTML report: histogram, thresholds, pairs
  simdedup fingerprint docs/ > fps.tsv    fingerprints as a file, for pipelines
  simdedup pairs fps.tsv -k 3             search a fingerprint file

Exit status: 0 when all went well, 2 when some input could not be used (each named on stderr)
or on a fatal error (a full disk, an unreadable dataset), 130 when interrupted (Ctrl-C,
SIGTERM). Output files (-o, --removed, --save, --report) appear whole or not at all.";

/// Find near-duplicate text files, dataset rows and embeddings.
///
/// Reads every file under the given paths (directories are walked recursively, in file-name
/// order), fingerprints and sketches each text in one pass, finds candidate pairs with
/// MinHash bands (a pair at the bar is found with probability --recall, 0.99), verifies each
/// by the exact Jaccard similarity of the two shingle sets (default bar 0.5 on word
/// 3-shingles) and prints each duplicate pair once as `path_a<TAB>path_b`. Tabs, newlines, carriage returns and backslashes in paths are
/// written as \t, \n, \r and \\; bytes that are not UTF-8 as \xHH.
#[derive(Parser, Debug)]
#[command(
    name = "simdedup",
    version,
    after_help = EXAMPLES,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub find: FindArgs,

    /// Hide progress bars and notes (errors are still printed).
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print each document's fingerprint: `#bits=N`, then `path<TAB>hex` lines.
    ///
    /// The hex has exactly N/4 lowercase digits, most significant first. The file can be
    /// searched later with `simdedup pairs`; shards can be concatenated.
    Fingerprint(FingerprintArgs),
    /// Find near-duplicate pairs in fingerprint files written by `simdedup fingerprint`.
    Pairs(PairsArgs),
    /// Deduplicate text files or dense vectors (SemHash's semantics), or find the records
    /// of a query set that leak from a reference set (--against).
    #[command(after_help = SEMANTIC_EXAMPLES)]
    Dedup(SemDedupArgs),
    /// The records least like their neighbours: lowest mean similarity to their K nearest.
    #[command(after_help = SEMANTIC_EXAMPLES)]
    Outliers(OutliersArgs),
    /// Representative records: dense ones, chosen for diversity (maximal marginal relevance).
    #[command(after_help = SEMANTIC_EXAMPLES)]
    Represent(RepresentArgs),
    /// Re-filter a result saved by `simdedup dedup --save` at a stricter threshold.
    Rethreshold(RethresholdArgs),
    /// A persistent index: fingerprint a corpus once, add files to it later, and find the
    /// new documents that duplicate indexed ones without fingerprinting those again.
    #[command(after_help = INDEX_EXAMPLES, subcommand_required = true)]
    Index(IndexArgs),
    /// Embed text files with a static-embedding model (Model2Vec) read from a local
    /// directory: one float32 row of a .npy file per file, as Python's model2vec computes it.
    #[command(after_help = EMBED_EXAMPLES)]
    Embed(EmbedArgs),
}

/// The default run: find near-duplicate pairs among files.
#[derive(Args, Debug)]
pub struct FindArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub text: TextArgs,

    #[command(flatten)]
    pub threshold: ThresholdArgs,

    #[command(flatten)]
    pub search: SearchArgs,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub dedup: DedupArgs,

    #[command(flatten)]
    pub unit: UnitArgs,

    /// On stderr: both fingerprints of each pair in binary and their distance ratio, then
    /// per document `found N duplicate(s) of file: PATH` and a total, as the seed does.
    #[arg(short, long)]
    pub verbose: bool,

    /// Also write a self-contained HTML report of the run to FILE.html: similarity
    /// histogram, removals at stricter bars, the pairs closest to the bar, the largest
    /// clusters, run facts. It opens offline in any browser.
    #[arg(long, value_name = "FILE.html", conflicts_with_all = ["no_verify", "compat"])]
    pub report: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct FingerprintArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub text: TextArgs,
}

#[derive(Args, Debug)]
pub struct PairsArgs {
    /// Fingerprint files (`#bits=N` line, then `id<TAB>hex` lines); `-` reads stdin.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub threshold: ThresholdArgs,

    #[command(flatten)]
    pub search: SearchArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct InputArgs {
    /// Files and directories to read; `-` reads a list of paths from stdin.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// The list on stdin is NUL-separated (find -print0, fd -0).
    #[arg(short = '0', long = "null")]
    pub null: bool,

    /// Follow symbolic links inside directories.
    #[arg(short = 'L', long)]
    pub follow: bool,

    /// Also read files that contain NUL bytes (skipped as binary by default).
    #[arg(long)]
    pub binary: bool,
}

/// Seed-compatible modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Compat {
    /// Reproduce dedup.py bit for bit: raw character bigrams, reversed bit order, 32 bits
    /// by default, rotate passes with window 1, ratio 0.25, every document searched.
    #[value(name = "dedup-py")]
    DedupPy,
}

/// A normalisation step, for `--normalize`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum NormStep {
    /// Unicode compatibility normalisation (NFKC) of non-ASCII text.
    Nfkc,
    /// Unicode lowercase.
    Lowercase,
    /// Punctuation and symbols become spaces.
    Punctuation,
    /// Runs of whitespace become one space; ends trimmed.
    Whitespace,
    /// No normalisation at all.
    None,
}

/// Shingle weights, for `--weights`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum WeightsArg {
    Raw,
    Log,
    Set,
}

impl From<WeightsArg> for Weighting {
    fn from(w: WeightsArg) -> Weighting {
        match w {
            WeightsArg::Raw => Weighting::Raw,
            WeightsArg::Log => Weighting::Log,
            WeightsArg::Set => Weighting::Set,
        }
    }
}

#[derive(Args, Debug)]
pub struct TextArgs {
    /// Reproduce another tool exactly.
    #[arg(long, value_enum, value_name = "TOOL", conflicts_with_all = ["shingle", "normalize", "weights"])]
    pub compat: Option<Compat>,

    #[command(flatten)]
    pub features: FeatureArgs,

    /// Fingerprint width in bits [default: 128, or 32 with --compat].
    #[arg(short, long, value_name = "BITS", value_parser = ["32", "64", "128"])]
    pub bits: Option<String>,
}

impl TextArgs {
    /// The fingerprint width chosen or implied.
    pub fn bits(&self) -> u32 {
        match &self.bits {
            Some(b) => b.parse().expect("validated by clap"),
            None if self.compat.is_some() => 32,
            None => 128,
        }
    }

    /// The library's text configuration.
    pub fn config(&self) -> TextConfig {
        if self.compat == Some(Compat::DedupPy) {
            return TextConfig::dedup_py();
        }
        self.features.config()
    }
}

/// How text becomes features: shared by every command that fingerprints text.
#[derive(Args, Debug)]
pub struct FeatureArgs {
    /// Features: character n-grams `char:N` or word n-grams `word:N`.
    #[arg(long, value_name = "KIND:N", default_value = "word:3")]
    pub shingle: Shingling,

    /// Normalisation steps applied before shingling (comma-separated), or `none`.
    #[arg(
        long,
        value_enum,
        value_name = "STEPS",
        value_delimiter = ',',
        default_value = "nfkc,lowercase,punctuation,whitespace"
    )]
    pub normalize: Vec<NormStep>,

    /// How often-repeated shingles weigh: raw (per occurrence), log (1 + ln count) or set
    /// (once).
    #[arg(long, value_enum, value_name = "WEIGHTS", default_value = "raw")]
    pub weights: WeightsArg,
}

impl FeatureArgs {
    /// The library's text configuration (normal mode).
    pub fn config(&self) -> TextConfig {
        TextConfig {
            shingling: self.shingle,
            normalization: normalization(&self.normalize),
            weighting: self.weights.into(),
            compat: false,
        }
    }
}

/// The normalisation `--normalize STEPS` asks for.
pub fn normalization(steps: &[NormStep]) -> Normalization {
    let mut normalization = Normalization::default();
    for step in steps {
        match step {
            NormStep::Nfkc => normalization.nfkc = true,
            NormStep::Lowercase => normalization.lowercase = true,
            NormStep::Punctuation => normalization.strip_punctuation = true,
            NormStep::Whitespace => normalization.collapse_whitespace = true,
            NormStep::None => {}
        }
    }
    normalization
}

#[derive(Args, Debug)]
pub struct ThresholdArgs {
    /// Candidate (or, with --compat/--no-verify, reported) pairs: distance / bits < RATIO,
    /// strict [default with --compat: 0.25].
    #[arg(short, long, value_name = "RATIO", conflicts_with = "max_distance")]
    pub ratio: Option<f64>,

    /// Candidate (or, with --compat/--no-verify, reported) pairs: Hamming distance at most K;
    /// selects the Hamming search [default: from --min-similarity; 3/16 of the bits with
    /// --no-verify].
    #[arg(short = 'k', long, value_name = "K")]
    pub max_distance: Option<u32>,
}

/// Search methods, for `--method`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    /// MinHash bands (text) or bit-sampling bands of hyperplane bits (vectors): near-linear;
    /// a pair exactly at the bar is found with probability at least --recall, pairs above
    /// it more often.
    Bands,
    /// Permuted block tables: every pair within the distance, guaranteed; falls back to
    /// brute force when the cost model says that is cheaper.
    Exact,
    /// Every pair compared; exact, O(N^2).
    Brute,
    /// The seed's rotate-sort-compare passes; fast, may miss pairs.
    Rotate,
}

#[derive(Args, Debug)]
pub struct SearchArgs {
    /// Search method [default: bands for verified text; for vectors, by a cost model (exact
    /// below 20,000 rows or with -k); exact for -k/-r and --no-verify; rotate with --compat].
    #[arg(long, value_enum, value_name = "METHOD")]
    pub method: Option<MethodArg>,

    /// Band search: the probability of finding a pair exactly at the similarity bar (pairs
    /// above it are found more often); the bands are solved from it. For vectors, the bar
    /// is the centred image of the cosine bar for the rows nearest the mean (the worst case).
    #[arg(long, value_name = "P", default_value_t = 0.99, value_parser = parse_recall)]
    pub recall: f64,

    /// Rotate method: compare each entry with the next W entries of each pass.
    #[arg(long, value_name = "W", default_value_t = 1)]
    pub window: usize,

    /// Exact method: split the bits into B blocks instead of the cost model's choice.
    #[arg(long, value_name = "B")]
    pub blocks: Option<u32>,
}

/// What to print, for `--output`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputKind {
    /// `path_a<TAB>path_b`: every duplicate pair (with --scores: distance, similarity,
    /// exact|near).
    Pairs,
    /// `cluster<TAB>path<TAB>similarity<TAB>kept|exact|near`: each kept document with
    /// duplicates, then its duplicates.
    Clusters,
    /// The kept documents, one path per line (documents without duplicates included).
    Keep,
    /// `path<TAB>duplicate_of<TAB>similarity`: each removed document and the kept one it
    /// duplicates.
    Remove,
}

/// Which document of a duplicate set is kept, for `--keep`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KeepArg {
    First,
    Longest,
    Shortest,
    /// Paragraph and line units only: remove every occurrence of a unit repeated at least
    /// --min-repeats times (boilerplate).
    None,
}

/// What is deduplicated, for `--unit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum UnitArg {
    /// Whole files.
    Document,
    /// Text between blank lines.
    Paragraph,
    /// Text between newlines.
    Line,
}

/// Deduplication inside documents: paragraphs or lines.
#[derive(Args, Debug)]
pub struct UnitArgs {
    /// What a duplicate is. With paragraph or line, each unit gets a 64-bit SimHash, pairs
    /// within the Hamming radius are verified by exact Jaccard (-j), the first occurrence
    /// in input order is kept, and each removed unit is printed as
    /// `path<TAB>start<TAB>end<TAB>duplicate_path<TAB>duplicate_start<TAB>duplicate_end<TAB>similarity`:
    /// byte offsets into the original files, end exclusive (a line's span holds its
    /// newline, a paragraph's the blank lines after it, so cutting the spans leaves the
    /// rest as it was).
    #[arg(long, value_enum, value_name = "UNIT", default_value = "document")]
    pub unit: UnitArg,

    /// Units with fewer words (after normalisation) are never removed [default: 10 for
    /// paragraphs, 5 for lines].
    #[arg(long, value_name = "N")]
    pub min_words: Option<usize>,

    /// With --keep none: a unit goes, every occurrence of it, when it occurs at least N
    /// times (near copies counted).
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub min_repeats: usize,
}

#[derive(Args, Debug)]
pub struct DedupArgs {
    /// Duplicates are pairs whose shingle sets have Jaccard similarity at least J, verified
    /// exactly for every candidate. The MinHash bands (or, with --method exact, the Hamming
    /// radius) are solved from J unless -k or -r is given.
    #[arg(short = 'j', long, value_name = "J", default_value_t = 0.5, value_parser = parse_unit)]
    pub min_similarity: f64,

    /// Report Hamming pairs as they are, without verification (similarity column:
    /// SimHash's estimate).
    #[arg(long, conflicts_with_all = ["output", "keep", "connected"])]
    pub no_verify: bool,

    /// What to print [default: pairs; with --unit paragraph|line: remove, the removed
    /// spans; pairs prints every verified pair of units, exact copies left out].
    #[arg(long, value_enum, value_name = "WHAT")]
    pub output: Option<OutputKind>,

    /// Which document of a duplicate set is kept.
    #[arg(long, value_enum, value_name = "WHICH", default_value = "first")]
    pub keep: KeepArg,

    /// Group duplicates by connected components (A~B and B~C put A, B, C together) instead
    /// of assigning each to a kept document it is itself similar to.
    #[arg(long)]
    pub connected: bool,
}

fn parse_recall(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if (0.5..1.0).contains(&v) && v <= 0.999_999 {
        Ok(v)
    } else {
        Err(format!("{v} is not between 0.5 and 0.999999"))
    }
}

fn parse_unit(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not between 0 and 1"))
    }
}

#[derive(Args, Debug)]
pub struct OutputArgs {
    /// Add columns: Hamming distance, similarity (verified Jaccard; SimHash's estimate with
    /// --no-verify or --compat) and exact|near.
    #[arg(long)]
    pub scores: bool,

    /// Print a header line first.
    #[arg(long)]
    pub header: bool,
}

const SEMANTIC_EXAMPLES: &str = "\
Examples:
  simdedup dedup --vectors emb.npy --ids ids.txt            removed rows: id, duplicate_of, cosine
  simdedup dedup --vectors test.npy --against train.npy     test rows that leak from train
  simdedup dedup docs/ --output keep                        text: kept files (Jaccard-verified)
  simdedup dedup --vectors emb.npy --save run.json          keep every pair for rethreshold
  simdedup rethreshold run.json --threshold 0.95            stricter, without recomputing
  simdedup rethreshold run.json --target-size 50000         the threshold that keeps 50,000
  simdedup dedup data.jsonl --columns text --target-size 50000 -o kept.jsonl   in one run
  simdedup outliers --vectors emb.npy --percent 5           the 5% least typical rows
  simdedup represent docs/ --count 20                       20 representative files

Exit status: 0 when all went well, 2 when some input could not be used or on a fatal error,
130 when interrupted (Ctrl-C, SIGTERM). Output files (-o, --removed, --save, --report) are written
under a temporary name and renamed when complete: a failed or interrupted run leaves none.";

/// Inputs of the semantic subcommands: text files, or a `.npy` file of vectors.
#[derive(Args, Debug)]
pub struct SemanticInput {
    /// Text files and directories to read; `-` reads a list of paths from stdin.
    #[arg(
        value_name = "PATH",
        required_unless_present = "vectors",
        conflicts_with = "vectors"
    )]
    pub paths: Vec<PathBuf>,

    /// The list on stdin is NUL-separated (find -print0, fd -0).
    #[arg(short = '0', long = "null")]
    pub null: bool,

    /// Follow symbolic links inside directories.
    #[arg(short = 'L', long)]
    pub follow: bool,

    /// Also read files that contain NUL bytes (skipped as binary by default).
    #[arg(long)]
    pub binary: bool,

    /// Dense vectors instead of text: a 2-D .npy file of float16, float32 or float64 rows,
    /// in C order (memory-mapped).
    #[arg(long, value_name = "FILE.npy")]
    pub vectors: Option<PathBuf>,

    /// Embed each text (file, or dataset row: each --columns column embedded and the
    /// vectors concatenated) with the static-embedding model in DIR, then compare by cosine
    /// as with --vectors (default threshold 0.9). See `simdedup embed --help` for the layouts.
    #[arg(long, value_name = "DIR", conflicts_with = "vectors")]
    pub model: Option<PathBuf>,

    /// One id per line for the rows of --vectors [default: row numbers from 0].
    #[arg(long, value_name = "FILE", requires = "vectors")]
    pub ids: Option<PathBuf>,

    /// Fingerprint width: 64, 128, 256, 512 or 1024 for vectors; 32, 64 or 128 for text
    /// [default: 128].
    #[arg(short, long, value_name = "BITS", value_parser = ["32", "64", "128", "256", "512", "1024"])]
    pub bits: Option<String>,

    /// Seed of the random hyperplanes (vectors).
    #[arg(long, value_name = "N", default_value_t = simdedup::vectors::hyperplane::DEFAULT_SEED)]
    pub seed: u64,

    /// Hash the vectors as they are, without subtracting the mean of the unit rows first.
    #[arg(long)]
    pub no_center: bool,

    #[command(flatten)]
    pub features: FeatureArgs,

    #[command(flatten)]
    pub records: RecordArgs,
}

impl SemanticInput {
    /// The fingerprint width chosen or implied.
    pub fn bits(&self) -> u32 {
        match &self.bits {
            Some(b) => b.parse().expect("validated by clap"),
            None => 128,
        }
    }

    /// The text configuration (word weights raw, as in the plain run).
    pub fn text_config(&self) -> TextConfig {
        self.features.config()
    }

    /// The path arguments as the plain run's input options.
    pub fn input_args(&self) -> InputArgs {
        InputArgs {
            paths: self.paths.clone(),
            null: self.null,
            follow: self.follow,
            binary: self.binary,
        }
    }
}

#[derive(Args, Debug)]
pub struct SemDedupArgs {
    #[command(flatten)]
    pub input: SemanticInput,

    /// Duplicates have similarity at or above T: cosine of the vectors [default: 0.9], or
    /// Jaccard of the shingle sets for text [default: 0.5]. Always verified exactly.
    #[arg(short, long, value_name = "T", value_parser = parse_unit)]
    pub threshold: Option<f64>,

    /// Candidate Hamming radius [default: from the threshold, for 99% candidate recall at
    /// the threshold].
    #[arg(short = 'k', long, value_name = "K")]
    pub max_distance: Option<u32>,

    /// Reference set: flag the inputs that duplicate one of its records (a .npy file with
    /// --vectors, else text paths; repeatable).
    #[arg(long, value_name = "REF")]
    pub against: Vec<PathBuf>,

    /// Ids of the --against rows, one per line [default: row numbers].
    #[arg(long, value_name = "FILE", requires = "against")]
    pub against_ids: Option<PathBuf>,

    /// What to print: removed records `id<TAB>duplicate_of<TAB>score`, kept ids, pairs or
    /// clusters.
    #[arg(long, value_enum, value_name = "WHAT", default_value = "remove")]
    pub output: OutputKind,

    /// Group duplicates by connected components instead of SemHash's greedy assignment.
    #[arg(long, conflicts_with = "against")]
    pub connected: bool,

    /// On stderr: the N duplicate pairs closest to the threshold, for tuning.
    #[arg(long, value_name = "N")]
    pub least_similar: Option<usize>,

    /// Instead of a threshold: keep about N records. One search at the lowest threshold
    /// considered (-t, by default 0.7 for cosine and 0.3 for Jaccard) verifies every pair
    /// above it; the threshold whose decisions keep the count closest to N is then found
    /// from those pairs (printed on stderr), with no search again.
    #[arg(long, value_name = "N", conflicts_with = "against")]
    pub target_size: Option<usize>,

    /// Save every verified pair as JSON, for `simdedup rethreshold`.
    #[arg(long, value_name = "RESULT.json", conflicts_with = "against")]
    pub save: Option<PathBuf>,

    /// Also write a self-contained HTML report of the run to FILE.html (see `simdedup
    /// --help`); with --against, of the leaks (each flagged query beside its reference
    /// record).
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,

    #[command(flatten)]
    pub search: SearchArgs,

    /// Dataset input: write the kept rows here, every field unchanged, in input order
    /// (same format).
    #[arg(short = 'o', long = "out", value_name = "FILE", requires = "columns")]
    pub out: Option<PathBuf>,

    /// Dataset input: write the removed rows here, each with `duplicate_of` and `score`
    /// added.
    #[arg(long, value_name = "FILE", requires = "columns")]
    pub removed: Option<PathBuf>,
}

/// A dataset file (JSONL, JSONL.gz, CSV, TSV, Parquet) as input: one record per row.
#[derive(Args, Debug)]
pub struct RecordArgs {
    /// Treat the one PATH (and each --against file) as a dataset and use its rows, on these
    /// text columns (comma-separated; exact duplicates need all of them equal, near
    /// duplicates every one similar).
    #[arg(
        long,
        value_name = "COLS",
        value_delimiter = ',',
        conflicts_with = "vectors"
    )]
    pub columns: Vec<String>,

    /// Dataset format [default: from the extension: .jsonl, .jsonl.gz, .csv, .tsv, .parquet].
    #[arg(long, value_name = "FORMAT", requires = "columns")]
    pub format: Option<simdedup::records::Format>,

    /// Report and skip rows that are malformed or lack a column, instead of stopping.
    #[arg(long, requires = "columns")]
    pub skip_bad_rows: bool,

    /// Name rows by this column's value (in outputs and `duplicate_of`) [default: row index
    /// from 0].
    #[arg(long, value_name = "COL", requires = "columns")]
    pub id_column: Option<String>,

    /// Deduplicate the rows by this column's vectors (a list of numbers per row; in CSV a
    /// JSON array) with the embedding mode, instead of by their text.
    #[arg(long, value_name = "COL", requires = "columns")]
    pub embedding_column: Option<String>,
}

#[derive(Args, Debug)]
pub struct OutliersArgs {
    #[command(flatten)]
    pub input: SemanticInput,

    /// Neighbours per record for the density score (self excluded).
    #[arg(short = 'K', long, value_name = "K", default_value_t = 100)]
    pub neighbours: usize,

    /// The lowest P percent of records by density are outliers.
    #[arg(long, value_name = "P", default_value_t = 10.0)]
    pub percent: f64,
}

#[derive(Args, Debug)]
pub struct RepresentArgs {
    #[command(flatten)]
    pub input: SemanticInput,

    /// Neighbours per record for the density score (self excluded).
    #[arg(short = 'K', long, value_name = "K", default_value_t = 100)]
    pub neighbours: usize,

    /// How many representatives to choose.
    #[arg(short = 'n', long, value_name = "N", default_value_t = 10)]
    pub count: usize,

    /// Trade-off between density (0) and diversity (1).
    #[arg(long, value_name = "D", default_value_t = 0.5, value_parser = parse_unit)]
    pub diversity: f64,

    /// Candidates for the diversity step [default: 10% of the records, 100 to 1000].
    #[arg(long, value_name = "N")]
    pub candidates: Option<usize>,
}

#[derive(Args, Debug)]
pub struct RethresholdArgs {
    /// A result saved by `simdedup dedup --save`.
    #[arg(value_name = "RESULT.json")]
    pub result: PathBuf,

    /// The new threshold, at least the saved one.
    #[arg(short, long, value_name = "T", value_parser = parse_unit,
          required_unless_present = "target_size", conflicts_with = "target_size")]
    pub threshold: Option<f64>,

    /// Instead of a threshold: the threshold (at least the saved one) whose decisions keep
    /// the number of records closest to N, found from the saved pairs (printed on stderr).
    #[arg(long, value_name = "N")]
    pub target_size: Option<usize>,

    /// What to print.
    #[arg(long, value_enum, value_name = "WHAT", default_value = "remove")]
    pub output: OutputKind,

    /// Group duplicates by connected components.
    #[arg(long)]
    pub connected: bool,
}

const INDEX_EXAMPLES: &str = "\
Examples:
  simdedup index build corpus/ -o corpus.sdx        fingerprint a corpus once
  simdedup index add corpus.sdx more/               add files (the indexed ones are not read)
  simdedup index query corpus.sdx new/ --scores     new files that duplicate indexed ones,
                                                    or each other: path_a, path_b, scores
  fd -e txt -0 | simdedup index query corpus.sdx -0 -

The pairs of a query are those a plain run over the indexed files and the new ones
together reports that involve a new file. Paths are stored as given: run queries from the
directory the index was built in, or index absolute paths.";

#[derive(Args, Debug)]
pub struct IndexArgs {
    #[command(subcommand)]
    pub command: IndexCommand,
}

#[derive(Subcommand, Debug)]
pub enum IndexCommand {
    /// Fingerprint files into a new index file (replaced if it exists).
    #[command(after_help = INDEX_EXAMPLES)]
    Build(IndexBuildArgs),
    /// Fingerprint more files into an index; files already in it are skipped.
    #[command(after_help = INDEX_EXAMPLES)]
    Add(IndexAddArgs),
    /// Print the duplicate pairs that involve new files: new against indexed, and new
    /// against new, as `path_a<TAB>path_b` in the order of a run over both.
    #[command(after_help = INDEX_EXAMPLES)]
    Query(IndexQueryArgs),
}

#[derive(Args, Debug)]
pub struct IndexBuildArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// The index file to write.
    #[arg(short = 'o', long = "out", value_name = "FILE.sdx", required = true)]
    pub out: PathBuf,

    #[command(flatten)]
    pub features: FeatureArgs,

    /// Fingerprint width in bits.
    #[arg(short, long, value_name = "BITS", default_value = "128", value_parser = ["32", "64", "128"])]
    pub bits: String,

    /// The similarity bar queries will use: the stored MinHash band keys are shaped to
    /// catch pairs at J with probability --recall (queries at a lower bar fall back to the
    /// exact Hamming search).
    #[arg(short = 'j', long, value_name = "J", default_value_t = 0.5, value_parser = parse_unit)]
    pub min_similarity: f64,

    /// The recall the band keys are shaped for, at the bar -j.
    #[arg(long, value_name = "P", default_value_t = 0.99, value_parser = parse_recall)]
    pub recall: f64,
}

/// Fingerprint settings of `index add` and `index query`: each defaults to the index's; one
/// given must equal it.
#[derive(Args, Debug)]
pub struct IndexSettingsArgs {
    /// Fingerprint width in bits [default: the index's].
    #[arg(short, long, value_name = "BITS", value_parser = ["32", "64", "128"])]
    pub bits: Option<String>,

    /// Features, `char:N` or `word:N` [default: the index's].
    #[arg(long, value_name = "KIND:N")]
    pub shingle: Option<Shingling>,

    /// Normalisation steps (comma-separated), or `none` [default: the index's].
    #[arg(long, value_enum, value_name = "STEPS", value_delimiter = ',')]
    pub normalize: Option<Vec<NormStep>>,

    /// Shingle weights: raw, log or set [default: the index's].
    #[arg(long, value_enum, value_name = "WEIGHTS")]
    pub weights: Option<WeightsArg>,
}

#[derive(Args, Debug)]
pub struct IndexAddArgs {
    /// The index file to add to (rewritten through a temporary file and a rename).
    #[arg(value_name = "INDEX.sdx")]
    pub index: PathBuf,

    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub settings: IndexSettingsArgs,
}

#[derive(Args, Debug)]
pub struct IndexQueryArgs {
    /// The index file to query.
    #[arg(value_name = "INDEX.sdx")]
    pub index: PathBuf,

    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub settings: IndexSettingsArgs,

    /// Duplicates are pairs whose shingle sets have Jaccard similarity at least J, verified
    /// exactly (indexed files in candidate pairs are read again).
    #[arg(short = 'j', long, value_name = "J", default_value_t = 0.5, value_parser = parse_unit)]
    pub min_similarity: f64,

    #[command(flatten)]
    pub threshold: ThresholdArgs,

    /// Split the bits into B blocks instead of the cost model's choice (exact search).
    #[arg(long, value_name = "B")]
    pub blocks: Option<u32>,

    /// The recall the band search must reach at -j to be used; below it (a bar lower than
    /// the index was shaped for) the exact Hamming search runs instead.
    #[arg(long, value_name = "P", default_value_t = 0.99, value_parser = parse_recall)]
    pub recall: f64,

    /// Use the exact Hamming search even when the index has band keys.
    #[arg(long)]
    pub exact: bool,

    /// Also write a self-contained HTML report of the query to FILE.html (see `simdedup
    /// --help`); its decisions are the new files removed as duplicates of indexed files
    /// or of new files before them.
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,
}

const EMBED_EXAMPLES: &str = "\
Examples:
  simdedup embed --model potion-base-8M docs/ -o emb.npy --ids ids.txt
  simdedup dedup --vectors emb.npy --ids ids.txt      then deduplicate the vectors

A model directory holds config.json, model.safetensors (tensor `embeddings`: float32, float16
or int8; optional `weights` and `mapping`) and tokenizer.json (BERT WordPiece), or the
sentence-transformers layout (config_sentence_transformers.json, 0_StaticEmbedding/). It is
never downloaded. Each file is one text; bytes that are not UTF-8 are read as U+FFFD, and a
text with no known token (an empty file) is a zero row.";

/// `simdedup embed`: texts to vectors with a static-embedding model.
#[derive(Args, Debug)]
pub struct EmbedArgs {
    /// The model directory (Model2Vec or sentence-transformers static-embedding layout).
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,

    #[command(flatten)]
    pub input: InputArgs,

    /// The vectors: a .npy file of float32 rows, one per file, in input order.
    #[arg(short, long, value_name = "FILE.npy")]
    pub output: PathBuf,

    /// Also write each row's path, one per line in row order (escaped as in other output).
    #[arg(long, value_name = "FILE")]
    pub ids: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Parser)]
    struct Features {
        #[command(flatten)]
        features: FeatureArgs,
    }

    /// The library's default text configuration (which the Python package uses) is the
    /// command line's.
    #[test]
    fn default_features_are_the_library_default() {
        let parsed = Features::parse_from(["simdedup"]);
        assert_eq!(parsed.features.config(), TextConfig::default());
    }
}

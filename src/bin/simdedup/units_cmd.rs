//! `simdedup --unit paragraph|line PATH...`: near-duplicate paragraphs or lines across and
//! inside files, printed as byte spans.

use std::io::{self, BufWriter, Write};

use anyhow::{Result, bail};

use simdedup::jobs::units::{Files, UNIT_BITS, UnitJob, dedup_units};
use simdedup::ops::units::UnitKeep;
use simdedup::output::write_path;
use simdedup::text::units::UnitKind;

use crate::cli::{FindArgs, KeepArg, MethodArg, OutputKind, UnitArg};
use crate::commands::{Ctx, files, max_distance, note_binary, search_options};

/// The unit job the arguments ask for.
fn job(args: &FindArgs) -> Result<UnitJob> {
    let kind = match args.unit.unit {
        UnitArg::Paragraph => UnitKind::Paragraph,
        UnitArg::Line => UnitKind::Line,
        UnitArg::Document => unreachable!("the document run is elsewhere"),
    };
    let d = &args.dedup;
    if args.text.compat.is_some() || d.no_verify || d.connected || args.report.is_some() {
        bail!("--unit {kind} does not take --compat, --no-verify, --connected or --report");
    }
    if !matches!(
        d.output,
        None | Some(OutputKind::Remove | OutputKind::Pairs)
    ) {
        bail!("--unit {kind} prints removed spans (--output remove) or verified pairs (pairs)");
    }
    if args.text.bits.as_deref().is_some_and(|b| b != "64") {
        bail!("--unit {kind} fingerprints each unit with 64 bits; -b does not apply");
    }
    if args.search.method == Some(MethodArg::Bands) {
        bail!("--unit {kind} searches a Hamming radius: use --method exact, brute or rotate");
    }
    let mut job = UnitJob::new(kind, args.text.features.config(), d.min_similarity);
    if let Some(m) = args.unit.min_words {
        job.text.min_words = m;
    }
    let k = match (args.threshold.max_distance, args.threshold.ratio) {
        (None, None) => job.search.max_distance,
        _ => max_distance(&args.threshold, UNIT_BITS, false)?,
    };
    job.search = search_options(&args.search, k, false)?;
    job.keep = match d.keep {
        KeepArg::First => UnitKeep::First,
        KeepArg::None => UnitKeep::None {
            min_repeats: args.unit.min_repeats,
        },
        KeepArg::Longest | KeepArg::Shortest => {
            bail!("--unit {kind} keeps the first occurrence (--keep first) or none (--keep none)")
        }
    };
    Ok(job)
}

pub fn find_units(ctx: &Ctx, args: &FindArgs) -> Result<()> {
    let job = job(args)?;
    let list = files(ctx, &args.input);
    let source = Files::new(&list.files, args.input.binary);
    let result = dedup_units(&source, &job, &ctx.bars, ctx);
    note_binary(ctx, result.stats.binary_skipped);
    let s = &result.stats;
    let exact = result.removals.iter().filter(|r| r.exact).count();
    ctx.note(&format!(
        "{} documents, {} {}s of at least {} words ({} distinct), {} candidates within \
         distance {} of 64 bits, {} verified at J {}, {} removed ({} exact)",
        s.documents,
        s.units,
        job.kind,
        job.text.min_words,
        s.distinct,
        s.candidates,
        job.search.max_distance,
        s.verified,
        job.threshold,
        result.removals.len(),
        exact
    ));
    let mut out = BufWriter::new(io::stdout().lock());
    if args.output.header {
        write!(
            out,
            "path\tstart\tend\tduplicate_path\tduplicate_start\tduplicate_end\tsimilarity"
        )?;
        writeln!(out, "{}", if args.output.scores { "\tkind" } else { "" })?;
    }
    // Removed units and what they repeat, or every verified pair (later unit first).
    let rows: Vec<(u32, u32, f64, bool)> = if args.dedup.output == Some(OutputKind::Pairs) {
        let mut v: Vec<_> = result
            .pairs
            .iter()
            .map(|p| (p.b, p.a, p.similarity, false))
            .collect();
        v.sort_by_key(|r| (r.0, r.1));
        v
    } else {
        let r = result.removals.iter();
        r.map(|r| (r.unit, r.duplicate_of, r.similarity, r.exact))
            .collect()
    };
    for (unit, dup, similarity, exact) in rows {
        let (u, k) = (result.units[unit as usize], result.units[dup as usize]);
        let (us, ks) = (u.span(), k.span());
        write_path(&mut out, source.path(u.doc as usize))?;
        write!(out, "\t{}\t{}\t", us.start, us.end)?;
        write_path(&mut out, source.path(k.doc as usize))?;
        write!(out, "\t{}\t{}\t{similarity:.4}", ks.start, ks.end)?;
        if args.output.scores {
            write!(out, "\t{}", if exact { "exact" } else { "near" })?;
        }
        writeln!(out)?;
    }
    out.flush()?;
    Ok(())
}

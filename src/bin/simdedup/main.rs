//! The `simdedup` binary: parses arguments, calls the library, maps the outcome to an exit
//! code (0 all went well, 1 the input held no file at all, 2 some input could not be used or
//! a fatal error, 130 interrupted by SIGINT or SIGTERM, after removing every temporary
//! output file). A closed stdout (`| head`) ends the run quietly with 0.

mod bars;
mod cli;
mod commands;
mod embed_cmd;
mod index_cmd;
mod semantic_cmd;
mod units_cmd;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};
use commands::Ctx;

fn main() -> ExitCode {
    let cli = Cli::parse();
    on_interrupt_remove_temporary_files();
    let ctx = Ctx::new(cli.quiet);
    let result = match &cli.command {
        None => commands::find(&ctx, &cli.find),
        Some(Command::Fingerprint(args)) => commands::fingerprint(&ctx, args),
        Some(Command::Pairs(args)) => commands::pairs(&ctx, args),
        Some(Command::Dedup(args)) => semantic_cmd::dedup(&ctx, args),
        Some(Command::Outliers(args)) => semantic_cmd::outliers(&ctx, args),
        Some(Command::Represent(args)) => semantic_cmd::represent(&ctx, args),
        Some(Command::Rethreshold(args)) => semantic_cmd::rethreshold(&ctx, args),
        Some(Command::Index(args)) => index_cmd::index(&ctx, args),
        Some(Command::Embed(args)) => embed_cmd::embed(&ctx, args),
    };
    match result {
        Ok(()) if ctx.errors() == 0 && ctx.no_input() => ExitCode::from(1),
        Ok(()) if ctx.errors() == 0 => ExitCode::SUCCESS,
        Ok(()) => ExitCode::from(2),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("simdedup: {}", message(&e));
            ExitCode::from(2)
        }
    }
}

/// Exit code of a run ended by SIGINT or SIGTERM (128 + SIGINT, the shells' convention).
const INTERRUPTED: i32 = 130;

/// On Ctrl-C or SIGTERM: remove the temporary files of outputs not yet complete, say so,
/// and exit at once. (The handler runs on its own thread, so it may take locks.)
fn on_interrupt_remove_temporary_files() {
    let installed = ctrlc::set_handler(|| {
        simdedup::atomic_file::interrupt();
        eprintln!("simdedup: interrupted; no partial output file is left");
        std::process::exit(INTERRUPTED);
    });
    if let Err(e) = installed {
        eprintln!(
            "simdedup: warning: cannot handle Ctrl-C ({e}); an interrupted run may leave temporary files"
        );
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The error and its causes, joined by ": ", leaving out a cause whose text the message
/// already ends with (typed errors print their source themselves).
fn message(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if !text.ends_with(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
    }
    text
}

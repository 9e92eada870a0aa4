//! End-to-end tests of the `simdedup` binary, in one test binary (one link step).

mod util;

mod bad_input;
mod bands;
mod cli;
mod compat_oracle;
mod embed;
mod failures;
mod fuzz_corpus;
mod golden;
mod index;
mod quality;
mod records;
mod report;
mod semantic;
mod units;

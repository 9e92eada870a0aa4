//! Fuzz targets for simdedup's parsers. Each target is one line calling a function of
//! [`checks`], which feeds arbitrary bytes to the library and asserts what must hold; the
//! stable test suite (`tests/fuzz_corpus.rs`) runs the same functions over the committed
//! corpus and every crash input found so far.

pub mod checks;

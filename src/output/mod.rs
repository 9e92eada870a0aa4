//! Writing results: TSV fields with paths escaped so that every record is one line, and
//! the kept and removed rows of a deduplicated dataset ([`records`]), and the HTML report
//! of a run ([`report`]).
//!
//! In a path, tab, newline, carriage return and backslash are written `\t`, `\n`, `\r`
//! and `\\`; bytes that are not UTF-8 are written `\xHH`.

use std::io::{self, Write};
use std::path::Path;

use crate::input::path_bytes;

pub mod records;
pub mod report;

/// Writes `path` as one TSV field.
pub fn write_path(out: &mut dyn Write, path: &Path) -> io::Result<()> {
    write_escaped(out, path_bytes(path))
}

/// `path` as one TSV field, in a `String`.
pub fn escape_path(path: &Path) -> String {
    let mut v = Vec::new();
    write_path(&mut v, path).expect("writing to a Vec cannot fail");
    String::from_utf8(v).expect("escaped output is UTF-8")
}

/// `text` as one TSV field, in a `String`.
pub fn escape_field(text: &str) -> String {
    let mut v = Vec::new();
    write_escaped(&mut v, text.as_bytes()).expect("writing to a Vec cannot fail");
    String::from_utf8(v).expect("escaped output is UTF-8")
}

/// Writes `bytes` as one TSV field (see the module docs for the escapes).
pub fn write_escaped(out: &mut dyn Write, bytes: &[u8]) -> io::Result<()> {
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        let mut start = 0;
        for (i, b) in valid.bytes().enumerate() {
            let esc: &[u8] = match b {
                b'\t' => b"\\t",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\\' => b"\\\\",
                _ => continue,
            };
            out.write_all(&valid.as_bytes()[start..i])?;
            out.write_all(esc)?;
            start = i + 1;
        }
        out.write_all(&valid.as_bytes()[start..])?;
        for b in chunk.invalid() {
            write!(out, "\\x{b:02x}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(bytes: &[u8]) -> String {
        let mut v = Vec::new();
        write_escaped(&mut v, bytes).unwrap();
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn escapes() {
        assert_eq!(esc(b"plain/path.txt"), "plain/path.txt");
        assert_eq!(esc(b"a\tb\nc\\d\re"), "a\\tb\\nc\\\\d\\re");
        assert_eq!(esc(b"caf\xc3\xa9 \xff"), "café \\xff");
    }
}

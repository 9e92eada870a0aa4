//! Fingerprint files: a `#bits=N` line, then one `id<TAB>hex` line per item, the hex
//! exactly N/4 lowercase digits, most significant first. Written by `simdedup fingerprint`,
//! read by `simdedup pairs`; shards written separately can be concatenated (a repeated
//! `#bits=N` line with the same N is accepted).

use std::io::{self, BufRead, Write};

use crate::error::{Error, Report};
use crate::fingerprint::Fingerprint;

/// Writes the header line.
pub fn write_header(out: &mut dyn Write, bits: u32) -> io::Result<()> {
    writeln!(out, "#bits={bits}")
}

/// Writes one record; `id` must already be escaped for TSV.
pub fn write_record<F: Fingerprint>(out: &mut dyn Write, id: &str, fp: &F) -> io::Result<()> {
    writeln!(out, "{id}\t{}", fp.to_hex())
}

/// Parses a `#bits=N` header line.
pub fn parse_header(line: &str) -> Option<u32> {
    line.trim_end_matches(['\r', '\n'])
        .strip_prefix("#bits=")?
        .parse()
        .ok()
}

/// Items read from fingerprint files: `ids[i]` (as written, still escaped) has
/// `fingerprints[i]`.
#[derive(Debug)]
pub struct Records<F> {
    pub ids: Vec<String>,
    pub fingerprints: Vec<F>,
}

impl<F> Default for Records<F> {
    fn default() -> Self {
        Records {
            ids: Vec::new(),
            fingerprints: Vec::new(),
        }
    }
}

/// Reads the records of one file into `records`. The file must start with `#bits=` equal
/// to `F::BITS`. Bad lines are reported (naming `source_name` and the line number) and
/// skipped; a header with another width stops the file, since nothing after it can be
/// compared. An I/O error ends the file and is returned.
pub fn read_records<F: Fingerprint>(
    reader: &mut dyn BufRead,
    source_name: &str,
    records: &mut Records<F>,
    report: &dyn Report,
) -> io::Result<()> {
    let mut line = String::new();
    let mut number = 0u64;
    let bad = |number: u64, message: String| {
        report.report(Error::BadLine {
            source_name: source_name.to_string(),
            line: number,
            message,
        })
    };
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        number += 1;
        let text = line.trim_end_matches(['\n', '\r']);
        if text.starts_with("#bits=") {
            match parse_header(text) {
                Some(bits) if bits == F::BITS => continue,
                _ => {
                    bad(
                        number,
                        format!(
                            "'{text}' does not match #bits={}; rest of file skipped",
                            F::BITS
                        ),
                    );
                    return Ok(());
                }
            }
        }
        if number == 1 {
            bad(
                number,
                format!("expected '#bits={}' as the first line", F::BITS),
            );
            return Ok(());
        }
        if text.is_empty() {
            bad(number, "blank line".into());
            continue;
        }
        let Some((id, hex)) = text.rsplit_once('\t') else {
            bad(number, "expected id<TAB>fingerprint".into());
            continue;
        };
        match F::from_hex(hex) {
            Some(fp) => {
                records.ids.push(id.to_string());
                records.fingerprints.push(fp);
            }
            None => bad(
                number,
                format!("fingerprint '{hex}' is not {} hex digits", F::BITS / 4),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn round_trip_and_bad_lines() {
        let mut out = Vec::new();
        write_header(&mut out, 32).unwrap();
        write_record(&mut out, "a\\tb", &0x09d1cbe2u32).unwrap();
        write_record(&mut out, "c", &7u32).unwrap();
        let mut text = String::from_utf8(out).unwrap();
        text.push_str(
            "#bits=32\nd\t0000000g\ne\t123\nf\t00000001\n#bits=64\ng\t0000000000000000\n",
        );
        let errors = Mutex::new(Vec::new());
        let report = |e: Error| errors.lock().unwrap().push(e.to_string());
        let mut records = Records::<u32>::default();
        read_records(&mut text.as_bytes(), "fps.tsv", &mut records, &report).unwrap();
        assert_eq!(records.ids, ["a\\tb", "c", "f"]);
        assert_eq!(records.fingerprints, [0x09d1cbe2, 7, 1]);
        let errors = errors.into_inner().unwrap();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].starts_with("fps.tsv, line 5: fingerprint '0000000g'"));
        assert!(errors[1].starts_with("fps.tsv, line 6:"));
        assert!(errors[2].starts_with("fps.tsv, line 8: '#bits=64'"));
    }

    #[test]
    fn header_required() {
        let report = |_e: Error| {};
        let mut records = Records::<u64>::default();
        read_records(&mut "a\t0\n".as_bytes(), "x", &mut records, &report).unwrap();
        assert!(records.ids.is_empty());
        assert_eq!(parse_header("#bits=128\n"), Some(128));
    }
}

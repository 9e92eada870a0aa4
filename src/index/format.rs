//! The file's byte layout: where each section starts, the header written and checked,
//! and the checksumming writer.

use super::*;

/// Where each section lies, from the header (all checked against the file's length).
#[derive(Clone, Copy, Debug)]
pub(super) struct Layout {
    pub(super) settings: Settings,
    pub(super) version: u32,
    pub(super) n: usize,
    pub(super) fingerprints: usize,
    pub(super) chars: usize,
    pub(super) shingles: usize,
    pub(super) digests: usize,
    /// Version 3: documents by digest (`n` `u32`); empty before.
    pub(super) by_digest: usize,
    /// Version 3: documents by path (`n` `u32`); empty before.
    pub(super) by_path: usize,
    /// Version 3: the band tables (`L·n` `u64`); version 2: the keys by document.
    pub(super) band_keys: usize,
    pub(super) offsets: usize,
    pub(super) paths: usize,
    pub(super) path_len: usize,
    /// Total file length.
    pub(super) len: u64,
}

pub(super) fn pad16(x: u64) -> Option<u64> {
    x.checked_add(15).map(|x| x & !15)
}

impl Layout {
    /// Section offsets of a file of `version` for `n` documents of `bits` and `path_len`
    /// path bytes; `None` when they overflow.
    pub(super) fn compute(
        settings: Settings,
        version: u32,
        n: u64,
        path_len: u64,
    ) -> Option<Layout> {
        let section = |start: u64, len: u64| -> Option<(u64, u64)> {
            let start = pad16(start)?;
            Some((start, start.checked_add(len)?))
        };
        let w = u64::from(settings.bits / 8);
        let (fps, end) = section(HEADER_LEN, n.checked_mul(w)?)?;
        let (chars, end) = section(end, n.checked_mul(8)?)?;
        let (shingles, end) = section(end, n.checked_mul(8)?)?;
        let (digests, end) = section(end, n.checked_mul(16)?)?;
        let bands = u64::from(settings.bands.map_or(0, |b| b.bands));
        let order = if version >= 3 { n.checked_mul(4)? } else { 0 };
        let (by_digest, end) = section(end, order)?;
        let (by_path, end) = section(end, order)?;
        let key_bytes = if version >= 3 { 8 } else { 4 };
        let (band_keys, end) = section(end, n.checked_mul(bands)?.checked_mul(key_bytes)?)?;
        let (offsets, end) = section(end, n.checked_add(1)?.checked_mul(8)?)?;
        let (paths, end) = section(end, path_len)?;
        let len = end.checked_add(7)? & !7;
        let len = len.checked_add(TRAILER_LEN)?;
        let us = |x: u64| usize::try_from(x).ok();
        Some(Layout {
            settings,
            version,
            n: us(n)?,
            fingerprints: us(fps)?,
            chars: us(chars)?,
            shingles: us(shingles)?,
            digests: us(digests)?,
            by_digest: us(by_digest)?,
            by_path: us(by_path)?,
            band_keys: us(band_keys)?,
            offsets: us(offsets)?,
            paths: us(paths)?,
            path_len: us(path_len)?,
            len,
        })
    }
}

pub(super) fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

pub(super) fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

pub(super) fn u128_at(bytes: &[u8], at: usize) -> u128 {
    u128::from_le_bytes(bytes[at..at + 16].try_into().expect("16 bytes"))
}

/// The header's 64 bytes for `settings`, `n` documents and `path_len` path bytes.
pub(super) fn encode_header(
    settings: &Settings,
    version: u32,
    n: u64,
    path_len: u64,
) -> [u8; HEADER_LEN as usize] {
    let mut h = [0u8; HEADER_LEN as usize];
    let t = &settings.text;
    let norm = &t.normalization;
    h[0..8].copy_from_slice(&MAGIC);
    h[8..12].copy_from_slice(&version.to_le_bytes());
    h[12..16].copy_from_slice(&settings.bits.to_le_bytes());
    h[16..20].copy_from_slice(&SCHEME.to_le_bytes());
    h[20] = match t.shingling.kind {
        ShingleKind::Char => 0,
        ShingleKind::Word => 1,
    };
    h[21] = u8::from(norm.nfkc)
        | u8::from(norm.lowercase) << 1
        | u8::from(norm.strip_punctuation) << 2
        | u8::from(norm.collapse_whitespace) << 3;
    h[22] = match t.weighting {
        Weighting::Raw => 0,
        Weighting::Log => 1,
        Weighting::Set => 2,
    };
    h[23] = u8::from(t.compat);
    h[24..28].copy_from_slice(&(t.shingling.n as u32).to_le_bytes());
    h[32..40].copy_from_slice(&n.to_le_bytes());
    h[40..48].copy_from_slice(&path_len.to_le_bytes());
    if let Some(b) = settings.bands {
        h[48..52].copy_from_slice(&b.rows.to_le_bytes());
        h[52..56].copy_from_slice(&b.bands.to_le_bytes());
    }
    h
}

/// The settings, document count and path length of a header whose magic and version were
/// checked.
pub(super) fn decode_header(h: &[u8]) -> Result<(Settings, u64, u64), FormatError> {
    let version = u32_at(h, 8);
    let bad = |what: String| Err(FormatError::Corrupt(what));
    let bits = u32_at(h, 12);
    if !matches!(bits, 32 | 64 | 128) {
        return bad(format!("fingerprint width {bits} (expected 32, 64 or 128)"));
    }
    let scheme = u32_at(h, 16);
    if scheme != SCHEME {
        return bad(format!("unknown fingerprint scheme {scheme}"));
    }
    let kind = match h[20] {
        0 => ShingleKind::Char,
        1 => ShingleKind::Word,
        k => return bad(format!("unknown shingle kind {k}")),
    };
    let flags = h[21];
    if flags > 15 {
        return bad(format!("unknown normalisation flags {flags:#x}"));
    }
    let normalization = Normalization {
        nfkc: flags & 1 != 0,
        lowercase: flags & 2 != 0,
        strip_punctuation: flags & 4 != 0,
        collapse_whitespace: flags & 8 != 0,
    };
    let weighting = match h[22] {
        0 => Weighting::Raw,
        1 => Weighting::Log,
        2 => Weighting::Set,
        w => return bad(format!("unknown weighting {w}")),
    };
    let compat = match h[23] {
        0 => false,
        1 => true,
        c => return bad(format!("compat flag {c}")),
    };
    let n = u32_at(h, 24);
    if !(1..=64).contains(&n) {
        return bad(format!("shingle size {n} (expected 1 to 64)"));
    }
    let reserved = if version >= 2 { &h[56..64] } else { &h[48..64] };
    if u32_at(h, 28) != 0 || reserved.iter().any(|&b| b != 0) {
        return bad("reserved header bytes are not zero".into());
    }
    let bands = match (u32_at(h, 48), u32_at(h, 52)) {
        (0, 0) => None,
        (rows, bands)
            if rows > 0
                && bands > 0
                && rows
                    .checked_mul(bands)
                    .is_some_and(|k| k <= u16::MAX as u32) =>
        {
            Some(BandParams { rows, bands })
        }
        (rows, bands) => return bad(format!("band shape {bands} x {rows}")),
    };
    let settings = Settings {
        bands,
        bits,
        text: TextConfig {
            shingling: Shingling {
                kind,
                n: n as usize,
            },
            normalization,
            weighting,
            compat,
        },
    };
    Ok((settings, u64_at(h, 32), u64_at(h, 40)))
}

/// A writer that keeps the CRC-32 of what passed and counts it, for padding.
pub(super) struct Checksummed<'a> {
    pub(super) out: &'a mut dyn Write,
    pub(super) crc: crc32fast::Hasher,
    pub(super) written: usize,
}

impl Checksummed<'_> {
    pub(super) fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.crc.update(bytes);
        self.written += bytes.len();
        Ok(())
    }

    /// Zero bytes up to offset `at`.
    pub(super) fn pad_to(&mut self, at: usize) -> io::Result<()> {
        debug_assert!(at >= self.written && at - self.written < 16);
        let zeros = [0u8; 16];
        self.write_all(&zeros[..at - self.written])
    }
}

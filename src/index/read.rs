//! Reading an index through its memory map: the validated view, its band tables, and the
//! owned [`Index`].

use super::*;

/// An index held in memory as bytes (a map of the file, or any slice): every access is
/// checked by [`IndexView::from_bytes`] once, so the accessors cannot fail.
#[derive(Clone, Copy, Debug)]
pub struct IndexView<'a> {
    pub(super) bytes: &'a [u8],
    pub(super) layout: Layout,
}

impl<'a> IndexView<'a> {
    /// Checks `bytes` as an index file: magic, version, checksum, header fields, section
    /// sizes and path offsets. Never panics and never allocates by a count read from the
    /// bytes, whatever they hold (the entry point for fuzzing). Linear in the length.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<IndexView<'a>, FormatError> {
        let found = bytes.len() as u64;
        if bytes.len() < 8 || bytes[..8] != MAGIC {
            return Err(FormatError::Magic);
        }
        if bytes.len() < 12 {
            return Err(FormatError::Truncated {
                expected: HEADER_LEN + TRAILER_LEN,
                found,
            });
        }
        let version = u32_at(bytes, 8);
        match version {
            1..=VERSION => {}
            v if v > VERSION => {
                return Err(FormatError::NewerVersion {
                    found: v,
                    newest: VERSION,
                });
            }
            v => return Err(FormatError::UnknownVersion { found: v }),
        }
        if found < HEADER_LEN + TRAILER_LEN {
            return Err(FormatError::Truncated {
                expected: HEADER_LEN + TRAILER_LEN,
                found,
            });
        }
        // The length the header promises, if the header can be read at all: a shorter
        // file is reported as truncated rather than as a bad checksum.
        let header = decode_header(&bytes[..HEADER_LEN as usize]);
        let layout = header
            .as_ref()
            .ok()
            .and_then(|&(settings, n, p)| Layout::compute(settings, version, n, p));
        let body = bytes.len() - TRAILER_LEN as usize;
        let stored = u32_at(bytes, body);
        let computed = crc32fast::hash(&bytes[..body]);
        if stored != computed {
            return Err(match layout {
                Some(l) if l.len > found => FormatError::Truncated {
                    expected: l.len,
                    found,
                },
                _ => FormatError::Checksum { stored, computed },
            });
        }
        let (settings, n, path_len) = header?;
        let Some(layout) = layout else {
            return Err(FormatError::Corrupt(format!(
                "{n} documents and {path_len} path bytes do not fit in memory"
            )));
        };
        if layout.len != found {
            return Err(if layout.len > found {
                FormatError::Truncated {
                    expected: layout.len,
                    found,
                }
            } else {
                FormatError::Corrupt(format!(
                    "{} bytes after the end the header gives ({} bytes)",
                    found - layout.len,
                    layout.len
                ))
            });
        }
        if u32_at(bytes, body + 4) != 0 {
            return Err(FormatError::Corrupt(
                "reserved trailer bytes are not zero".into(),
            ));
        }
        debug_assert_eq!(settings, layout.settings);
        let view = IndexView { bytes, layout };
        // Path offsets: from 0, non-decreasing, ending at the path bytes' length.
        let mut previous = 0u64;
        for i in 0..=layout.n {
            let offset = u64_at(bytes, layout.offsets + 8 * i);
            let ok = if i == 0 {
                offset == 0
            } else {
                offset >= previous
            };
            if !ok || offset > path_len {
                return Err(FormatError::Corrupt(format!(
                    "path offset {i} ({offset}) out of order or past the {path_len} path bytes"
                )));
            }
            previous = offset;
        }
        if previous != path_len {
            return Err(FormatError::Corrupt(format!(
                "path offsets end at {previous}, not at {path_len}"
            )));
        }
        // The sorted sections: documents below n (an index is never out of bounds), band
        // tables ascending (a binary search finds every entry of a key).
        let n = layout.n as u64;
        if layout.version >= 3 {
            for (what, at) in [("digest", layout.by_digest), ("path", layout.by_path)] {
                let order = &bytes[at..at + 4 * layout.n];
                if let Some(i) = (order.chunks_exact(4))
                    .position(|d| u64::from(u32::from_le_bytes(d.try_into().expect("4"))) >= n)
                {
                    return Err(FormatError::Corrupt(format!(
                        "entry {i} of the {what} order is past the {n} documents"
                    )));
                }
            }
        }
        let tables = &bytes[layout.band_keys..layout.band_keys + 8 * layout.n * view.table_bands()];
        for (band, table) in tables.chunks_exact(8 * layout.n.max(1)).enumerate() {
            let mut previous = None;
            for (i, entry) in table.chunks_exact(8).enumerate() {
                let entry = u64::from_le_bytes(entry.try_into().expect("8"));
                if entry & u64::from(u32::MAX) >= n || previous.is_some_and(|p| p >= entry) {
                    return Err(FormatError::Corrupt(format!(
                        "band table {band} out of order or past the {n} documents at entry {i}"
                    )));
                }
                previous = Some(entry);
            }
        }
        Ok(view)
    }

    /// Entry `i` of the digest order (version 3).
    pub(super) fn by_digest(&self, i: usize) -> u32 {
        u32_at(self.bytes, self.layout.by_digest + 4 * i)
    }

    /// Entry `i` of the path order (version 3).
    pub(super) fn by_path(&self, i: usize) -> u32 {
        u32_at(self.bytes, self.layout.by_path + 4 * i)
    }

    /// Bands with a stored table (version 3 with band keys; 0 otherwise).
    pub(super) fn table_bands(&self) -> usize {
        match self.layout.settings.bands {
            Some(b) if self.layout.version >= 3 => b.bands as usize,
            _ => 0,
        }
    }

    /// Entry `i` of band `band`'s table (version 3): `key << 32 | document`.
    pub(super) fn table_entry(&self, band: usize, i: usize) -> u64 {
        u64_at(
            self.bytes,
            self.layout.band_keys + 8 * (band * self.layout.n + i),
        )
    }

    /// The file's format version ([`VERSION`] or an older one it reads).
    pub fn version(&self) -> u32 {
        self.layout.version
    }

    /// The settings that made the fingerprints.
    pub fn settings(&self) -> Settings {
        self.layout.settings
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.layout.n
    }

    pub fn is_empty(&self) -> bool {
        self.layout.n == 0
    }

    /// Every fingerprint, copied out of the file. `None` when `F` is not the index's width.
    pub fn fingerprints<F: Fingerprint>(&self) -> Option<Vec<F>> {
        if F::BITS != self.layout.settings.bits {
            return None;
        }
        let w = F::BITS as usize / 8;
        let start = self.layout.fingerprints;
        let section = &self.bytes[start..start + self.layout.n * w];
        Some(section.chunks_exact(w).map(F::read_le).collect())
    }

    /// Every document's band keys, copied out of the file, if the index has them.
    pub fn band_keys(&self) -> Option<BandKeys> {
        let params = self.layout.settings.bands?;
        let (l, bands) = (&self.layout, params.bands as usize);
        if l.version >= 3 {
            // Each table holds every document once (written so; a crafted file that repeats
            // one leaves another's key 0, never reads out of bounds).
            let mut flat = vec![0u32; l.n * bands];
            for band in 0..bands {
                for i in 0..l.n {
                    let entry = self.table_entry(band, i);
                    flat[(entry as u32) as usize * bands + band] = (entry >> 32) as u32;
                }
            }
            return Some(BandKeys::from_flat(bands, flat));
        }
        let section = &self.bytes[l.band_keys..l.band_keys + l.n * bands * 4];
        let flat = section
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4")))
            .collect();
        Some(BandKeys::from_flat(bands, flat))
    }

    /// The fingerprint of document `i < len()`. `None` when `F` is not the index's width.
    pub fn fingerprint<F: Fingerprint>(&self, i: usize) -> Option<F> {
        if F::BITS != self.layout.settings.bits {
            return None;
        }
        assert!(i < self.layout.n, "document {i} of {}", self.layout.n);
        let w = F::BITS as usize / 8;
        let at = self.layout.fingerprints + i * w;
        Some(F::read_le(&self.bytes[at..at + w]))
    }

    /// The digest of document `i < len()`.
    pub fn digest(&self, i: usize) -> u128 {
        assert!(i < self.layout.n, "document {i} of {}", self.layout.n);
        u128_at(self.bytes, self.layout.digests + 16 * i)
    }

    /// The documents sorted by digest and by band key, for lookups ([`Tables`]): read in
    /// place from a version 3 file, sorted in memory from an older one.
    pub fn tables(&self) -> Tables<'a> {
        if self.layout.version >= 3 {
            return Tables {
                view: *self,
                sorted: None,
            };
        }
        let n = self.layout.n;
        let mut by_digest: Vec<u32> = (0..n as u32).collect();
        by_digest.sort_unstable_by_key(|&i| (self.digest(i as usize), i));
        let mut by_path: Vec<u32> = (0..n as u32).collect();
        by_path.sort_unstable_by_key(|&i| (self.path_bytes(i as usize), i));
        let bands = self.band_keys().map(|keys| {
            let mut entries = Vec::with_capacity(n * keys.bands());
            for band in 0..keys.bands() {
                let start = entries.len();
                entries.extend((0..n).map(|i| u64::from(keys.get(i)[band]) << 32 | i as u64));
                entries[start..].sort_unstable();
            }
            entries
        });
        Tables {
            view: *self,
            sorted: Some(Sorted {
                by_digest,
                by_path,
                bands: bands.unwrap_or_default(),
            }),
        }
    }

    /// The counts of document `i < len()`.
    pub fn doc(&self, i: usize) -> DocRecord {
        let l = &self.layout;
        assert!(i < l.n, "document {i} of {}", l.n);
        DocRecord {
            chars: u64_at(self.bytes, l.chars + 8 * i),
            shingles: u64_at(self.bytes, l.shingles + 8 * i),
            digest: u128_at(self.bytes, l.digests + 16 * i),
        }
    }

    /// The stored bytes of the path of document `i < len()`.
    pub fn path_bytes(&self, i: usize) -> &'a [u8] {
        let l = &self.layout;
        assert!(i < l.n, "document {i} of {}", l.n);
        // Checked in from_bytes: offsets within the path bytes, non-decreasing.
        let (start, end) = (
            u64_at(self.bytes, l.offsets + 8 * i) as usize,
            u64_at(self.bytes, l.offsets + 8 * i + 8) as usize,
        );
        &self.bytes[l.paths + start..l.paths + end]
    }

    /// The path of document `i < len()` (bytes that are not valid on this platform are
    /// replaced, outside Unix).
    pub fn path(&self, i: usize) -> Cow<'a, Path> {
        path_from_bytes(self.path_bytes(i))
    }
}

/// The documents of an index sorted by digest and, band by band, by key: what a query
/// looks up ([`IndexView::tables`]). Each lookup is a binary search, `O(log n)` reads.
#[derive(Clone, Debug)]
pub struct Tables<'a> {
    pub(super) view: IndexView<'a>,
    /// For files before version 3: the sorted sections, sorted in memory.
    pub(super) sorted: Option<Sorted>,
}

/// Version 3's sorted sections, for an older file.
#[derive(Clone, Debug)]
pub(super) struct Sorted {
    pub(super) by_digest: Vec<u32>,
    pub(super) by_path: Vec<u32>,
    /// The band tables one after another.
    pub(super) bands: Vec<u64>,
}

/// The first position in `0..n` where `before` is false (`before` true, then false).
pub(super) fn lower_bound(n: usize, before: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if before(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

impl Tables<'_> {
    /// The document at position `i` of the digest order.
    pub(super) fn by_digest(&self, i: usize) -> u32 {
        match &self.sorted {
            Some(sorted) => sorted.by_digest[i],
            None => self.view.by_digest(i),
        }
    }

    /// The document at position `i` of the path order.
    pub(super) fn by_path(&self, i: usize) -> u32 {
        match &self.sorted {
            Some(sorted) => sorted.by_path[i],
            None => self.view.by_path(i),
        }
    }

    /// Entry `i` of band `band`'s table: `key << 32 | document`.
    pub(super) fn entry(&self, band: usize, i: usize) -> u64 {
        match &self.sorted {
            Some(sorted) => sorted.bands[band * self.view.len() + i],
            None => self.view.table_entry(band, i),
        }
    }

    /// The indexed documents whose digest is `digest`, ascending.
    pub fn with_digest(&self, digest: u128) -> impl Iterator<Item = u32> + '_ {
        let n = self.view.len();
        let digest_at = move |i: usize| self.view.digest(self.by_digest(i) as usize);
        let start = lower_bound(n, |i| digest_at(i) < digest);
        (start..n)
            .take_while(move |&i| digest_at(i) == digest)
            .map(move |i| self.by_digest(i))
    }

    /// Whether a document's stored path is `path` (bytes, as [`IndexView::path_bytes`]).
    pub fn has_path(&self, path: &[u8]) -> bool {
        let n = self.view.len();
        let at = lower_bound(n, |i| self.view.path_bytes(self.by_path(i) as usize) < path);
        at < n && self.view.path_bytes(self.by_path(at) as usize) == path
    }

    /// The indexed documents whose key in band `band` is `key`, ascending (none when the
    /// index has no band keys).
    pub fn with_key(&self, band: usize, key: u32) -> impl Iterator<Item = u32> + '_ {
        let n = self.view.len();
        let bands = self.view.settings().bands.map_or(0, |b| b.bands as usize);
        let n = if band < bands { n } else { 0 };
        let first = u64::from(key) << 32;
        let start = lower_bound(n, |i| self.entry(band, i) < first);
        (start..n)
            .map(move |i| self.entry(band, i))
            .take_while(move |&e| e >> 32 == u64::from(key))
            .map(|e| e as u32)
    }
}

#[cfg(unix)]
pub(super) fn path_from_bytes(bytes: &[u8]) -> Cow<'_, Path> {
    use std::os::unix::ffi::OsStrExt;
    Cow::Borrowed(Path::new(std::ffi::OsStr::from_bytes(bytes)))
}

#[cfg(not(unix))]
pub(super) fn path_from_bytes(bytes: &[u8]) -> Cow<'_, Path> {
    Cow::Owned(PathBuf::from(String::from_utf8_lossy(bytes).into_owned()))
}

/// An index file opened through a memory map and checked ([`IndexView::from_bytes`]).
/// A map stays valid when `index add` replaces the file, since it renames a new file over
/// the old name and never writes into the old one.
#[derive(Debug)]
pub struct Index {
    pub(super) file: PathBuf,
    pub(super) map: Option<Mmap>,
    pub(super) layout: Layout,
}

impl Index {
    /// Opens, maps and checks `path`. Errors name the file.
    pub fn open(path: &Path) -> Result<Index, Error> {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        // An empty file cannot be mapped on every platform; it is no index anyway.
        let map = if len == 0 {
            None
        } else {
            // SAFETY: the map is read-only, and simdedup replaces index files by renaming,
            // never writing into them; a file truncated by another program while we read
            // it is outside what any reader of mapped files can defend against.
            Some(unsafe { Mmap::map(&file) }.map_err(io)?)
        };
        let bytes: &[u8] = map.as_deref().unwrap_or(&[]);
        let layout = IndexView::from_bytes(bytes)
            .map_err(|source| Error::Index {
                path: path.to_path_buf(),
                source,
            })?
            .layout;
        Ok(Index {
            file: path.to_path_buf(),
            map,
            layout,
        })
    }

    /// The checked contents.
    pub fn view(&self) -> IndexView<'_> {
        IndexView {
            bytes: self.map.as_deref().unwrap_or(&[]),
            layout: self.layout,
        }
    }

    /// The index file's path.
    pub fn file(&self) -> &Path {
        &self.file
    }
}

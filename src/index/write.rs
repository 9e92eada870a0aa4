//! Writing an index: [`Builder`] for a new file, and extending one without reading old
//! documents again.

use super::*;

/// An index being assembled in memory, then written in one go ([`Builder::save`]).
#[derive(Debug)]
pub struct Builder<'a, F> {
    pub(super) settings: Settings,
    pub(super) fingerprints: Vec<F>,
    /// Band keys, when `settings.bands` is set: of the documents after `base`'s.
    pub(super) band_keys: Option<BandKeys>,
    pub(super) docs: Vec<DocRecord>,
    pub(super) offsets: Vec<u64>,
    pub(super) paths: Vec<u8>,
    /// The version 3 index this one extends ([`Builder::from_view`]): its sorted sections
    /// hold its documents, the first of this one, and what is added is merged into them
    /// (sorting only the new documents).
    pub(super) base: Option<IndexView<'a>>,
}

impl<'a, F: Fingerprint> Builder<'a, F> {
    /// An empty index of fingerprints made by `text`, `F::BITS` wide, with band keys of
    /// the shape `bands` (documents added must carry them).
    pub fn new(text: TextConfig, bands: Option<BandParams>) -> Builder<'a, F> {
        Builder {
            settings: Settings {
                bits: F::BITS,
                text,
                bands,
            },
            fingerprints: Vec::new(),
            band_keys: bands.map(|b| BandKeys::new(b.bands as usize)),
            docs: Vec::new(),
            offsets: vec![0],
            paths: Vec::new(),
            base: None,
        }
    }

    /// A copy of an existing index, to add to. `None` when `F` is not its width. A
    /// version 3 index stays borrowed: its sorted sections are merged with the new
    /// documents' when written; older versions are copied whole and sorted again.
    pub fn from_view(view: &IndexView<'a>) -> Option<Builder<'a, F>> {
        let fingerprints = view.fingerprints::<F>()?;
        let l = &view.layout;
        let mut offsets = Vec::with_capacity(l.n + 1);
        offsets.extend((0..=l.n).map(|i| u64_at(view.bytes, l.offsets + 8 * i)));
        let base = (l.version >= 3).then_some(*view);
        let band_keys = match base {
            Some(_) => (l.settings.bands).map(|b| BandKeys::new(b.bands as usize)),
            None => view.band_keys(),
        };
        Some(Builder {
            settings: l.settings,
            fingerprints,
            band_keys,
            docs: (0..l.n).map(|i| view.doc(i)).collect(),
            offsets,
            paths: view.bytes[l.paths..l.paths + l.path_len].to_vec(),
            base,
        })
    }

    /// Documents held by `base`'s sorted sections (the first ones).
    pub(super) fn base_len(&self) -> usize {
        self.base.map_or(0, |b| b.len())
    }

    /// Every document's band keys (the base's read back from its tables).
    pub(super) fn all_band_keys(&self) -> Option<Cow<'_, BandKeys>> {
        let added = self.band_keys.as_ref()?;
        let Some(base) = self.base else {
            return Some(Cow::Borrowed(added));
        };
        let mut keys = base.band_keys().expect("the base has band keys");
        keys.extend(added);
        Some(Cow::Owned(keys))
    }

    /// The settings of the fingerprints.
    pub fn settings(&self) -> Settings {
        self.settings
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Adds one document, with its band keys when the index has them (`keys` is ignored
    /// otherwise; without them the document cannot be added to such an index: panics).
    pub fn push(&mut self, path: &Path, fingerprint: F, doc: DocRecord, keys: Option<&[u32]>) {
        if let Some(store) = self.band_keys.as_mut() {
            store.push(keys.expect("band keys for an index that has them"));
        }
        self.paths.extend_from_slice(path_bytes(path));
        self.offsets.push(self.paths.len() as u64);
        self.fingerprints.push(fingerprint);
        self.docs.push(doc);
    }

    /// Adds every document of `corpus` (fingerprinted with this index's settings, band
    /// keys of its shape included when it has them).
    pub fn extend(&mut self, corpus: &Corpus<F>) {
        for i in 0..corpus.len() {
            let d = &corpus.docs[i];
            let doc = DocRecord {
                chars: d.chars,
                shingles: d.shingles,
                digest: d.digest,
            };
            let keys = corpus.bands.as_ref().map(|k| k.get(i));
            self.push(corpus.path(i), corpus.fingerprints[i], doc, keys);
        }
    }

    /// Writes the file format (see the module docs) to `out`.
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        self.write_version(out, VERSION)
    }

    /// Writes format `version` (this one; the tests write older ones too).
    pub(super) fn write_version(&self, out: &mut dyn Write, version: u32) -> io::Result<()> {
        let n = self.docs.len() as u64;
        let layout = Layout::compute(self.settings, version, n, self.paths.len() as u64)
            .ok_or_else(|| io::Error::other("index too large for this platform"))?;
        let mut out = Checksummed {
            out,
            crc: crc32fast::Hasher::new(),
            written: 0,
        };
        out.write_all(&encode_header(
            &self.settings,
            version,
            n,
            self.paths.len() as u64,
        ))?;
        out.pad_to(layout.fingerprints)?;
        let mut word = vec![0u8; F::BITS as usize / 8];
        for fp in &self.fingerprints {
            fp.write_le(&mut word);
            out.write_all(&word)?;
        }
        out.pad_to(layout.chars)?;
        for d in &self.docs {
            out.write_all(&d.chars.to_le_bytes())?;
        }
        out.pad_to(layout.shingles)?;
        for d in &self.docs {
            out.write_all(&d.shingles.to_le_bytes())?;
        }
        out.pad_to(layout.digests)?;
        for d in &self.docs {
            out.write_all(&d.digest.to_le_bytes())?;
        }
        if version < 3 {
            out.pad_to(layout.band_keys)?;
            if let Some(keys) = self.all_band_keys().filter(|_| version == 2) {
                let bytes: Vec<u8> = (0..keys.len())
                    .flat_map(|i| keys.get(i).iter().flat_map(|k| k.to_le_bytes()))
                    .collect();
                out.write_all(&bytes)?;
            }
        } else {
            self.write_tables(&mut out, &layout)?;
        }
        out.pad_to(layout.offsets)?;
        for o in &self.offsets {
            out.write_all(&o.to_le_bytes())?;
        }
        out.pad_to(layout.paths)?;
        out.write_all(&self.paths)?;
        out.pad_to((layout.len - TRAILER_LEN) as usize)?;
        let crc = out.crc.clone().finalize();
        out.write_all(&crc.to_le_bytes())?;
        out.write_all(&[0; 4])?;
        debug_assert_eq!(out.written as u64, layout.len);
        Ok(())
    }

    /// Version 3's sorted sections: the documents by digest and by path, then each band's
    /// table. The documents after `base`'s are sorted, and each is put where it belongs
    /// in the base's section, copied as it is between them (the same order as sorting all
    /// of them: every order breaks ties by document, and the new documents come last).
    pub(super) fn write_tables(&self, out: &mut Checksummed, layout: &Layout) -> io::Result<()> {
        let (old, n) = (self.base_len(), self.docs.len());
        // The base's section at `start` (`old` entries of `width` bytes), empty without one.
        let section = |start: fn(&Layout) -> usize, width: usize| match &self.base {
            Some(b) => &b.bytes[start(&b.layout)..start(&b.layout) + old * width],
            None => &[][..],
        };
        let entry = |bytes: &[u8], j: usize, width: usize| match width {
            4 => u32_at(bytes, 4 * j) as u64,
            _ => u64_at(bytes, 8 * j),
        };
        let added = || (old as u32..n as u32).collect::<Vec<u32>>();
        let mut bytes = Vec::with_capacity(n * 8);
        out.pad_to(layout.by_digest)?;
        let digest = |&i: &u32| (self.docs[i as usize].digest, i);
        let mut fresh = added();
        fresh.sort_unstable_by_key(digest);
        let base = section(|l| l.by_digest, 4);
        merge_into(&mut bytes, base, 4, &fresh, |f| {
            lower_bound(old, |j| digest(&(entry(base, j, 4) as u32)) < digest(f))
        });
        out.write_all(&bytes)?;
        out.pad_to(layout.by_path)?;
        let path = |&i: &u32| {
            let i = i as usize;
            (
                &self.paths[self.offsets[i] as usize..self.offsets[i + 1] as usize],
                i,
            )
        };
        let mut fresh = added();
        fresh.par_sort_unstable_by_key(path);
        let base = section(|l| l.by_path, 4);
        bytes.clear();
        merge_into(&mut bytes, base, 4, &fresh, |f| {
            lower_bound(old, |j| path(&(entry(base, j, 4) as u32)) < path(f))
        });
        out.write_all(&bytes)?;
        out.pad_to(layout.band_keys)?;
        let Some(keys) = &self.band_keys else {
            return Ok(());
        };
        let tables = section(|l| l.band_keys, 8 * keys.bands());
        let mut fresh = Vec::with_capacity(keys.len());
        for band in 0..keys.bands() {
            fresh.clear();
            fresh.extend(
                (0..keys.len()).map(|i| u64::from(keys.get(i)[band]) << 32 | (old + i) as u64),
            );
            fresh.par_sort_unstable();
            let base = &tables[band * old * 8..(band + 1) * old * 8];
            bytes.clear();
            merge_into(&mut bytes, base, 8, &fresh, |f| {
                lower_bound(old, |j| entry(base, j, 8) < *f)
            });
            out.write_all(&bytes)?;
        }
        Ok(())
    }

    /// Writes the index to `path` through a temporary file in the same directory, flushed
    /// to disk and renamed over `path`: a reader or a crash sees the old file or the new
    /// one, never a half-written one.
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let file = AtomicFile::create(path)?;
        {
            let mut out = BufWriter::with_capacity(1 << 20, file.as_file());
            self.write(&mut out).map_err(|e| file.error(e))?;
            out.flush().map_err(|e| file.error(e))?;
        }
        file.as_file().sync_all().map_err(|e| file.error(e))?;
        file.commit()
    }
}

/// Appends to `out` the sorted section `base` (entries of `width` bytes, little-endian)
/// with the `fresh` entries (ascending, each `width` bytes wide once encoded) put in order:
/// `at(f)` is the number of base entries before `f`. The base is copied as it is between
/// them, so the work is a copy plus a binary search per fresh entry.
pub(super) fn merge_into<T: Copy + Into<u64>>(
    out: &mut Vec<u8>,
    base: &[u8],
    width: usize,
    fresh: &[T],
    at: impl Fn(&T) -> usize,
) {
    let mut from = 0;
    for f in fresh {
        let to = at(f).max(from);
        out.extend_from_slice(&base[from * width..to * width]);
        out.extend_from_slice(&(*f).into().to_le_bytes()[..width]);
        from = to;
    }
    out.extend_from_slice(&base[from * width..]);
}

use super::*;

fn config() -> TextConfig {
    TextConfig {
        shingling: "word:3".parse().unwrap(),
        normalization: Normalization::ALL,
        weighting: Weighting::Log,
        compat: false,
    }
}

const SHAPE: BandParams = BandParams { rows: 2, bands: 3 };

fn sample(paths: &[&[u8]]) -> Vec<u8> {
    sample_with(paths, Some(SHAPE))
}

fn sample_with(paths: &[&[u8]], bands: Option<BandParams>) -> Vec<u8> {
    let mut b = Builder::<u64>::new(config(), bands);
    for (i, p) in paths.iter().enumerate() {
        let i = i as u64;
        let doc = DocRecord {
            chars: 100 + i,
            shingles: 10 * i,
            digest: u128::MAX - i as u128,
        };
        let keys = [i as u32, 7, u32::MAX - i as u32];
        b.push(
            &path_from_bytes(p),
            0x0123_4567_89ab_cdef ^ i,
            doc,
            Some(&keys),
        );
    }
    let mut out = Vec::new();
    b.write(&mut out).unwrap();
    out
}

/// A file of an older version (1: no band keys; 2: band keys by document).
fn older(paths: &[&[u8]], version: u32) -> Vec<u8> {
    let bytes = sample_with(paths, (version >= 2).then_some(SHAPE));
    let view = IndexView::from_bytes(&bytes).unwrap();
    let mut out = Vec::new();
    Builder::<u64>::from_view(&view)
        .unwrap()
        .write_version(&mut out, version)
        .unwrap();
    out
}

#[test]
fn older_versions_are_read() {
    let paths: [&[u8]; 3] = [b"a.txt", b"b.txt", b"c.txt"];
    let current = IndexView::from_bytes(&sample(&paths))
        .unwrap()
        .band_keys()
        .unwrap();
    for version in [1, 2] {
        let bytes = older(&paths, version);
        assert_eq!(u32_at(&bytes, 8), version);
        let view = IndexView::from_bytes(&bytes).unwrap();
        assert_eq!(view.len(), 3);
        assert_eq!(view.path_bytes(1), b"b.txt");
        if version == 1 {
            assert_eq!(view.settings().bands, None);
            assert!(view.band_keys().is_none());
            assert_eq!(view.tables().with_key(0, 7).count(), 0);
        } else {
            assert_eq!(view.band_keys().unwrap(), current);
            // The tables are sorted in memory, with the contents version 3 stores.
            let tables = view.tables();
            assert_eq!(tables.with_key(1, 7).collect::<Vec<_>>(), [0, 1, 2]);
            assert_eq!(tables.with_key(0, 2).collect::<Vec<_>>(), [2]);
        }
        assert_eq!(
            view.tables().with_digest(u128::MAX - 1).collect::<Vec<_>>(),
            [1]
        );
        // Re-written, it becomes the current version, with the band keys it had.
        let mut again = Vec::new();
        Builder::<u64>::from_view(&view)
            .unwrap()
            .write(&mut again)
            .unwrap();
        assert_eq!(u32_at(&again, 8), VERSION);
        let view = IndexView::from_bytes(&again).unwrap();
        assert_eq!(view.band_keys().is_some(), version == 2);
    }
}

/// Documents added to an index in rounds (each round's sorted sections merged into
/// the last file's) give the bytes of one build of them all: digests, keys and paths
/// that sort before, among (equal ones included) and after the indexed ones.
#[test]
fn added_rounds_equal_one_build() {
    let push = |b: &mut Builder<u64>, i: u32| {
        let doc = DocRecord {
            chars: i as u64,
            shingles: 1,
            digest: u128::from(i * 5 % 7) << 100,
        };
        let path = format!("p{:02}", (i * 37) % 61);
        b.push(
            Path::new(&path),
            i as u64,
            doc,
            Some(&[i % 5, i * 7 % 11, 9]),
        );
    };
    let mut whole = Builder::<u64>::new(config(), Some(SHAPE));
    (0..60).for_each(|i| push(&mut whole, i));
    let mut expected = Vec::new();
    whole.write(&mut expected).unwrap();
    for rounds in [
        &[0, 60][..],
        &[1, 60],
        &[30, 31, 60],
        &[0, 20, 40, 59, 60],
        &[60, 60],
    ] {
        let mut b = Builder::<u64>::new(config(), Some(SHAPE));
        (0..rounds[0]).for_each(|i| push(&mut b, i));
        let mut bytes = Vec::new();
        b.write(&mut bytes).unwrap();
        for w in rounds.windows(2) {
            let view = IndexView::from_bytes(&bytes).unwrap();
            let mut b = Builder::<u64>::from_view(&view).unwrap();
            (w[0]..w[1]).for_each(|i| push(&mut b, i));
            let mut out = Vec::new();
            b.write(&mut out).unwrap();
            bytes = out;
        }
        assert!(bytes == expected, "rounds {rounds:?}");
    }
}

#[test]
fn lookups_find_every_document() {
    let mut b = Builder::<u64>::new(config(), Some(SHAPE));
    // Documents 0..40: digest i % 7, band keys i % 5, i % 3 and 9.
    for i in 0..40u32 {
        let doc = DocRecord {
            chars: 1,
            shingles: 1,
            digest: u128::from(i % 7) << 100,
        };
        b.push(Path::new("x"), 0, doc, Some(&[i % 5, i % 3, 9]));
    }
    let mut bytes = Vec::new();
    b.write(&mut bytes).unwrap();
    let view = IndexView::from_bytes(&bytes).unwrap();
    let tables = view.tables();
    let expect = |f: &dyn Fn(u32) -> bool| (0..40).filter(|&i| f(i)).collect::<Vec<u32>>();
    for d in 0..8u32 {
        let found: Vec<u32> = tables.with_digest(u128::from(d) << 100).collect();
        assert_eq!(found, expect(&|i| i % 7 == d));
    }
    for key in 0..6u32 {
        assert_eq!(
            tables.with_key(0, key).collect::<Vec<_>>(),
            expect(&|i| i % 5 == key)
        );
        assert_eq!(
            tables.with_key(1, key).collect::<Vec<_>>(),
            expect(&|i| i % 3 == key)
        );
    }
    assert_eq!(tables.with_key(2, 9).count(), 40);
    assert_eq!(tables.with_key(2, 8).count(), 0);
    assert_eq!(tables.with_key(3, 9).count(), 0, "no such band");
    assert_eq!(view.band_keys().unwrap().get(17), &[2, 2, 9]);
    let paths: [&[u8]; 4] = [b"b", b"a", b"", b"a\xff"];
    let bytes = sample(&paths);
    let tables = IndexView::from_bytes(&bytes).unwrap().tables();
    for p in paths {
        assert!(tables.has_path(p));
    }
    for p in [&b"c"[..], b"a\xfe", b"bb"] {
        assert!(!tables.has_path(p));
    }
}

#[test]
fn round_trip() {
    let paths: [&[u8]; 4] = [b"a.txt", b"dir/tab\there", b"", b"new\nline \xff.txt"];
    let bytes = sample(&paths);
    assert_eq!(bytes.len() % 8, 0);
    let view = IndexView::from_bytes(&bytes).unwrap();
    assert_eq!(view.len(), 4);
    assert_eq!(view.settings().bits, 64);
    assert_eq!(view.settings().text, config());
    let fps = view.fingerprints::<u64>().unwrap();
    assert_eq!(fps[3], 0x0123_4567_89ab_cdef ^ 3);
    assert!(view.fingerprints::<u128>().is_none());
    assert_eq!(view.doc(2).shingles, 20);
    assert_eq!(view.doc(3).digest, u128::MAX - 3);
    assert_eq!(view.settings().bands, Some(SHAPE));
    let keys = view.band_keys().unwrap();
    assert_eq!(keys.get(3), &[3, 7, u32::MAX - 3]);
    for (i, p) in paths.iter().enumerate() {
        assert_eq!(view.path_bytes(i), *p);
    }
    // A copy re-written is byte for byte the same file.
    let copy = Builder::<u64>::from_view(&view).unwrap();
    let mut again = Vec::new();
    copy.write(&mut again).unwrap();
    assert_eq!(again, bytes);
    // An empty index is valid too.
    let empty = sample(&[]);
    assert!(IndexView::from_bytes(&empty).unwrap().is_empty());
}

#[test]
fn damage_is_named() {
    let bytes = sample(&[b"a", b"bb", b"ccc"]);
    let err = |b: &[u8]| IndexView::from_bytes(b).unwrap_err();
    assert!(matches!(err(b"hello world"), FormatError::Magic));
    assert!(matches!(err(&bytes[..40]), FormatError::Truncated { .. }));
    let cut = err(&bytes[..bytes.len() - 16]);
    assert!(
        matches!(cut, FormatError::Truncated { expected, found } if expected == bytes.len() as u64 && found + 16 == expected),
        "{cut}"
    );
    for at in [70, bytes.len() - 20, bytes.len() - 8] {
        let mut flipped = bytes.clone();
        flipped[at] ^= 0x10;
        assert!(
            matches!(err(&flipped), FormatError::Checksum { .. }),
            "byte {at}"
        );
    }
    let mut newer = bytes.clone();
    newer[8] = 4;
    assert!(matches!(
        err(&newer),
        FormatError::NewerVersion { found: 4, .. }
    ));
    assert!(err(&newer).to_string().contains("newer"));
    let mut longer = bytes.clone();
    longer.extend_from_slice(&[0; 8]);
    assert!(matches!(err(&longer), FormatError::Checksum { .. }));
}

/// A valid checksum over bad contents (a writer bug, or a crafted file) is still caught.
#[test]
fn checked_even_with_a_good_checksum() {
    let reseal = |mut b: Vec<u8>| {
        let body = b.len() - 8;
        let crc = crc32fast::hash(&b[..body]);
        b[body..body + 4].copy_from_slice(&crc.to_le_bytes());
        b
    };
    let bytes = sample(&[b"a", b"bb"]);
    let mut huge = bytes.clone();
    huge[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(IndexView::from_bytes(&reseal(huge)).is_err());
    let mut bits = bytes.clone();
    bits[12] = 48;
    let e = IndexView::from_bytes(&reseal(bits)).unwrap_err();
    assert!(e.to_string().contains("width 48"), "{e}");
    let view = IndexView::from_bytes(&bytes).unwrap();
    let offsets = view.layout.offsets;
    let mut order = bytes.clone();
    order[offsets + 8..offsets + 16].copy_from_slice(&9u64.to_le_bytes());
    let e = IndexView::from_bytes(&reseal(order)).unwrap_err();
    assert!(e.to_string().contains("path offset"), "{e}");
    // A document past the end in a sorted section; a band table out of order.
    let l = view.layout;
    let mut past = bytes.clone();
    past[l.by_path..l.by_path + 4].copy_from_slice(&2u32.to_le_bytes());
    let e = IndexView::from_bytes(&reseal(past)).unwrap_err();
    assert!(e.to_string().contains("path order is past"), "{e}");
    let mut swapped = bytes.clone();
    let (first, second) = (l.band_keys, l.band_keys + 8);
    let entry = swapped[first..first + 8].to_vec();
    swapped.copy_within(second..second + 8, first);
    swapped[second..second + 8].copy_from_slice(&entry);
    let e = IndexView::from_bytes(&reseal(swapped)).unwrap_err();
    assert!(e.to_string().contains("band table 0 out of order"), "{e}");
}

proptest::proptest! {
    /// Arbitrary damage never panics: every prefix, any byte changed (with the checksum
    /// re-sealed, so the checks behind it are reached too), random bytes.
    #[test]
    fn never_panics(at in 0usize..400, value in proptest::num::u8::ANY, cut in 0usize..400,
                    junk in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
        let bytes = sample(&[b"one", b"two \xfe", b"three"]);
        let _ = IndexView::from_bytes(&bytes[..cut.min(bytes.len())]);
        let mut changed = bytes.clone();
        let at = at % (changed.len() - 8);
        changed[at] = value;
        let _ = IndexView::from_bytes(&changed);
        let body = changed.len() - 8;
        let crc = crc32fast::hash(&changed[..body]);
        changed[body..body + 4].copy_from_slice(&crc.to_le_bytes());
        if let Ok(view) = IndexView::from_bytes(&changed) {
            for i in 0..view.len() {
                let _ = (view.doc(i), view.path(i));
            }
            let _ = view.fingerprints::<u64>();
        }
        let mut prefixed = MAGIC.to_vec();
        prefixed.extend_from_slice(&1u32.to_le_bytes());
        prefixed.extend_from_slice(&junk);
        let _ = IndexView::from_bytes(&prefixed);
        let _ = IndexView::from_bytes(&junk);
    }
}

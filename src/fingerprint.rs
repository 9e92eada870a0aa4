//! The one fingerprint abstraction: a fixed-width bit string with a Hamming distance.
//!
//! Text SimHash (32, 64, 128 bits) and hyperplane fingerprints of embeddings (up to 1024
//! bits) all implement [`Fingerprint`], so every search method is written once, generically.
//! [`Fingerprint::distance`] is the only Hamming distance in the project.

use std::fmt::Debug;
use std::hash::Hash;

/// A fixed-width bit string. Bit 0 is the least significant bit; the natural order (`Ord`)
/// is the numeric order of the bit string read most significant bit first.
pub trait Fingerprint: Copy + Ord + Eq + Hash + Send + Sync + Debug + 'static {
    /// Width in bits.
    const BITS: u32;

    /// The all-zero fingerprint.
    fn zero() -> Self;

    /// Hamming distance: the number of bits that differ. The project's only Hamming distance.
    fn distance(&self, other: &Self) -> u32;

    /// Whether bit `i` (0 = least significant) is set. `i < BITS`.
    fn bit(&self, i: u32) -> bool;

    /// Sets bit `i` (0 = least significant). `i < BITS`.
    fn set_bit(&mut self, i: u32);

    /// Rotates right by `n` bits (bit 0 moves to bit `BITS - 1` when `n = 1`).
    fn rotate_right(self, n: u32) -> Self;

    /// The `len` bits starting at bit `lo` (0 = least significant), as the low bits of a
    /// `u64`. `len <= 64` and `lo + len <= BITS`. Used for block keys.
    fn extract(&self, lo: u32, len: u32) -> u64;

    /// Sets the bits of `word` at positions `lo..lo + 64` (bit `j` of `word` to bit `lo + j`),
    /// leaving the others: `lo` a multiple of 64 below `BITS`; for fingerprints narrower
    /// than 64 bits, `word` has no bit at or above `BITS`.
    fn or_word(&mut self, lo: u32, word: u64);

    /// Builds a fingerprint from per-bit counters: bit `i` is set where `counters[i] > 0`.
    /// `counters.len() == BITS`.
    fn from_counters(counters: &[i64]) -> Self {
        let mut fp = Self::zero();
        for (i, &c) in counters.iter().enumerate() {
            if c > 0 {
                fp.set_bit(i as u32);
            }
        }
        fp
    }

    /// Lowercase hex, exactly `BITS / 4` digits, most significant first.
    fn to_hex(&self) -> String {
        let digits = Self::BITS / 4;
        let mut s = String::with_capacity(digits as usize);
        for d in (0..digits).rev() {
            let nibble = self.extract(d * 4, 4) as u32;
            s.push(char::from_digit(nibble, 16).expect("nibble < 16"));
        }
        s
    }

    /// Parses exactly `BITS / 4` hex digits (either case), most significant first.
    fn from_hex(s: &str) -> Option<Self> {
        let digits = Self::BITS as usize / 4;
        if s.len() != digits {
            return None;
        }
        let mut fp = Self::zero();
        for (pos, c) in s.bytes().enumerate() {
            let nibble = (c as char).to_digit(16)?;
            let lo = ((digits - 1 - pos) * 4) as u32;
            for b in 0..4 {
                if nibble >> b & 1 == 1 {
                    fp.set_bit(lo + b);
                }
            }
        }
        Some(fp)
    }

    /// Writes the fingerprint as a little-endian integer of `BITS / 8` bytes (bit `i` is
    /// bit `i % 8` of byte `i / 8`) into `out`, which holds exactly that many bytes.
    fn write_le(&self, out: &mut [u8]) {
        debug_assert_eq!(out.len(), Self::BITS as usize / 8);
        for (j, byte) in out.iter_mut().enumerate() {
            *byte = self.extract(8 * j as u32, 8) as u8;
        }
    }

    /// Reads what [`Fingerprint::write_le`] wrote; `bytes` holds exactly `BITS / 8` bytes.
    fn read_le(bytes: &[u8]) -> Self {
        debug_assert_eq!(bytes.len(), Self::BITS as usize / 8);
        let mut fp = Self::zero();
        for (j, &byte) in bytes.iter().enumerate() {
            for b in 0..8 {
                if byte >> b & 1 == 1 {
                    fp.set_bit(8 * j as u32 + b);
                }
            }
        }
        fp
    }

    /// Binary digits, most significant first, left-padded with zeros to `width` characters
    /// (the seed script prints every fingerprint padded to 128 digits).
    fn to_binary(&self, width: usize) -> String {
        let bits = Self::BITS as usize;
        let mut s = String::with_capacity(width.max(bits));
        for _ in bits..width {
            s.push('0');
        }
        for i in (0..Self::BITS).rev() {
            s.push(if self.bit(i) { '1' } else { '0' });
        }
        s
    }
}

macro_rules! impl_primitive {
    ($t:ty) => {
        impl Fingerprint for $t {
            const BITS: u32 = <$t>::BITS;

            #[inline]
            fn zero() -> Self {
                0
            }

            #[inline]
            fn distance(&self, other: &Self) -> u32 {
                (self ^ other).count_ones()
            }

            #[inline]
            fn bit(&self, i: u32) -> bool {
                self >> i & 1 == 1
            }

            #[inline]
            fn set_bit(&mut self, i: u32) {
                *self |= 1 << i;
            }

            #[inline]
            fn rotate_right(self, n: u32) -> Self {
                <$t>::rotate_right(self, n)
            }

            #[inline]
            fn or_word(&mut self, lo: u32, word: u64) {
                debug_assert!(lo.is_multiple_of(64) && lo < Self::BITS);
                *self |= (word as $t) << lo;
            }

            fn write_le(&self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_le_bytes());
            }

            fn read_le(bytes: &[u8]) -> Self {
                let mut word = [0u8; std::mem::size_of::<$t>()];
                word.copy_from_slice(bytes);
                <$t>::from_le_bytes(word)
            }

            #[inline]
            fn extract(&self, lo: u32, len: u32) -> u64 {
                debug_assert!(len <= 64 && lo + len <= Self::BITS);
                if len == 0 {
                    return 0;
                }
                let v = (self >> lo) as u64;
                if len == 64 {
                    v
                } else {
                    v & ((1u64 << len) - 1)
                }
            }
        }
    };
}

impl_primitive!(u32);
impl_primitive!(u64);
impl_primitive!(u128);

/// A fingerprint of `W` 64-bit words (`64 * W` bits), for embeddings: 256 to 1024 bits.
/// Word 0 holds the most significant bits, so the derived order is the numeric order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Wide<const W: usize>(pub [u64; W]);

/// 256-bit fingerprint.
pub type Bits256 = Wide<4>;
/// 512-bit fingerprint.
pub type Bits512 = Wide<8>;
/// 1024-bit fingerprint.
pub type Bits1024 = Wide<16>;

impl<const W: usize> Wide<W> {
    /// Word index and bit offset within the word of bit `i`.
    #[inline]
    fn locate(i: u32) -> (usize, u32) {
        (W - 1 - (i / 64) as usize, i % 64)
    }
}

impl<const W: usize> Fingerprint for Wide<W> {
    const BITS: u32 = 64 * W as u32;

    #[inline]
    fn zero() -> Self {
        Wide([0; W])
    }

    #[inline]
    fn distance(&self, other: &Self) -> u32 {
        self.0
            .iter()
            .zip(other.0.iter())
            .map(|(a, b)| (a ^ b).count_ones())
            .sum()
    }

    #[inline]
    fn bit(&self, i: u32) -> bool {
        let (w, b) = Self::locate(i);
        self.0[w] >> b & 1 == 1
    }

    #[inline]
    fn set_bit(&mut self, i: u32) {
        let (w, b) = Self::locate(i);
        self.0[w] |= 1 << b;
    }

    fn rotate_right(self, n: u32) -> Self {
        let n = n % Self::BITS;
        let mut out = Self::zero();
        for i in 0..Self::BITS {
            if self.bit(i) {
                out.set_bit((i + Self::BITS - n) % Self::BITS);
            }
        }
        out
    }

    #[inline]
    fn or_word(&mut self, lo: u32, word: u64) {
        debug_assert!(lo.is_multiple_of(64) && lo < Self::BITS);
        let (w, _) = Self::locate(lo);
        self.0[w] |= word;
    }

    #[inline]
    fn extract(&self, lo: u32, len: u32) -> u64 {
        debug_assert!(len <= 64 && lo + len <= Self::BITS);
        if len == 0 {
            return 0;
        }
        let (w, b) = Self::locate(lo);
        let mut v = self.0[w] >> b;
        if b != 0 && b + len > 64 {
            v |= self.0[w - 1] << (64 - b);
        }
        if len == 64 {
            v
        } else {
            v & ((1u64 << len) - 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `or_word` sets the word's bits where `set_bit` one by one would, and keeps the others.
    fn or_word_is_set_bit<F: Fingerprint>() {
        let word = 0x8000_0000_0000_0001_u64 | 0x0123_4567_89ab_cde0;
        for lo in (0..F::BITS).step_by(64) {
            let (mut by_word, mut by_bit) = (F::zero(), F::zero());
            by_word.set_bit(F::BITS - 1);
            by_bit.set_bit(F::BITS - 1);
            by_word.or_word(lo, word);
            (0..64)
                .filter(|j| word >> j & 1 == 1)
                .for_each(|j| by_bit.set_bit(lo + j));
            assert_eq!(by_word, by_bit, "{} bits at {lo}", F::BITS);
        }
    }

    #[test]
    fn or_word_sets_a_word_of_bits() {
        or_word_is_set_bit::<u64>();
        or_word_is_set_bit::<u128>();
        or_word_is_set_bit::<Bits256>();
        or_word_is_set_bit::<Bits512>();
    }

    #[test]
    fn hex_round_trip_and_width() {
        let x: u32 = 0x09d1cbe2;
        assert_eq!(x.to_hex(), "09d1cbe2");
        assert_eq!(u32::from_hex("09D1CBE2"), Some(x));
        assert_eq!(u32::from_hex("9d1cbe2"), None);
        assert_eq!(u64::from_hex("zz00000000000000"), None);
        let w = Bits256::from_hex(&format!("{}{}", "f".repeat(16), "0".repeat(47) + "1")).unwrap();
        assert_eq!(w.0, [u64::MAX, 0, 0, 1]);
        assert_eq!(Bits256::from_hex(&w.to_hex()), Some(w));
    }

    #[test]
    fn little_endian_bytes() {
        let x: u128 = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210;
        let mut b = [0u8; 16];
        x.write_le(&mut b);
        assert_eq!(b, x.to_le_bytes());
        assert_eq!(u128::read_le(&b), x);
        // The generic version (Wide) agrees with the integer's bytes.
        let w = Wide::<2>([(x >> 64) as u64, x as u64]);
        let mut wb = [0u8; 16];
        w.write_le(&mut wb);
        assert_eq!(wb, b);
        assert_eq!(Wide::<2>::read_le(&wb), w);
    }

    #[test]
    fn wide_matches_u128_semantics() {
        // A Wide<2> must behave exactly like a u128 with the same bits.
        let vals: [u128; 4] = [0, 1, u128::MAX, 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210];
        for &a in &vals {
            let wa = Wide::<2>([(a >> 64) as u64, a as u64]);
            for &b in &vals {
                let wb = Wide::<2>([(b >> 64) as u64, b as u64]);
                assert_eq!(a.distance(&b), wa.distance(&wb));
                assert_eq!(a.cmp(&b), wa.cmp(&wb));
            }
            for n in [0, 1, 63, 64, 65, 127] {
                let r = a.rotate_right(n);
                assert_eq!(Wide::<2>([(r >> 64) as u64, r as u64]), wa.rotate_right(n));
            }
            for (lo, len) in [(0, 64), (60, 8), (64, 64), (3, 17), (120, 8)] {
                assert_eq!(a.extract(lo, len), wa.extract(lo, len), "lo={lo} len={len}");
            }
            assert_eq!(a.to_hex(), wa.to_hex());
        }
    }

    #[test]
    fn counters_and_binary() {
        let fp = u32::from_counters(&[1; 32]);
        assert_eq!(fp, u32::MAX);
        let mut c = vec![0i64; 32];
        c[0] = 1;
        c[31] = 5;
        let fp = u32::from_counters(&c);
        assert_eq!(fp, 0x8000_0001);
        assert_eq!(fp.to_binary(34), format!("001{}1", "0".repeat(30)));
    }
}

//! CityHash128 (v1.1) for the short inputs shingles are, written to inline into the
//! fingerprinting loop. A hash must give the same values as its definition, so this follows
//! the steps and constants of Google's CityHash v1.1 (MIT licensed) for inputs below 144
//! bytes (its `CityMurmur` path); longer inputs go to the `cityhash-rs` crate. Tested
//! against the crate at every length below 300.

const K0: u64 = 0xc3a5_c85c_97cb_3127;
const K1: u64 = 0xb492_b66f_be98_f273;
const K2: u64 = 0x9ae1_6a3b_2f90_404f;
const K_MUL: u64 = 0x9ddf_ea08_eb38_2d69;

/// CityHash128 v1.1 of `s`, as `high64 << 64 | low64` (what `cityhash_110_128` returns).
#[inline]
pub(crate) fn city128(s: &[u8]) -> u128 {
    if s.len() >= 16 + 128 {
        return cityhash_rs::cityhash_110_128(s);
    }
    if s.len() >= 16 {
        murmur(&s[16..], fetch64(s, 0), fetch64(s, 8).wrapping_add(K0))
    } else {
        murmur(s, K0, K1)
    }
}

#[inline(always)]
fn fetch64(s: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(s[i..i + 8].try_into().expect("8 bytes"))
}

#[inline(always)]
fn fetch32(s: &[u8], i: usize) -> u64 {
    u32::from_le_bytes(s[i..i + 4].try_into().expect("4 bytes")) as u64
}

#[inline(always)]
fn shift_mix(v: u64) -> u64 {
    v ^ (v >> 47)
}

#[inline(always)]
fn hash16_mul(u: u64, v: u64, mul: u64) -> u64 {
    let a = shift_mix((u ^ v).wrapping_mul(mul));
    let b = shift_mix((v ^ a).wrapping_mul(mul));
    b.wrapping_mul(mul)
}

#[inline(always)]
fn hash16(u: u64, v: u64) -> u64 {
    hash16_mul(u, v, K_MUL)
}

/// `HashLen0to16` of v1.1.
#[inline(always)]
fn hash_0_to_16(s: &[u8]) -> u64 {
    let len = s.len();
    if len >= 8 {
        let mul = K2.wrapping_add(len as u64 * 2);
        let a = fetch64(s, 0).wrapping_add(K2);
        let b = fetch64(s, len - 8);
        let c = b.rotate_right(37).wrapping_mul(mul).wrapping_add(a);
        let d = a.rotate_right(25).wrapping_add(b).wrapping_mul(mul);
        hash16_mul(c, d, mul)
    } else if len >= 4 {
        let mul = K2.wrapping_add(len as u64 * 2);
        let a = fetch32(s, 0);
        hash16_mul((len as u64).wrapping_add(a << 3), fetch32(s, len - 4), mul)
    } else if len > 0 {
        let (a, b, c) = (s[0] as u32, s[len >> 1] as u32, s[len - 1] as u32);
        let y = a.wrapping_add(b << 8);
        let z = (len as u32).wrapping_add(c << 2);
        shift_mix((y as u64).wrapping_mul(K2) ^ (z as u64).wrapping_mul(K0)).wrapping_mul(K2)
    } else {
        K2
    }
}

/// `CityMurmur` of v1.1, for `s` shorter than 128 bytes, seeded with `(a, b)`.
#[inline(always)]
fn murmur(s: &[u8], mut a: u64, mut b: u64) -> u128 {
    let len = s.len();
    let (mut c, mut d);
    if len <= 16 {
        a = shift_mix(a.wrapping_mul(K1)).wrapping_mul(K1);
        c = b.wrapping_mul(K1).wrapping_add(hash_0_to_16(s));
        d = shift_mix(a.wrapping_add(if len >= 8 { fetch64(s, 0) } else { c }));
    } else {
        c = hash16(fetch64(s, len - 8).wrapping_add(K1), a);
        d = hash16(
            b.wrapping_add(len as u64),
            c.wrapping_add(fetch64(s, len - 16)),
        );
        a = a.wrapping_add(d);
        let mut i = 0;
        loop {
            a ^= shift_mix(fetch64(s, i).wrapping_mul(K1)).wrapping_mul(K1);
            a = a.wrapping_mul(K1);
            b ^= a;
            c ^= shift_mix(fetch64(s, i + 8).wrapping_mul(K1)).wrapping_mul(K1);
            c = c.wrapping_mul(K1);
            d ^= c;
            i += 16;
            if len - i <= 16 {
                break;
            }
        }
    }
    a = hash16(a, c);
    b = hash16(d, b);
    d = hash16(b, a);
    ((a ^ b) as u128) << 64 | d as u128
}

#[cfg(test)]
mod tests {
    #[test]
    fn equals_the_crate_at_every_length() {
        let bytes: Vec<u8> = (0..400u64)
            .map(|i| (crate::text::minhash::mix64(i) >> 56) as u8)
            .collect();
        for seed in 0..4 {
            for len in 0..300 {
                let s = &bytes[seed * 17..seed * 17 + len];
                assert_eq!(
                    super::city128(s),
                    cityhash_rs::cityhash_110_128(s),
                    "length {len}"
                );
            }
        }
    }
}

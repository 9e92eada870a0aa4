//! Identical fingerprints collapsed into groups, so the search sees each value once.
//!
//! Real corpora repeat fingerprints (copies, empty or boilerplate documents); searching
//! distinct values and expanding afterwards keeps equal-key runs free of exact copies.

use std::borrow::Cow;

use rayon::prelude::*;

use crate::fingerprint::Fingerprint;

/// The distinct values of a slice of fingerprints, each with the input indexes that hold it
/// (ascending). When all values are distinct (the common case once exact copies are
/// grouped) the input itself is used and nothing is copied; otherwise the values are copied
/// in ascending order. Memory: a 4-byte index per input while grouping, then, with repeats,
/// `BITS / 8 + 4` bytes per value plus 4 per input.
pub(crate) struct Groups<'a, F: Clone> {
    /// Distinct values.
    pub values: Cow<'a, [F]>,
    /// `members[starts[u]..starts[u + 1]]` are the input indexes holding `values[u]`. When
    /// every value is distinct, `starts` is empty and `members[u] = u`.
    starts: Vec<u32>,
    members: Vec<u32>,
}

impl<'a, F: Fingerprint> Groups<'a, F> {
    /// Groups `fps` by value. O(N log N), in parallel.
    pub fn new(fps: &'a [F]) -> Groups<'a, F> {
        let mut order: Vec<u32> = (0..fps.len() as u32).collect();
        order.par_sort_unstable_by_key(|&i| (fps[i as usize], i));
        if order
            .windows(2)
            .all(|w| fps[w[0] as usize] != fps[w[1] as usize])
        {
            for (i, m) in order.iter_mut().enumerate() {
                *m = i as u32;
            }
            return Groups {
                values: Cow::Borrowed(fps),
                starts: Vec::new(),
                members: order,
            };
        }
        let mut values = Vec::new();
        let mut starts = Vec::new();
        for (pos, &i) in order.iter().enumerate() {
            let fp = fps[i as usize];
            if pos == 0 || fps[order[pos - 1] as usize] != fp {
                values.push(fp);
                starts.push(pos as u32);
            }
        }
        starts.push(order.len() as u32);
        Groups {
            values: Cow::Owned(values),
            starts,
            members: order,
        }
    }

    /// The input indexes holding `values[u]`, ascending.
    #[inline]
    pub fn members(&self, u: u32) -> &[u32] {
        let u = u as usize;
        if self.starts.is_empty() {
            return &self.members[u..u + 1];
        }
        &self.members[self.starts[u] as usize..self.starts[u + 1] as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_equal_values() {
        let fps: Vec<u32> = vec![7, 3, 7, 1, 3, 7];
        let g = Groups::new(&fps);
        assert_eq!(*g.values, [1, 3, 7]);
        assert_eq!(g.members(0), &[3]);
        assert_eq!(g.members(1), &[1, 4]);
        assert_eq!(g.members(2), &[0, 2, 5]);
        assert!(Groups::<u64>::new(&[]).values.is_empty());
        let distinct: Vec<u32> = vec![9, 2, 5];
        let g = Groups::new(&distinct);
        assert!(matches!(g.values, Cow::Borrowed(_)));
        assert_eq!(g.members(0), &[0]);
        assert_eq!(g.members(2), &[2]);
    }
}

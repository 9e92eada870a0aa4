//! Identical fingerprints collapsed into groups, so the search sees each value once.
//!
//! Real corpora repeat fingerprints (copies, empty or boilerplate documents); searching
//! distinct values and expanding afterwards keeps equal-key runs free of exact copies.

use rayon::prelude::*;

use crate::fingerprint::Fingerprint;

/// The distinct values of a slice of fingerprints, ascending, each with the input indexes
/// that hold it (ascending). Memory: `BITS / 8 + 4` bytes per value plus 4 per input.
pub(crate) struct Groups<F> {
    /// Distinct values, ascending.
    pub values: Vec<F>,
    /// `members[starts[u]..starts[u + 1]]` are the input indexes holding `values[u]`.
    starts: Vec<u32>,
    members: Vec<u32>,
}

impl<F: Fingerprint> Groups<F> {
    /// Groups `fps` by value. O(N log N), in parallel.
    pub fn new(fps: &[F]) -> Groups<F> {
        let mut sorted: Vec<(F, u32)> = fps
            .iter()
            .enumerate()
            .map(|(i, &fp)| (fp, i as u32))
            .collect();
        sorted.par_sort_unstable();
        let mut values = Vec::new();
        let mut starts = Vec::new();
        let mut members = Vec::with_capacity(fps.len());
        for (pos, &(fp, i)) in sorted.iter().enumerate() {
            if pos == 0 || sorted[pos - 1].0 != fp {
                values.push(fp);
                starts.push(pos as u32);
            }
            members.push(i);
        }
        starts.push(members.len() as u32);
        Groups {
            values,
            starts,
            members,
        }
    }

    /// The input indexes holding `values[u]`, ascending.
    #[inline]
    pub fn members(&self, u: u32) -> &[u32] {
        let u = u as usize;
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
        assert_eq!(g.values, vec![1, 3, 7]);
        assert_eq!(g.members(0), &[3]);
        assert_eq!(g.members(1), &[1, 4]);
        assert_eq!(g.members(2), &[0, 2, 5]);
        assert!(Groups::<u64>::new(&[]).values.is_empty());
    }
}

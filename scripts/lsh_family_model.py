#!/usr/bin/env python3
"""Models the vector band search's work for other LSH families than bit sampling.

For the 1M-row benchmark (scripts/make_vectors.py): 2,000 clusters of about 500 rows,
whose pairs sit at centred cosine 0.61, 5e11 pairs of unrelated rows at 0, and the bar's
image at centred cosine 0.776. A family hashes a row to a symbol; bit sampling's symbol is
one hyperplane's sign (m = 1), cross-polytope LSH on m Gaussian projections takes the
largest |projection| and its sign (2m values; m = 1 is bit sampling again). P symbols come
from P * m projections; a band is k symbols drawn from the P, so bands are correlated
through the number of symbols a pair agrees on (Binomial(P, q)), as in src/search/bitbands.rs.

For each (m, P, k): the fewest bands L that find a pair at the bar with probability 0.991
(the band share of the 0.99 recall), the band collisions of cluster pairs and of unrelated
pairs, and a cost in seconds with the constants measured on the 2-core machine (a band
pass over 1M rows 45 ms, a collision 6 ns). q(cosine, m) is measured by simulation.

    python3 scripts/lsh_family_model.py
"""
from math import comb

import numpy as np

BAR, CLUSTER = 0.776, 0.61
CLUSTER_PAIRS, UNRELATED_PAIRS = 2.5e8, 5e11
PASS_S, COLLISION_S = 0.045, 6e-9


def collision(rho, m, trials, rng):
    """Probability that cross-polytope hashes of m projections agree at correlation rho."""
    x = rng.standard_normal((trials, m))
    y = rho * x + np.sqrt(1 - rho * rho) * rng.standard_normal((trials, m))
    ix, iy = np.abs(x).argmax(1), np.abs(y).argmax(1)
    rows = np.arange(trials)
    return float(np.mean((ix == iy) & (np.sign(x[rows, ix]) == np.sign(y[rows, iy]))))


def band_rate(p_count, k, q):
    """Mean chance that a band of k of the P symbols agrees, and the agreement per count."""
    a = np.arange(p_count + 1)
    pmf = np.array([comb(p_count, int(d)) * (1 - q) ** int(d) * q ** (p_count - int(d)) for d in a])
    agree = np.array([comb(p_count - int(d), k) / comb(p_count, k) for d in a])
    return pmf, agree


def bands_needed(p_count, k, q, target=0.991, most=5000):
    pmf, agree = band_rate(p_count, k, q)
    for bands in range(1, most):
        if (pmf * (1 - (1 - agree) ** bands)).sum() >= target:
            return bands
    return None


def main():
    rng = np.random.default_rng(1)
    print("m  P    k  bands  cluster/band  unrelated/band  collisions  cost (s)")
    for m, p_count in [(1, 512), (8, 64), (8, 128), (16, 64), (4, 128)]:
        if m == 1:
            q_bar, q_cluster = 1 - np.arccos(BAR) / np.pi, 1 - np.arccos(CLUSTER) / np.pi
        else:
            q_bar, q_cluster = collision(BAR, m, 400_000, rng), collision(CLUSTER, m, 400_000, rng)
        q_unrelated = 0.5 if m == 1 else 1 / (2 * m)
        for k in ([14, 15, 16, 17] if m == 1 else [3, 4, 5]):
            bands = bands_needed(p_count, k, q_bar)
            if bands is None:
                continue
            c = CLUSTER_PAIRS * (np.prod(band_rate(p_count, k, q_cluster), axis=0)).sum()
            u = UNRELATED_PAIRS * (np.prod(band_rate(p_count, k, q_unrelated), axis=0)).sum()
            total = bands * (c + u)
            cost = bands * PASS_S + total * COLLISION_S
            print(f"{m:<2} {p_count:<4} {k:<2} {bands:>5}  {c:12.3g}  {u:14.3g}  {total:10.3g}  {cost:8.1f}")


if __name__ == "__main__":
    main()

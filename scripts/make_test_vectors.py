#!/usr/bin/env python3
"""Writes the small .npy files of testdata/vectors/ (see testdata/README). Deterministic:
numpy's PCG64 with fixed seeds. Run from the repository root: python3 scripts/make_test_vectors.py"""
import numpy as np

OUT = "testdata/vectors/"
rng = np.random.default_rng(20260501)
DIM = 24


def unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def near(base, cosine):
    """A vector at exactly `cosine` to `base` (both unit length), in a random direction."""
    r = rng.standard_normal(base.shape[0])
    r -= r.dot(base) * base
    r = unit(r)
    return cosine * base + np.sqrt(1 - cosine**2) * r


# planted.npy: 40 originals (anisotropic: a shared offset), then copies at chosen cosines,
# exact copies, a zero row and a NaN row.
offset = unit(rng.standard_normal(DIM)) * 1.5
originals = unit(rng.standard_normal((40, DIM)) + offset)
rows = list(originals)
for i, c in enumerate([0.99, 0.97, 0.95, 0.93, 0.91, 0.905, 0.895, 0.88, 0.85, 0.80]):
    rows.append(near(originals[i], c))
rows.append(originals[3].copy())  # exact copy
rows.append(originals[3].copy())  # a second exact copy
rows.append(near(rows[41], 0.96))  # near a near copy: a chain
rows.append(np.zeros(DIM))
nan_row = rng.standard_normal(DIM)
nan_row[5] = np.nan
rows.append(nan_row)
planted = np.array(rows, dtype=np.float32)
np.save(OUT + "planted.npy", planted)
np.save(OUT + "planted-f64.npy", planted.astype(np.float64))
np.save(OUT + "planted-f16.npy", planted.astype(np.float16))
with open(OUT + "planted.ids", "w") as f:
    for i in range(len(planted)):
        f.write(f"doc-{i:03d}\n")

# Reference and queries for --against: queries 0-4 are near or exact copies of reference rows.
reference = unit(rng.standard_normal((30, DIM)) + offset).astype(np.float32)
queries = [near(reference[7], 0.98), reference[12].copy(), near(reference[20], 0.93),
           near(reference[2], 0.85), near(reference[25], 0.91)]
queries += list(unit(rng.standard_normal((10, DIM)) + offset))
np.save(OUT + "reference.npy", reference)
np.save(OUT + "queries.npy", np.array(queries, dtype=np.float32))

# Clusters for outliers and representatives: three tight clusters of 30 and 5 lone rows.
centres = unit(rng.standard_normal((3, DIM)))
clustered = [unit(c + 0.15 * rng.standard_normal(DIM)) for c in centres for _ in range(30)]
clustered += list(unit(rng.standard_normal((5, DIM))))
np.save(OUT + "clusters.npy", np.array(clustered, dtype=np.float32))

# Broken files.
np.save(OUT + "fortran.npy", np.asfortranarray(planted[:4, :3]))
np.save(OUT + "int32.npy", np.arange(12, dtype=np.int32).reshape(3, 4))
np.save(OUT + "one-d.npy", np.arange(5, dtype=np.float32))
with open(OUT + "planted.npy", "rb") as f:
    data = f.read()
with open(OUT + "truncated.npy", "wb") as f:
    f.write(data[:-10])

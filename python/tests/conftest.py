"""Shared helpers: the command-line binary (built by `cargo test` or `cargo build`) and data."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _binary() -> Path:
    given = os.environ.get("SIMDEDUP_BIN")
    if given:
        return Path(given)
    # The newest of the release and debug builds (CI has the debug one of `cargo test`).
    built = [p for p in (ROOT / "target" / d / "simdedup" for d in ("release", "debug")) if p.exists()]
    if built:
        return max(built, key=lambda p: p.stat().st_mtime)
    found = shutil.which("simdedup")
    if found:
        return Path(found)
    raise RuntimeError("no simdedup binary: run `cargo build` first or set SIMDEDUP_BIN")


@pytest.fixture(scope="session")
def cli():
    """Runs the simdedup binary; returns its stdout (the run must succeed)."""
    binary = _binary()

    def run(*args: str) -> str:
        done = subprocess.run([str(binary), *args], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout

    return run


def clustered_vectors(n: int, dim: int, clusters: int, noise: float, seed: int) -> np.ndarray:
    """Rows spread around `clusters` random centres, with every tenth row a near copy of an
    earlier one: duplicates at many cosines around the usual thresholds."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim)).astype(np.float32)
    rows = centres[rng.integers(0, clusters, size=n)] + noise * rng.normal(size=(n, dim)).astype(np.float32)
    for i in range(10, n, 10):
        j = int(rng.integers(0, i))
        rows[i] = rows[j] + rng.uniform(0.05, 0.6) * noise * rng.normal(size=dim).astype(np.float32)
    return np.ascontiguousarray(rows, dtype=np.float32)


def sentences(n: int, seed: int) -> list[str]:
    """Short sentences from a small vocabulary, with edited copies (word swaps, drops)."""
    rng = np.random.default_rng(seed)
    words = (
        "the a cat dog sat ran on under mat tree quick brown fox jumps over lazy river stone "
        "house green blue small large old new bright dark morning evening light rain sun wind"
    ).split()
    out: list[str] = []
    for i in range(n):
        if i > 5 and rng.random() < 0.3:
            base = out[int(rng.integers(0, i))].split()
            k = int(rng.integers(0, len(base)))
            if rng.random() < 0.5:
                base[k] = words[int(rng.integers(0, len(words)))]
            else:
                del base[k]
            out.append(" ".join(base))
        else:
            out.append(" ".join(words[int(j)] for j in rng.integers(0, len(words), size=int(rng.integers(6, 14)))))
    return out

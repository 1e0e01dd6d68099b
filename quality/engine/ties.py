"""Deterministic tie-breaking shared by every vote: a preference score first (DS posterior or class prior), then a
pseudo-random choice seeded from the task, so a tie breaks the same way on every run and on every machine."""
import hashlib

import numpy as np

NO_TIE = 0
BROKEN_BY_PREFERENCE = 1
BROKEN_BY_SEED = 2
TIE_RULE_NAMES = {NO_TIE: None, BROKEN_BY_PREFERENCE: "preference", BROKEN_BY_SEED: "seeded_random"}

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def stable_seed(*parts: object) -> int:
    """An integer seed for a task: an int key is used as it is (so a per-task recompute and a project-level vote
    seeded with the same task ids agree); anything else is hashed with blake2b, never Python's salted hash()."""
    if len(parts) == 1 and isinstance(parts[0], (int, np.integer)) and not isinstance(parts[0], bool):
        return int(parts[0]) & 0x7FFFFFFFFFFFFFFF
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & 0x7FFFFFFFFFFFFFFF


def seeded_uniform(seeds: np.ndarray, n_options: int) -> np.ndarray:
    """(len(seeds), n_options) floats in [0, 1), a splitmix64 hash of (seed, option): reproducible, vectorised."""
    keys = np.asarray(seeds, dtype=np.uint64)[:, None] * np.uint64(n_options) + np.arange(n_options, dtype=np.uint64)
    keys = keys + np.uint64(0x9E3779B97F4A7C15)
    keys = ((keys ^ (keys >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK64
    keys = ((keys ^ (keys >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK64
    keys = keys ^ (keys >> np.uint64(31))
    return (keys >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def top_mask(scores: np.ndarray) -> np.ndarray:
    """Which options share the best score per row; a relative tolerance so float weights that tie still tie."""
    best = scores.max(axis=1, keepdims=True)
    return scores >= best - 1e-9 * np.maximum(1.0, np.abs(best))


def break_ties(scores: np.ndarray, seeds: np.ndarray,
               preference: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Winner per row of `scores` (n, K) and how a tie was broken (NO_TIE, BROKEN_BY_PREFERENCE, BROKEN_BY_SEED).

    Among the options tied on score, the highest `preference` wins (shape (K,) or (n, K): a class prior or a DS
    posterior); options still tied are chosen by `seeded_uniform(seeds)`, never by their order in the config.
    """
    tied_on_score = top_mask(scores)
    candidates = tied_on_score
    if preference is not None:
        preferred = np.where(tied_on_score, np.broadcast_to(preference, scores.shape), -np.inf)
        candidates = tied_on_score & (preferred >= preferred.max(axis=1, keepdims=True))
    draw = np.where(candidates, seeded_uniform(seeds, scores.shape[1]), -1.0)
    winner = draw.argmax(axis=1)
    n_tied, n_candidates = tied_on_score.sum(axis=1), candidates.sum(axis=1)
    rule = np.where(n_tied == 1, NO_TIE, np.where(n_candidates == 1, BROKEN_BY_PREFERENCE, BROKEN_BY_SEED))
    return winner, rule.astype(np.int8)

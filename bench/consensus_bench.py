"""Time the consensus engine on a synthetic crowd: Dawid-Skene fit and decode (the target: 100,000 tasks x 3 labels
under 10 s, 1,000,000 under 2 minutes and 2 GB), plus majority vote and alpha/kappa for comparison.

The crowd (honest, spammer and biased annotators, known truth) is generated first and not timed; peak RSS is the
whole process's, generation included. No database, no Django.
Usage: .venv/bin/python bench/consensus_bench.py [--tasks 100000] [--classes 5] [--annotators 20] [--labels-per-task 3]
"""
import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from quality.engine import (choices_agreement_summary, fit_dawid_skene, majority_vote,  # noqa: E402
                               vote_counts)
from quality.engine.synthetic import macro_f1, simulate_crowd  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def timed(name: str, action):
    started = time.perf_counter()
    outcome = action()
    print(f"{name:<28} {time.perf_counter() - started:8.2f} s   peak RSS {peak_rss_mb():7.0f} MB")
    return outcome


def crowd_kinds(count: int) -> list[str]:
    """Mostly honest annotators, with one in five a spammer and one in ten biased."""
    return ["spammer" if index % 5 == 0 else "biased" if index % 10 == 1 else "honest" for index in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--annotators", type=int, default=20)
    parser.add_argument("--labels-per-task", type=int, default=3)
    args = parser.parse_args()
    crowd = timed("generate crowd (not counted)", lambda: simulate_crowd(
        args.tasks, crowd_kinds(args.annotators), n_classes=args.classes, labels_per_task=args.labels_per_task))
    print(f"{args.tasks:,} tasks x {args.labels_per_task} labels, {args.classes} classes, {args.annotators} annotators")
    fit = timed("Dawid-Skene fit + decode", lambda: fit_dawid_skene(crowd.labels))
    vote = timed("majority vote", lambda: majority_vote(crowd.labels))
    summary = timed("agreement summary", lambda: choices_agreement_summary(crowd.labels))
    timed("vote counts alone", lambda: vote_counts(crowd.labels))
    print(f"DS: {fit.iterations} iterations, converged={fit.converged}")
    for name, predicted in (("Dawid-Skene", fit.label), ("majority vote", vote.label)):
        print(f"{name:<14} accuracy {(predicted == crowd.truth).mean():.4f}, "
              f"macro-F1 {macro_f1(predicted, crowd.truth, args.classes):.4f}")
    print(f"alpha {summary.krippendorff_alpha:.4f}, kappa {summary.fleiss_kappa:.4f}, "
          f"mean pairwise agreement {summary.overall:.4f}")


if __name__ == "__main__":
    main()

"""The zero-shot engine alone (no database, no worker): sentences per second for N short news-like texts, one
process, numpy's own BLAS threads. Also the time to load the model and the share of topics it got right.
Usage: .venv/bin/python bench/zero_shot_bench.py [--tasks 1000]
"""
import argparse
import random
import sys
import time
from pathlib import Path

from _setup import peak_rss_mb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SUBJECTS = {
    "Sports": ["the striker", "the home team", "the young sprinter", "the tennis champion", "the coach"],
    "Cooking": ["the chef", "my grandmother", "the baker", "the recipe", "the pastry cook"],
    "Finance": ["the central bank", "the investors", "the stock market", "the bank's lenders", "the pension fund"],
    "Weather": ["the forecast", "the storm", "the cold front", "the heatwave", "the morning fog"],
}
PREDICATES = {
    "Sports": ["won the match in extra time", "scored in the final minute of the game", "broke the national record at the championship"],
    "Cooking": ["simmered the sauce with garlic and fresh basil", "baked the bread for forty minutes", "seasoned the soup with salt and pepper"],
    "Finance": ["raised interest rates by a quarter point", "sold shares after weak quarterly earnings", "bought government bonds as inflation rose"],
    "Weather": ["brought heavy rain and strong winds to the coast", "left a foot of snow across the region", "pushed temperatures above thirty degrees"],
}
TAILS = ["on Sunday", "this week", "according to local reports", "as expected", "late last night", ""]


def news_text(topic: str, rng: random.Random) -> str:
    return f"{rng.choice(SUBJECTS[topic])} {rng.choice(PREDICATES[topic])} {rng.choice(TAILS)}".strip().capitalize() + "."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=1000)
    count = parser.parse_args().tasks
    from ml.engines.base import Target, TaskInput
    from ml.engines.zero_shot import ZeroShotClassifier

    rng = random.Random(1)
    topics = [rng.choice(list(SUBJECTS)) for _ in range(count)]
    tasks = [TaskInput(index, {"text": news_text(topic, rng)}) for index, topic in enumerate(topics)]
    started = time.perf_counter()
    engine = ZeroShotClassifier(target=Target("topic", "text", "text", "choices", tuple(SUBJECTS)))
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    suggestions = engine.predict(tasks)
    seconds = time.perf_counter() - started
    right = sum(s.result[0]["value"]["choices"] == [topic] for s, topic in zip(suggestions, topics))
    print(f"model loaded in {loaded:.2f} s; {count} tasks in {seconds:.1f} s: {count / seconds:.0f} sentences/s, "
          f"{1000 * seconds / count:.1f} ms each; right {right / count:.0%}; peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()

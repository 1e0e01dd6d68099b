"""Made-up labelled data for the pre-labeling tests: topics a classifier can learn, sentences with entities."""
import random

TOPICS = {
    "Positive": "great excellent love perfect wonderful happy amazing superb delighted fantastic recommend brilliant "
    "pleasant lovely impressive flawless terrific satisfied enjoyable outstanding".split(),
    "Negative": "awful terrible broken hate refund poor disappointing useless worst angry faulty horrible waste "
    "defective rude cheap flimsy annoying scratched unusable".split(),
    "Neutral": "delivered package arrived box ordered tuesday shipment received item color size weight manual "
    "standard average typical usual ordinary regular normal".split(),
}
FILLER = "the a it was and this product my i with for of to in very is".split()


def review(label: str, rng: random.Random) -> str:
    """A review with three of its topic's words among filler words."""
    words = rng.sample(TOPICS[label], 3) + rng.sample(FILLER, 5)
    rng.shuffle(words)
    return " ".join(words)


def reviews(count: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    labels = sorted(TOPICS)
    return [(review(labels[index % len(labels)], rng), labels[index % len(labels)]) for index in range(count)]


PEOPLE = ["Alice", "Bruno", "Chiara", "Dmitri", "Emeka", "Fatima", "Goran", "Hiroshi"]
PLACES = ["London", "Paris", "Lagos", "Osaka", "Lima", "Oslo", "Quito", "Dakar"]
TEMPLATES = ["{p} flew to {l} on Monday.", "Yesterday {p} met friends in {l}.", "In {l}, {p} opened a bakery.", "{p} moved from {l} last year."]


def entity_sentences(count: int, seed: int) -> list[tuple[str, list[tuple[int, int, str]]]]:
    rng = random.Random(seed)
    sentences = []
    for _ in range(count):
        person, place = rng.choice(PEOPLE), rng.choice(PLACES)
        text = rng.choice(TEMPLATES).format(p=person, l=place)
        spans = [(text.index(person), text.index(person) + len(person), "PER"), (text.index(place), text.index(place) + len(place), "LOC")]
        sentences.append((text, sorted(spans)))
    return sentences

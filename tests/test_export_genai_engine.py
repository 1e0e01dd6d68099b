"""The GenAI writers on plain task records and a label config built from its dataclasses (no tag modules, no
database): the prompt/response rule, models, implied pairs, rating dimensions, SFT's choice, CSV safety."""
import csv
import io
import json
from collections import Counter

import pytest

from exports.engine import ExportContext, ExportError
from exports.engine.genai import GenAIConfig, dialogue_messages
from exports.engine.preference import implied_pairs, rating_dimension, write_preference_jsonl
from exports.engine.ratings import write_ratings_csv
from exports.engine.sft import write_sft_jsonl
from projects.label_config import ControlTag, LabelConfig, ObjectTag


def text(name: str, field: str | None = None, kind: str = "text", tag: str = "Text") -> ObjectTag:
    return ObjectTag(name=name, kind=kind, data_field=field or name, tag=tag)


def control(name: str, result_type: str, *to_names: str, **options) -> ControlTag:
    return ControlTag(name=name, tag=result_type.title(), result_type=result_type, to_names=to_names, options=options)


def config(*parts) -> LabelConfig:
    return LabelConfig(objects={p.name: p for p in parts if isinstance(p, ObjectTag)},
                       controls={p.name: p for p in parts if isinstance(p, ControlTag)})


def context(label_config: LabelConfig, **options) -> ExportContext:
    return ExportContext(project_id=1, title="t", config=label_config, counts=Counter(), **options)


def task(data: dict, *results: list, agreement=None) -> dict:
    annotations = [{"id": n, "origin": "annotation", "completed_by": 10 + n, "result": result} for n, result in enumerate(results)]
    return {"id": 7, "data": data, "annotations": annotations, "agreement": agreement}


def item(name: str, to_name: str, result_type: str, value: dict, **extra) -> dict:
    return {"from_name": name, "to_name": to_name, "type": result_type, "value": value, **extra}


def lines(pieces) -> list[dict]:
    return [json.loads(line) for line in b"".join(pieces).splitlines()]


PAIR = config(text("prompt"), text("a", "first"), text("b", "second"), control("pw", "pairwise", "a", "b"),
              control("rewrite", "textarea", "a"), control("why", "textarea", "prompt"))
LIST = config(text("prompt"), text("responses", kind="list", tag="List"), control("rank", "ranker", "responses"),
              control("quality", "rating", "responses", max_rating=5))
CANDIDATES = {"prompt": "p", "responses": [{"id": "r1", "title": "m1", "body": "one"}, {"id": "r2", "title": "m2", "body": "two"},
                                           {"id": 3, "title": "m3", "body": "three"}]}


def test_the_prompt_is_the_first_text_no_judging_control_names_and_a_rewrite_names_one_response():
    genai = GenAIConfig.of(PAIR)
    assert genai.prompt.name == "prompt"
    assert [c.name for c in genai.judges] == ["pw"] and [c.name for c in genai.rewrites] == ["rewrite"]
    judged_first = config(text("a"), text("b"), text("question"), control("pw", "pairwise", "a", "b"))
    assert GenAIConfig.of(judged_first).prompt.name == "question"
    assert GenAIConfig.of(config(text("a"), text("b"), control("pw", "pairwise", "a", "b"))).missing("preferences").startswith("a prompt")
    assert GenAIConfig.of(config(text("prompt"), control("why", "textarea", "prompt"))).missing("sft").startswith("a <Pairwise>")


def test_a_config_missing_what_the_format_needs_raises_export_error():
    with pytest.raises(ExportError, match="RATINGS_CSV needs a <Rating> control, and this project's label config has none"):
        context(PAIR).check_fits("RATINGS_CSV", "ratings")
    context(PAIR).check_fits("SFT_JSONL", "sft")


def test_a_responses_model_is_named_by_object_then_field_then_its_place_in_the_pairwise():
    genai = GenAIConfig.of(config(text("prompt"), text("one", "first"), text("two", "second"), control("pw", "pairwise", "one", "two")))
    data = {"first": "x", "second": "y", "model_one": "by name", "first_model": "by field", "model_a": "by place", "model_b": "b"}
    assert genai.responses("one", data)["one"].model == "by name"
    assert genai.responses("one", {**data, "model_one": None})["one"].model == "by field"
    assert genai.responses("one", {"first": "x", "model_a": "by place"})["one"].model == "by place"
    assert genai.responses("two", data)["two"].model == "b"
    assert genai.responses("two", {"second": "y"})["two"].model is None
    listed = GenAIConfig.of(LIST).responses("responses", {"responses": [{"id": "r1", "title": "t", "model": "m"}, {"id": "r2", "title": "t2"}]})
    assert [(r.id, r.model, r.text) for r in listed.values()] == [("r1", "m", ""), ("r2", "t2", "")]


def test_implied_pairs_skip_ties_and_best_worst_needs_a_difference():
    a, b, c = "abc"
    assert implied_pairs([(a, 3), (b, 3), (c, 1)], "all") == [(a, c, 2), (b, c, 2)]
    assert implied_pairs([(a, 1), (b, 5), (c, 3)], "best_worst") == [(b, a, 4)]
    assert implied_pairs([(a, 2), (b, 2)], "best_worst") == [] == implied_pairs([(a, 2)], "all")


def test_rating_controls_differing_only_by_their_response_are_one_dimension():
    assert rating_dimension(control("helpful_a", "rating", "a")) == "helpful"
    assert rating_dimension(control("a-score", "rating", "a")) == "score"
    assert rating_dimension(control("quality", "rating", "responses")) == "quality"


def test_rankings_drop_unknown_ids_and_each_bucket_is_its_own_order():
    ranked = item("rank", "responses", "ranker", {"ranker": {"good": ["r2", "ghost", "r1"], "bad": ["3"]}})
    rows = lines(write_preference_jsonl([task(CANDIDATES, [ranked])], context(LIST)))
    assert [(row["chosen"], row["rejected"], row["margin"]) for row in rows] == [("two", "one", 1.0)]


def test_pairwise_rows_carry_the_task_and_a_tie_is_counted_not_written():
    ctx = context(PAIR)
    record = task({"prompt": "p", "first": "x", "second": "y"}, [item("pw", "a,b", "pairwise", {"selected": "right"})],
                  [item("pw", "a,b", "pairwise", {"selected": "tie"})], agreement=0.5)
    [row] = lines(write_preference_jsonl([record], ctx))
    assert row == {"prompt": "p", "chosen": "y", "rejected": "x", "task_id": 7, "control": "pw", "margin": 1.0,
                   "agreement": 0.5, "chosen_model": None, "rejected_model": None, "origin": "annotation", "annotator": 10}
    assert (ctx.counts["pairs"], ctx.counts["ties_left_out"]) == (1, 1)


def test_dialogue_messages_read_the_keys_the_paragraphs_object_names():
    assert dialogue_messages([{"author": "user", "text": "hi"}, "junk"]) == [{"role": "user", "content": "hi"}]
    assert dialogue_messages([{"role": "assistant", "content": "hello"}], name_key="role", text_key="content") == [
        {"role": "assistant", "content": "hello"}]
    assert dialogue_messages(None) == []


def test_sft_prefers_a_rewrite_and_a_rating_needs_a_clear_top():
    rated = config(text("prompt"), text("a"), text("b"), control("score_a", "rating", "a"), control("score_b", "rating", "b"))
    data = {"prompt": "p", "a": "x", "b": "y"}
    tied = [item("score_a", "a", "rating", {"rating": 4}), item("score_b", "b", "rating", {"rating": 4})]
    clear = [item("score_a", "a", "rating", {"rating": 2}), item("score_b", "b", "rating", {"rating": 4})]
    ctx = context(rated)
    rows = lines(write_sft_jsonl([task(data, tied, clear)], ctx))
    assert [(row["messages"][-1]["content"], row["source"], row["control"]) for row in rows] == [("y", "rating", "score")]
    assert ctx.counts["annotations_without_a_best_response"] == 1
    rewritten = [item("pw", "a,b", "pairwise", {"selected": "right"}), item("rewrite", "a", "textarea", {"text": ["line 1", "line 2"]}),
                 item("why", "prompt", "textarea", {"text": ["a justification, not a response"]})]
    [row] = lines(write_sft_jsonl([task({"prompt": "p", "first": "x", "second": "y"}, rewritten)], context(PAIR)))
    assert row["messages"] == [{"role": "user", "content": "p"}, {"role": "assistant", "content": "line 1\nline 2"}]


def test_ratings_csv_finds_items_by_id_or_position_and_is_spreadsheet_safe():
    data = {**CANDIDATES, "responses": [*CANDIDATES["responses"][:2], {"id": "r3", "title": "=HYPERLINK()", "body": "b"}]}
    ratings = [item("quality", "responses", "rating", {"rating": 4}, item_index="r1"),
               item("quality", "responses", "rating", {"rating": 1}, item_index=2),
               item("quality", "responses", "rating", {"rating": 3}, item_index="nobody"),
               item("quality", "responses", "rating", {"rating": 5})]  # a list needs the item
    rows = list(csv.DictReader(io.StringIO(b"".join(write_ratings_csv([task(data, ratings)], context(LIST))).decode())))
    assert [(row["response"], row["model"], row["rating"], row["max_rating"]) for row in rows] == [
        ("r1", "m1", "4", "5"), ("r3", "'=HYPERLINK()", "1", "5")]
    verbatim = b"".join(write_ratings_csv([task(data, ratings)], context(LIST, csv_safe=False))).decode()
    assert ",=HYPERLINK()," in verbatim


def test_no_tasks_write_an_empty_jsonl_and_a_csv_header():
    assert b"".join(write_preference_jsonl([], context(PAIR))) == b""
    assert b"".join(write_ratings_csv([], context(LIST))).decode().strip() == "task_id,control,object,response,model,rating,max_rating,origin,annotator,agreement"

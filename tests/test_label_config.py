"""Label configs: what a project accepts (through the API, then the parser directly) and how results are checked."""
import pytest

from projects.label_config import (LabelConfigError, ResultError, list_item_model, model_data_keys, parse_label_config,
                                   validate_result)
from projects.models import Task
from tests.conftest import IMAGE_CONFIG, TEXT_CONFIG

MULTI_CHOICE_CONFIG = """<View><Header value="Pick every topic"/><Text name="text" value="$text"/>
  <Choices name="topics" toName="text" choice="multiple"><Choice value="Sport" hotkey="s"/><Choice value="Tech" hotkey="t"/></Choices>
</View>"""
TEXTAREA_CONFIG = """<View><Image name="image" value="$image"/><TextArea name="caption" toName="image"/></View>"""
BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<View><Header value="&lol3;"/><Text name="text" value="$text"/>
<Choices name="c" toName="text"><Choice value="a"/></Choices></View>"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE View [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<View><Header value="&secret;"/><Text name="text" value="$text"/>
<Choices name="c" toName="text"><Choice value="a"/></Choices></View>"""


def text_view(controls: str, objects: str = '<Text name="text" value="$text"/>') -> str:
    return f"<View>{objects}{controls}</View>"


REJECTED = {
    "unknown tag": (text_view('<Polygon name="p" toName="text"/>'), "<Polygon> is not supported"),
    "bad XML": ("<View><Text name='text' value='$text'></View>", "not well-formed XML"),
    "billion laughs": (BILLION_LAUGHS, "may not use DTDs or entities"),
    "external entity": (EXTERNAL_ENTITY, "may not use DTDs or entities"),
    "root not View": ('<Text name="text" value="$text"/>', "must start with <View>, not <Text>"),
    "missing name": (text_view('<Choices toName="text"><Choice value="a"/></Choices>'), '<Choices> needs a name="..."'),
    "missing toName": (text_view('<Choices name="c"><Choice value="a"/></Choices>'), '<Choices> needs a toName="..."'),
    "object without value": (text_view('<Choices name="c" toName="text"><Choice value="a"/></Choices>', '<Text name="text"/>'), '<Text> needs a value="..."'),
    "value not a field": (text_view('<Choices name="c" toName="text"><Choice value="a"/></Choices>', '<Text name="text" value="text"/>'), 'must name a task field like "$text"'),
    "toName nowhere": (text_view('<Choices name="c" toName="body"><Choice value="a"/></Choices>'), '<Choices name="c"> toName="body" names no <Image>, '),
    "Labels on Image": (text_view('<Labels name="l" toName="image"><Label value="a"/></Labels>', '<Image name="image" value="$image"/>'), '<Labels> cannot label <Image name="image">'),
    "RectangleLabels on Text": (text_view('<RectangleLabels name="b" toName="text"><Label value="a"/></RectangleLabels>'), "<RectangleLabels> cannot label <Text"),
    "duplicate names": (text_view('<Choices name="text" toName="text"><Choice value="a"/></Choices>'), 'name="text" is used by more than one tag'),
    "empty Choices": (text_view('<Choices name="c" toName="text"></Choices>'), '<Choices name="c"> needs at least one <Choice value="..."/>'),
    "Label inside Choices": (text_view('<Choices name="c" toName="text"><Label value="a"/></Choices>'), '<Label> cannot be inside <Choices name="c">'),
    "duplicate choice": (text_view('<Choices name="c" toName="text"><Choice value="a"/><Choice value="a"/></Choices>'), 'lists "a" twice'),
    "bad choice mode": (text_view('<Choices name="c" toName="text" choice="some"><Choice value="a"/></Choices>'), 'choice="some" must be "single" or "multiple"'),
    "stray Choice": (text_view('<Choices name="c" toName="text"><Choice value="a"/></Choices><Choice value="b"/>'), '<Choice value="b"> must be inside <Choices>'),
    "stray Label": (text_view('<Labels name="l" toName="text"><Label value="a"/></Labels><View><Label value="b"/></View>'),
                    '<Label value="b"> must be inside <Labels> or <RectangleLabels>'),
    "no control": (text_view(""), "needs a control"),
    "no object": ('<View><Header value="x"/></View>', "needs an object to label"),
}
# The cases a user is most likely to hit, also checked end to end (each API case costs a user and a request).
THROUGH_API = ["unknown tag", "bad XML", "billion laughs", "external entity", "missing name", "missing toName",
               "toName nowhere", "Labels on Image", "duplicate names", "empty Choices", "stray Choice"]


# --- through the API -------------------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("config", [TEXT_CONFIG, IMAGE_CONFIG, MULTI_CHOICE_CONFIG, TEXTAREA_CONFIG])
def test_project_accepts_supported_configs(api, staff, config):
    response = api(staff).post("/api/projects/", {"title": "P", "label_config": config})
    assert response.status_code == 201, response.json()
    assert response.json()["label_config"] == config


@pytest.mark.django_db
@pytest.mark.parametrize("config, message", [REJECTED[key] for key in THROUGH_API], ids=THROUGH_API)
def test_project_rejects_bad_config_naming_the_problem(api, staff, config, message):
    response = api(staff).post("/api/projects/", {"title": "P", "label_config": config})
    assert response.status_code == 400
    assert message in response.json()["label_config"][0]


@pytest.mark.django_db
def test_changing_a_project_to_a_bad_config_is_refused(api, manager, text_project):
    response = api(manager).patch(f"/api/projects/{text_project.pk}/", {"label_config": text_view("<Polygon/>")})
    assert response.status_code == 400
    assert "<Polygon> is not supported" in response.json()["label_config"][0]
    text_project.refresh_from_db()
    assert text_project.label_config == TEXT_CONFIG


@pytest.mark.django_db
def test_annotation_with_a_label_not_in_the_config_is_refused(api, annotator, text_project):
    task = Task.objects.create(project=text_project, data={"text": "I flew to London."})
    result = [{"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Angry"]}}]
    response = api(annotator).post(f"/api/tasks/{task.pk}/annotations/", {"result": result})
    assert response.status_code == 400
    assert "result[0]: 'Angry' is not a label of sentiment" in response.json()["result"][0]
    assert task.annotations.count() == 0


@pytest.mark.django_db
def test_annotation_with_a_valid_span_is_stored(api, annotator, text_project):
    task = Task.objects.create(project=text_project, data={"text": "I flew to London."})
    result = [{"from_name": "entities", "to_name": "text", "type": "labels",
               "value": {"start": 10, "end": 16, "text": "London", "labels": ["LOC"]}}]
    response = api(annotator).post(f"/api/tasks/{task.pk}/annotations/", {"result": result})
    assert response.status_code == 201, response.json()
    assert response.json()["result"] == result


# --- the parser directly ---------------------------------------------------------------------------------------

def test_single_choice_with_hotkeys():
    config = parse_label_config(TEXT_CONFIG)
    sentiment = config.controls["sentiment"]
    assert (sentiment.result_type, sentiment.to_name, sentiment.multiple) == ("choices", "text", False)
    assert sentiment.values == ("Positive", "Negative", "Neutral")
    assert sentiment.hotkeys == {"Positive": "p"}
    assert config.data_fields == {"text"}


def test_multiple_choice_and_header():
    topics = parse_label_config(MULTI_CHOICE_CONFIG).controls["topics"]
    assert topics.multiple is True
    assert topics.hotkeys == {"Sport": "s", "Tech": "t"}


def test_spans_boxes_and_textarea():
    assert parse_label_config(TEXT_CONFIG).controls["entities"].result_type == "labels"
    image = parse_label_config(IMAGE_CONFIG)
    assert image.controls["box"].result_type == "rectanglelabels"
    assert image.controls["box"].values == ("Face", "Person")
    assert image.data_fields_of_kind("image") == ["image"]
    caption = parse_label_config(TEXTAREA_CONFIG).controls["caption"]
    assert (caption.result_type, caption.values) == ("textarea", ())


def test_blank_config_is_refused():
    with pytest.raises(LabelConfigError, match="label_config is empty"):
        parse_label_config("  \n ")


def test_nested_layout_and_xml_declaration_are_fine():
    config = parse_label_config('<?xml version="1.0" encoding="UTF-8"?><View><View><Header value="Read"/>'
                                '<Text name="t" value="$body"/></View><Choices name="c" toName="t"><Choice value="x"/></Choices></View>')
    assert config.data_fields == {"body"}


@pytest.mark.parametrize("config, message", REJECTED.values(), ids=REJECTED.keys())
def test_parser_rejects(config, message):
    with pytest.raises(LabelConfigError) as error:
        parse_label_config(config)
    assert message in str(error.value)


# --- result validation -----------------------------------------------------------------------------------------

TEXT = "Ann lives in London."
TEXT_DATA = {"text": TEXT}
IMAGE_DATA = {"image": "/data/upload/1/a.png"}


def choice(*values, name="sentiment"):
    return {"from_name": name, "to_name": "text", "type": "choices", "value": {"choices": list(values)}}


def span(start, end, text=None, label="LOC"):
    value = {"start": start, "end": end, "labels": [label]}
    if text is not None:
        value["text"] = text
    return {"from_name": "entities", "to_name": "text", "type": "labels", "value": value}


def box(**value):
    return {"from_name": "box", "to_name": "image", "type": "rectanglelabels",
            "value": {"x": 10, "y": 10, "width": 20, "height": 20, "rectanglelabels": ["Face"], **value}}


def test_valid_results_pass():
    validate_result(parse_label_config(TEXT_CONFIG), TEXT_DATA, [choice("Positive"), span(13, 19, "London"), span(0, 3)])
    validate_result(parse_label_config(IMAGE_CONFIG), IMAGE_DATA, [box(), box(x=0, y=0, width=100, height=100), box(x=50.000000001, width=50)])
    validate_result(parse_label_config(MULTI_CHOICE_CONFIG), TEXT_DATA, [choice("Sport", "Tech", name="topics")])
    validate_result(parse_label_config(TEXTAREA_CONFIG), IMAGE_DATA, [{"from_name": "caption", "to_name": "image", "type": "textarea", "value": {"text": ["a cat"]}}])
    validate_result(parse_label_config(TEXT_CONFIG), TEXT_DATA, [])


TEXT_RESULT_ERRORS = {
    "non-list result": ({"from_name": "sentiment"}, "result must be a list"),
    "item not an object": (["Positive"], "result[0]: must be an object"),
    "unknown from_name": ([{**choice("Positive"), "from_name": "mood"}], "result[0]: from_name 'mood' is not a control"),
    "from_name not a string": ([{**choice("Positive"), "from_name": ["sentiment"]}], "from_name ['sentiment'] is not a control"),
    "type not a string": ([{**choice("Positive"), "type": 3}], "type 3 does not match Choices"),
    "wrong type": ([{**choice("Positive"), "type": "labels"}], "type 'labels' does not match Choices"),
    "wrong to_name": ([{**choice("Positive"), "to_name": "image"}], "to_name 'image' does not match sentiment's toName 'text'"),
    "label not in config": ([choice("Angry")], "'Angry' is not a label of sentiment (Positive, Negative, Neutral)"),
    "two values for a single choice": ([choice("Positive", "Negative")], "sentiment takes a single choice, got 2"),
    "no choice": ([choice()], "value.choices must be a non-empty list"),
    "value missing": ([{"from_name": "sentiment"}], "value must be an object"),
    "score not a number": ([{**choice("Positive"), "score": "high"}], "score must be a number"),
    "span past the text": ([span(13, 30)], "span [13, 30) is outside the text (length 20)"),
    "negative span start": ([span(-1, 3)], "span [-1, 3) is outside the text"),
    "empty span": ([span(3, 3)], "span [3, 3) is outside the text"),
    "span offsets not integers": ([span(1.0, 3)], "value.start and value.end must be integers"),
    "span text mismatch": ([span(13, 19, "Paris")], "value.text 'Paris' does not match the text at [13, 19): 'London'"),
    "span label not in config": ([span(13, 19, label="CITY")], "'CITY' is not a label of entities"),
}
IMAGE_RESULT_ERRORS = {
    "box right of the image": ([box(x=90)], "box x=90, y=10, width=20, height=20 is outside the image (0-100%)"),
    "box above the image": ([box(y=-5)], "is outside the image"),
    "negative width": ([box(width=-5)], "box width and height must be positive"),
    "zero height": ([box(height=0)], "box width and height must be positive"),
    "coordinate not a number": ([box(x="10")], "value.x must be a number"),
    "NaN coordinate": ([box(x=float("nan"))], "value.x must be a number"),
    "boolean width": ([box(width=True)], "value.width must be a number"),
    "rotation not a number": ([box(rotation="90deg")], "value.rotation must be a number"),
    "box label not in config": ([box(rectanglelabels=["Car"])], "'Car' is not a label of box (Face, Person)"),
}


@pytest.mark.parametrize("result, message", TEXT_RESULT_ERRORS.values(), ids=TEXT_RESULT_ERRORS.keys())
def test_text_result_errors(result, message):
    with pytest.raises(ResultError) as error:
        validate_result(parse_label_config(TEXT_CONFIG), TEXT_DATA, result)
    assert message in str(error.value)


@pytest.mark.parametrize("result, message", IMAGE_RESULT_ERRORS.values(), ids=IMAGE_RESULT_ERRORS.keys())
def test_image_result_errors(result, message):
    with pytest.raises(ResultError) as error:
        validate_result(parse_label_config(IMAGE_CONFIG), IMAGE_DATA, result)
    assert message in str(error.value)


def test_error_names_the_failing_item():
    with pytest.raises(ResultError, match=r"^result\[1\]: 'Angry'"):
        validate_result(parse_label_config(TEXT_CONFIG), TEXT_DATA, [choice("Positive"), choice("Angry")])


def test_textarea_text_must_be_strings():
    item = {"from_name": "caption", "to_name": "image", "type": "textarea", "value": {"text": "a cat"}}
    with pytest.raises(ResultError, match="value.text must be a list of strings"):
        validate_result(parse_label_config(TEXTAREA_CONFIG), IMAGE_DATA, [item])


def test_the_model_of_each_response_is_named_by_one_rule_for_leaderboard_and_exports():
    config = parse_label_config('<View><Text name="prompt" value="$q"/><Text name="a" value="$answer_1"/>'
                                '<Text name="b" value="$answer_2"/><Pairwise name="pw" toName="b,a"/></View>')

    keys = model_data_keys(config)

    assert keys["a"] == ("model_a", "answer_1_model", "model_b")  # second in toName: Chatbot Arena's model_b
    assert keys["b"] == ("model_b", "answer_2_model", "model_a")
    assert keys["prompt"] == ("model_prompt", "q_model")


def test_a_list_items_model_is_its_model_else_its_title_by_one_rule():
    assert list_item_model({"id": "r1", "model": "gpt-x", "title": "Answer 1"}) == "gpt-x"
    assert list_item_model({"id": "r1", "model": "", "title": "Answer 1"}) == "Answer 1"
    assert list_item_model({"id": "r1", "model": None}) is None and list_item_model({}) is None

"""<Paragraphs> (a chat transcript) and <Text markdown="true">: their attributes, the task data a dialogue must be,
what the review page and the labeling page are given, and the 400s that name the tag, attribute or message."""
import pytest

from frontend.labeling import page_assets, page_config
from projects import services
from projects.label_config import LabelConfigError, ResultError, parse_label_config, validate_result, validate_task_data
from projects.models import Annotation, Role, Task
from quality.review_page import describe

DIALOGUE_CONFIG = """<View>
  <Paragraphs name="chat" value="$dialogue" layout="dialogue" nameKey="role" textKey="content"/>
  <Text name="answer" value="$response" markdown="true"/>
  <Choices name="helpful" toName="chat" required="true"><Choice value="Yes"/><Choice value="No"/></Choices>
  <TextArea name="why" toName="chat"/>
</View>"""
DIALOGUE = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is **2+2**?"},
            {"role": "assistant", "content": "It is `4`."}]
TASK = {"dialogue": DIALOGUE, "response": "# Answer\n\n- four"}
HELPFUL = {"from_name": "helpful", "to_name": "chat", "type": "choices", "value": {"choices": ["Yes"]}}
WHY = {"from_name": "why", "to_name": "chat", "type": "textarea", "value": {"text": ["Short and right."]}}


def paragraphs_view(attributes: str = "", control: str = '<Choices name="c" toName="chat"><Choice value="a"/></Choices>') -> str:
    return f'<View><Paragraphs name="chat" value="$dialogue" {attributes}/>{control}</View>'


# --- the config ------------------------------------------------------------------------------------------------

def test_a_dialogue_config_reads_label_studios_attributes():
    config = parse_label_config(DIALOGUE_CONFIG)
    chat = config.objects["chat"]
    assert (chat.tag, chat.kind, chat.data_field) == ("Paragraphs", "paragraphs", "dialogue")
    assert chat.options == {"layout": "dialogue", "name_key": "role", "text_key": "content"}
    assert config.objects["answer"].options == {"markdown": True}
    assert config.controls["helpful"].to_names == ("chat",) and config.controls["why"].to_names == ("chat",)


def test_without_the_keys_it_takes_label_studios_defaults():
    chat = parse_label_config(paragraphs_view()).objects["chat"]
    assert chat.options == {"layout": "none", "name_key": "author", "text_key": "text"}
    assert parse_label_config('<View><Text name="t" value="$t"/><TextArea name="x" toName="t"/></View>').objects["t"].options == {"markdown": False}


BAD_CONFIGS = {
    "unknown layout": (paragraphs_view('layout="bubbles"'), '<Paragraphs name="chat"> layout="bubbles" must be "dialogue" or "none"'),
    "empty nameKey": (paragraphs_view('nameKey=" "'), '<Paragraphs name="chat"> nameKey="" must name a key of the messages'),
    "same keys": (paragraphs_view('nameKey="who" textKey="who"'), "nameKey and textKey are both \"who\"; they must differ"),
    "spans on a dialogue": (paragraphs_view(control='<Labels name="l" toName="chat"><Label value="x"/></Labels>'),
                            '<Labels> cannot label <Paragraphs name="chat">'),
    "boxes on a dialogue": (paragraphs_view(control='<RectangleLabels name="b" toName="chat"><Label value="x"/></RectangleLabels>'),
                            '<RectangleLabels> cannot label <Paragraphs name="chat">'),
    "markdown not a boolean": ('<View><Text name="t" value="$t" markdown="yes"/><TextArea name="x" toName="t"/></View>',
                               '<Text name="t"> markdown="yes" must be "true" or "false"'),
    "spans on Markdown": ('<View><Text name="t" value="$t" markdown="true"/><Labels name="l" toName="t"><Label value="x"/></Labels></View>',
                          '<Labels name="l"> cannot mark spans on <Text name="t" markdown="true">'),
}


@pytest.mark.parametrize("xml, message", BAD_CONFIGS.values(), ids=BAD_CONFIGS.keys())
def test_a_bad_dialogue_or_markdown_config_is_refused_naming_the_attribute(xml, message):
    with pytest.raises(LabelConfigError) as refused:
        parse_label_config(xml)
    assert message in str(refused.value)


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["spans on Markdown", "unknown layout", "same keys"])
def test_the_api_answers_a_bad_config_with_a_400_naming_it(api, staff, case):
    xml, message = BAD_CONFIGS[case]
    response = api(staff).post("/api/projects/", {"title": "Chats", "label_config": xml}, format="json")
    assert response.status_code == 400
    assert message in response.json()["label_config"][0]


def test_a_markdown_text_still_takes_whole_text_controls():
    config = parse_label_config('<View><Text name="t" value="$t" markdown="true"/>'
                                '<Choices name="c" toName="t"><Choice value="ok"/></Choices><TextArea name="x" toName="t"/></View>')
    assert set(config.controls) == {"c", "x"}


# --- task data -------------------------------------------------------------------------------------------------

def test_a_list_of_messages_is_a_dialogue():
    validate_task_data(parse_label_config(DIALOGUE_CONFIG), TASK)
    extra_keys = [{"role": "assistant", "content": "Hi", "name": "bot", "tool_calls": []}]  # OpenAI's own keys ride along
    validate_task_data(parse_label_config(DIALOGUE_CONFIG), {**TASK, "dialogue": extra_keys})


BAD_DIALOGUES = {
    "a string": ("Hello there", 'task data "dialogue" must be a list of messages like [{"role": "user", "content": "..."}] for <Paragraphs name="chat">, not str'),
    "an object": ({"role": "user"}, 'must be a list of messages like [{"role": "user", "content": "..."}] for <Paragraphs name="chat">, not dict'),
    "no messages": ([], 'task data "dialogue" has no messages'),
    "a message not an object": ([DIALOGUE[0], "hi"], 'task data "dialogue"[1] must be a message object with "role" and "content", not str'),
    "no text key": ([DIALOGUE[0], {"role": "user", "text": "hi"}], 'task data "dialogue"[1] has no "content" (textKey of <Paragraphs name="chat">)'),
    "no name key": ([{"content": "hi"}], 'task data "dialogue"[0] has no "role" (nameKey of <Paragraphs name="chat">)'),
    "content not a string": ([DIALOGUE[0], DIALOGUE[1], {"role": "assistant", "content": ["4"]}], 'task data "dialogue"[2].content must be a string, not list'),
    "role not a string": ([{"role": None, "content": "hi"}], 'task data "dialogue"[0].role must be a string, not NoneType'),
}


@pytest.mark.parametrize("dialogue, message", BAD_DIALOGUES.values(), ids=BAD_DIALOGUES.keys())
def test_task_data_that_is_no_dialogue_is_refused_naming_the_message(dialogue, message):
    with pytest.raises(ResultError) as refused:
        validate_task_data(parse_label_config(DIALOGUE_CONFIG), {**TASK, "dialogue": dialogue})
    assert message in str(refused.value)


def test_the_default_keys_are_the_ones_checked():
    config = parse_label_config(paragraphs_view())
    validate_task_data(config, {"dialogue": [{"author": "Ann", "text": "Hi"}]})
    with pytest.raises(ResultError, match=r'"dialogue"\[0\] has no "author" \(nameKey'):
        validate_task_data(config, {"dialogue": DIALOGUE})


# --- through the API -------------------------------------------------------------------------------------------

@pytest.fixture
def chat_project(manager, annotator):
    project = services.create_project(creator=manager, title="Chats", label_config=DIALOGUE_CONFIG)
    services.add_member(project=project, user=annotator, role=Role.ANNOTATOR)
    return project


@pytest.mark.django_db
def test_an_import_with_a_broken_message_is_a_400_naming_task_field_and_message(api, manager, chat_project):
    broken = [DIALOGUE[0], {"role": "user"}]
    response = api(manager).post(f"/api/projects/{chat_project.pk}/import", [TASK, {**TASK, "dialogue": broken}], format="json")
    assert response.status_code == 400, response.content
    assert 'task 2: task data "dialogue"[1] has no "content" (textKey of <Paragraphs name="chat">)' in response.json()["detail"]
    assert not Task.objects.filter(project=chat_project).exists()


@pytest.mark.django_db
def test_a_dialogue_is_imported_and_its_rubric_answered_through_the_api(api, manager, annotator, chat_project):
    imported = api(manager).post(f"/api/projects/{chat_project.pk}/import", [TASK], format="json")
    assert imported.status_code == 201, imported.json()
    task = Task.objects.get(project=chat_project)
    assert task.data["dialogue"] == DIALOGUE
    refused = api(annotator).post(f"/api/tasks/{task.pk}/annotations/", {"result": [WHY]}, format="json")
    assert refused.status_code == 400 and "helpful is required" in str(refused.json())
    stored = api(annotator).post(f"/api/tasks/{task.pk}/annotations/", {"result": [HELPFUL, WHY]}, format="json")
    assert stored.status_code == 201, stored.json()
    assert Annotation.objects.get(task=task).result[0]["to_name"] == "chat"


def test_results_naming_the_dialogue_are_checked_like_any_other():
    config = parse_label_config(DIALOGUE_CONFIG)
    validate_result(config, TASK, [HELPFUL, WHY])
    with pytest.raises(ResultError, match="'Maybe' is not a label of helpful"):
        validate_result(config, TASK, [{**HELPFUL, "value": {"choices": ["Maybe"]}}])


# --- what the review and labeling pages are given --------------------------------------------------------------

def test_the_review_page_shows_the_messages_as_bubbles_speaker_by_speaker():
    config = parse_label_config(DIALOGUE_CONFIG)
    shown = describe([HELPFUL], TASK, config.objects)
    assert shown["answers"] == {"helpful": ["Yes"]}
    chat = next(display for display in shown["objects"] if display["name"] == "chat")
    assert chat["kind"] == "dialogue" and chat["layout"] == "dialogue"
    assert chat["messages"] == [{"speaker": "system", "text": "Be brief."}, {"speaker": "user", "text": "What is **2+2**?"},
                                {"speaker": "assistant", "text": "It is `4`."}]


def test_the_labeling_page_gets_the_keys_and_loads_the_markdown_libraries_once():
    page = page_config(DIALOGUE_CONFIG)
    chat, answer = page["objects"]["chat"], page["objects"]["answer"]
    assert chat["module"] == "/static/frontend/js/objects/paragraphs.js"
    assert chat["options"] == {"layout": "dialogue", "name_key": "role", "text_key": "content"}
    assert answer["options"] == {"markdown": True}
    libraries = ["/static/frontend/vendor/marked/marked.umd.js", "/static/frontend/vendor/dompurify/purify.min.js"]
    assert chat["assets"]["js"] == answer["assets"]["js"] == libraries
    assert page_assets(page) == {"js": libraries, "css": ["/static/frontend/css/markdown.css", "/static/frontend/css/paragraphs.css"]}


def test_a_plain_text_loads_no_markdown_library():
    page = page_config('<View><Text name="t" value="$t"/><TextArea name="x" toName="t"/></View>')
    assert page["objects"]["t"]["assets"] == {"css": [], "js": []} and page["objects"]["t"]["options"] == {"markdown": False}

"""The LLM judge: an OpenAI-compatible server answers Pairwise, Rating and Choices questions; predictions carry
both orders' answers; a confident, order-proof judge lets one human check stand for the overlap; the judges'
agreement with people is reported. Against llama-cpp-python's real server (a tiny model the test writes) through
a real worker, and against a scripted server whose answers the tests know in advance."""
import pytest
from sklearn.metrics import cohen_kappa_score

from ml.engines.base import EngineError, TaskInput
from ml.engines.llm_judge import JSON_OBJECT, JSON_SCHEMA, PROMPT_ONLY, JudgeSettings, LlmJudge
from ml.loading import build_engine
from ml.models import ProjectModel
from projects import services
from projects.label_config import parse_label_config
from projects.models import JudgeCheck, Prediction, Role, Task
from quality.engine.agreement import cohen_kappa
from tests.api_helpers import import_tasks, submit
from tests.conftest import client_for, wait_for_job
from tests.llm_servers import TINY_MODEL_NAME, LlamaServer, ScriptedJudge, free_port, write_tiny_model
from tests.waiting import wait_until

JUDGED_CONFIG = """<View>
  <Paragraphs name="prompt" value="$dialogue" layout="dialogue" nameKey="role" textKey="content"/>
  <Text name="a" value="$response_a"/>
  <Text name="b" value="$response_b"/>
  <Pairwise name="pw" toName="a,b" allowTie="true"/>
  <Rating name="helpful" toName="a" maxRating="5"/>
  <Choices name="safety" toName="b"><Choice value="safe"/><Choice value="unsafe"/></Choices>
</View>"""


def battle(question: str, a: str, b: str) -> dict:
    return {"dialogue": [{"role": "user", "content": question}], "response_a": a, "response_b": b,
            "model_a": "alpha", "model_b": "beta"}


def judge_for(url: str, **settings) -> LlmJudge:
    options = {"url": url, "model": "judge-1", "retries": 0, "concurrency": 2, **settings}
    return LlmJudge(parse_label_config(JUDGED_CONFIG), JudgeSettings(**options))


def pairwise_of(suggestion) -> str:
    return next(item["value"]["selected"] for item in suggestion.result if item["type"] == "pairwise")


@pytest.fixture
def loopback(settings):
    settings.LABELER_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("llama")
    server = LlamaServer(write_tiny_model(folder / "tiny.gguf"), folder / "server.log")
    server.start()
    yield server
    server.stop()


# --- the engine against a scripted server -------------------------------------------------------------------

def test_a_judge_that_prefers_the_good_response_in_both_orders_is_confident(loopback):
    with ScriptedJudge("content", confidence=4) as server:
        tasks = [TaskInput(1, battle("Capital of France?", "Paris, a good answer.", "Lyon.")),
                 TaskInput(2, battle("2+2?", "5", "4, good."))]
        first, second = judge_for(server.url).predict(tasks)

    assert (pairwise_of(first), pairwise_of(second)) == ("left", "right")
    assert first.score == pytest.approx(0.8) and first.details["swap_consistent"] is True
    assert len(first.details["answers"]) == 2 and first.model_version.startswith("llm_judge:judge-1:")
    by_control = {item["from_name"]: item["value"] for item in first.result}
    assert by_control == {"pw": {"selected": "left"}, "helpful": {"rating": 1}, "safety": {"choices": ["safe"]}}
    assert len(server.requests) == 4  # each task asked in both orders


def test_the_second_asking_trades_the_two_responses_and_nothing_else(loopback):
    with ScriptedJudge() as server:
        judge_for(server.url).predict([TaskInput(1, battle("Q?", "first text", "second text"))])
        normal, traded = (body["messages"][-1]["content"] for body in server.requests)

    assert "### a\nfirst text" in normal and "### b\nsecond text" in normal
    assert "### a\nsecond text" in traded and "### b\nfirst text" in traded
    assert "### prompt\nuser: Q?" in normal and "### prompt\nuser: Q?" in traded
    assert "alpha" not in normal + traded and "beta" not in normal + traded  # nor which model wrote which


def test_a_position_biased_judge_is_caught_and_gets_no_confidence(loopback):
    with ScriptedJudge("first_shown") as server:
        [suggestion] = judge_for(server.url).predict([TaskInput(1, battle("Q?", "good", "bad"))])

    assert suggestion.details["swap_consistent"] is False and suggestion.score == 0.0
    assert pairwise_of(suggestion) == "left"  # the first asking's answer is kept, marked as unreliable


def test_asking_once_gives_no_swap_verdict(loopback):
    with ScriptedJudge() as server:
        [suggestion] = judge_for(server.url, swap=False).predict([TaskInput(1, battle("Q?", "good", "bad"))])

    assert len(server.requests) == 1 and suggestion.details["swap_consistent"] is None and suggestion.score == 1.0


@pytest.mark.parametrize("style, expected", [
    (JSON_SCHEMA, "json_schema"), (JSON_OBJECT, "json_object"), (PROMPT_ONLY, None),
])
def test_each_structured_output_dialect_is_asked_as_its_servers_expect(loopback, style, expected):
    with ScriptedJudge() as server:
        if style == PROMPT_ONLY:
            server.rule = "content"
            judge = judge_for(server.url, structured_output=style, swap=False)
            original = server.judgment
            server.judgment = lambda body: "Here you go:\n```json\n" + original({**body, "response_format": {
                "type": "json_object", "schema": judge.answer_schema()}}) + "\n```"
        else:
            judge = judge_for(server.url, structured_output=style, swap=False)
        [suggestion] = judge.predict([TaskInput(1, battle("Q?", "good", "bad"))])
        sent = server.requests[0].get("response_format")

    assert suggestion.error == "" and pairwise_of(suggestion) == "left"
    assert (sent or {}).get("type") == expected
    if expected == "json_schema":
        assert sent["json_schema"]["schema"]["properties"]["pw"] == {"enum": ["a", "b", "tie"]}


def test_an_answer_that_is_not_json_or_breaks_the_schema_costs_only_its_task(loopback):
    with ScriptedJudge("garbage") as server:
        [suggestion] = judge_for(server.url).predict([TaskInput(1, battle("Q?", "a", "b"))])
    assert suggestion.error == "LLM judge answered something that is not a JSON object"

    with ScriptedJudge() as server:
        server.judgment = lambda body: '{"pw": "middle", "helpful": 3, "safety": "safe", "confidence": 5}'
        [suggestion] = judge_for(server.url).predict([TaskInput(1, battle("Q?", "a", "b"))])
    assert suggestion.error == 'LLM judge answered "pw" with a value the question does not allow'


def test_the_api_key_comes_from_the_environment_as_a_bearer_token(loopback, monkeypatch, api, manager):
    project = services.create_project(creator=manager, title="Judged", label_config=JUDGED_CONFIG)
    monkeypatch.setenv("TEAM_LLM_KEY", "sk-test-123")
    with ScriptedJudge() as server:
        response = api(manager).put(f"/api/projects/{project.pk}/model/", {
            "engine": "llm_judge", "url": server.url, "llm_model": "judge-1", "api_key_env": "TEAM_LLM_KEY"},
            format="json")
        assert response.status_code == 200, response.json()
        engine = build_engine(ProjectModel.objects.get(project=project), project.label_config, None)
        engine.predict([TaskInput(1, battle("Q?", "a", "b"))])

    assert server.headers[0]["Authorization"] == "Bearer sk-test-123"
    assert "sk-test-123" not in str(response.json())  # the key itself is never stored nor shown


# --- settings through the API --------------------------------------------------------------------------------

@pytest.mark.parametrize("changes, field, message", [
    ({"url": ""}, "url", "an LLM judge needs the base URL"),
    ({"llm_model": " "}, "llm_model", "an LLM judge needs the name of the model"),
    ({"api_key_env": "MY-KEY"}, "api_key_env", '"MY-KEY" is not an environment variable name'),
    ({"prompt_template": "Judge $answer: $questions"}, "prompt_template", "uses $answer, which is neither"),
    ({"fewer_humans_confidence": 1.5}, "fewer_humans_confidence", "less than or equal to 1"),
    ({"structured_output": "xml"}, "structured_output", "is not a valid choice"),
])
def test_a_bad_judge_setting_is_refused_naming_the_field(loopback, api, manager, changes, field, message):
    project = services.create_project(creator=manager, title="Judged", label_config=JUDGED_CONFIG)
    body = {"engine": "llm_judge", "url": "http://127.0.0.1:9/v1", "llm_model": "judge-1", **changes}

    response = api(manager).put(f"/api/projects/{project.pk}/model/", body, format="json")

    assert response.status_code == 400 and message in response.json()[field][0], response.json()


def test_a_judge_needs_something_it_can_answer_and_an_allowed_address(loopback, api, manager, settings):
    boxes = services.create_project(creator=manager, title="Boxes", label_config="""<View><Image name="image" value="$image"/>
      <Choices name="kind" toName="image"><Choice value="cat"/><Choice value="dog"/></Choices></View>""")
    body = {"engine": "llm_judge", "url": "http://127.0.0.1:9/v1", "llm_model": "judge-1"}
    response = api(manager).put(f"/api/projects/{boxes.pk}/model/", body, format="json")
    assert response.status_code == 400 and "the label config has none" in response.json()["detail"]

    settings.LABELER_OUTBOUND_ALLOWED_HOSTS = []
    project = services.create_project(creator=manager, title="Judged", label_config=JUDGED_CONFIG)
    for url in ("http://127.0.0.1:9/v1", "http://169.254.169.254/v1"):
        response = api(manager).put(f"/api/projects/{project.pk}/model/", {**body, "url": url}, format="json")
        assert response.status_code == 400 and "address" in response.json()["url"][0], response.json()


def test_cohen_kappa_matches_scikit_learn():
    first = ["a", "b", "a", "tie", "b", "a", "a", "b"]
    second = ["a", "b", "b", "tie", "b", "a", "tie", "a"]

    assert cohen_kappa(list(zip(first, second))) == pytest.approx(cohen_kappa_score(first, second))
    assert cohen_kappa([("a", "a"), ("a", "a")]) is None and cohen_kappa([]) is None


# --- through a real worker -----------------------------------------------------------------------------------

def start_judging(api, manager, project, url: str, **settings) -> dict:
    body = {"engine": "llm_judge", "url": url, "llm_model": TINY_MODEL_NAME, **settings}
    response = api(manager).put(f"/api/projects/{project.pk}/model/", body, format="json")
    assert response.status_code == 200, response.json()
    response = api(manager).post(f"/api/projects/{project.pk}/predict/", {}, format="json")
    assert response.status_code == 202, response.json()
    job = wait_for_job(response.json()["id"], timeout=120)
    assert job.status == "succeeded", (job.error, job.result)
    return job.result


@pytest.mark.worker
def test_the_real_llama_cpp_server_judges_every_task_through_a_worker(worker, llama_server, loopback, api, manager):
    project = services.create_project(creator=manager, title="Judged", label_config=JUDGED_CONFIG)
    import_tasks(project, [battle(f"What is {n} + {n}?", f"It is {2 * n}.", "I do not know.") for n in range(6)])

    result = start_judging(api, manager, project, llama_server.url, structured_output="json_object")

    assert (result["predicted"], result["errors"]) == (6, 0)
    predictions = list(Prediction.objects.filter(project=project))
    assert len(predictions) == 6 and all(p.model_version.startswith(f"llm_judge:{TINY_MODEL_NAME}:") for p in predictions)
    for prediction in predictions:  # nonsense weights, but every answer fits the config: the grammar held it
        by_control = {item["from_name"]: item["value"] for item in prediction.result}
        assert by_control["pw"]["selected"] in {"left", "right", "tie"}
        assert by_control["helpful"]["rating"] in range(1, 6) and by_control["safety"]["choices"][0] in {"safe", "unsafe"}
        assert len(prediction.details["answers"]) == 2 and prediction.details["swap_consistent"] in {True, False}
    report = api(manager).get(f"/api/projects/{project.pk}/judges/").json()
    [judge] = report["judges"]
    assert (judge["tasks_judged"], judge["swap_checked"], judge["compared"]) == (6, 6, 0)  # no human answers yet
    consistent = sum(p.details["swap_consistent"] for p in predictions)
    assert judge["swap_consistency"] == pytest.approx(consistent / 6)


@pytest.mark.worker
def test_a_confident_judge_lets_one_human_check_stand_for_the_overlap(worker, loopback, api, manager, annotator):
    project = services.create_project(creator=manager, title="Judged", label_config=JUDGED_CONFIG, overlap=3)
    services.add_member(project=project, user=annotator, role=Role.ANNOTATOR)
    agreed, disagreed, unsure = import_tasks(project, [
        battle("Capital of France?", "Paris: a good answer.", "Lyon."),
        battle("2+2?", "4, good.", "5"),
        battle("Colour of the sky?", "blue", "also blue"),  # neither says good: the judge picks a, not both ways
    ])
    with ScriptedJudge("content", confidence=5) as server:
        start_judging(api, manager, project, server.url, fewer_humans_confidence=0.8)

    states = dict(Task.objects.filter(project=project).values_list("id", "judge_check"))
    assert states == {agreed.pk: JudgeCheck.PENDING, disagreed.pk: JudgeCheck.PENDING, unsure.pk: JudgeCheck.NONE}
    assert Task.objects.get(pk=agreed.pk).extra_annotations == -2  # overlap 3, one check needed

    judged = {p.task_id: p.result for p in Prediction.objects.filter(project=project)}
    assert submit(annotator, agreed, judged[agreed.pk]).status_code == 201
    flipped = [{**item, "value": {"selected": "right"}} if item["type"] == "pairwise" else item for item in judged[disagreed.pk]]
    assert submit(annotator, disagreed, flipped).status_code == 201

    wait_until(lambda: set(Task.objects.filter(project=project, judge_check__in=[JudgeCheck.AGREED, JudgeCheck.DISAGREED])
                           .values_list("id", flat=True)) == {agreed.pk, disagreed.pk}, 30, "the checks were not settled")
    settled, reopened = Task.objects.get(pk=agreed.pk), Task.objects.get(pk=disagreed.pk)
    assert (settled.judge_check, settled.is_finished, settled.annotation_count) == (JudgeCheck.AGREED, True, 1)
    assert (reopened.judge_check, reopened.is_finished, reopened.extra_annotations) == (JudgeCheck.DISAGREED, False, 0)

    report = api(manager).get(f"/api/projects/{project.pk}/judges/").json()
    assert report["fewer_humans"] == {"checks_pending": 0, "checks_agreed": 1, "checks_disagreed": 1,
                                      "human_judgments_saved": 2}
    [judge] = report["judges"]
    pairwise = next(row for row in judge["controls"] if row["control"] == "pw")
    assert (pairwise["compared"], pairwise["accuracy"]) == (2, 0.5)  # the reopened task's one answer disagrees
    assert judge["swap_consistency"] == pytest.approx(2 / 3)


def test_blind_judging_hides_the_judges_answers_from_annotators_only(api, manager, annotator):
    project = services.create_project(creator=manager, title="Judged", label_config=JUDGED_CONFIG,
                                      show_collab_predictions=False)
    services.add_member(project=project, user=annotator, role=Role.ANNOTATOR)
    [task] = import_tasks(project, [{"data": battle("Q?", "a", "b"), "predictions": [{"model_version": "llm_judge:x:1", "result": [
        {"from_name": "pw", "to_name": "a,b", "type": "pairwise", "value": {"selected": "left"}}]}]}])

    assert client_for(annotator).get(f"/api/projects/{project.pk}/next/").json()["predictions"] == []
    assert client_for(annotator).get(f"/api/tasks/{task.pk}/").json()["predictions"] == []
    assert len(client_for(manager).get(f"/api/tasks/{task.pk}/").json()["predictions"]) == 1
    api(manager).patch(f"/api/projects/{project.pk}/", {"show_collab_predictions": True}, format="json")
    assert len(client_for(annotator).get(f"/api/tasks/{task.pk}/").json()["predictions"]) == 1


def test_the_judge_report_is_for_managers_and_reviewers(api, manager, annotator, make_user):
    project = services.create_project(creator=manager, title="Judged", label_config=JUDGED_CONFIG)
    services.add_member(project=project, user=annotator, role=Role.ANNOTATOR)

    assert api(manager).get(f"/api/projects/{project.pk}/judges/").json() == {
        "judges": [], "fewer_humans": {"checks_pending": 0, "checks_agreed": 0, "checks_disagreed": 0,
                                       "human_judgments_saved": 0}}
    assert api(annotator).get(f"/api/projects/{project.pk}/judges/").status_code == 403
    assert api(make_user("stranger")).get(f"/api/projects/{project.pk}/judges/").status_code == 404


def test_a_judge_server_that_is_down_fails_the_whole_chunk_saying_where(loopback):
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(EngineError, match=f"LLM judge {url}/chat/completions is unreachable"):
        judge_for(url).predict([TaskInput(1, battle("Q?", "a", "b"))])


def test_a_task_left_to_one_check_still_needs_one_person_after_the_overlap_changes(api, manager):
    project = services.create_project(creator=manager, title="Judged", label_config=JUDGED_CONFIG, overlap=3)
    first, second = import_tasks(project, [battle("Q?", "a", "b"), battle("R?", "c", "d")])
    assert services.let_one_check_stand_for_overlap(project_id=project.pk, task_ids=[first.pk]) == 1

    api(manager).patch(f"/api/projects/{project.pk}/", {"overlap": 5}, format="json")

    extra = dict(Task.objects.filter(project=project).values_list("id", "extra_annotations"))
    assert extra == {first.pk: -4, second.pk: 0}
    assert services.let_one_check_stand_for_overlap(project_id=project.pk, task_ids=[first.pk]) == 0  # once only


def test_a_control_named_like_the_judges_confidence_is_refused_naming_it(loopback, api, manager):
    config = JUDGED_CONFIG.replace('name="safety"', 'name="confidence"')
    project = services.create_project(creator=manager, title="Judged", label_config=config)
    body = {"engine": "llm_judge", "url": "http://127.0.0.1:9/v1", "llm_model": "judge-1"}

    response = api(manager).put(f"/api/projects/{project.pk}/model/", body, format="json")

    assert response.status_code == 400 and 'rename the control named "confidence"' in response.json()["detail"]

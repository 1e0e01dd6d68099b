"""Build the engine a project's model settings name, once per worker process and model version."""
import os
from functools import lru_cache
from importlib import import_module

from django.conf import settings
from django.core.files.storage import default_storage

from projects.label_config import parse_label_config

from .engines.base import EngineError, Target, pick_target
from .engines.llm_judge import JudgeSettings, LlmJudge
from .models import Engine, ModelVersion, ProjectModel

RESULT_TYPES = {
    Engine.TEXT_CLASSIFIER: {"choices"},
    Engine.ZERO_SHOT: {"choices"},
    Engine.SPAN_TAGGER: {"labels"},
    Engine.DETECTOR: {"rectanglelabels"},
}
# Imported when first used, so the web process never loads scikit-learn.
LEARNED = {Engine.TEXT_CLASSIFIER: "ml.engines.text_classifier", Engine.SPAN_TAGGER: "ml.engines.span_tagger"}
# Engines that read the text of a <Text> object (not an image), by the name their errors use.
TEXT_ENGINES = {Engine.TEXT_CLASSIFIER: "text classifier", Engine.ZERO_SHOT: "zero-shot classifier"}
UPLOAD_URL_PREFIX = "/data/upload/"


def target_for(model: ProjectModel, label_config: str) -> Target | None:
    """The control the model fills (None for an HTTP backend or an LLM judge, which fill several). EngineError if
    none fits."""
    if model.engine in (Engine.HTTP, Engine.LLM_JUDGE):
        return None
    config = parse_label_config(label_config)
    if model.engine in TEXT_ENGINES:
        target = pick_target(config, RESULT_TYPES[model.engine], model.control)
        if config.objects[config.controls[target.control].to_names[0]].kind != "text":
            raise EngineError(f'the {TEXT_ENGINES[model.engine]} needs a <Choices> on a <Text>; "{target.control}" labels an image')
        return target
    return pick_target(config, RESULT_TYPES[model.engine], model.control)


def learned_module(engine: str):
    return import_module(LEARNED[engine])


def build_engine(model: ProjectModel, label_config: str, version: ModelVersion | None):
    """An engine ready to predict. Cached per process, so a worker unpickles a model once, not per chunk; an LLM
    judge is not (it is cheap to build, and its API key is read from the environment each time).
    The key names the version by id and creation time: SQLite may give a deleted row's id to a new one."""
    if model.engine == Engine.LLM_JUDGE:
        return build_judge(model, label_config)
    key = (
        model.engine, model.control, model.url, model.timeout, tuple(sorted(model.label_map.items())),
        label_config, (version.pk, version.created_at) if version else None, model.project_id,
    )
    return _cached_engine(key, version)


def build_judge(model: ProjectModel, label_config: str):
    config = parse_label_config(label_config)
    judge_settings = JudgeSettings(
        url=model.url, model=model.llm_model, api_key=os.environ.get(model.api_key_env, "") if model.api_key_env else "",
        template=model.prompt_template, structured_output=model.structured_output, swap=model.judge_both_orders,
        timeout=model.timeout, retries=settings.LABELER_ML_BACKEND_RETRIES, backoff=settings.LABELER_ML_BACKEND_BACKOFF,
        max_tokens=settings.LABELER_LLM_JUDGE_MAX_TOKENS, concurrency=settings.LABELER_LLM_JUDGE_CONCURRENCY,
    )
    return LlmJudge(config, judge_settings)


@lru_cache(maxsize=8)
def _cached_engine(key: tuple, version: ModelVersion | None):
    engine, control, url, timeout, label_map, label_config, _, project_id = key
    settings_row = ProjectModel(engine=engine, control=control)
    if engine in LEARNED:
        if version is None:
            raise EngineError("the model has not been trained yet")
        return learned_module(engine).load(bytes(version.artifact), target_for(settings_row, label_config), version.version)
    if engine == Engine.ZERO_SHOT:
        from .engines.zero_shot import ZeroShotClassifier

        return ZeroShotClassifier(target=target_for(settings_row, label_config))
    if engine == Engine.DETECTOR:
        from .engines.detector import Detector, resolve_label_map

        target = target_for(settings_row, label_config)
        return Detector(target=target, label_map=resolve_label_map(dict(label_map), target.labels), read_image=read_task_image)
    from .engines.http_backend import HttpBackend

    return HttpBackend(
        url=url, label_config=label_config, project_id=project_id, timeout=timeout,
        retries=settings.LABELER_ML_BACKEND_RETRIES, backoff=settings.LABELER_ML_BACKEND_BACKOFF,
    )


def read_task_image(url: str) -> bytes:
    """The bytes of an image uploaded into Labeler (`/data/upload/{project}/{file}`). Other URLs are not fetched:
    a worker that downloads whatever a task names could be pointed at internal services."""
    if not url.startswith(UPLOAD_URL_PREFIX) or ".." in url:
        raise ValueError("only images uploaded to Labeler can be read (URL /data/upload/...)")
    with default_storage.open("uploads/" + url[len(UPLOAD_URL_PREFIX):], "rb") as image:
        return image.read()

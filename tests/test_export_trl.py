"""The GenAI exports as TRL reads them: DPOTrainer takes PREFERENCE_JSONL (standard and conversational) and
SFTTrainer takes SFT_JSONL, tokenize them with a chat template and train one step, on the CPU, with a tiny random
Llama and a word-level tokenizer built here (nothing downloaded). This is TRL's own dataset handling, not a
check of its documented schema."""
import copy

import pytest

from tests.api_helpers import submit
from tests.export_helpers import body_of, export
from tests.optional import import_optional
from tests.test_export_genai import (DIALOGUE, DIALOGUE_CONFIG, PAIRWISE_CONFIG, accepted, genai_project, load,
                                     offline_hub, pair_task, pairwise, rewrite)  # noqa: F401 (fixture)

trl = import_optional("trl", "pip install 'labeler[test]' (TRL with torch's CPU build)")

CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} </s>{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>{% endif %}")


@pytest.fixture(scope="module")
def tiny_model_and_tokenizer():
    """A word-level tokenizer over the test's words with a chat template, and a one-layer Llama of its size."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    words = ("question answer a b 1 2 3 ? . paris lyon capital of france be brief the ideal <|user|> <|assistant|> "
             "<|system|>").split()
    vocab = {token: index for index, token in enumerate(["[UNK]", "[PAD]", "<s>", "</s>", *words])}
    word_level = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    word_level.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=word_level, unk_token="[UNK]", pad_token="[PAD]",
                                        bos_token="<s>", eos_token="</s>")
    tokenizer.chat_template = CHAT_TEMPLATE
    config = LlamaConfig(vocab_size=len(vocab), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=128)
    return LlamaForCausalLM(config), tokenizer


def train_one_step(trainer_class, config_class, dataset, model_and_tokenizer, tmp_path, **extra):
    model, tokenizer = model_and_tokenizer
    args = config_class(output_dir=str(tmp_path / "out"), max_steps=1, per_device_train_batch_size=2, report_to=[],
                        use_cpu=True, save_strategy="no", logging_steps=1)
    trainer = trainer_class(model=copy.deepcopy(model), args=args, train_dataset=dataset, processing_class=tokenizer,
                            **extra)
    return trainer.train().training_loss


def as_dataset(rows: list[dict]):
    import datasets

    return datasets.Dataset.from_list(rows)


@pytest.mark.parametrize("config, task", [
    (PAIRWISE_CONFIG, None), (DIALOGUE_CONFIG, {"dialogue": DIALOGUE, "response_a": "Paris.", "response_b": "Lyon.",
                                                "model_a": "alpha", "model_b": "beta"}),
], ids=["standard", "conversational"])
def test_dpo_trains_a_step_on_the_preference_export(manager, annotator, tmp_path, tiny_model_and_tokenizer, config, task):
    project, tasks = genai_project(manager, [annotator], config, [task or pair_task(number) for number in range(4)])
    for index, imported in enumerate(tasks):
        accepted(submit(annotator, imported, [pairwise("left" if index % 2 else "right")]))
    rows = load(body_of(export(manager, project, exportType="PREFERENCE_JSONL")), tmp_path)
    assert len(rows) == len(tasks)
    assert trl.data_utils.is_conversational(rows[0]) == (task is not None)

    model, _ = tiny_model_and_tokenizer
    loss = train_one_step(trl.DPOTrainer, trl.DPOConfig, as_dataset(rows), tiny_model_and_tokenizer, tmp_path,
                          ref_model=copy.deepcopy(model))

    assert loss == pytest.approx(0.6931, abs=0.01)  # log 2: policy and reference start equal, as DPO's loss does


def test_sft_trains_a_step_on_the_sft_export(manager, annotator, tmp_path, tiny_model_and_tokenizer):
    project, tasks = genai_project(manager, [annotator], PAIRWISE_CONFIG, [pair_task(number) for number in range(4)])
    for imported in tasks:
        accepted(submit(annotator, imported, [pairwise("left"), rewrite("The ideal answer.")]))
    rows = load(body_of(export(manager, project, exportType="SFT_JSONL")), tmp_path)
    assert rows and all(trl.data_utils.is_conversational(row) for row in rows)

    loss = train_one_step(trl.SFTTrainer, trl.SFTConfig, as_dataset(rows), tiny_model_and_tokenizer, tmp_path)

    assert loss > 0

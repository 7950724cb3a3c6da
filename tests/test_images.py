"""bot/images: safe decoding (bombs, oversized and truncated files), perceptual hashes, OCR of a rendered headline."""

from __future__ import annotations

import io
import struct
import time
import zlib
from pathlib import Path

import pytest

Image = pytest.importorskip("PIL.Image", reason="Pillow comes with the images extra: pip install '.[images]'")
from PIL import ImageDraw, ImageFont  # noqa: E402

from bot.images import OcrTimeout, OcrUnavailable, TooLarge, Undecodable  # noqa: E402
from bot.images.decode import MAX_PIXELS, decode_image, read_image_file  # noqa: E402

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation")


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def bomb_png(width: int, height: int) -> bytes:
    """A real decompression bomb: a 1-bit greyscale PNG of all-black rows; a few KB that inflate to
    width*height pixels (8-bit RGB after conversion: 3 bytes each)."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)  # filter byte + packed bits
    z = zlib.compressobj(9)
    idat = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def encoded(im: "Image.Image", fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def scene(seed: int, size: tuple[int, int] = (640, 480)) -> "Image.Image":
    """A drawn photo-like picture, different per seed (the benchmark's generator)."""
    from benchmarks.image_set import scene as drawn

    return drawn(seed, size)


# -- decoding ------------------------------------------------------------------------------------------------
def test_bomb_png_is_refused_from_its_header_before_decoding():
    data = bomb_png(6000, 6000)  # 36 MP: under Pillow's own 89 MP warning, over our cap
    assert len(data) < 50_000
    start = time.perf_counter()
    with pytest.raises(TooLarge, match="6000x6000"):
        decode_image(data)
    assert time.perf_counter() - start < 0.5  # decoding 36 MP would take far longer than reading a header


def test_huge_bomb_png_is_refused_too():
    with pytest.raises(TooLarge):
        decode_image(bomb_png(20000, 20000))  # 400 MP, over Pillow's hard limit as well


def test_a_bomb_under_a_raised_cap_decodes_so_the_cap_is_what_refuses():
    im = decode_image(bomb_png(1000, 800), max_pixels=1000 * 800)
    assert im.size == (1000, 800) and im.mode == "RGB"
    with pytest.raises(TooLarge):
        decode_image(bomb_png(1000, 800), max_pixels=1000 * 800 - 1)


@pytest.mark.parametrize("size", [(1, 24_000_000), (24_000_000, 1), (16_385, 2)])
def test_a_thread_thin_picture_is_refused_by_its_longest_side(size):
    """1 x 24,000,000 pixels is under the pixel cap in a 22 KB PNG, and hashing and OCR's resize took it to 1.6 GB."""
    with pytest.raises(TooLarge, match=f"{size[0]}x{size[1]} pixels; the longest side may be"):
        decode_image(bomb_png(*size))


def test_a_long_screenshot_is_read():
    assert decode_image(bomb_png(1080, 16_384)).size == (1080, 16_384)


def test_oversized_file_is_refused_by_byte_count(tmp_path: Path):
    data = encoded(scene(1), "PNG")
    with pytest.raises(TooLarge, match="bytes"):
        decode_image(data, max_bytes=len(data) - 1)
    big = tmp_path / "big.jpg"
    big.write_bytes(encoded(scene(1), "JPEG") + b"\x00" * (21 * 1024 * 1024))
    with pytest.raises(TooLarge):
        read_image_file(big)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_truncated_file_is_undecodable(fmt: str):
    data = encoded(scene(2), fmt)
    with pytest.raises(Undecodable):
        decode_image(data[: len(data) // 2])


@pytest.mark.parametrize("data", [b"", b"hello, not an image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40])
def test_garbage_is_undecodable(data: bytes):
    with pytest.raises(Undecodable):
        decode_image(data)


def test_formats_outside_the_list_are_refused():
    with pytest.raises(Undecodable):
        decode_image(encoded(scene(3), "BMP"))
    with pytest.raises(Undecodable):
        decode_image(encoded(scene(3), "TIFF"))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_accepted_formats_decode_to_rgb(fmt: str):
    im = decode_image(encoded(scene(4), fmt))
    assert im.size == (640, 480) and im.mode == "RGB"


def test_gif_gives_its_first_frame():
    frames = [Image.new("RGB", (50, 40), c) for c in ("red", "blue", "green")]
    data = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])
    r, g, b = decode_image(data).getpixel((10, 10))
    assert r > 200 and g < 50 and b < 50


def test_transparency_is_flattened_onto_white():
    im = Image.new("RGBA", (20, 20), (0, 0, 0, 0))
    assert decode_image(encoded(im, "PNG")).getpixel((5, 5)) == (255, 255, 255)


def test_exif_orientation_is_applied():
    im = Image.new("RGB", (200, 100), "white")
    ImageDraw.Draw(im).rectangle((0, 0, 49, 99), fill="black")  # dark band on the left as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    out = decode_image(encoded(im, "JPEG", exif=exif.tobytes()))
    assert out.size == (100, 200)
    assert sum(out.getpixel((50, 10))) < 100 and sum(out.getpixel((50, 190))) > 600  # band now on top


def test_large_jpeg_is_decoded_at_reduced_scale_not_refused():
    side = int(MAX_PIXELS ** 0.5) + 1000  # over the pixel cap at full size
    im = Image.new("RGB", (side, side), "white")
    out = decode_image(encoded(im, "JPEG", quality=50))
    assert out.size[0] * out.size[1] <= MAX_PIXELS and out.size[0] >= side // 8


# -- perceptual hashes ---------------------------------------------------------------------------------------
pdq = pytest.importorskip("pdqhash", reason="pdqhash comes with the images extra")
from bot.engine.known_images import entry_hashes, hamming  # noqa: E402
from bot.images.phash import (MATCH_DISTANCE, content_box, image_hash_entry,  # noqa: E402
                              nearest, pdq_hash, query_hashes, reference_hashes)


def test_hamming():
    assert hamming("00", "ff") == 8 and hamming("0f0f", "0f0e") == 1
    with pytest.raises(ValueError):
        hamming("00", "000")


def test_transformed_copies_are_near_and_other_images_are_far():
    original = scene(10, (800, 600))
    refs = reference_hashes(original)
    assert len(refs) == 10 and all(len(r.hex) == 64 for r in refs) and refs[0].usable
    known = [(r.hex, "the-claim") for r in refs]
    others = [scene(seed, (800, 600)) for seed in range(100, 120)]
    for i, o in enumerate(others):
        known += [(r.hex, f"other-{i}") for r in reference_hashes(o)]
    small_jpeg = decode_image(encoded(original.resize((400, 300)), "JPEG", quality=40))
    cropped = original.crop((25, 50, 745, 590))  # 10% off each side, unevenly: not one of the reference crops
    framed = Image.new("RGB", (900, 800), "white")
    framed.paste(original, (50, 120))
    ImageDraw.Draw(framed).text((50, 40), "someone @someone - is this real??", fill="black")
    for copy in (small_jpeg, cropped, framed):
        found = nearest(query_hashes(copy), known)
        assert found is not None and found[0] == "the-claim" and found[1] <= MATCH_DISTANCE
    assert hamming(refs[0].hex, pdq_hash(small_jpeg).hex) <= MATCH_DISTANCE
    assert nearest(query_hashes(scene(999, (800, 600))), known) is None
    box = content_box(framed)
    assert box is not None and abs(box[0] - 50) <= 8 and abs(box[1] - 120) <= 8 and abs(box[3] - 720) <= 8


def test_flat_image_is_not_trusted_for_matching():
    flat = pdq_hash(Image.new("RGB", (300, 300), (128, 128, 128)))
    assert not flat.usable
    assert nearest(flat, [(flat.hex, "x")]) is None


def test_image_hash_cli_prints_a_pasteable_entry(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    import yaml

    from bot.cli import main

    f = tmp_path / "known.png"
    f.write_bytes(encoded(scene(11), "PNG"))
    assert main(["knowledge", "image-hash", str(f)]) == 0
    doc = yaml.safe_load(capsys.readouterr().out)
    entry = doc["images"][0]
    assert entry["hash"] == pdq_hash(scene(11)).hex and entry["algorithm"] == "pdq" and len(entry["crops"]) == 9
    assert image_hash_entry(f)["hash"] == entry["hash"]
    shared = scene(11).crop((20, 10, 600, 440)).resize((290, 215))
    assert nearest(query_hashes(shared), [(h, "claim") for h in entry_hashes(entry)]) is not None
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    assert main(["knowledge", "image-hash", str(bad)]) == 1


# -- OCR -----------------------------------------------------------------------------------------------------
from bot.images.ocr import available_languages, recognise  # noqa: E402
from tests.conftest import missing  # noqa: E402

needs_ocr = pytest.mark.usefixtures("ocr")  # conftest.py: a skip without Tesseract, a failure in CI


@pytest.fixture(params=["tesserocr", "pytesseract"])
def binding(request: pytest.FixtureRequest, ocr: None) -> str:
    """Each Tesseract binding of the images extra, loaded (see conftest's `missing` when one is not)."""
    import bot.images.ocr as ocr_module

    try:
        ocr_module._backend(request.param)
    except OcrUnavailable as exc:
        missing(f"{request.param} not installed: {exc}")
    return request.param


def headline_image(text: str, *, dark: bool = False) -> "Image.Image":
    font_path = next((Path(d) / "DejaVuSans-Bold.ttf" for d in FONT_DIRS if (Path(d) / "DejaVuSans-Bold.ttf").exists()),
                     None)
    font = ImageFont.truetype(str(font_path), 28) if font_path else ImageFont.load_default(size=28)
    bg, fg = ((20, 20, 28), (235, 235, 235)) if dark else ((255, 255, 255), (20, 20, 20))
    im = Image.new("RGB", (1000, 140), bg)
    ImageDraw.Draw(im).text((24, 50), text, font=font, fill=fg)
    return decode_image(encoded(im, "JPEG", quality=75))


def _cer(got: str, want: str) -> float:
    from rapidfuzz.distance import Levenshtein

    return Levenshtein.distance(" ".join(got.split()), want) / len(want)


@needs_ocr
@pytest.mark.parametrize("dark", [False, True])
def test_ocr_reads_a_rendered_headline_and_the_engine_matches_it(engine, dark: bool):
    want = "Large explosion near the Pentagon complex in Washington DC"
    got = recognise(headline_image(want, dark=dark), languages="eng")
    assert _cer(got.text, want) < 0.05, got.text
    result = engine.check(got.text)
    assert result.decision == "match" and result.matches[0].id == "pentagon-explosion-ai-image-2023"


@needs_ocr
@pytest.mark.skipif("rus" not in available_languages(), reason="tesseract-ocr-rus not installed")
def test_ocr_reads_cyrillic():
    want = "Призрак Киева сбил 40 российских самолетов"
    got = recognise(headline_image(want), languages="eng+rus")
    assert _cer(got.text.replace("ё", "е"), want) < 0.05, got.text


@needs_ocr
def test_missing_language_pack_is_a_typed_answer():
    with pytest.raises(OcrUnavailable, match="xyz"):
        recognise(headline_image("anything"), languages="eng+xyz")


def test_ocr_is_cancelled_at_the_time_limit(binding: str):
    busy = Image.new("RGB", (1800, 1800), "white")  # about 7 s of recognition on this machine
    d = ImageDraw.Draw(busy)
    for y in range(0, 1800, 24):
        d.text((10, y), "lorem ipsum dolor sit amet " * 10, fill="black")
    start = time.perf_counter()
    with pytest.raises(OcrTimeout, match="0.3 s"):
        recognise(busy, languages="eng", timeout=0.3, binding=binding)
    assert time.perf_counter() - start < 3.0  # cancelled, not run to the end


def test_missing_engine_is_a_typed_answer(monkeypatch: pytest.MonkeyPatch):
    import bot.images.ocr as ocr

    class Missing:
        def __init__(self) -> None:
            raise ImportError("not installed here")

    monkeypatch.setattr(ocr, "_BINDINGS", {"tesserocr": Missing, "pytesseract": Missing})
    monkeypatch.setattr(ocr, "_backends", {})
    assert not ocr.ocr_available()
    with pytest.raises(OcrUnavailable, match="no OCR engine installed"):
        ocr.recognise(Image.new("RGB", (10, 10)))


def test_read_image_gives_text_and_hashes_and_survives_missing_ocr(monkeypatch: pytest.MonkeyPatch):
    import bot.images.reading as reading

    data = encoded(scene(12), "JPEG", quality=80)
    monkeypatch.setattr(reading, "recognise", lambda *a, **k: (_ for _ in ()).throw(OcrUnavailable("not here")))
    r = reading.read_image(data)
    assert r.text == "" and isinstance(r.ocr_error, OcrUnavailable) and r.hashes and r.hashes[0].usable
    with pytest.raises(TooLarge):
        reading.read_image(bomb_png(6000, 6000))
    with pytest.raises(Undecodable):
        reading.read_image(data[:100])


@needs_ocr
def test_read_image_reads_a_screenshot():
    from bot.images.reading import read_image

    want = "Russia hacked the DNC"
    r = read_image(encoded(headline_image(want), "PNG"), languages="eng")
    assert r.ocr_error is None and _cer(r.text, want) < 0.1 and r.hashes


def test_both_tesseract_bindings_read_the_same_headline(binding: str):
    want = "Iran shot down the Ukrainian plane"
    got = recognise(headline_image(want), languages="eng+rus", binding=binding)
    assert got.engine == binding and _cer(got.text, want) < 0.05, got.text


@needs_ocr
def test_check_image_on_the_command_line(knowledge_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from bot.cli import main

    f = tmp_path / "shot.png"
    f.write_bytes(encoded(headline_image("Pope Francis Shocks World, Endorses Donald Trump for President"), "PNG"))
    assert main(["check", "--db", str(knowledge_db), "--json", "--image", str(f)]) == 0
    out = capsys.readouterr()
    assert "Pope Francis" in out.err
    import json

    assert json.loads(out.out)["card"]["claim_id"] == "pope-francis-endorsed-trump-2016"
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(bomb_png(6000, 6000))
    assert main(["check", "--db", str(knowledge_db), "--image", str(bomb)]) == 1
    assert "6000x6000" in capsys.readouterr().err


def test_benchmark_set_is_reproducible(tmp_path: Path):
    import hashlib

    from benchmarks.image_set import fonts_present, generate

    if len(fonts_present()) < 3:
        pytest.skip("fonts missing: apt-get install fonts-dejavu-core fonts-liberation fonts-noto-core")
    knowledge = Path(__file__).resolve().parent.parent / "knowledge"

    def digest(out: Path) -> dict[str, str]:
        generate(out, knowledge, per_claim=1, known=1, unrelated_scenes=2)
        return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(out.iterdir())}

    a, b = digest(tmp_path / "a"), digest(tmp_path / "b")
    assert a == b and len(a) > 39 + 17 + 30

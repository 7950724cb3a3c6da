"""Known images (issue 19): `images:` in claim files, the store's table, Engine.check_image on transformed copies of
a generated picture, Engine.outlet_for_channel, and `check --image` end to end on a temporary knowledge directory."""

from __future__ import annotations

import io
import json
import random
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli import main
from bot.config import DEFAULT_KNOWLEDGE_DIR
from bot.engine import known_images
from bot.engine.knowledge import KnowledgeError, load_knowledge
from bot.engine.service import Engine
from bot.engine.store import build_database
from tests.test_knowledge import GOOD, problems, write_claim

Image = pytest.importorskip("PIL.Image", reason="Pillow comes with the images extra: pip install '.[images]'")
pytest.importorskip("pdqhash", reason="pdqhash comes with the images extra")
from benchmarks.image_set import TRANSFORMS, scene  # noqa: E402
from bot.images.reading import read_image  # noqa: E402

PENTAGON = "pentagon-explosion-ai-image-2023"
H0, H1 = "0" * 64, "f" * 64
SOURCE = {"outlet": "Example Fact Check", "date": "2023-05-22", "headline": "Drawn test picture, not a real photograph"}


def jpeg(im: "Image.Image", quality: int = 85) -> bytes:
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def hashes_of(data: bytes) -> list[str]:
    """What a chat layer passes: the usable PDQ hashes of the received picture."""
    return read_image(data, ocr=False).usable_hashes


def entry(**changes) -> dict:
    e = {"algorithm": "pdq", "hash": H0, "crops": [H1], "description": "A drawn picture.", "source": dict(SOURCE)}
    e.update(changes)
    return {k: v for k, v in e.items() if v is not None}


def claim_with_images(root: Path, images, claim_id: str = "example-claim") -> Path:
    text = GOOD.format(id=claim_id) + yaml.safe_dump({"images": images}, sort_keys=False, allow_unicode=True)
    return write_claim(root, claim_id, text)


# -- schema ---------------------------------------------------------------------------------------------------
def test_a_valid_entry_loads_with_lowercase_hashes(tmp_path):
    claim_with_images(tmp_path, [entry(hash="AB" * 32)])
    images = load_knowledge(tmp_path).claims[0]["images"]
    assert images[0]["hash"] == "ab" * 32 and images[0]["crops"] == [H1] and images[0]["source"]["outlet"]


@pytest.mark.parametrize("change, field, words", [
    ({"hash": "xyz"}, "images[0].hash", "not a PDQ hash"),
    ({"hash": "a" * 63}, "images[0].hash", "not a PDQ hash"),
    ({"hash": None}, "images[0].hash", "required field missing"),
    ({"crops": [H1, "g" * 64]}, "images[0].crops[1]", "not a PDQ hash"),
    ({"crops": H1}, "images[0].crops", "must be a list"),
    ({"crops": [H1] * (known_images.MAX_CROPS + 1)}, "images[0].crops", "at most"),
    ({"algorithm": "phash"}, "images[0].algorithm", "not one of pdq"),
    ({"description": None}, "images[0].description", "required field missing"),
    ({"description": "  "}, "images[0].description", "non-empty"),
    ({"description": "TODO: what the picture shows"}, "images[0].description", "placeholder"),
    ({"source": None}, "images[0].source", "required field missing"),
    ({"source": {**SOURCE, "outlet": "TODO"}}, "images[0].source.outlet", "placeholder"),
    ({"source": {**SOURCE, "date": "2023-02-30"}}, "images[0].source.date", "not a real date"),
    ({"source": {**SOURCE, "url": "http://"}}, "images[0].source.url", "not a usable http(s) URL"),
    ({"source": {"outlet": "X", "date": "2023"}}, "images[0].source.headline", "required field missing"),
    ({"warning": "too flat"}, "images[0].warning", "unknown field"),
])
def test_schema_errors_name_the_file_and_the_field(tmp_path, change, field, words):
    path = claim_with_images(tmp_path, [entry(**change)])
    found = problems(tmp_path)
    assert any(p.startswith(f"{path}: {field}") and words in p for p in found), found


def test_images_must_be_a_bounded_list(tmp_path):
    path = claim_with_images(tmp_path, "not a list")
    assert any(p.startswith(f"{path}: images: must be a list") for p in problems(tmp_path))
    path = claim_with_images(tmp_path, [entry() for _ in range(known_images.MAX_IMAGES + 1)])  # no YAML aliases
    assert any(p.startswith(f"{path}: images: ") and "at most" in p for p in problems(tmp_path))


def test_a_hash_of_digits_only_left_unquoted_is_an_error_not_a_crash(tmp_path):
    path = write_claim(tmp_path, "example-claim", GOOD.format(id="example-claim") + textwrap.dedent(f"""\
        images:
          - algorithm: pdq
            hash: {"1" * 64}
            description: A drawn picture.
            source: {{outlet: X, date: 2023, headline: Y}}
    """))
    assert any(p.startswith(f"{path}: images[0].hash") for p in problems(tmp_path))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(st.text(max_size=80), st.text(alphabet="0123456789abcdefABCDEF", min_size=60, max_size=68),
                       st.integers(), st.none(), st.lists(st.text(max_size=5), max_size=3)))
def test_any_hash_value_loads_as_a_hash_or_is_a_named_problem(tmp_path, value):
    path = claim_with_images(tmp_path, [entry(hash=value)] if value is not None else [entry(hash="")])
    try:
        kb = load_knowledge(tmp_path)
    except KnowledgeError as err:
        assert all(p.startswith(f"{path}: images[0].hash") for p in err.problems), err.problems
        return
    assert known_images.is_hash(kb.claims[0]["images"][0]["hash"])


def test_the_pasted_output_of_image_hash_must_be_completed(tmp_path, capsys):
    picture = tmp_path / "picture.png"
    scene(7, (400, 300)).save(picture)
    assert main(["knowledge", "image-hash", str(picture)]) == 0
    path = write_claim(tmp_path, "example-claim", GOOD.format(id="example-claim") + capsys.readouterr().out)
    found = problems(tmp_path)
    assert any(p.startswith(f"{path}: images[0].description") and "placeholder" in p for p in found), found
    assert any(p.startswith(f"{path}: images[0].source.outlet") and "placeholder" in p for p in found), found
    assert not any(".hash" in p or ".crops" in p for p in found), found  # the hashes it prints are valid


def test_one_picture_under_two_claims_is_a_warning(tmp_path):
    claim_with_images(tmp_path, [entry(hash=H0)], "first-claim")
    claim_with_images(tmp_path, [entry(hash="0" * 63 + "3")], "second-claim")  # 2 bits apart
    kb = load_knowledge(tmp_path)
    assert any("images[0]: 2 bits from" in w and "second-claim" in w for w in kb.warnings), kb.warnings


# -- Telegram handles in ownership notes ----------------------------------------------------------------------
CITE = {"outlet": "Example Encyclopedia", "headline": "Example TV", "url": "https://example.org/wiki/Example_TV",
        "states": "names the channel's username as the outlet's"}


def ownership(root: Path, telegram, domain: str = "rt.com") -> Path:
    path = root / "outlets" / "ownership.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    outlet = {"domain": domain, "name": "Example TV", "ownership": "state-funded", "note": "Funded by a state.",
              "citation": {"outlet": "Example Times", "date": "2022-03-18", "headline": "Example headline"},
              "telegram": telegram}
    path.write_text(yaml.safe_dump([outlet], sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("handle, words", [("@example_tv", "without the @"), ("abcd", "not a Telegram username"),
                                           ("has space", "not a Telegram username"), ("x" * 33, "not a Telegram username"),
                                           ("example-tv", "not a Telegram username")])
def test_bad_handles_are_named(tmp_path, handle, words):
    write_claim(tmp_path, "example-claim")
    path = ownership(tmp_path, [{"handle": handle, "citation": CITE}])
    found = problems(tmp_path)
    assert any(p.startswith(f"{path}: [0].telegram[0].handle") and words in p for p in found), found


@pytest.mark.parametrize("drop", ["url", "states", "outlet"])
def test_every_handle_needs_its_citation(tmp_path, drop):
    write_claim(tmp_path, "example-claim")
    path = ownership(tmp_path, [{"handle": "example_tv", "citation": {k: v for k, v in CITE.items() if k != drop}}])
    assert any(p.startswith(f"{path}: [0].telegram[0].citation.{drop}: required") for p in problems(tmp_path))
    path = ownership(tmp_path, [{"handle": "example_tv"}])
    assert any(p.startswith(f"{path}: [0].telegram[0].citation: required") for p in problems(tmp_path))


def test_a_handle_listed_twice_is_an_error(tmp_path):
    write_claim(tmp_path, "example-claim")
    path = ownership(tmp_path, [{"handle": "Example_TV", "citation": dict(CITE)}, {"handle": "example_tv", "citation": dict(CITE)}])
    assert any(p.startswith(f"{path}: [0].telegram[1].handle") and "already listed" in p for p in problems(tmp_path))


# -- a temporary knowledge directory: the shipped claims, one generated known picture, one channel -------------
@pytest.fixture(scope="module")
def picture() -> "Image.Image":
    return scene(4242, (800, 600))


@pytest.fixture(scope="module")
def kdir(tmp_path_factory, picture) -> Path:
    """The shipped knowledge with the generated picture under the Pentagon claim (its entry made by
    `knowledge image-hash`, as a curator would) and a test channel for RT."""
    root = tmp_path_factory.mktemp("known") / "knowledge"
    shutil.copytree(DEFAULT_KNOWLEDGE_DIR, root)
    picture_file = root.parent / "picture.png"
    picture.save(picture_file)
    out = subprocess.run([sys.executable, "-m", "bot", "knowledge", "image-hash", str(picture_file)],
                         capture_output=True, text=True, check=True).stdout
    (e,) = yaml.safe_load(out)["images"]
    e["description"] = "A drawn skyline with a smoke plume, generated for this test."
    e["source"] = dict(SOURCE)
    claim = root / "claims" / f"{PENTAGON}.yaml"
    claim.write_text(claim.read_text(encoding="utf-8") + yaml.safe_dump({"images": [e]}, sort_keys=False),
                     encoding="utf-8")
    notes = yaml.safe_load((root / "outlets" / "ownership.yaml").read_text(encoding="utf-8"))
    rt = next(o for o in notes if o["domain"] == "rt.com")
    rt["telegram"] = [h for h in rt.get("telegram", []) if h["handle"] != "example_rt_test"]
    rt["telegram"].append({"handle": "Example_RT_Test", "citation": CITE})
    (root / "outlets" / "ownership.yaml").write_text(yaml.safe_dump(notes, sort_keys=False, allow_unicode=True),
                                                     encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def db(kdir) -> Path:
    return build_database(kdir, kdir.parent / "kb.db")


@pytest.fixture(scope="module")
def eng(db) -> Engine:
    return Engine(db)


def test_build_stores_each_hash_of_each_picture(db, kdir):
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT claim_id, entry, slot, hash, description, source FROM known_images").fetchall()
    assert len(rows) == 10 and {r[0] for r in rows} == {PENTAGON} and sorted(r[2] for r in rows) == list(range(10))
    claim = yaml.safe_load((kdir / "claims" / f"{PENTAGON}.yaml").read_text(encoding="utf-8"))
    assert {r[3] for r in rows} == set(known_images.entry_hashes(claim["images"][0]))
    assert json.loads(rows[0][5]) == SOURCE
    data = json.loads(conn.execute("SELECT data FROM claims WHERE id = ?", (PENTAGON,)).fetchone()[0])
    assert "images" not in data  # held once, in its own table
    assert conn.execute("SELECT domain FROM outlet_channels WHERE handle = 'example_rt_test'").fetchone() == ("rt.com",)


@pytest.mark.parametrize("transform", ["resize", "crop10", "jpeg40", "border"])
def test_transformed_copies_get_the_claims_card_without_text(eng, picture, transform):
    copy = TRANSFORMS[transform](picture, random.Random(3))
    result = eng.check_image("", hashes_of(jpeg(copy, 40 if transform == "jpeg40" else 85)))
    assert result.decision == "match" and result.card is not None and result.card.claim_id == PENTAGON
    assert result.image is not None and result.image.claim_id == PENTAGON
    assert result.image.distance <= known_images.MATCH_DISTANCE and f"known image, {result.image.distance} bits" in result.reason
    assert result.image.description.startswith("A drawn skyline") and result.image.source.outlet == SOURCE["outlet"]
    assert result.card.confidence == known_images.confidence(result.image.distance)
    assert result.matches[0].id == PENTAGON and json.dumps(result.to_dict())


def test_an_exact_copy_is_zero_bits_and_full_confidence(eng, picture):
    result = eng.check_image("", hashes_of(jpeg(picture, 95)))
    assert result.image is not None and result.image.distance <= 8 and result.card.confidence >= 0.94
    png = io.BytesIO()
    picture.save(png, "PNG")
    exact = eng.check_image("", hashes_of(png.getvalue()))
    assert exact.image.distance == 0 and exact.card.confidence == 1.0


def test_unrelated_generated_pictures_get_no_card(eng):
    for seed in range(30):
        im = scene(9000 + seed, random.Random(seed).choice([(800, 600), (640, 640), (1200, 675)]))
        if seed % 3 == 2:
            im = TRANSFORMS["border"](im, random.Random(seed))
        result = eng.check_image("", hashes_of(jpeg(im)))
        assert result.image is None and result.decision == "none", (seed, result.reason)


def test_without_a_known_picture_the_text_decides(eng):
    text = "Bill Gates wants to put microchips in people through vaccines"
    for hashes in ([], ["not a hash", "1234", None, "g" * 64], [H0]):
        got, want = eng.check_image(text, hashes), eng.check(text)
        assert got.image is None and (got.decision, [m.id for m in got.matches]) == (want.decision, [m.id for m in want.matches])
    assert eng.check_image("", []).decision == "none"


def test_the_picture_wins_over_a_caption_about_another_claim(eng, picture):
    caption = "Bill Gates wants to put microchips in people through vaccines"
    assert eng.check(caption).matches[0].id != PENTAGON
    result = eng.check_image(caption, hashes_of(jpeg(picture)))
    assert result.card.claim_id == PENTAGON and result.matches[0].id == PENTAGON
    assert "the picture wins" in result.reason and eng.check(caption).matches[0].id in result.reason
    assert eng.check(caption).matches[0].id in [m.id for m in result.matches[1:]]  # the text's find stays listed


def test_a_caption_about_the_same_claim_agrees(eng, picture):
    result = eng.check_image("BREAKING - explosion reported near the Pentagon", hashes_of(jpeg(picture)))
    assert result.card.claim_id == PENTAGON and "the text agrees" in result.reason
    assert [m.id for m in result.matches].count(PENTAGON) == 1


def test_a_flat_picture_is_not_matched(eng):
    flat = Image.new("RGB", (400, 300), (128, 128, 128))
    assert hashes_of(jpeg(flat)) == []  # too flat to trust: the reading leaves it out
    assert eng.check_image("", hashes_of(jpeg(flat))).image is None


def test_a_scan_over_hundreds_of_pictures_is_fast():
    rnd = random.Random(1)
    rows = [(f"claim-{i}", 0, f"{rnd.getrandbits(256):064x}", "d", "{}") for i in range(500) for _ in range(10)]
    index = known_images.KnownImages(rows)
    assert len(index) == 500
    start = time.perf_counter()
    for _ in range(20):
        assert index.match([f"{rnd.getrandbits(256):064x}", f"{rnd.getrandbits(256):064x}"]) is None
    assert (time.perf_counter() - start) / 20 < 0.05  # 5,000 hashes x 2: about 2 ms here
    assert index.match([rows[4321][2]]) == (known_images.KnownImage("claim-432", "d", {}), 0)


def test_the_live_engine_counts_picture_checks(db, picture):
    from bot import ops
    from bot.knowledge_live import LiveEngine

    live = LiveEngine(db)
    before = ops.DECISIONS.labels("match")._value.get()
    result = live.check_image("", hashes_of(jpeg(picture)))
    assert result.image is not None and result.card.claim_id == PENTAGON
    assert ops.DECISIONS.labels("match")._value.get() == before + 1
    assert live.outlet_for_channel("example_rt_test") is not None  # everything else: the current engine's


# -- channels -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("handle", ["Example_RT_Test", "@example_rt_test", "  @EXAMPLE_RT_TEST "])
def test_outlet_for_channel_gives_the_outlets_note(eng, handle):
    note = eng.outlet_for_channel(handle)
    assert note is not None and note == eng.outlet_for_url("https://rt.com/")
    assert note.domain == "rt.com" and note.ownership.startswith("state-")


@pytest.mark.parametrize("handle", ["", "@", "no_such_channel", "rt.com", "example_rt_tes"])
def test_outlet_for_channel_unknown(eng, handle):
    assert eng.outlet_for_channel(handle) is None


# -- the command line -----------------------------------------------------------------------------------------
def test_check_image_on_the_command_line(db, picture, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CLAIM_CONTEXT_SEMANTIC", "0")
    shared = tmp_path / "shared.jpg"
    shared.write_bytes(jpeg(TRANSFORMS["border"](picture, random.Random(5)), 60))
    assert main(["check", "--image", str(shared), "--json", "--db", str(db)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["decision"] == "match" and out["card"]["claim_id"] == PENTAGON
    assert out["image"]["claim_id"] == PENTAGON and out["image"]["distance"] <= known_images.MATCH_DISTANCE
    other = tmp_path / "other.jpg"
    other.write_bytes(jpeg(scene(31337, (640, 480))))
    assert main(["check", "--image", str(other), "--json", "--db", str(db)]) == 0
    assert json.loads(capsys.readouterr().out)["image"] is None


def test_the_engine_matches_without_pillow():
    code = "import sys, bot.engine.service, bot.engine.known_images; sys.exit('PIL' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent).returncode == 0


def test_the_audit_lists_the_sources_of_known_images(tmp_path):
    from bot.engine.audit import claim_sources, review_is_stale

    claim_with_images(tmp_path, [entry(source={**SOURCE, "date": "2026-11-30"})])
    claim = load_knowledge(tmp_path).claims[0]
    image = [s for s in claim_sources(claim) if s["kind"] == "image"]
    assert image == [{"kind": "image", "by": "", "outlet": SOURCE["outlet"], "date": "2026-11-30",
                      "headline": SOURCE["headline"], "url": "", "author": "", "rating": "", "summary": "A drawn picture."}]
    assert review_is_stale(claim)  # a picture's source dated after the last review


def test_without_ocr_a_known_picture_is_still_recognised(db, picture, tmp_path, monkeypatch, capsys):
    import bot.images.reading as reading
    from bot.images import OcrUnavailable

    def no_ocr(*args, **kwargs):
        raise OcrUnavailable("tesseract is not installed")

    monkeypatch.setattr(reading, "recognise", no_ocr)
    monkeypatch.setenv("CLAIM_CONTEXT_SEMANTIC", "0")
    f = tmp_path / "copy.jpg"
    f.write_bytes(jpeg(picture.resize((400, 300)), 70))
    assert main(["check", "--image", str(f), "--json", "--db", str(db)]) == 0
    out = capsys.readouterr()
    assert "tesseract is not installed" in out.err and json.loads(out.out)["image"]["claim_id"] == PENTAGON

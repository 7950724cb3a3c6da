"""`python -m bot` / `claim-context`: a thin command line over the engine's library API."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import json
import logging
import sys
from pathlib import Path

from bot.config import Settings


def _settings() -> Settings:
    return Settings.from_env()


# -- knowledge ---------------------------------------------------------------------------------------------
def cmd_validate(args: argparse.Namespace) -> int:
    from bot.engine.knowledge import KnowledgeError, load_knowledge

    directory = Path(args.dir or _settings().knowledge_dir)
    try:
        kb = load_knowledge(directory)
    except KnowledgeError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found; nothing built.", file=sys.stderr)
        return 1
    print(f"{directory}: {len(kb.claims)} claims, {len(kb.ownership)} ownership notes, "
          f"{len(kb.rsp)} perennial-source entries, {len(kb.gazetteer)} gazetteer entities: OK")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from bot.engine.knowledge import KnowledgeError
    from bot.engine.store import build_database

    s = _settings()
    directory, db = Path(args.knowledge or s.knowledge_dir), Path(args.db or s.db_path)
    try:
        build_database(directory, db)
    except KnowledgeError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found; {db} left unchanged.", file=sys.stderr)
        return 1
    print(f"built {db}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from bot.engine.importers import parse_file
    from bot.engine.store import import_claims

    claims, skipped = [], []
    for f in args.files:
        report = parse_file(f)
        claims += report.claims
        skipped += report.skipped
    added, present = import_claims(args.db, claims)
    for line in skipped:
        print(f"skipped: {line}", file=sys.stderr)
    print(f"imported {added} claim(s) into {args.db}; {present} already present; {len(skipped)} item(s) skipped")
    return 0 if claims or not skipped else 1


def cmd_vectors(args: argparse.Namespace) -> int:
    from bot.engine.semantic import SemanticUnavailable, build_vectors

    db = Path(args.db or _settings().db_path)
    try:
        added = build_vectors(db)
    except SemanticUnavailable as exc:
        print(f"vectors: {exc}", file=sys.stderr)
        return 1
    print(f"{db}: {added} claim vector(s) added")
    return 0


def cmd_rsp(args: argparse.Namespace) -> int:
    from bot.engine.outlets import rsp_entries, write_rsp_yaml

    out = Path(args.out or _settings().knowledge_dir / "outlets" / "rsp.yaml")
    entries = rsp_entries(args.jsonl)
    write_rsp_yaml(entries, out)
    print(f"wrote {out}: {len(entries)} entries, {sum(len(e['domains']) for e in entries)} domains")
    return 0


def cmd_image_hash(args: argparse.Namespace) -> int:
    import yaml

    from bot.images import ImageError
    from bot.images.phash import image_hash_entry

    try:
        entries = [image_hash_entry(f) for f in args.files]
    except (ImageError, OSError) as exc:
        print(f"image-hash: {exc}", file=sys.stderr)
        return 1
    print(yaml.safe_dump({"images": entries}, allow_unicode=True, sort_keys=False), end="")
    return 0


# -- checking ------------------------------------------------------------------------------------------------
def ensure_database(settings: Settings, db: Path | None = None) -> Path:
    """The default database, rebuilt from the shipped knowledge when missing or stale."""
    from bot.engine.store import build_database, database_is_current

    path = Path(db or settings.db_path)
    if db is None and not database_is_current(settings.knowledge_dir, path):
        build_database(settings.knowledge_dir, path)
    if settings.semantic:
        from bot.engine.semantic import build_vectors

        build_vectors(path)  # adds only what is missing
    return path


def cmd_check(args: argparse.Namespace) -> int:
    from bot.engine.cards import render_result_text
    from bot.engine.service import Engine

    s = _settings()
    engine = Engine(ensure_database(s, Path(args.db) if args.db else None), semantic=s.semantic)
    if args.jsonl:
        for line in sys.stdin:
            result = engine.check(line.rstrip("\n"))
            print(json.dumps(result.to_dict(), ensure_ascii=False), flush=True)
        return 0
    if args.image:  # the text read from an image is checked like a message (known pictures: after the schema)
        from bot.images import ImageError
        from bot.images.reading import read_image

        try:
            reading = read_image(Path(args.image).read_bytes())
        except (ImageError, OSError) as exc:
            print(f"check: {args.image}: {exc}", file=sys.stderr)
            return 1
        if reading.ocr_error:
            print(f"check: {args.image}: {reading.ocr_error}", file=sys.stderr)
            return 1
        print(f"read from the image: {' '.join(reading.text.split()) or '(no text)'}", file=sys.stderr)
        args.text, args.fetch = [reading.text], False
    if not args.text:
        print("check: give TEXT, --image FILE or --jsonl", file=sys.stderr)
        return 2
    text = " ".join(args.text)

    async def go():
        from bot.links import LinkResolver

        resolver = LinkResolver(allow_private=s.allow_private_fetch)
        try:
            return await engine.check_message(text, resolver)
        finally:
            await resolver.aclose()

    result = asyncio.run(go()) if args.fetch else engine.check(text)
    print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) if args.json else render_result_text(result))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from bot.adapters.runner import run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the Telegram token in URLs
    s = _settings()
    ensure_database(s)
    return asyncio.run(run(s))


def cmd_bench(args: argparse.Namespace) -> int:
    """The benchmarks live beside the package in a source checkout (`python -m benchmarks`), not in it."""
    if importlib.util.find_spec("benchmarks") is None:
        print("bench: the benchmarks are not installed with the package; run `python -m benchmarks ...` from the "
              "root of a source checkout", file=sys.stderr)
        return 2
    from benchmarks.__main__ import main as bench_main

    return bench_main([args.which, *args.rest])


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="claim-context", description="Context cards for claims seen in chats.")
    sub = p.add_subparsers(dest="command", required=True)

    k = sub.add_parser("knowledge", help="validate, build and import the claim database").add_subparsers(dest="action", required=True)
    v = k.add_parser("validate", help="check every knowledge file against the schema")
    v.add_argument("dir", nargs="?")
    v.set_defaults(func=cmd_validate)
    b = k.add_parser("build", help="compile knowledge into SQLite (atomic)")
    b.add_argument("--knowledge")
    b.add_argument("--db")
    b.set_defaults(func=cmd_build)
    i = k.add_parser("import", help="import ClaimReview JSON-LD / Google Fact Check Tools JSON")
    i.add_argument("files", nargs="+")
    i.add_argument("--db", required=True)
    i.set_defaults(func=cmd_import)
    vec = k.add_parser("vectors", help="add semantic vectors to a database (needs pip install '.[semantic]')")
    vec.add_argument("--db")
    vec.set_defaults(func=cmd_vectors)
    r = k.add_parser("rsp", help="regenerate knowledge/outlets/rsp.yaml from Wikipedia's perennial-sources JSONL")
    r.add_argument("jsonl")
    r.add_argument("--out")
    r.set_defaults(func=cmd_rsp)

    ih = k.add_parser("image-hash", help="print the `images:` entry (perceptual hash) for local image files")
    ih.add_argument("files", nargs="+")
    ih.set_defaults(func=cmd_image_hash)

    c = sub.add_parser("check", help="check a message (or --jsonl lines on stdin)")
    c.add_argument("text", nargs="*")
    c.add_argument("--db")
    c.add_argument("--json", action="store_true")
    c.add_argument("--jsonl", action="store_true")
    c.add_argument("--image", metavar="FILE", help="check the text read from an image (needs the images extra)")
    c.add_argument("--no-fetch", dest="fetch", action="store_false", help="do not fetch links in the text")
    c.set_defaults(func=cmd_check)

    sub.add_parser("run", help="start every adapter whose token is set; the console adapter when none is").set_defaults(func=cmd_run)

    be = sub.add_parser("bench", help="benchmarks (see BENCHMARKS.md)")
    be.add_argument("which", help="retrieval, scale, links, telegram, discord, train, finetune, images (BENCHMARKS.md)")
    be.add_argument("rest", nargs=argparse.REMAINDER)
    be.set_defaults(func=cmd_bench)

    try:
        from bot.curation import add_cli
    except ImportError:  # pragma: no cover - curation lands separately
        pass
    else:
        add_cli(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args) or 0)

"""`python -m bot` / `claim-context`: a thin command line over the engine's library API."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import json
import logging
import os
import sys
import time
from pathlib import Path

from bot.config import ConfigError, Settings


def _settings() -> Settings:
    return Settings.from_env()


# -- knowledge ---------------------------------------------------------------------------------------------
def cmd_validate(args: argparse.Namespace) -> int:
    from bot.engine.knowledge import KnowledgeError, load_knowledge, missing_languages

    directory = Path(args.dir or _settings().knowledge_dir)
    try:
        kb = load_knowledge(directory)
    except KnowledgeError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found; nothing built.", file=sys.stderr)
        return 1
    for warning in kb.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    strict = [w for w in kb.warnings if "(status " in w]
    if args.strict and strict:
        print(f"{len(strict)} distorted phrasing(s) under true or mostly-true claims (--strict).", file=sys.stderr)
        return 1
    print(f"{directory}: {len(kb.claims)} claims, {len(kb.ownership)} ownership notes, "
          f"{len(kb.rsp)} perennial-source entries, {len(kb.gazetteer)} gazetteer entities: OK"
          + (f" ({len(kb.warnings)} warning(s))" if kb.warnings else ""))
    # Not an error: a claim may be curated in English first; the list says what translators have left.
    for claim_id, codes in missing_languages(kb).items():
        print(f"{claim_id}: no phrasings in {', '.join(codes)}")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from bot.engine.audit import audit_report, render_audit_text
    from bot.engine.knowledge import KnowledgeError, load_knowledge

    try:
        report = audit_report(load_knowledge(Path(args.dir or _settings().knowledge_dir)))
    except KnowledgeError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 1
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else render_audit_text(report))
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from bot.engine.knowledge import KnowledgeError
    from bot.engine.store import build_database
    from bot.knowledge_versions import publish

    s = _settings()
    directory, db = Path(args.knowledge or s.knowledge_dir), Path(args.db or s.db_path)
    t0 = time.perf_counter()
    try:
        version = publish(db, lambda f: build_database(directory, f, vectors=s.semantic))
    except KnowledgeError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found; {db} left unchanged.", file=sys.stderr)
        return 1
    print(f"built {db} -> {version.name} in {time.perf_counter() - t0:.1f} s{_vector_note(version)} (running bots switch "
          "to it within seconds, or at once on SIGHUP)")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from bot.engine.knowledge import KnowledgeError
    from bot.knowledge_sync import sync

    s = _settings()
    urls = list(args.urls or s.knowledge_feeds)
    if not urls:
        print("sync: no feeds: set CLAIM_CONTEXT_FEEDS (ClaimReview DataFeed URLs) or pass URLs", file=sys.stderr)
        return 2
    db = Path(args.db or s.db_path)
    try:
        report = sync(Path(args.knowledge or s.knowledge_dir), db, urls, feeds_dir=db.parent / "feeds",
                      max_bytes=s.feed_max_bytes, allow_private=s.allow_private_fetch, vectors=s.semantic)
    except KnowledgeError as exc:
        print(f"knowledge: {exc.problems[0]} ({len(exc.problems)} problem(s)); {db} left unchanged", file=sys.stderr)
        return 1
    for f in report.feeds:
        print(f"{f.url}: {f.status} ({f.claims} claim(s) used)")
    print(f"published {report.published.name}" if report.published else f"{db} is up to date ({report.version})")
    return 0 if report.ok else 1


def _vector_note(db: Path) -> str:
    """How many claim vectors the database holds, their size, and what this build or import embedded
    (empty without the semantic tier's table)."""
    import sqlite3

    from bot.engine.semantic import vector_summary

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        v = vector_summary(conn)
    finally:
        conn.close()
    if v is None:
        return ""
    size = f"{v['bytes'] / 2**20:.1f} MB" if v["bytes"] >= 2**20 else f"{v['bytes'] / 2**10:.0f} KB"
    return f" ({v['vectors']} claim vectors, {size}; {v['last_added']} embedded now in {v['last_seconds']:.1f} s)"


def cmd_import(args: argparse.Namespace) -> int:
    from bot.engine.importers import parse_files
    from bot.engine.store import import_claims

    report = parse_files(args.files)  # duplicates across files are reported, not inserted twice
    claims, skipped = report.claims, report.skipped
    t0 = time.perf_counter()
    try:
        added, present = import_claims(args.db, claims, vectors=_settings().semantic)
    except ValueError as exc:  # a database of an older schema: the message says how to rebuild it
        print(f"import: {exc}", file=sys.stderr)
        return 1
    for line in skipped:
        print(f"skipped: {line}", file=sys.stderr)
    print(f"imported {added} claim(s) into {args.db} in {time.perf_counter() - t0:.1f} s{_vector_note(Path(args.db))}; "
          f"{present} already present; {len(skipped)} item(s) skipped")
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
    from bot.knowledge_versions import publish
    from bot.knowledge_sync import includes_curated

    path = Path(db or settings.db_path)
    if db is None and not (database_is_current(settings.knowledge_dir, path)
                           or includes_curated(settings.knowledge_dir, path)):
        publish(path, lambda f: build_database(settings.knowledge_dir, f, vectors=settings.semantic))
    if settings.semantic:
        from bot.engine.semantic import build_vectors

        build_vectors(path)  # adds only what is missing (a database built with CLAIM_CONTEXT_SEMANTIC=0)
    return path


def cmd_check(args: argparse.Namespace) -> int:
    from bot.chat import checking
    from bot.chat.render_text import render_result
    from bot.engine.service import Engine

    s = _settings()
    # the version file itself, not the symlink: a switch meanwhile must not mix versions between threads
    engine = Engine(Path(os.path.realpath(ensure_database(s, Path(args.db) if args.db else None))), semantic=s.semantic)
    if args.jsonl:
        for line in sys.stdin:
            result = engine.check(line.rstrip("\n"))
            print(json.dumps(result.to_dict(), ensure_ascii=False), flush=True)
        return 0
    if args.image:  # a known picture (perceptual hash) gets its claim's card; otherwise the text read from it
        from bot.images import ImageError
        from bot.images.reading import read_image

        try:
            reading = read_image(Path(args.image).read_bytes())
        except (ImageError, OSError) as exc:
            print(f"check: {args.image}: {exc}", file=sys.stderr)
            return 1
        if reading.ocr_error:  # the hashes still count: a known picture is recognised without OCR
            print(f"check: {args.image}: {reading.ocr_error} (known pictures are still matched)", file=sys.stderr)
        print(f"read from the image: {' '.join(reading.text.split()) or '(no text)'}", file=sys.stderr)
        result = engine.check_image(reading.text, reading.usable_hashes)
        if result.image:
            print(f"known picture of {result.image.claim_id} ({result.image.distance} bits): {result.image.description}",
                  file=sys.stderr)
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) if args.json else render_result(result))
        return 0
    if not args.text:
        print("check: give TEXT, --image FILE or --jsonl", file=sys.stderr)
        return 2
    text = " ".join(args.text)

    async def go():
        from bot.links import LinkResolver

        resolver = LinkResolver.from_settings(s)
        try:
            return await checking.check(engine, text, resolver=resolver)
        finally:
            await resolver.aclose()

    result = asyncio.run(go()) if args.fetch else engine.check(text)
    print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) if args.json else render_result(result))
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
    v.add_argument("--strict", action="store_true",
                   help="fail on phrasings that distort a true or mostly-true claim (another doer, an over-claiming verb)")
    v.set_defaults(func=cmd_validate)
    a = k.add_parser("audit", help="list every claim's sources, quoted headlines and URLs for a source check")
    a.add_argument("dir", nargs="?")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_audit)
    b = k.add_parser("build", help="compile knowledge into SQLite (atomic)")
    b.add_argument("--knowledge")
    b.add_argument("--db")
    b.set_defaults(func=cmd_build)
    sy = k.add_parser("sync", help="import the ClaimReview feeds (CLAIM_CONTEXT_FEEDS), merge, publish a new version")
    sy.add_argument("urls", nargs="*", help="feed URLs (default: $CLAIM_CONTEXT_FEEDS)")
    sy.add_argument("--knowledge")
    sy.add_argument("--db")
    sy.set_defaults(func=cmd_sync)
    i = k.add_parser("import", help="import ClaimReview JSON-LD / Google Fact Check Tools JSON")
    i.add_argument("files", nargs="+")
    i.add_argument("--db", required=True)
    i.set_defaults(func=cmd_import)
    vec = k.add_parser("vectors", help="add the semantic tier's claim vectors that a database lacks")
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
    c.add_argument("--image", metavar="FILE",
                   help="check an image: a known picture by its hash, else the text read from it (needs the images extra)")
    c.add_argument("--no-fetch", dest="fetch", action="store_false", help="do not fetch links in the text")
    c.set_defaults(func=cmd_check)

    sub.add_parser("run", help="start every adapter whose token is set; the console adapter when none is").set_defaults(func=cmd_run)

    be = sub.add_parser("bench", help="benchmarks (see BENCHMARKS.md)")
    be.add_argument("which", help="retrieval, scale, links, telegram, discord, train, finetune, quantize, decisions, multilingual, "
                    "images, fleet (BENCHMARKS.md)")
    be.add_argument("rest", nargs=argparse.REMAINDER)
    be.set_defaults(func=cmd_bench)

    from bot.curation import add_cli

    add_cli(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one command. A bad environment value or broken knowledge is reported in one line, not a traceback."""
    from bot.engine.knowledge import KnowledgeError
    from bot.state import StateUnavailable
    from bot.state.migrations import SchemaTooNew

    args = parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"configuration: {exc}", file=sys.stderr)
        return 2
    except (StateUnavailable, SchemaTooNew) as exc:
        print(f"state: {exc}", file=sys.stderr)
        return 1
    except KnowledgeError as exc:
        more = f" (and {len(exc.problems) - 1} more: run `python -m bot knowledge validate`)" if len(exc.problems) > 1 else ""
        print(f"knowledge: {exc.problems[0]}{more}", file=sys.stderr)
        return 1

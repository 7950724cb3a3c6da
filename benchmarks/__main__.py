"""`python -m benchmarks NAME [ARGS...]`: run one benchmark; a missing input is reported in one line."""

from __future__ import annotations

import importlib
import sys

from benchmarks import BENCHES, DataMissing


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in BENCHES:
        print(f"usage: python -m benchmarks {{{','.join(sorted(BENCHES))}}} [ARGS...]", file=sys.stderr)
        return 2
    from bot.engine.knowledge import KnowledgeError

    try:
        importlib.import_module(f"benchmarks.{BENCHES[argv[0]]}").run(argv[1:])
    except DataMissing as exc:
        print(f"bench {argv[0]}: {exc}", file=sys.stderr)
        return 1
    except KnowledgeError as exc:
        print(f"bench {argv[0]}: {exc.problems[0]}" + (f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The command line: `fbss-validate` checks the data tables and prints every problem."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import config
from .dataset import DataPaths, load_dataset
from .problems import InputError


def _optional(value: str) -> Path | None:
    return None if value == "none" else Path(value)


def validate_main(argv: list[str] | None = None) -> int:
    """Validate the dataset; print `file:line: column: message` for each problem; exit 1 if any."""
    parser = argparse.ArgumentParser(
        prog="fbss-validate", description="Validate the claims dataset and the tables it refers to.")
    parser.add_argument("claims", nargs="?", type=Path, default=config.CLAIMS_CSV)
    parser.add_argument("--sources", type=Path, default=config.SOURCES_CSV)
    parser.add_argument("--references", type=Path, default=config.REFERENCES_CSV)
    parser.add_argument("--audit", type=_optional, default=config.AUDIT_CSV,
                        help="citation audit table ('none' to skip it and the rules that need it)")
    parser.add_argument("--statements", type=_optional, default=config.STATEMENT_AUDIT_CSV,
                        help="statement audit table ('none' to skip)")
    args = parser.parse_args(argv)
    paths = DataPaths(claims=args.claims, sources=args.sources, references=args.references,
                      audit=args.audit, statement_audit=args.statements)
    try:
        data = load_dataset(paths)
    except InputError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        print(f"{len(err.problems)} problem(s) found.", file=sys.stderr)
        return 1
    print(f"{args.claims}: {len(data.claims)} claims from {data.claims['source_id'].nunique()} "
          f"sources valid; {len(data.references)} references"
          + (f", {len(data.audit)} audit rows" if data.audit is not None else "") + ".")
    return 0


if __name__ == "__main__":
    raise SystemExit(validate_main())

"""The command line: `fbss-validate` checks the data tables and prints every problem."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import config
from .dataset import DataPaths, load_dataset
from .problems import InputError, display_path

# Option names of the tables other than claims (--statements is the statement audit).
_OPTIONS = {"statement_audit": "statements", "claim_questions": "links"}


def _optional(value: str) -> Path | None:
    return None if value == "none" else Path(value)


def validate_main(argv: list[str] | None = None) -> int:
    """Validate the dataset; print `file:line: column: message` for each problem; exit 1 if any."""
    parser = argparse.ArgumentParser(
        prog="fbss-validate",
        description="Validate the claims and every table they refer to; print each problem as "
                    "file:line: column: message.")
    parser.add_argument("claims", nargs="?", type=Path, default=None,
                        help="the claims file (default: claims.csv in --data)")
    parser.add_argument("--data", type=Path, default=config.DATA,
                        help="the folder of the tables (default: data/); the options below override one file")
    for name in DataPaths.names():
        if name != "claims":
            option = _OPTIONS.get(name, name).replace("_", "-")
            parser.add_argument(f"--{option}", dest=name, type=_optional, default=argparse.SUPPRESS,
                                metavar="CSV", help=f"the {name.replace('_', ' ')} table ('none' to skip it)")
    # On the command line a relative path is relative to the working folder, as usual.
    args = {name: (None if value is None else Path(value).absolute())
            for name, value in vars(parser.parse_args(argv)).items()}
    folder = args.pop("data")
    claims = args.pop("claims")
    paths = DataPaths.in_folder(folder, **args, **({"claims": claims} if claims is not None else {}))
    try:
        data = load_dataset(paths)
    except InputError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        print(f"{len(err.problems)} problem(s) found.", file=sys.stderr)
        return 1
    print(f"{display_path(paths.claims)}: {len(data.claims)} claims from {data.claims['source_id'].nunique()} "
          f"sources valid; {len(data.references)} references"
          + (f", {len(data.audit)} audit rows" if data.audit is not None else "")
          + (f", {len(data.results)} study results for {data.results['question_id'].nunique()} questions"
             if data.results is not None else "") + ".")
    return 0


if __name__ == "__main__":
    raise SystemExit(validate_main())

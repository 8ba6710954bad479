"""The command line: `fbss-validate` checks the data tables and prints every problem; `fbss-new-source`
adds a page and writes its candidate sheet; `fbss-candidates` rewrites a page's sheet against the
claims and exclusions entered so far."""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pandas as pd

from . import config
from .dataset import DataPaths, load_validated
from .new_source import add_source, candidate_files, write_candidates
from .problems import InputError, display_path

# Option names of the tables other than claims (--statements is the statement audit).
_OPTIONS = {"statement_audit": "statements", "claim_questions": "links"}


def _optional(value: str) -> Path | None:
    return None if value == "none" else Path(value)


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """The data a command reads, the same for every command (fbss-validate, the report): a claims file,
    the data folder, and an option per other table ('none' skips it)."""
    parser.add_argument("claims", nargs="?", type=Path, default=None,
                        help="the claims file (default: claims.csv in --data)")
    parser.add_argument("--data", type=Path, default=config.DATA,
                        help="the folder of the tables (default: data/); the options below override one file")
    for name in DataPaths.names():
        if name != "claims":
            option = _OPTIONS.get(name, name).replace("_", "-")
            parser.add_argument(f"--{option}", dest=name, type=_optional, default=argparse.SUPPRESS,
                                metavar="CSV", help=f"the {name.replace('_', ' ')} table ('none' to skip it)")


def data_paths(args: dict) -> DataPaths:
    """Take add_data_arguments' values out of parsed arguments (a dict, as vars() gives). On the command
    line a relative path is relative to the working folder, as usual."""
    names = ["claims", "data"] + [n for n in DataPaths.names() if n != "claims" and n in args]
    values = {n: args.pop(n) for n in names}
    values = {n: None if v is None else Path(v).absolute() for n, v in values.items()}
    folder, claims = values.pop("data"), values.pop("claims")
    return DataPaths.in_folder(folder, **values, **({"claims": claims} if claims is not None else {}))


def validate_main(argv: list[str] | None = None) -> int:
    """Validate the dataset; print `file:line: column: message` for each problem; exit 1 if any."""
    parser = argparse.ArgumentParser(
        prog="fbss-validate",
        description="Validate the claims and every table they refer to; print each problem as "
                    "file:line: column: message.")
    add_data_arguments(parser)
    paths = data_paths(vars(parser.parse_args(argv)))
    try:
        data = load_validated(paths)
    except InputError as err:
        return _report(err.problems, err.note)
    for warning in data.warnings:
        print(warning, file=sys.stderr)
    ledgers = data.exclusions is not None and data.statements is not None
    print(f"{display_path(paths.claims)}: {len(data.claims)} claims from {data.claims['source_id'].nunique()} "
          f"sources valid; {len(data.references)} references"
          + (f", {len(data.audit)} audit rows" if data.audit is not None else "")
          + (f", {len(data.results)} study results for {data.results['question_id'].nunique()} questions"
             if data.results is not None else "") + "; "
          + (f"every number and footnote on the pages accounted for ({len(data.exclusions)} numbers excluded, "
             f"{len(data.statements)} statements audited)." if ledgers else
             "the number and footnote ledgers were not checked (they need the statement audit and "
             "number_exclusions.csv).")
          + (" The warnings above do not stop the build." if data.warnings else ""))
    return 0


def _report(problems, note: str = "") -> int:
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(problems)} problem(s) found." + (f" {note}" if note else ""), file=sys.stderr)
    return 1


def _lines(value: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[-:]\s*(\d+)\s*", value)
    if not match:
        raise argparse.ArgumentTypeError(f"'{value}' is not FIRST-LAST (two line numbers, e.g. 36-44)")
    return int(match[1]), int(match[2])


def _summary(sheet, path: Path) -> str:
    todo = sheet[sheet["accounted_by"] == ""]
    suggested = todo["suggested_exclusion"].replace("", pd.NA).dropna()
    return (f"{display_path(path)}: {len(sheet)} numbers, {len(todo)} still to decide "
            f"({len(suggested)} with a suggested exclusion: "
            + (", ".join(f"{n} {reason}" for reason, n in suggested.value_counts().sort_index().items()) or "none")
            + ").")


def _files(files: dict[str, Path], tables: dict) -> str:
    return "\n".join(f"  {display_path(path)}: {len(tables[name])} row(s) for data/{name}.csv"
                     for name, path in files.items())


_NEXT = ("Next (docs/adding-a-source.md): edit each candidate file, delete the rows that are not right, fill "
         "the empty columns, and append it to its table in data/ (tail -n +2 FILE >> data/TABLE.csv); "
         "then `make candidates ID={id}` writes the files again with what is left, and the links to "
         "questions for the page's claims, and `make validate` checks it all.")


def new_source_main(argv: list[str] | None = None) -> int:
    """Add a page: copy its text, add its sources.csv row with the hash, write its candidate files."""
    parser = argparse.ArgumentParser(
        prog="fbss-new-source",
        description="Add a web page (plain UTF-8 text) as a source: copy it unchanged to "
                    "data/sources/ID.txt, add its row to data/sources.csv with its SHA-256, label, author and "
                    "address, and write a candidate sheet with one row per number on it "
                    "(build/candidates/ID.csv) and a candidate file for each table a new page touches "
                    "(build/candidates/ID-TABLE.csv: claims, number_exclusions, references, citation_audit, "
                    "statement_audit, claim_questions).")
    parser.add_argument("page", type=Path, help="the page's text file")
    parser.add_argument("--id", required=True, dest="source_id", help="the new source's id: a lowercase slug")
    parser.add_argument("--title", required=True, help="the page's title")
    parser.add_argument("--publisher", required=True, help="who publishes the page")
    parser.add_argument("--label", help="a short label shown on charts (default: the id)")
    parser.add_argument("--author", help="the author the page names")
    parser.add_argument("--url", help="the page's address (http:// or https://)")
    parser.add_argument("--description", help="what the page is about")
    parser.add_argument("--references", type=_lines, metavar="FIRST-LAST",
                        help="the lines of the page's own reference list (outside the ledgers)")
    parser.add_argument("--data", type=Path, default=config.DATA, help="the data folder (default: data/)")
    parser.add_argument("--sheet", type=Path, help="where to write the sheet (default: build/candidates/ID.csv); "
                                                   "the other candidate files go beside it")
    args = parser.parse_args(argv)
    try:
        added = add_source(args.page, args.source_id, title=args.title, publisher=args.publisher,
                           label=args.label, author=args.author, url=args.url, description=args.description,
                           references=args.references, data_dir=args.data, sheet=args.sheet)
    except InputError as err:
        return _report(err.problems)
    print(f"{display_path(added.text_file)}: copied ({added.text_file.stat().st_size} bytes); "
          f"{display_path(added.sources_csv)}: row '{added.source_id}' added with its SHA-256.")
    if not args.url:
        print("No URL given: the page's address is its provenance; add it to the url column of sources.csv.")
    if added.references_guess:
        first, last = added.references_guess
        print(f"The page seems to have a reference list at lines {first}-{last}: if so, set "
              f"references_first_line and references_last_line in sources.csv to those lines (its numbers "
              f"are then outside the ledgers), and run `make candidates ID={added.source_id}`.")
    print(_summary(added.candidates, added.sheet))
    print(_files(added.files, added.tables))
    print(_NEXT.format(id=added.source_id))
    return 0


def candidates_main(argv: list[str] | None = None) -> int:
    """Rewrite a source's candidate files against the claims and exclusions entered so far."""
    parser = argparse.ArgumentParser(
        prog="fbss-candidates",
        description="Write the candidate sheet of a source already in sources.csv (one row per number, with "
                    "what accounts for it so far: accounted_by empty = still to decide) and the candidate file "
                    "of each table with what is still to enter, including the links to questions of its claims.")
    parser.add_argument("source_id", help="the source's id")
    parser.add_argument("--data", type=Path, default=config.DATA, help="the data folder (default: data/)")
    parser.add_argument("--sheet", type=Path, help="where to write it (default: build/candidates/ID.csv); the "
                                                   "other candidate files go beside it")
    args = parser.parse_args(argv)
    try:
        sheet, tables = candidate_files(args.source_id, args.data)
    except InputError as err:
        return _report(err.problems)
    path = args.sheet or config.BUILD / "candidates" / f"{args.source_id}.csv"
    files = write_candidates(sheet, tables, path)
    print(_summary(sheet, path))
    print(_files(files, tables))
    return 0


if __name__ == "__main__":
    raise SystemExit(validate_main())

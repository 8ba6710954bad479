"""Notebook runs: what a run's folder is called, and which runs `make` makes, read from the data.

One naming rule for every route (`make run`, plain papermill without output_dir, JupyterLab):

    build/runs/<notebook>[--<name>=<value>...]

- only the parameters whose value differs from the notebook's default are named, sorted by name;
  output_dir never (it is where the run goes);
- a path parameter (data_dir, claims_path) is compared and written as the file or folder it
  resolves to: relative to the project folder when inside it, so `make run` (which passes the data
  folder as an absolute path) and papermill (which keeps the default 'data') name a run alike;
- a value is written in full, never cut: characters other than letters, digits and `._-~+,@` are
  percent-escaped (`/` as %2F, a space as %20, `=` as %3D), so two different sets of values never
  share a folder;
- a name longer than a folder name may be (255 bytes) is refused, with the advice to give output_dir.

The lists `make` runs (`python -m fbss_evidence.runs`, rewritten when the data changes): notebook 10
once per question_id of questions.csv, and notebook 07 once per topic that at least one claim gives a
rate on (07 charts rates), in the vocabulary's order. This module uses the standard library only: the
Makefile runs it with the system Python, before the environment exists.
"""
from __future__ import annotations

import argparse
import csv
import os
import re
import sys
from pathlib import Path
from urllib.parse import quote

from . import config, vocab

RUNS = "runs"  # the folder under build/ that holds the runs made outside `make`
PATH_PARAMETERS = ("data_dir", "claims_path")
NOT_NAMED = ("output_dir",)
NAME_MAX = 255  # bytes in a folder name (Linux, macOS)
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")  # schema.SLUG, which needs pandas to import


class RunNameError(ValueError):
    """The parameters of a run cannot name a folder."""


def _path_text(value) -> str:
    """A path parameter as the file or folder it resolves to: relative to the project when inside it."""
    path = Path(os.path.normpath(config.resolve(value)))
    try:
        return path.relative_to(config.ROOT).as_posix()
    except ValueError:
        return path.as_posix()


def value_text(name: str, value) -> str:
    """A parameter's value as a run's folder name writes it (in full, escaped; see the module)."""
    if name in PATH_PARAMETERS and isinstance(value, (str, os.PathLike)) and str(value):
        text = _path_text(value)
    else:
        text = str(value)
    return quote(text, safe="+,@")


def _same(name: str, value, default) -> bool:
    if name in PATH_PARAMETERS and isinstance(value, (str, os.PathLike)) and isinstance(default, (str, os.PathLike)):
        return _path_text(value) == _path_text(default)
    return value == default and isinstance(value, bool) == isinstance(default, bool)


def run_name(notebook: str, values: dict, defaults: dict) -> str:
    """`<notebook>[--<name>=<value>...]`: the notebook and every parameter that differs from its default."""
    changed = sorted((k, v) for k, v in values.items()
                     if k not in NOT_NAMED and not (k in defaults and _same(k, v, defaults[k])))
    name = "--".join([notebook] + [f"{k}={value_text(k, v)}" for k, v in changed])
    if len(name.encode("utf-8")) > NAME_MAX:
        raise RunNameError(f"the parameters would name this run's folder with {len(name.encode('utf-8'))} "
                           f"characters, more than a folder name may have ({NAME_MAX}): give output_dir "
                           "a folder for this run")
    return name


def run_folder(notebook: str, values: dict, defaults: dict) -> Path:
    """build/runs/<run_name>: where a run without output_dir writes its figures and tables."""
    return config.BUILD / RUNS / run_name(notebook, values, defaults)


# -- the runs make makes -----------------------------------------------------------------

def _rows(path: Path):
    """The rows of a CSV file as dicts; none when it does not exist (validation reports a broken file)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            yield from csv.DictReader(handle)
    except FileNotFoundError:
        return


def questions(data_dir: Path | str = config.DATA) -> list[str]:
    """Every question_id of questions.csv, in its order (slugs only: anything else fails validation)."""
    found = (row.get("question_id", "").strip() for row in _rows(config.resolve(data_dir) / "questions.csv"))
    return list(dict.fromkeys(q for q in found if _SLUG.match(q)))


def topics(claims: Path | str = config.CLAIMS_CSV) -> list[str]:
    """The topics at least one claim gives a rate on, in the vocabulary's order."""
    used = {row.get("topic", "").strip() for row in _rows(config.resolve(claims))
            if row.get("measure", "").strip() == "rate"}
    return [t for t in vocab.TOPICS if t in used]


def make_lists(data_dir: Path | str = config.DATA, claims: Path | str | None = None) -> str:
    """The Makefile's TOPICS and QUESTIONS, as a makefile to include."""
    data_dir = config.resolve(data_dir)
    claims = config.resolve(claims) if claims else data_dir / "claims.csv"
    return ("# Written by `python -m fbss_evidence.runs` from the data; make rewrites it when the data changes.\n"
            f"TOPICS := {' '.join(topics(claims))}\n"
            f"QUESTIONS := {' '.join(questions(data_dir))}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fbss_evidence.runs",
                                     description="Write the topics and questions make runs notebooks 07 and 10 for.")
    parser.add_argument("--data", default=str(config.DATA), help="the data folder (default: data/)")
    parser.add_argument("--claims", default=None, help="another claims file (default: claims.csv in --data)")
    parser.add_argument("--output", type=Path, help="write here (atomically) instead of printing")
    args = parser.parse_args(argv)
    text = make_lists(Path(args.data).absolute(), Path(args.claims).absolute() if args.claims else None)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_name(f".{args.output.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The report: the executed notebooks, figures and tables as one offline website, built by Sphinx with
myst-nb and sphinx-book-theme (Jupyter Book 1's engine; site/conf.py configures it; docs/report.md).

    python -m fbss_build.report [CLAIMS] [--data DIR] [--sources CSV ...] [--build DIR] [--out DIR]
                                [--figures DIR] [--tables DIR]

Glue only: it writes the site's sources into a staging folder (index.md: a summary from the data, the
scorecards, the headline figures, tables for people; a page per run, answer first, code folded;
sources.md) and runs Sphinx on them. Text from the data is escaped wherever the glue writes it; notebook
HTML passes an allow-list, its Markdown is rendered with raw HTML off. Nothing is fetched; the site is
renamed into place only when complete."""
from __future__ import annotations

import argparse
import hashlib
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from fbss_evidence import config
from fbss_evidence.outputs import neutral_text, readable_number, readable_table
from fbss_evidence.summary import plain_summary

REPORT_TITLE = "Failed back surgery syndrome: what the clinic pages claim"  # as in site/conf.py
IMAGES = ("image/png", "image/jpeg")  # with text/plain and text/html, all a page may show
LABEL_PARAMETERS = ("topic", "question")  # tell the runs of one generic notebook apart
HEADLINE_FIGURES = ("12-scorecards", "11-overview", "08-citation-audit", "04-treatments-compared", "02-failure-rates")
ALLOWED_TAGS = {"a", "b", "br", "caption", "code", "div", "em", "i", "li", "ol", "p", "pre", "small", "span",
                "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul"}
ALLOWED_ATTRIBUTES = {"*": ["class"], "a": ["href"], "td": ["colspan", "rowspan"], "th": ["colspan", "rowspan"]}
SITE = Path(__file__).parent / "site"  # conf.py and _static/: Sphinx's configuration of the report


def md(text) -> str:
    """Text that Markdown (MyST) shows as it is: a backslash before every ASCII punctuation mark."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", " ".join(neutral_text(str(text)).split()))


def clean_html(fragment: str) -> str:
    """A notebook's HTML output with only allow-listed markup; style blocks dropped, anything else escaped."""
    import bleach

    fragment = re.sub(r"<style\b.*?</style\s*>", "", fragment, flags=re.IGNORECASE | re.DOTALL)
    fragment = bleach.clean(fragment, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                            protocols={"http", "https", "mailto"}, strip_comments=True)
    return re.sub(r"<td>(-?\d+\.\d+|NaN|None|&lt;NA&gt;)</td>",  # 32244.0 -> 32,244; NaN, None -> empty
                  lambda m: f"<td>{readable_number(pd.to_numeric(m[1], errors='coerce'))}</td>", fragment)


def html_table(frame: pd.DataFrame, headers: dict[str, str], **formats) -> str:
    """A tables/ table as escaped HTML for people, with its notes, for a `{raw} html` block."""
    needed = {c for pair in formats.get("ranges", {}).values() for c in pair}
    table, notes = readable_table(frame[[c for c in frame.columns if c in headers or c in needed]], **formats)
    table = table[[c for c in headers if c in table.columns]].rename(columns=headers)
    body = table.to_html(index=False, escape=True, border=0, classes="people", na_rep="")
    body = re.sub(r"<td>(?=[^<]{60})", '<td class="long">', body)  # a long text gets a wider column
    body = re.sub(r"<td>(?=[-\d.,\u2013%]+</td>)", '<td class="num">', body)  # a number or range, on one line
    return ("\n```{raw} html\n<div class=\"table-wrap\">" + body.replace("\n\n", "\n") + "</div>\n"
            + "".join(f"<p class=\"notes\">{html.escape(n)}</p>\n" for n in notes) + "```\n")


def read_table(tables: Path, name: str) -> pd.DataFrame | None:
    return pd.read_csv(tables / f"{name}.csv") if (tables / f"{name}.csv").is_file() else None


# -- notebook pages ---------------------------------------------------------------------------------

def heading_of(nb) -> str:
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return m[1] if (m := re.search(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.MULTILINE)) else ""


def relative(text: str, roots: tuple[str, ...]) -> str:  # roots: the project's and the build's, as runs saw them
    return re.sub("|".join(re.escape(r + "/") for r in roots), "", text) if roots else text


def safe_outputs(outputs: list, roots: tuple[str, ...]) -> list:
    """Outputs a page may show: streams and errors as text (machine paths relative), HTML through the
    allow-list, Markdown rendered here, PNG/JPEG images; scripts, widgets and the rest dropped."""
    from markdown_it import MarkdownIt

    markdown = MarkdownIt("commonmark", {"html": False})
    for out in outputs:
        if out.output_type == "stream":
            out.text = relative(out.text, roots)
        elif out.output_type in ("display_data", "execute_result"):
            data = {k: v for k, v in out.data.items() if k in IMAGES or k == "text/plain"}
            if "text/markdown" in out.data:  # rendered here, raw HTML in it escaped: MyST never parses it
                data["text/html"] = clean_html(markdown.render(out.data["text/markdown"]))
            elif "text/html" in out.data:
                data["text/html"] = clean_html(out.data["text/html"])
            out.data, out.metadata = {k: relative(v, roots) if k == "text/plain" else v for k, v in data.items()}, {}
    return [o for o in outputs if o.output_type not in ("display_data", "execute_result") or o.data]


def page_notebook(nb, title: str, parameters: dict, figures: list[Path], roots: tuple[str, ...]):
    """The page of one run: title, introduction, the answer, its figures, then the notebook, code folded."""
    from nbformat.v4 import new_markdown_cell, new_notebook

    cells = list(nb.cells)
    intro = cells.pop(0).source if cells and cells[0].cell_type == "markdown" else ""
    intro = re.sub(r"^\s{0,3}#\s+.*\n?", "", intro, count=1)
    answer, rest, in_answer = [], [], False
    for cell in cells:
        if cell.cell_type == "markdown" and re.search(r"^#{1,6}\s", cell.source, re.MULTILINE):
            in_answer = bool(re.match(r"\s*#{1,6}\s+Answer\b", cell.source))
            if in_answer:
                continue
        if "injected-parameters" in cell.metadata.get("tags", []):
            shown = "; ".join(md(f"{k} = {v!r}") for k, v in parameters.items()) or "the defaults above"
            cell = new_markdown_cell(f"**This run's parameters** (set by the build): {shown}")
        elif cell.cell_type == "markdown":
            cell.source = re.sub(r"^(#{1,5})(\s)", r"#\1\2", cell.source, flags=re.MULTILINE)
        elif cell.cell_type == "code":
            cell.outputs = safe_outputs(cell.outputs, roots)
            if figures:  # the run's figures are on top already
                cell.outputs = [o for o in cell.outputs if not any(k in IMAGES for k in o.get("data", {}))]
            cell.metadata = {"tags": ["remove-input"] if in_answer else ["hide-input"]}
        (answer if in_answer and cell.cell_type == "code" else rest).append(cell)
    top = [new_markdown_cell(f"# {md(title)}\n\n{intro}")]
    top += [new_markdown_cell("## Answer"), *answer] if answer else []
    if figures:
        top.append(new_markdown_cell("## Figures\n\n" + "".join(figure_md(f.name) for f in figures)))
    top.append(new_markdown_cell("## The notebook\n\nThe code is folded: open *Show code cell source* to read it."))
    return new_notebook(cells=top + rest, metadata={"kernelspec": nb.metadata.get("kernelspec", {}),
                                                   "language_info": nb.metadata.get("language_info", {})})


def figure_md(name: str) -> str:
    return f"```{{figure}} figures/{name}\n:width: 100%\n:alt: {name}\n\nfigures/{md(name)}\n```\n\n"


def run_figures(build: Path, stem: str, figures: Path) -> list[Path]:
    """The figures a run wrote, as its build/<run>.outputs lists them, found in `figures`."""
    listed = build / f"{stem}.outputs"
    names = [Path(n) for n in (listed.read_text(encoding="utf-8").split() if listed.is_file() else ())]
    return [figures / n.name for n in names if n.parts[0] == "figures" and n.suffix in (".png", ".jpg", ".svg")]


# -- the index and the sources --------------------------------------------------------------------

SOF = {"label": "Question", "group": "Group", "k": "Studies", "total_n": "Patients", "pooled": "Pooled",
       "CI": "95% CI", "PI": "Prediction interval", "i2": "I²", "certainty": "Certainty",
       "reasons": "Why not higher"}
HEADLINE = {"value_text": "The page says", "source": "Page", "question": "Question", "group": "Group",
            "evidence": "What the studies report", "placement": "Where the claim falls"}


def index_page(data, tables: Path, figures: Path, groups: dict[str, list[str]]) -> str:
    sentences = plain_summary(len(data.claims), len(data.sources), *(read_table(tables, n) for n in (
        "11-summary-of-findings", "11-headline-claims", "08-audit-by-page", "12-claim-verdicts")))
    cards = read_table(tables, "12-scorecards")  # the per-page scorecards lead, after the summary
    shown = [figure_md(f"{n}.png") for n in HEADLINE_FIGURES if (figures / f"{n}.png").is_file()]
    parts = ["---\nhtml_theme.sidebar_secondary.remove: true\n---\n", f"# {md(REPORT_TITLE)}\n\n",
             *(f"{md(s)}\n\n" for s in sentences), *(["## How each page fares\n\n", shown.pop(0), html_table(
                 cards, {c: c.replace("_", " ") for c in cards.columns})] if cards is not None else []),
             "\n## Figures\n\n", *shown]
    sof = read_table(tables, "11-summary-of-findings")  # its primary analysis: results answering directly
    if sof is not None and len(sof := sof[sof["analysis"] == "primary"] if "analysis" in sof.columns else sof):
        parts.append("\n## Summary of findings\n\nPooled share of patients (random effects), its intervals, "
                     "heterogeneity and GRADE-style certainty; empty: not pooled.\n"
                     + html_table(sof, SOF, percent=["pooled", "i2"], grouped=["label"],
                                  ranges={"CI": ("ci_low", "ci_high"), "PI": ("pi_low", "pi_high")}))
    headline, audit = read_table(tables, "11-headline-claims"), read_table(tables, "08-audit-by-page")
    if headline is not None:
        headline["placement"] = headline["placement"].str.replace("_", " ")
        parts.append("\n## The pages' headline numbers beside the evidence\n"
                     + html_table(headline, HEADLINE, grouped=["question"]))
    if audit is not None:
        parts.append("\n## Citation audit by page\n" + html_table(audit, {c: c for c in audit.columns}))
    for caption, stems in [*groups.items(), ("Sources", ["sources"])]:
        entries = "\n".join(stems)
        parts.append(f"\n```{{toctree}}\n:caption: {' '.join(caption.split())}\n:maxdepth: 1\n\n{entries}\n```\n")
    return "".join(parts)


def sources_page(data) -> str:
    parts = ["# Sources and verbatim quotes\n\n",
             f"{len(data.claims)} claims from {len(data.sources)} sources; quotes exactly as recorded.\n"]
    claims = data.claims.astype(object).where(data.claims.notna(), "")
    for source in data.sources.astype(object).where(data.sources.notna(), "").to_dict("records"):
        rows = claims[claims["source_id"] == source["source_id"]]
        parts.append(f"\n## {md(source.get('title') or source['source_id'])}\n\n{md(source.get('publisher', ''))} "
                     f"\\({md(source['source_id'])}, {len(rows)} claims\\)\n")
        if len(rows):
            parts.append(html_table(rows, {"claim_id": "Claim", "topic": "Topic", "value_text": "Value",
                                           "quote": "Verbatim quote"}, repeated=10**6))
    return "".join(parts)


# -- building ------------------------------------------------------------------------------------------

def provenance(paths) -> str:
    """The footer: the build date (UTC, or SOURCE_DATE_EPOCH's), the commit and a hash of the data files."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    date = datetime.fromtimestamp(int(epoch) if epoch.isdigit() else datetime.now().timestamp(), timezone.utc)
    digest = hashlib.sha256(b"".join(Path(p).read_bytes() for p in paths.files())).hexdigest()[:12]
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=config.ROOT, capture_output=True, text=True)
    commit = done.stdout.strip() if done.returncode == 0 else "unknown"
    return f"Built {date.date()} (UTC), commit {commit}, data {digest}"


def write_sources(build: Path, src: Path, data, figures: Path, tables: Path) -> None:
    """The site's sources in `src`: a page notebook per run, index.md, sources.md and the figures they show."""
    import nbformat

    runs = sorted(p for p in build.glob("*.ipynb") if not p.name.endswith((".partial.ipynb", ".failed.ipynb")))
    if not runs:
        raise FileNotFoundError(f"no executed notebooks (*.ipynb) in {build}; run `make` first")
    labels = dict(zip(data.questions["question_id"], data.questions["label"])) if data.questions is not None else {}
    groups: dict[str, list[str]] = {}
    shown = [figures / f"{stem}.png" for stem in HEADLINE_FIGURES]
    for path in runs:
        nb, stem = nbformat.read(path, as_version=4), path.name.removesuffix(".ipynb")
        params = {k: v for k, v in (nb.metadata.get("papermill", {}).get("parameters") or {}).items()
                  if k not in ("output_dir", "data_dir", "claims_path")}  # machine paths
        label = next((labels.get(params[k], params[k]) for k in LABEL_PARAMETERS if params.get(k)), "")
        heading = heading_of(nb) or stem
        shown += (found := run_figures(build, stem, figures))
        nbformat.write(page_notebook(nb, f"{heading} \u2014 {label}" if label else heading, params, found,
                                     (str(build.absolute().parent), str(config.ROOT))), src / f"{stem}.ipynb")
        entry = f"{re.sub(r'[<>]', '', ' '.join(str(label).split()))} <{stem}>" if label else stem  # run: by its label
        groups.setdefault(heading if "--" in stem else "The notebooks", []).append(entry)
    (src / "figures").mkdir()
    for figure in (f for f in shown if f.is_file()):
        shutil.copy2(figure, src / "figures" / figure.name)
    (src / "index.md").write_text(index_page(data, tables, figures, groups), encoding="utf-8")
    (src / "sources.md").write_text(sources_page(data), encoding="utf-8")


def build_report(build: Path, out: Path, paths=None, *, figures: Path | None = None,
                 tables: Path | None = None) -> Path:
    """Render the site into `out` (a folder); return the path of its index.html."""
    from sphinx.application import Sphinx

    from fbss_evidence.dataset import DataPaths, load_dataset

    build, out = Path(build), Path(out)
    paths = paths if paths is not None else DataPaths.in_folder()
    data = load_dataset(paths)  # raises InputError, listing every problem, before anything is written
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        write_sources(build, tmp, data, Path(figures or build.absolute().parent / "figures"),
                      Path(tables or build.absolute().parent / "tables"))
        footer = {"html_theme_options.extra_footer": f"<p>{html.escape(provenance(paths))}</p>"}
        app = Sphinx(str(tmp), str(SITE), str(tmp / "_html"), str(tmp / "_doctrees"), "html", confoverrides=footer,
                     status=None, warning=sys.stderr, freshenv=True, keep_going=True)
        app.build()
        if app.statuscode:
            raise RuntimeError("Sphinx failed; see the messages above")
        (tmp / "_html" / ".buildinfo").unlink(missing_ok=True)  # holds a hash of the configuration
        old = out.with_name(f".{out.name}.old")
        if out.exists():
            os.replace(out, old)
        os.replace(tmp / "_html", out)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out / "index.html"


def main(argv: list[str] | None = None) -> int:
    from fbss_evidence.cli import add_data_arguments, data_paths
    from fbss_evidence.problems import InputError

    parser = argparse.ArgumentParser(prog="python -m fbss_build.report", description=__doc__.split("\n")[0])
    add_data_arguments(parser)
    for name, about in (("build", f"executed notebooks (default: {config.BUILD})"),
                        ("out", "site folder to write (default: BUILD/report)"),
                        ("figures", "figures (default: figures/ beside BUILD)"),
                        ("tables", "tables (default: tables/ beside BUILD)")):
        parser.add_argument(f"--{name}", type=Path, default=None, help=about)
    args = vars(parser.parse_args(argv))
    build, out, figures, tables = (args.pop(k) for k in ("build", "out", "figures", "tables"))
    build = build or config.BUILD
    paths = data_paths(args)
    if paths.sources is None:
        parser.error("the report lists every source: --sources cannot be 'none'")
    try:
        index = build_report(build, out or build / "report", paths, figures=figures, tables=tables)
    except InputError as err:
        print(*err.problems, f"{len(err.problems)} problem(s) found; no report written.", sep="\n", file=sys.stderr)
        return 1
    except (FileNotFoundError, RuntimeError) as err:
        return print(f"report: {err}", file=sys.stderr) or 1
    return print(f"wrote {index}") or 0


if __name__ == "__main__":
    raise SystemExit(main())

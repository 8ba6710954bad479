"""Render the answers, the executed notebooks and every claim's quote into one offline HTML report.

    python -m fbss_build.report [CLAIMS] [--data DIR] [--sources CSV ...] [--build DIR] [--out DIR]
                                [--figures DIR] [--tables DIR]

The data arguments are fbss-validate's: the tables of --data (default data/), with
CLAIMS instead of its claims.csv when given, and any one table replaced (or skipped
with 'none') by its own option. The data is loaded and validated through
`fbss_evidence.dataset.load_dataset`, as the notebooks load it.

`index.html` leads with the answers: the summary of findings
(tables/11-summary-of-findings.csv), the headline figures as thumbnails, each linking
to a page with the full-size image, the pages' headline claims beside the evidence
(tables/11-headline-claims.csv) and the citation audit by page
(tables/08-audit-by-page.csv); an output not built yet is named as such. Then come the
executed notebooks of the build folder (`*.ipynb`, not `*.partial.ipynb` or
`*.failed.ipynb`), grouped by the question each notebook asks (its first heading),
each run titled by that question and its topic or question parameter; each becomes one
page (nbconvert, "lab" template, inputs shown, images embedded). `sources.html` lists
the sources table with each claim's verbatim quote, grouped by source. Figures and
tables are read from the folders beside the build folder unless --figures/--tables say
otherwise.

Tables are for reading: nothing cut short (a DataFrame cell that pandas truncated with
"..." is restored from the data or tables/ when exactly one value matches), long text
wraps, wide tables scroll inside their box, and missing values are empty cells. Pages
show no machine paths: the cell papermill injects is replaced by the run's parameters,
and absolute paths under the project, build, data, figures or tables folders (and any
/tmp path) are made relative. Every page ends with the build date (UTC), the git commit
and a hash of the data files.

The text on these pages comes from scraped web pages, so it is treated as
hostile: the index and sources pages escape everything they print; on the
notebook pages nbconvert escapes plain text and every HTML or Markdown output
(and Markdown cell) is run through an allow-list sanitizer that turns `<script>`
and any other unlisted markup into visible text. Output types that carry code
(JavaScript, widgets, Mermaid) are dropped, the pages load nothing from the
network, and a Content-Security-Policy forbids scripts outright.

Every page is written atomically into a temporary folder next to --out, which is
renamed into place only when every page has rendered, so a failed run leaves the
previous report as it was.
"""
from __future__ import annotations

import argparse
import base64
import bisect
import hashlib
import html
import io
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import quote

from fbss_evidence import config
from fbss_evidence.outputs import write_text

REPORT_TITLE = "Failed back surgery syndrome: what the clinic pages claim"

# No script, no network: styles and images are inline (data: URIs) in every page.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:"

# Cell output types a page may show; everything else (JavaScript, widget views,
# Mermaid, PDF, ...) is dropped before rendering.
OUTPUT_TYPES = frozenset({
    "text/plain", "text/html", "text/markdown", "text/latex",
    "image/png", "image/jpeg", "image/svg+xml",
})
# -- sanitizing HTML that came out of a notebook -------------------------------

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup",
    "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark",
    "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub", "summary",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var",
})
GLOBAL_ATTRIBUTES = frozenset({"class", "id", "title", "lang", "dir", "style"})
TAG_ATTRIBUTES = {
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align", "valign"},
    "th": {"colspan", "rowspan", "align", "valign", "scope"},
    "table": {"border"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "type"},
    "details": {"open"},
}
CSS_PROPERTIES = frozenset({
    "text-align", "vertical-align", "white-space", "font-weight", "font-style",
    "color", "background-color", "width", "min-width", "max-width", "padding",
    "padding-left", "padding-right", "border-collapse",
})
DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=\s]*\Z")
CELL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if tag == "img" and name == "src":
        return DATA_IMAGE.match(value) is not None  # embedded images only
    if tag == "a" and name == "href":
        return not value.strip().lower().startswith("data:")
    return name in GLOBAL_ATTRIBUTES or name in TAG_ATTRIBUTES.get(tag, ())


_cleaner = None


def clean_html(fragment) -> str:
    """An HTML fragment with only allow-listed markup; anything else is escaped into visible text.

    `<style>` elements (pandas puts one in every DataFrame) are removed with
    their content, since escaping them would print CSS on the page; the report
    supplies the DataFrame styling itself.
    """
    global _cleaner
    if _cleaner is None:
        from bleach.css_sanitizer import CSSSanitizer
        from bleach.sanitizer import Cleaner

        _cleaner = Cleaner(
            tags=ALLOWED_TAGS, attributes=_allowed_attribute,
            protocols={"http", "https", "mailto", "data"},
            strip=False, strip_comments=True,
            css_sanitizer=CSSSanitizer(allowed_css_properties=CSS_PROPERTIES),
        )
    text = fragment.decode() if isinstance(fragment, bytes) else str(fragment)
    if re.search(r"<style", text, re.IGNORECASE):
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(text, "html.parser")
        for element in soup.find_all("style"):
            element.decompose()
        text = str(soup)
    return _cleaner.clean(text)


# -- tables for reading ------------------------------------------------------------------

# Cell texts that mean "no value": shown as an empty cell.
MISSING_TEXTS = frozenset({"nan", "none", "<na>", "nat"})
NUMBER = re.compile(r"[-+\u2212]?(\d[\d,]*)?\.?\d+(e[-+]?\d+)?%?\Z", re.IGNORECASE)
LONG_TEXT = 60  # characters: a cell longer than this gets a wider column
# What save_table puts before a text cell a spreadsheet would run as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def is_missing(value) -> bool:
    """None, NaN, pandas' NA, or a text that only says so ('nan', 'None')."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().lower() in MISSING_TEXTS
    if isinstance(value, float):
        return math.isnan(value)
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def as_text(value) -> str:
    """A cell as text: empty when missing; a formula-safe CSV cell ("'=x") as written ("=x")."""
    if is_missing(value):
        return ""
    text = str(value)
    if text.startswith("'") and text[1:2] and text[1] in FORMULA_START:
        text = text[1:]
    return text


def tidy_tables(fragment: str) -> str:
    """Sanitized HTML with each table in a box that scrolls sideways, missing values as empty
    cells, numbers marked (class "num") to be set right-aligned, and long texts (class "long")
    to be given a wider column, in which a long word may break."""
    if "<table" not in fragment:
        return fragment
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(fragment, "html.parser")
    for table in soup.find_all("table"):
        parent = table.parent
        if parent is None or parent.name != "div" or "table-wrap" not in (parent.get("class") or []):
            table.wrap(soup.new_tag("div", attrs={"class": "table-wrap"}))
    for cell in soup.find_all(["td", "th"]):
        text = cell.get_text().strip()
        if text.lower() in MISSING_TEXTS and cell.find(True) is None:
            cell.clear()
        elif NUMBER.match(text) and "num" not in (cell.get("class") or []):
            cell["class"] = [*(cell.get("class") or []), "num"]
        elif len(text) > LONG_TEXT and cell.name == "td" and "long" not in (cell.get("class") or []):
            cell["class"] = [*(cell.get("class") or []), "long"]
    return str(soup)


def clean_and_tidy(fragment) -> str:
    """The filter the notebook pages run every HTML output and Markdown cell through."""
    return tidy_tables(clean_html(fragment))


class FullText:
    """Restores table cells that pandas cut short ("A long explanation th...").

    The executed notebooks show DataFrames with pandas' default column width, which ends
    a long text with "...". The full value is in the data or in tables/: a shortened cell
    is replaced by the one known text that starts with what it shows; when several do, by
    the one in the data row that shares most of the other cells of the table row (its
    claim_id, say); and it is left as it is when that still names no single text.
    """

    MIN_PREFIX = 20  # shorter prefixes are too common to name one text

    def __init__(self, rows: Iterable[Iterable[str]] = ()):
        """`rows`: the text cells of each data row (a single text may be a row of its own)."""
        self.rows: list[tuple[str, ...]] = []
        self.where: dict[str, list[int]] = {}  # a text -> the rows holding it
        known: set[str] = set()
        for row in rows:
            row = tuple(dict.fromkeys(v for v in row if isinstance(v, str) and v))
            long = [v for v in row if len(v) > self.MIN_PREFIX]
            if not long:
                continue
            known.update(long)
            for value in row:
                self.where.setdefault(value, []).append(len(self.rows))
            self.rows.append(row)
        self.values = sorted(known)
        self.known = known
        self.restored = 0
        self.unrestored = 0

    def full(self, shown: str, context: Iterable[str] = ()) -> str | None:
        """The full text `shown` is the start of (with `context`, the other cells of its row, to
        choose between several), or None."""
        if not shown.endswith("...") or shown in self.known:
            return None
        prefix = shown[:-3]
        if len(prefix) < self.MIN_PREFIX:
            return None
        i = bisect.bisect_left(self.values, prefix)
        if i == len(self.values) or not self.values[i].startswith(prefix):
            return None  # not a text of the data or tables/
        if i + 1 == len(self.values) or not self.values[i + 1].startswith(prefix):
            return self.values[i]
        shared: dict[int, int] = {}
        for text in set(context):
            for row in self.where.get(text, ()):
                shared[row] = shared.get(row, 0) + 1
        for score in sorted(set(shared.values()), reverse=True):
            found = {v for row, n in shared.items() if n == score for v in self.rows[row] if v.startswith(prefix)}
            if found:
                return found.pop() if len(found) == 1 else None
        return None

    def restore(self, fragment: str) -> str:
        """`fragment` (a DataFrame's HTML) with every shortened cell it can restore restored."""
        if "...<" not in fragment:
            return fragment
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(fragment, "html.parser")
        changed = False
        for cell in soup.find_all("td"):
            if cell.find(True) is not None:
                continue
            shown = cell.get_text()
            if not shown.endswith("...") or len(shown) <= self.MIN_PREFIX or shown in self.known:
                continue
            row = cell.find_parent("tr")
            context = [c.get_text() for c in row.find_all(["td", "th"]) if c is not cell] if row else []
            full = self.full(shown, [t for t in context if t and not t.endswith("...")])
            if full is None:
                self.unrestored += 1
                continue
            cell.string = full
            self.restored += 1
            changed = True
        return str(soup) if changed else fragment


def full_texts(frames: Iterable, tables: Path | None) -> FullText:
    """Every text of the data frames and of the tables/*.csv files, row by row."""
    import pandas as pd

    rows: list[list[str]] = []

    def add(frame) -> None:
        texts = [name for name in frame.columns
                 if frame[name].dtype == object or pd.api.types.is_string_dtype(frame[name])]
        for values in frame[texts].itertuples(index=False, name=None):
            rows.append([as_text(v) for v in values])

    for frame in frames:
        if frame is not None:
            add(frame)
    if tables is not None and tables.is_dir():
        for path in sorted(tables.glob("*.csv")):
            try:
                add(pd.read_csv(path, dtype=str, keep_default_na=False))
            except (OSError, ValueError, UnicodeDecodeError):
                continue  # a table that cannot be read restores nothing
    return FullText(rows)


# -- no machine paths ------------------------------------------------------------------------

DATA_URI = re.compile(r"data:[a-z]+/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=\s]*", re.IGNORECASE)
TMP_PATH = re.compile(r"(?<![\w.~-])/(?:private/)?(?:var/)?tmp/[^\s\"'<>&;,)]*")


class PathScrubber:
    """Makes the absolute paths of known folders relative in a page's text (`/…/project/data/x.csv`
    -> `data/x.csv`) and shortens any other /tmp path to its last part; embedded images are
    left alone."""

    def __init__(self, folders: Iterable[tuple[Path, str]]):
        labels: dict[str, str] = {}
        for folder, label in folders:
            for form in {str(Path(folder).absolute()), str(Path(folder).resolve())}:
                if form != "/" and form not in labels:
                    labels[form] = label
        self.labels = labels
        alternatives = "|".join(re.escape(f) for f in sorted(labels, key=len, reverse=True))
        self.pattern = re.compile(rf"(?<![\w.~-])({alternatives})(/|(?![\w.-]))") if labels else None

    def _replace(self, match: re.Match) -> str:
        label = self.labels[match.group(1)]
        if match.group(2) == "/":
            return f"{label}/" if label else ""
        return label or "."

    @staticmethod
    def _tmp(match: re.Match) -> str:
        name = match.group(0).rstrip("/").rsplit("/", 1)[-1]
        return f"\u2026/{name}"

    def _scrub(self, text: str) -> str:
        if self.pattern is not None:
            text = self.pattern.sub(self._replace, text)
        return TMP_PATH.sub(self._tmp, text)

    def __call__(self, text: str) -> str:
        parts, last = [], 0
        for match in DATA_URI.finditer(text):
            parts += [self._scrub(text[last:match.start()]), match.group(0)]
            last = match.end()
        parts.append(self._scrub(text[last:]))
        return "".join(parts)


# -- provenance: the footer of every page -------------------------------------------------------


def git_commit(cwd: Path = config.ROOT) -> str:
    """`git rev-parse --short HEAD` in `cwd`, or "unknown" when git or the repository is unavailable."""
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=cwd, capture_output=True,
                              text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and re.fullmatch(r"[0-9a-f]{4,64}", commit) else "unknown"


def data_hash(paths) -> str:
    """SHA-256 (hex) over the bytes of every data file `paths` (a DataPaths) names, concatenated in
    DataPaths' field order (sources, claims, references, ...), tables given as None left out."""
    digest = hashlib.sha256()
    for path in paths.files():
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def build_date() -> str:
    """Today's date in UTC (or that of SOURCE_DATE_EPOCH, for a reproducible build)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    moment = datetime.fromtimestamp(int(epoch), timezone.utc) if epoch.isdigit() else datetime.now(timezone.utc)
    return moment.date().isoformat()


@dataclass(frozen=True)
class Provenance:
    date: str
    commit: str
    data_sha256: str
    tables: tuple[str, ...]  # the names of the tables hashed, in order

    @classmethod
    def of(cls, paths) -> Provenance:
        names = tuple(name for name in paths.names() if getattr(paths, name) is not None)
        return cls(build_date(), git_commit(), data_hash(paths), names)

    def footer(self) -> str:
        hashed = (f"SHA-256 over the bytes of the data tables, in this order: {', '.join(self.tables)}; "
                  "the first 12 hex digits")
        return (f"<footer class=\"report-footer\">Built {e(self.date)} (UTC) &middot; commit "
                f"<code class=\"commit\">{e(self.commit)}</code> &middot; data "
                f"<code class=\"data-hash\" title=\"{e(hashed)}\">{e(self.data_sha256[:12])}</code></footer>\n")


# -- notebook pages --------------------------------------------------------------

# The page template: nbconvert's "lab" page with its script blocks emptied (no
# require.js, MathJax or Mermaid from a CDN), a Content-Security-Policy, the
# DataFrame styling the sanitizer removed, tables set for reading, a link back to
# the index and the report's footer.
PAGE_TEMPLATE = """\
{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}
<meta http-equiv="Content-Security-Policy" content="{{ resources.report_csp | escape_html }}">
{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
<style type="text/css">
/* "body.jp-Notebook" outranks the lab stylesheet, which comes later */
body.jp-Notebook .jp-RenderedHTMLCommon .table-wrap { overflow-x: auto; max-width: 100%; margin-bottom: 1em; }
body.jp-Notebook .jp-RenderedHTMLCommon table { table-layout: auto; margin-left: 0; margin-right: 0; }
body.jp-Notebook .jp-RenderedHTMLCommon table.dataframe thead th { vertical-align: bottom; }
body.jp-Notebook .jp-RenderedHTMLCommon table.dataframe tbody tr th { vertical-align: top; }
body.jp-Notebook .jp-RenderedHTMLCommon td,
body.jp-Notebook .jp-RenderedHTMLCommon th { white-space: normal; overflow-wrap: break-word; vertical-align: top;
  text-align: left; }
body.jp-Notebook .jp-RenderedHTMLCommon td.long { min-width: 14em; word-break: break-word; }
body.jp-Notebook .jp-RenderedHTMLCommon td.num,
body.jp-Notebook .jp-RenderedHTMLCommon th.num { text-align: right; white-space: nowrap; }
nav.report-nav { padding: 0.5em 1em; font-family: var(--jp-ui-font-family, sans-serif); }
.run-params { background: #f3f6fa; border-left: 3px solid #7a9cc6; padding: 0.4em 0.8em; }
footer.report-footer { margin: 2em 1em 1em; padding-top: 0.5em; border-top: 1px solid #ddd; color: #555;
  font-family: var(--jp-ui-font-family, sans-serif); font-size: 88%; }
</style>
{%- endblock extra_css -%}
{%- block body_header -%}
{{ super() }}
<nav class="report-nav"><a href="index.html">&larr; Report index</a></nav>
{%- endblock body_header -%}
{%- block body_footer -%}
</main>
{{ resources.report_footer }}
</body>
{%- endblock body_footer -%}
"""
PAGE_TEMPLATE_NAME = "fbss-report-page.html.j2"


def _exporter_class():
    from jinja2 import pass_context
    from nbconvert import HTMLExporter
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    class Renderer(IPythonRenderer):
        # nbconvert re-parses every inline HTML token to embed images; a lone
        # `<script>` token comes back as `<script></script>`, which moves the text
        # after it. Only re-parse tokens that hold an image.
        def _html_embed_images(self, html: str) -> str:
            if "<img" not in html.lower():
                return html
            return super()._html_embed_images(html)

    class ReportExporter(HTMLExporter):
        @pass_context
        def markdown2html(self, context, source):
            cell = context.get("cell", {})
            renderer = Renderer(
                escape=False,
                attachments=cell.get("attachments", {}),
                embed_images=self.embed_images,
                path=context.get("resources", {}).get("metadata", {}).get("path", ""),
                anchor_link_text=self.anchor_link_text,
                exclude_anchor_links=self.exclude_anchor_links,
                **self.lexer_options,
            )
            return MarkdownWithMath(renderer=renderer).render(source)

    return ReportExporter


def make_exporter():
    """An HTMLExporter (lab template, inputs shown, images embedded, outputs sanitized, tables tidied)."""
    from jinja2 import DictLoader

    return _exporter_class()(
        template_name="lab",
        template_file=PAGE_TEMPLATE_NAME,
        extra_loaders=[DictLoader({PAGE_TEMPLATE_NAME: PAGE_TEMPLATE})],
        filters={"clean_html": clean_and_tidy},
        sanitize_html=True,
        embed_images=True,
        exclude_input=False,
    )


def _defang(nb) -> None:
    """Drop what could carry code into the page: widget state, scripted output types, odd cell ids."""
    nb.metadata.pop("widgets", None)
    for i, cell in enumerate(nb.cells):
        if "id" in cell and not CELL_ID.match(str(cell.id)):
            cell.id = f"cell-{i}"
        for output in cell.get("outputs", []):
            if "data" in output:
                for key in [k for k in output.data if k not in OUTPUT_TYPES]:
                    del output.data[key]
            if "metadata" in output:
                output.metadata.pop("filenames", None)  # always embed, never link a file


def first_heading(nb) -> str | None:
    """The text of the notebook's first Markdown heading (unescaped), or None."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            match = re.match(r"\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
            if match and match.group(1):
                return match.group(1)
    return None


# The parameters that tell the runs of one generic notebook apart; they title its pages.
LABEL_PARAMETERS = ("topic", "question")
# Where a run wrote: a staging folder, meaningless to a reader.
HIDDEN_PARAMETERS = frozenset({"output_dir"})
INJECTED_TAG = "injected-parameters"


@dataclass
class Page:
    source: Path  # the executed notebook
    href: str  # the page's file name inside the report
    title: str  # unescaped, distinct among the pages
    parameters: dict  # papermill's parameters, without output_dir
    heading: str = ""  # the notebook's first heading: the question it asks
    group: str = ""  # the notebook the run is of (the file name before "--")
    note: str = ""  # what the label parameter stands for (a question's label)


def executed_notebooks(build: Path) -> tuple[list[Path], list[Path]]:
    """(executed notebooks, unfinished runs) in build/, sorted by name."""
    done, unfinished = [], []
    for path in sorted(Path(build).glob("*.ipynb")):
        if path.name.endswith((".partial.ipynb", ".failed.ipynb")):
            unfinished.append(path)
        elif path.is_file():
            done.append(path)
    return done, unfinished


def run_parameters(nb) -> dict:
    """The papermill parameters of an executed notebook, without the ones a reader need not see."""
    params = nb.metadata.get("papermill", {}).get("parameters", {}) or {}
    order = [k for k in LABEL_PARAMETERS if k in params] + [k for k in params if k not in LABEL_PARAMETERS]
    return {k: params[k] for k in order if k not in HIDDEN_PARAMETERS}


def describe_page(path: Path, questions: dict[str, str] | None = None) -> Page:
    """A page's title, heading, group and parameters (its href and final title are set later)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    stem = path.name.removesuffix(".ipynb")
    heading = first_heading(nb) or stem
    parameters = run_parameters(nb)
    labels = [str(parameters[k]) for k in LABEL_PARAMETERS if parameters.get(k) not in (None, "")]
    title = " \u2014 ".join([heading, *labels])
    note = ""
    if questions and parameters.get("question") in questions:
        note = questions[parameters["question"]]
    return Page(path, "", title, parameters, heading=heading, group=stem.split("--", 1)[0], note=note)


def distinct_titles(pages: list[Page]) -> None:
    """Make every page's title unique: a title two runs share gets the run's file name."""
    counts: dict[str, int] = {}
    for page in pages:
        counts[page.title] = counts.get(page.title, 0) + 1
    for page in pages:
        if counts[page.title] > 1:
            page.title = f"{page.title} ({page.source.name.removesuffix('.ipynb')})"


def _parameters_cell(parameters: dict):
    """A Markdown cell stating the run's parameters, in place of the cell papermill injected."""
    from nbformat.v4 import new_markdown_cell

    shown = ", ".join(f"<code>{e(k)} = {e(repr(v))}</code>" for k, v in parameters.items())
    return new_markdown_cell(f"<p class=\"run-params\"><strong>This run's parameters</strong> (set by the build, "
                             f"in place of the defaults above): {shown or 'none'}</p>")


def prepare_notebook(nb, page: Page, full: FullText | None = None) -> None:
    """Ready a notebook for its page: the run's parameters instead of papermill's injected cell (which
    names machine paths), its distinct title, restored table cells, nothing that carries code."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and INJECTED_TAG in cell.get("metadata", {}).get("tags", []):
            nb.cells[i] = _parameters_cell(page.parameters)
            break
    nb.metadata["title"] = page.title
    if full is not None:
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if isinstance(data.get("text/html"), str):
                    data["text/html"] = full.restore(data["text/html"])
                elif isinstance(data.get("text/html"), list):
                    data["text/html"] = full.restore("".join(data["text/html"]))
    _defang(nb)


def render_notebook(path: Path, exporter, page: Page | None = None, *, full: FullText | None = None,
                    footer: str = "") -> tuple[str, str, dict]:
    """(page HTML, title, papermill parameters) of one executed notebook."""
    import nbformat

    page = page or describe_page(path)
    nb = nbformat.read(path, as_version=4)
    prepare_notebook(nb, page, full)
    stem = path.name.removesuffix(".ipynb")
    resources = {"metadata": {"name": stem, "path": str(path.parent)},
                 "report_csp": CSP, "report_footer": footer}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body, page.title, page.parameters


# -- index, figure and sources pages --------------------------------------------------------

e = html.escape  # quote=True: safe in text and in attribute values

PAGE_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 90em; margin: 1.5em auto;
       padding: 0 1.25em; line-height: 1.45; color: #222; background: #fff; }
h1 { font-size: 1.65em; margin: 0.2em 0 0.3em; }
h2 { font-size: 1.3em; margin-top: 1.8em; padding-bottom: 0.2em; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.05em; margin: 1.2em 0 0.3em; }
a { color: #1a55a5; }
.lead { font-size: 1.05em; color: #333; max-width: 60em; }
.about { color: #555; font-size: 92%; max-width: 60em; }
nav.toc { margin: 0.8em 0 1.2em; padding: 0.5em 0.8em; background: #f5f7fa; border-radius: 4px; }
nav.toc a { margin-right: 1.2em; white-space: nowrap; }
.file { color: #666; font-family: ui-monospace, monospace; font-size: 88%; }
.table-wrap { overflow-x: auto; max-width: 100%; margin: 0.5em 0 1.5em; }
table { border-collapse: collapse; width: 100%; font-size: 90%; }
th, td { border: 1px solid #e1e4e8; padding: 0.3em 0.5em; text-align: left; vertical-align: top;
         white-space: normal; overflow-wrap: break-word; }
td { min-width: 4em; }
td.label { min-width: 7em; }
td.long { min-width: 11em; word-break: break-word; }  /* a long URL or slug breaks too */
table.audit { width: auto; min-width: 60%; }
thead th { background: #eef1f5; vertical-align: bottom; }
tbody tr:nth-child(even) { background: #fafbfc; }
td.num, th.num { text-align: right; white-space: nowrap; min-width: 0; font-variant-numeric: tabular-nums; }
td.short { min-width: 0; white-space: nowrap; }
tr.first-of-question td { border-top: 2px solid #aab4bf; }
tr.outside td { background: #fff3e0; }
td.quote { font-style: italic; }
.certainty { white-space: nowrap; font-weight: 600; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(26em, 1fr)); gap: 1em;
           align-items: start; }
.figures figure:first-child { grid-column: 1 / -1; }  /* the overview leads, full width */
figure { margin: 0; padding: 0.5em; border: 1px solid #d8dde3; border-radius: 4px; background: #fff; }
figure img { display: block; width: 100%; height: auto; }
figure.full { border: none; padding: 0; }
figure.full img { width: auto; max-width: 100%; }  /* the full-resolution image, fitted to the page */
figcaption { font-size: 92%; color: #333; margin-top: 0.4em; }
ol.notebooks > li { margin: 0.35em 0; }
ol.notebooks ul.runs { columns: 2 22em; margin: 0.2em 0 0.6em; padding-left: 1.2em; }
ol.notebooks ul.runs li { break-inside: avoid; }
.q { color: #666; }
.note { color: #555; font-size: 92%; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dt { font-weight: bold; } dd { margin: 0; word-break: break-word; }
.missing, .warning { color: #8a4b00; }
footer.report-footer { margin-top: 3em; padding-top: 0.5em; border-top: 1px solid #ddd; color: #555;
                       font-size: 88%; }
"""


def _page(title: str, body: str, footer: str = "") -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{e(CSP)}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1.0\">\n"
        f"<title>{e(title)}</title>\n<style>{PAGE_STYLE}</style>\n</head>\n<body>\n"
        f"{body}{footer}</body>\n</html>\n"
    )


# A table column: its header, how a row shows in it, and its kind: "text", "short" (never wrapped),
# "label" and "long" (text in wider columns) or "num" (right-aligned, never wrapped).
@dataclass(frozen=True)
class Column:
    header: str
    text: Callable[[dict], str]
    kind: str = "text"
    needs: tuple[str, ...] = ()  # the source columns it shows: left out when the file lacks them
    title: str = ""  # a tooltip on the header
    href: Callable[[dict], str | None] | None = None


def _number(value) -> float | None:
    if is_missing(value):
        return None
    try:
        number = float(str(value).replace(",", "")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def fmt_percent(value) -> str:
    """A percentage to one decimal; empty when missing."""
    number = _number(value)
    return "" if number is None else f"{number:.1f}"


def fmt_whole(value) -> str:
    """A count as a whole number (thousands separated); empty when missing."""
    number = _number(value)
    return "" if number is None else f"{round(number):,}"


def fmt_i2(value) -> str:
    """I² to a whole percent; empty when missing."""
    number = _number(value)
    return "" if number is None else f"{number:.0f}"


def fmt_interval(low, high) -> str:
    """"12.3–45.6" (percent, one decimal); empty unless both ends are known."""
    lo, hi = _number(low), _number(high)
    return "" if lo is None or hi is None else f"{lo:.1f}\u2013{hi:.1f}"


def text_of(key: str) -> Callable[[dict], str]:
    return lambda row: as_text(row.get(key))


def html_table(rows: list[dict], columns: Iterable[Column], *, available: Iterable[str] | None = None,
               row_class: Callable[[dict], str] | None = None, cls: str = "") -> str:
    """An HTML table of `rows` (everything escaped), in a box that scrolls sideways when wide."""
    present = set(available) if available is not None else None
    shown = [c for c in columns if present is None or all(n in present for n in c.needs)]
    head = "".join(
        f"<th class=\"{e(c.kind)}\"{f' title={chr(34)}{e(c.title)}{chr(34)}' if c.title else ''}>{e(c.header)}</th>"
        for c in shown)
    body = []
    for row in rows:
        cells = []
        for c in shown:
            text = c.text(row)
            target = c.href(row) if c.href is not None and text else None
            inner = f"<a href=\"{e(target)}\">{e(text)}</a>" if target else e(text)
            cells.append(f"<td class=\"{e(c.kind)}\">{inner}</td>")
        klass = row_class(row) if row_class is not None else ""
        body.append(f"<tr{f' class={chr(34)}{e(klass)}{chr(34)}' if klass else ''}>{''.join(cells)}</tr>\n")
    return (f"<div class=\"table-wrap\"><table{f' class={chr(34)}{e(cls)}{chr(34)}' if cls else ''}>\n"
            f"<thead><tr>{head}</tr></thead>\n<tbody>\n{''.join(body)}</tbody>\n</table></div>\n")


def generic_columns(frame) -> list[Column]:
    """Columns for any table: numbers right-aligned (whole numbers as such, others to 1 decimal)."""
    import pandas as pd

    columns = []
    for name in frame.columns:
        values = pd.to_numeric(frame[name], errors="coerce")
        filled = frame[name].map(lambda v: not is_missing(v) and str(v).strip() != "")
        numeric = bool(filled.any()) and bool(values[filled].notna().all())
        if numeric:
            whole = bool(((values[filled] % 1) == 0).all())
            fmt = fmt_whole if whole else fmt_percent
            columns.append(Column(str(name), lambda row, n=name, f=fmt: f(row.get(n)), "num", (name,)))
        else:
            columns.append(Column(str(name), text_of(name), "text", (name,)))
    return columns


def _claim_anchor(claim_id) -> str:
    return "claim-" + re.sub(r"[^A-Za-z0-9_-]", "-", str(claim_id))


SOF_TABLE = (
    Column("Question", lambda r: as_text(r.get("label")) or as_text(r.get("question_id")), "label", ("label",)),
    Column("Group", text_of("group"), "text", ("group",)),
    Column("Studies", lambda r: fmt_whole(r.get("k")), "num", ("k",), "studies pooled (k)"),
    Column("Cohorts", lambda r: fmt_whole(r.get("cohorts")), "num", ("cohorts",), "distinct cohorts"),
    Column("Patients", lambda r: fmt_whole(r.get("total_n")), "num", ("total_n",), "patients in the pooled studies"),
    Column("Pooled %", lambda r: fmt_percent(r.get("pooled")), "num", ("pooled",), "pooled proportion, percent"),
    Column("CI %", lambda r: fmt_interval(r.get("ci_low"), r.get("ci_high")), "num", ("ci_low", "ci_high"),
           "confidence interval of the pooled proportion"),
    Column("PI %", lambda r: fmt_interval(r.get("pi_low"), r.get("pi_high")), "num", ("pi_low", "pi_high"),
           "prediction interval: where a new study's figure is expected"),
    Column("I² %", lambda r: fmt_i2(r.get("i2")), "num", ("i2",), "heterogeneity between the studies"),
    Column("Certainty", text_of("certainty"), "text certainty", ("certainty",), "GRADE-style certainty"),
    Column("Why not higher", text_of("reasons"), "long", ("reasons",)),
    Column("The pages' claims", text_of("claims"), "long", ("claims",)),
)

OUTSIDE = frozenset({"above", "below", "above_ci", "below_ci"})


def headline_table(claim_ids: set[str]) -> tuple[Column, ...]:
    def link(row) -> str | None:
        claim = as_text(row.get("claim_id"))
        return f"sources.html#{_claim_anchor(claim)}" if claim in claim_ids else None

    return (
        Column("The page says", text_of("value_text"), "short", ("value_text",), href=link),
        Column("Page", text_of("source"), "text", ("source",)),
        Column("Basis", lambda r: as_text(r.get("basis")).replace("_", " "), "text", ("basis",)),
        Column("Question", text_of("question"), "label", ("question",)),
        Column("Group", text_of("group"), "text", ("group",)),
        Column("What the studies report", text_of("evidence"), "long", ("evidence",)),
        # not pooled: the evidence says where the claim falls already
        Column("Where the claim falls", lambda r: "" if as_text(r.get("why")) == as_text(r.get("evidence"))
               else as_text(r.get("why")), "long", ("why",)),
    )


def _read_table(path: Path):
    """A table of tables/ as text cells (empty ones missing), or None when it is not built yet."""
    import pandas as pd

    if not path.is_file():
        return None
    return pd.read_csv(path, dtype=str, keep_default_na=False).replace("", None)


def _not_built(what: str) -> str:
    return f"<p class=\"missing\">Not built yet: <span class=\"file\">{e(what)}</span> (run <code>make</code>).</p>\n"


# The figures the index shows, in order: (file name without .png, caption).
HEADLINE_FIGURES = (
    ("11-overview", "What the studies report on each question, and where the pages' claims fall"),
    ("08-citation-audit", "Do the cited studies say what the pages claim? The audit's verdicts, by page"),
    ("04-treatments-compared", "The results the pages claim for the treatments they discuss"),
    ("02-failure-rates", "How often back surgery \u201cfails\u201d, as each page puts it"),
)
THUMBNAIL_WIDTH = 900  # pixels: sharp at the index's column width on a high-density screen


@dataclass
class Figure:
    stem: str
    caption: str
    path: Path
    href: str  # its full-size page
    notebook: Page | None = None


def data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def thumbnail(data: bytes) -> bytes:
    """A PNG no wider than THUMBNAIL_WIDTH (the image itself when it is smaller or cannot be read)."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            if image.width <= THUMBNAIL_WIDTH:
                return data
            height = max(1, round(image.height * THUMBNAIL_WIDTH / image.width))
            small = image.convert("RGBA").resize((THUMBNAIL_WIDTH, height), Image.LANCZOS)
            buffer = io.BytesIO()
            small.save(buffer, format="PNG", optimize=True)
            return buffer.getvalue()
    except Exception:  # noqa: BLE001 - any image Pillow cannot shrink is shown as it is
        return data


def figure_page(figure: Figure, footer: str = "") -> str:
    """A figure at full size, with its caption and the notebook that drew it."""
    made_by = ""
    if figure.notebook is not None:
        made_by = (f"<p>Drawn by the notebook <a href=\"{e(quote(figure.notebook.href))}\">"
                   f"{e(figure.notebook.title)}</a>.</p>\n")
    body = (f"<p><a href=\"index.html\">&larr; Report index</a></p>\n<h1>{e(figure.caption)}</h1>\n"
            f"<p class=\"file\">figures/{e(figure.path.name)}</p>\n"
            f"<figure class=\"full\"><img src=\"{data_uri(figure.path.read_bytes())}\" alt=\"{e(figure.caption)}\">"
            f"</figure>\n{made_by}")
    return _page(figure.caption, body, footer)


def _figures_section(figures: list[Figure], missing: list[str], figures_dir: Path) -> str:
    parts = ["<section id=\"figures\">\n<h2>Headline figures</h2>\n"
             "<p class=\"about\">Select a figure for its full-size image.</p>\n"]
    if figures:
        parts.append("<div class=\"figures\">\n")
        for figure in figures:
            thumb = data_uri(thumbnail(figure.path.read_bytes()))
            parts.append(f"<figure id=\"figure-{e(figure.stem)}\"><a href=\"{e(quote(figure.href))}\">"
                         f"<img src=\"{thumb}\" alt=\"{e(figure.caption)}\"></a>"
                         f"<figcaption>{e(figure.caption)} <span class=\"file\">figures/{e(figure.path.name)}"
                         "</span></figcaption></figure>\n")
        parts.append("</div>\n")
    for stem in missing:
        parts.append(_not_built(f"{figures_dir.name}/{stem}.png"))
    parts.append("</section>\n")
    return "".join(parts)


def _table_section(anchor: str, heading: str, about: str, path: Path, render: Callable) -> str:
    frame = _read_table(path)
    label = f"{path.parent.name}/{path.name}"
    parts = [f"<section id=\"{e(anchor)}\">\n<h2>{e(heading)}</h2>\n<p class=\"about\">{about} "
             f"<span class=\"file\">{e(label)}</span></p>\n"]
    parts.append(_not_built(label) if frame is None else render(frame))
    parts.append("</section>\n")
    return "".join(parts)


def _notebooks_section(pages: list[Page], unfinished: list[Path]) -> str:
    groups: dict[str, list[Page]] = {}
    for page in pages:
        groups.setdefault(page.group, []).append(page)
    items = []
    for runs in groups.values():
        if len(runs) == 1 and not any(runs[0].parameters.get(k) for k in LABEL_PARAMETERS):
            page = runs[0]
            items.append(f"<li class=\"notebook\"><a href=\"{e(quote(page.href))}\">{e(page.title)}</a> "
                         f"<span class=\"file\">{e(page.source.name)}</span></li>\n")
            continue
        links = []
        for page in runs:
            rest = page.title[len(page.heading):] if page.title.startswith(page.heading) else ""
            text = (f"<span class=\"q\">{e(page.heading)}</span>{e(rest)}" if rest else e(page.title))
            note = f" <span class=\"note\">{e(page.note)}</span>" if page.note else ""
            links.append(f"<li><a href=\"{e(quote(page.href))}\">{text}</a>{note}</li>\n")
        count = f"{len(runs)} run{'s' if len(runs) > 1 else ''}"
        items.append(f"<li class=\"notebook\"><strong>{e(runs[0].heading)}</strong> <span class=\"file\">"
                     f"{e(runs[0].group)}</span> ({count})\n<ul class=\"runs\">\n{''.join(links)}</ul></li>\n")
    parts = ["<section id=\"notebooks\">\n<h2>The notebooks, by question</h2>\n"
             "<p class=\"about\">Each notebook asks one question and shows its code, tables and figures; "
             "the generic ones run once per topic or per literature question.</p>\n",
             f"<ol class=\"notebooks\">\n{''.join(items)}</ol>\n"]
    if unfinished:
        names = ", ".join(e(p.name) for p in unfinished)
        parts.append(f"<p class=\"warning\">Not included (the run failed or did not finish): {names}</p>\n")
    parts.append("</section>\n")
    return "".join(parts)


def index_page(pages: list[Page], unfinished: list[Path], sources_href: str = "sources.html", *,
               figures: list[Figure] = (), missing_figures: list[str] = (), figures_dir: Path = Path("figures"),
               tables_dir: Path | None = None, claim_ids: Iterable[str] = (), footer: str = "") -> str:
    """The report's front page: the answers first (summary of findings, headline figures, headline
    claims, citation audit), then the notebooks grouped by question, then the sources."""
    tables_dir = Path(tables_dir) if tables_dir is not None else Path("tables")
    claim_ids = set(claim_ids)
    toc = [("summary", "Summary of findings"), ("figures", "Figures"), ("headline-claims", "Headline claims"),
           ("audit", "Citation audit"), ("notebooks", "Notebooks"), ("sources", "Sources")]
    body = [f"<h1>{e(REPORT_TITLE)}</h1>\n",
            "<p class=\"lead\">What the primary studies report on each question the clinic pages speak to, "
            "how sure that evidence is, where the pages' own numbers fall beside it, and whether the studies "
            "the pages cite say what the pages claim. The notebooks behind every number follow, and the "
            "verbatim quote of every claim.</p>\n",
            "<nav class=\"toc\">" + "".join(f"<a href=\"#{a}\">{e(t)}</a>" for a, t in toc) + "</nav>\n"]

    def sof(frame) -> str:
        # A question's groups follow one another: its label is shown once, on its first row.
        rows = frame.to_dict("records")
        for i, row in enumerate(rows):
            row["_first"] = i == 0 or row.get("question_id") != rows[i - 1].get("question_id")
        columns = (Column("Question", lambda r: (as_text(r.get("label")) or as_text(r.get("question_id")))
                          if r["_first"] else "", "label", ("label",)),) + SOF_TABLE[1:]
        return html_table(rows, columns, available=frame.columns, cls="sof",
                          row_class=lambda r: "first-of-question" if r["_first"] else "")

    def headline(frame) -> str:
        return html_table(frame.to_dict("records"), headline_table(claim_ids), available=frame.columns,
                          row_class=lambda r: "outside" if as_text(r.get("placement")) in OUTSIDE else "",
                          cls="headline")

    def audit(frame) -> str:
        return html_table(frame.to_dict("records"), generic_columns(frame), cls="audit")

    body.append(_table_section(
        "summary", "Summary of findings",
        "Each question's pooled share of patients (random effects, percent) with its confidence (CI) and "
        "prediction (PI) intervals, heterogeneity (I\u00b2) and GRADE-style certainty, beside the pages' "
        "claims. Empty: not pooled.",
        tables_dir / "11-summary-of-findings.csv", sof))
    body.append(_figures_section(list(figures), list(missing_figures), figures_dir))
    body.append(_table_section(
        "headline-claims", "The pages' headline numbers beside the evidence",
        "Each comparable claim, what the studies report for its question, and where the claim falls; "
        "claims outside the interval are shaded. Select a claim for its verbatim quote.",
        tables_dir / "11-headline-claims.csv", headline))
    body.append(_table_section(
        "audit", "Citation audit by page",
        "How many of each page's numbers the cited studies support, and how many they do not.",
        tables_dir / "08-audit-by-page.csv", audit))
    body.append(_notebooks_section(pages, unfinished))
    body.append(f"<section id=\"sources\">\n<h2>Sources</h2>\n<p><a href=\"{e(quote(sources_href))}\">"
                "Sources and the verbatim quote of every claim</a></p>\n</section>\n")
    return _page(REPORT_TITLE, "".join(body), footer)


SOURCE_FIELDS = (("label", "Label"), ("title", "Title"), ("publisher", "Publisher"),
                 ("author", "Author"), ("description", "Description"), ("file", "Text file"),
                 ("original_file", "Original file"), ("sha256", "SHA-256"))
CLAIM_COLUMNS = (("claim_id", "Claim"), ("topic", "Topic"), ("value_text", "Value"),
                 ("quote", "Verbatim quote"))


def sources_page(sources, claims, footer: str = "") -> str:
    """Every row of the sources table, each followed by the quotes of its claims (all escaped).

    `sources` and `claims` are the tables (DataFrames, as load_dataset returns them)."""
    sources = sources.to_dict("records")
    claims = claims.to_dict("records")
    by_source: dict[str, list[dict]] = {}
    for claim in claims:
        by_source.setdefault(as_text(claim["source_id"]), []).append(claim)
    known = {as_text(s["source_id"]) for s in sources}
    groups = [(as_text(s["source_id"]), as_text(s.get("title")) or as_text(s["source_id"]), s) for s in sources]
    groups += [(sid, f"Unknown source {sid!r}", None) for sid in by_source if sid not in known]

    toc, sections = [], []
    for n, (sid, heading, row) in enumerate(groups, start=1):
        anchor = f"source-{n}"
        rows = by_source.get(sid, [])
        toc.append(f"<li><a href=\"#{anchor}\">{e(heading)}</a> "
                   f"<span class=\"file\">{e(sid)}</span> ({len(rows)} claim{'' if len(rows) == 1 else 's'})</li>\n")
        part = [f"<section id=\"{anchor}\">\n<h2>{e(heading)}</h2>\n<dl>\n"
                f"<dt>source_id</dt><dd>{e(sid)}</dd>\n"]
        for key, label in SOURCE_FIELDS:
            value = as_text(row.get(key)) if row is not None else ""
            if value:
                part.append(f"<dt>{e(label)}</dt><dd>{e(value)}</dd>\n")
        part.append("</dl>\n")
        if rows:
            head = "".join(f"<th>{e(label)}</th>" for _, label in CLAIM_COLUMNS)
            part.append(f"<div class=\"table-wrap\"><table class=\"claims\">\n<thead><tr>{head}</tr></thead>\n"
                        "<tbody>\n")
            for claim in rows:
                cells = "".join(f"<td class=\"{e(key)}{' long' if key == 'quote' else ''}\">"
                                f"{e(as_text(claim.get(key)))}</td>" for key, _ in CLAIM_COLUMNS)
                part.append(f"<tr id=\"{e(_claim_anchor(as_text(claim.get('claim_id'))))}\">{cells}</tr>\n")
            part.append("</tbody>\n</table></div>\n")
        else:
            part.append("<p>No claims.</p>\n")
        part.append("</section>\n")
        sections.append("".join(part))
    title = "Sources and verbatim quotes"
    body = (f"<p><a href=\"index.html\">&larr; Report index</a></p>\n<h1>{e(title)}</h1>\n"
            f"<p>{len(claims)} claims from {len(sources)} sources. "
            "Quotes are printed exactly as recorded.</p>\n"
            f"<ol class=\"sources\">\n{''.join(toc)}</ol>\n{''.join(sections)}")
    return _page(title, body, footer)


# -- writing the report -----------------------------------------------------------------

RESERVED = {"index.html", "sources.html"}


def _write(path: Path, text: str) -> None:
    write_text(path, text)  # atomic: a temporary name beside it, renamed when complete


def _publish(tmp: Path, out: Path) -> None:
    """Put the finished folder `tmp` at `out`, replacing any previous report."""
    old = None
    if out.exists() or out.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, old / out.name)
    try:
        os.replace(tmp, out)
    except BaseException:
        if old is not None:
            os.replace(old / out.name, out)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _href(stem: str) -> str:
    href = stem + ".html"
    if href in RESERVED or href.startswith("figure-"):
        href = "notebook-" + href
    return href


def _figures(figures_dir: Path, pages: list[Page]) -> tuple[list[Figure], list[str]]:
    found, missing = [], []
    for stem, caption in HEADLINE_FIGURES:
        path = figures_dir / f"{stem}.png"
        if not path.is_file():
            missing.append(stem)
            continue
        number = stem.split("-", 1)[0]
        notebook = next((p for p in pages if p.group.split("-", 1)[0] == number and "--" not in p.source.stem),
                        None)
        found.append(Figure(stem, caption, path, f"figure-{stem}.html", notebook))
    return found, missing


def _data_folders(paths) -> list[tuple[Path, str]]:
    """The folders of the data files, each to be shown by its name (data/, not /.../data/); a folder
    inside another of them is covered by that one."""
    parents = sorted({Path(p).absolute().parent for p in paths.files()}, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for parent in parents:
        if not any(parent.is_relative_to(k) for k in kept):
            kept.append(parent)
    return [(k, k.name) for k in kept if k.name]


def build_report(build: Path, out: Path, paths=None, *, figures: Path | None = None,
                 tables: Path | None = None) -> Path:
    """Render the report into `out` (a folder); return the path of its index.html.

    `paths` (a DataPaths; default: the tables of data/) names the data, loaded and validated
    with load_dataset; `figures` and `tables` default to the folders beside `build`."""
    from fbss_evidence.dataset import DataPaths, load_dataset

    build, out = Path(build), Path(out)
    figures = Path(figures) if figures is not None else build.absolute().parent / "figures"
    tables = Path(tables) if tables is not None else build.absolute().parent / "tables"
    notebooks, unfinished = executed_notebooks(build)
    if not notebooks:
        raise FileNotFoundError(f"no executed notebooks (*.ipynb) in {build}; run `make` first")
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out {out} exists and is not a folder")
    paths = paths if paths is not None else DataPaths.in_folder()
    data = load_dataset(paths)  # raises InputError, listing every problem, before anything is written
    footer = Provenance.of(paths).footer()
    folders = [(build, build.absolute().name), (figures, "figures"), (tables, "tables"),
               (build.absolute().parent, ""), (config.OUTPUT_ROOT, ""), (config.ROOT, "")]
    scrub = PathScrubber(folders + _data_folders(paths))
    frames = [getattr(data, f) for f in ("sources", "claims", "references", "studies", "audit", "statements",
                                         "questions", "links", "results", "search_log", "screening")]
    full = full_texts([f for f in frames if f is not None], tables)
    questions = {}
    if data.questions is not None:
        questions = {as_text(q): as_text(label) for q, label in zip(data.questions["question_id"],
                                                                    data.questions["label"])}

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        exporter = make_exporter()
        pages = []
        for path in notebooks:
            page = describe_page(path, questions)
            page.href = _href(path.name.removesuffix(".ipynb"))
            pages.append(page)
        distinct_titles(pages)
        for page in pages:
            body, _, _ = render_notebook(page.source, exporter, page, full=full, footer=footer)
            _write(tmp / page.href, scrub(body))
        found, missing = _figures(figures, pages)
        for figure in found:
            _write(tmp / figure.href, scrub(figure_page(figure, footer)))
        _write(tmp / "sources.html", scrub(sources_page(data.sources, data.claims, footer)))
        index = index_page(pages, unfinished, "sources.html", figures=found, missing_figures=missing,
                           figures_dir=figures, tables_dir=tables, claim_ids=data.claims["claim_id"], footer=footer)
        _write(tmp / "index.html", scrub(index))
        tmp.chmod(0o755)  # mkdtemp makes it private
        _publish(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if full.unrestored:
        print(f"report: {full.unrestored} table cell(s) the notebooks cut short with '...' could not be restored "
              "(no single matching text in the data or tables/)", file=sys.stderr)
    return out / "index.html"


def main(argv: list[str] | None = None) -> int:
    from fbss_evidence.cli import add_data_arguments, data_paths
    from fbss_evidence.problems import InputError

    parser = argparse.ArgumentParser(prog="python -m fbss_build.report",
                                     description=__doc__.split("\n")[0])
    add_data_arguments(parser)
    parser.add_argument("--build", type=Path, default=None,
                        help=f"folder of executed notebooks (default: {config.BUILD})")
    parser.add_argument("--out", type=Path, default=None,
                        help="report folder to write (default: BUILD/report); index.html is inside it")
    parser.add_argument("--figures", type=Path, default=None,
                        help="folder of the figures (default: figures/ beside the build folder)")
    parser.add_argument("--tables", type=Path, default=None,
                        help="folder of the tables (default: tables/ beside the build folder)")
    args = vars(parser.parse_args(argv))
    build = args.pop("build") or config.BUILD
    out = args.pop("out") or build / "report"
    figures, tables = args.pop("figures"), args.pop("tables")
    paths = data_paths(args)
    if paths.sources is None:
        parser.error("the report lists every source: --sources cannot be 'none'")
    try:
        index = build_report(build, out, paths, figures=figures, tables=tables)
    except InputError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        print(f"{len(err.problems)} problem(s) found; no report written.", file=sys.stderr)
        return 1
    except (FileNotFoundError, NotADirectoryError) as err:
        print(f"report: {err}", file=sys.stderr)
        return 1
    print(f"wrote {index}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

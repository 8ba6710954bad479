"""Render the executed notebooks and every claim's quote into one offline HTML report.

    python -m fbss_build.report [--build DIR] [--out DIR] [--claims CSV] [--sources CSV]

Every executed notebook in the build folder (`*.ipynb`, not `*.partial.ipynb` or
`*.failed.ipynb`) becomes one page (nbconvert, "lab" template, inputs shown,
images embedded); `index.html` links them by their first heading, and
`sources.html` lists the sources table with each claim's verbatim quote, grouped
by source, so a reviewer can read the whole evidence base offline.

The text on these pages comes from scraped web pages, so it is treated as
hostile: the index and sources pages escape everything they print; on the
notebook pages nbconvert escapes plain text and every HTML or Markdown output
(and Markdown cell) is run through an allow-list sanitizer that turns `<script>`
and any other unlisted markup into visible text. Output types that carry code
(JavaScript, widgets, Mermaid) are dropped, the pages load nothing from the
network, and a Content-Security-Policy forbids scripts outright.

The report is written into a temporary folder next to --out and renamed into
place only when every page has rendered, so a failed run leaves the previous
report as it was.
"""
from __future__ import annotations

import argparse
import html
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from fbss_evidence import config

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


# -- notebook pages --------------------------------------------------------------

# The page template: nbconvert's "lab" page with its script blocks emptied (no
# require.js, MathJax or Mermaid from a CDN), a Content-Security-Policy, the
# DataFrame styling the sanitizer removed, and a link back to the index.
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
.jp-RenderedHTMLCommon table.dataframe thead th { text-align: right; }
.jp-RenderedHTMLCommon table.dataframe tbody tr th { vertical-align: top; }
nav.report-nav { padding: 0.5em 1em; font-family: var(--jp-ui-font-family, sans-serif); }
</style>
{%- endblock extra_css -%}
{%- block body_header -%}
{{ super() }}
<nav class="report-nav"><a href="index.html">&larr; Report index</a></nav>
{%- endblock body_header -%}
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
    """An HTMLExporter (lab template, inputs shown, images embedded, outputs sanitized)."""
    from jinja2 import DictLoader

    return _exporter_class()(
        template_name="lab",
        template_file=PAGE_TEMPLATE_NAME,
        extra_loaders=[DictLoader({PAGE_TEMPLATE_NAME: PAGE_TEMPLATE})],
        filters={"clean_html": clean_html},
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


@dataclass
class Page:
    source: Path  # the executed notebook
    href: str  # the page's file name inside the report
    title: str  # unescaped
    parameters: dict


def executed_notebooks(build: Path) -> tuple[list[Path], list[Path]]:
    """(executed notebooks, unfinished runs) in build/, sorted by name."""
    done, unfinished = [], []
    for path in sorted(Path(build).glob("*.ipynb")):
        if path.name.endswith((".partial.ipynb", ".failed.ipynb")):
            unfinished.append(path)
        elif path.is_file():
            done.append(path)
    return done, unfinished


def render_notebook(path: Path, exporter) -> tuple[str, str, dict]:
    """(page HTML, title, papermill parameters) of one executed notebook."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    stem = path.name.removesuffix(".ipynb")
    title = first_heading(nb) or stem
    parameters = {k: v for k, v in nb.metadata.get("papermill", {}).get("parameters", {}).items()
                  if k != "output_dir"}
    _defang(nb)
    resources = {"metadata": {"name": stem, "path": str(path.parent)},
                 "report_csp": CSP}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body, title, parameters


# -- index and sources pages -------------------------------------------------------

e = html.escape  # quote=True: safe in text and in attribute values

PAGE_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em;
       line-height: 1.45; color: #222; }
.file { color: #666; font-family: monospace; font-size: 90%; }
table { border-collapse: collapse; width: 100%; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
td.quote { font-style: italic; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dt { font-weight: bold; } dd { margin: 0; }
.warning { color: #8a4b00; }
"""


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{e(CSP)}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1.0\">\n"
        f"<title>{e(title)}</title>\n<style>{PAGE_STYLE}</style>\n</head>\n<body>\n"
        f"{body}</body>\n</html>\n"
    )


def index_page(pages: list[Page], unfinished: list[Path], sources_href: str) -> str:
    items = []
    for page in pages:
        params = ", ".join(f"{k} = {v}" for k, v in page.parameters.items())
        extra = f" ({e(params)})" if params else ""
        items.append(f"<li><a href=\"{e(quote(page.href))}\">{e(page.title)}</a>{extra} "
                     f"<span class=\"file\">{e(page.source.name)}</span></li>\n")
    body = [f"<h1>{e(REPORT_TITLE)}</h1>\n",
            "<p>The executed analysis notebooks, with their code and outputs, and every "
            "claim's verbatim quote grouped by source.</p>\n",
            f"<h2>Notebooks</h2>\n<ol class=\"notebooks\">\n{''.join(items)}</ol>\n",
            f"<h2>Sources</h2>\n<p><a href=\"{e(quote(sources_href))}\">Sources and the verbatim "
            "quote of every claim</a></p>\n"]
    if unfinished:
        names = ", ".join(e(p.name) for p in unfinished)
        body.append(f"<p class=\"warning\">Not included (the run failed or did not finish): "
                    f"{names}</p>\n")
    return _page(REPORT_TITLE, "".join(body))


SOURCE_FIELDS = (("label", "Label"), ("title", "Title"), ("publisher", "Publisher"),
                 ("author", "Author"), ("description", "Description"), ("file", "Text file"),
                 ("original_file", "Original file"), ("sha256", "SHA-256"))
CLAIM_COLUMNS = (("claim_id", "Claim"), ("topic", "Topic"), ("value_text", "Value"),
                 ("quote", "Verbatim quote"))


def sources_page(sources_csv: Path, claims_csv: Path) -> str:
    """Every row of the sources table, each followed by the quotes of its claims (all escaped)."""
    from fbss_evidence.csvfile import read_csv_table

    sources = read_csv_table(sources_csv, required=("source_id",)).frame.to_dict("records")
    claims = read_csv_table(claims_csv, required=("claim_id", "source_id", "quote")).frame
    by_source: dict[str, list[dict]] = {}
    for claim in claims.to_dict("records"):
        by_source.setdefault(claim["source_id"], []).append(claim)
    known = {s["source_id"] for s in sources}
    groups = [(s["source_id"], s.get("title") or s["source_id"], s) for s in sources]
    groups += [(sid, f"Unknown source {sid!r}", None) for sid in by_source if sid not in known]

    toc, sections = [], []
    for n, (sid, heading, row) in enumerate(groups, start=1):
        anchor = f"source-{n}"
        rows = by_source.get(sid, [])
        toc.append(f"<li><a href=\"#{anchor}\">{e(heading)}</a> "
                   f"<span class=\"file\">{e(sid)}</span> ({len(rows)} claims)</li>\n")
        part = [f"<section id=\"{anchor}\">\n<h2>{e(heading)}</h2>\n<dl>\n"
                f"<dt>source_id</dt><dd>{e(sid)}</dd>\n"]
        for key, label in SOURCE_FIELDS:
            if row is not None and row.get(key):
                part.append(f"<dt>{e(label)}</dt><dd>{e(row[key])}</dd>\n")
        part.append("</dl>\n")
        if rows:
            head = "".join(f"<th>{e(label)}</th>" for _, label in CLAIM_COLUMNS)
            part.append(f"<table class=\"claims\">\n<thead><tr>{head}</tr></thead>\n<tbody>\n")
            for claim in rows:
                cells = "".join(
                    f"<td class=\"{e(key)}\">{e(claim.get(key, ''))}</td>" for key, _ in CLAIM_COLUMNS)
                part.append(f"<tr>{cells}</tr>\n")
            part.append("</tbody>\n</table>\n")
        else:
            part.append("<p>No claims.</p>\n")
        part.append("</section>\n")
        sections.append("".join(part))
    title = "Sources and verbatim quotes"
    body = (f"<p><a href=\"index.html\">&larr; Report index</a></p>\n<h1>{e(title)}</h1>\n"
            f"<p>{len(claims)} claims from {len(sources)} sources "
            f"(<span class=\"file\">{e(Path(sources_csv).name)}</span>, "
            f"<span class=\"file\">{e(Path(claims_csv).name)}</span>). "
            "Quotes are printed exactly as recorded.</p>\n"
            f"<ol class=\"sources\">\n{''.join(toc)}</ol>\n{''.join(sections)}")
    return _page(title, body)


# -- writing the report -----------------------------------------------------------------

RESERVED = {"index.html", "sources.html"}


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


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


def build_report(build: Path, out: Path, sources_csv: Path, claims_csv: Path) -> Path:
    """Render the report into `out` (a folder); return the path of its index.html."""
    build, out = Path(build), Path(out)
    notebooks, unfinished = executed_notebooks(build)
    if not notebooks:
        raise FileNotFoundError(f"no executed notebooks (*.ipynb) in {build}; run `make` first")
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out {out} exists and is not a folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        exporter = make_exporter()
        pages = []
        for path in notebooks:
            body, title, parameters = render_notebook(path, exporter)
            href = path.name.removesuffix(".ipynb") + ".html"
            if href in RESERVED:
                href = "notebook-" + href
            _write(tmp / href, body)
            pages.append(Page(path, href, title, parameters))
        _write(tmp / "sources.html", sources_page(sources_csv, claims_csv))
        _write(tmp / "index.html", index_page(pages, unfinished, "sources.html"))
        tmp.chmod(0o755)  # mkdtemp makes it private
        _publish(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out / "index.html"


def main(argv: list[str] | None = None) -> int:
    from fbss_evidence.problems import InputError

    parser = argparse.ArgumentParser(prog="python -m fbss_build.report",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--build", type=Path, default=None,
                        help=f"folder of executed notebooks (default: {config.BUILD})")
    parser.add_argument("--out", type=Path, default=None,
                        help="report folder to write (default: BUILD/report); index.html is inside it")
    parser.add_argument("--claims", type=Path, default=config.CLAIMS_CSV)
    parser.add_argument("--sources", type=Path, default=config.SOURCES_CSV)
    args = parser.parse_args(argv)
    build = args.build or config.BUILD
    out = args.out or build / "report"
    try:
        index = build_report(build, out, args.sources, args.claims)
    except InputError as err:
        print(err, file=sys.stderr)
        return 1
    except (FileNotFoundError, NotADirectoryError) as err:
        print(f"report: {err}", file=sys.stderr)
        return 1
    print(f"wrote {index}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

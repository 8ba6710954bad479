"""The HTML report: every page renders, links hold, and text from the data can never run as script."""
from __future__ import annotations

import csv
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from fbss_evidence import config
from fbss_build import report

PAYLOAD = "<script>alert(1)</script>"
QUOTE = f'the page said "{PAYLOAD}" & 30% of patients < 1 year'
# A 1x1 PNG.
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


class Page(HTMLParser):
    """What a browser would make of a page: script bodies, visible text, links, attributes."""

    RAW = {"script", "style", "title"}

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.scripts: list[str] = []
        self.visible: list[str] = []
        self.links: list[str] = []
        self.attributes: list[tuple[str, str, str | None]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.attributes += [(tag, name, value) for name, value in attrs]
        if tag == "a":
            self.links += [value for name, value in attrs if name == "href" and value]
        if tag == "script":
            self.scripts.append("")
        if tag in self.RAW:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.stack[-1] == "script":
            self.scripts[-1] += data
        elif not self.stack:
            self.visible.append(data)

    @property
    def text(self) -> str:
        return "".join(self.visible)


def read_page(path: Path) -> Page:
    return Page(path.read_text(encoding="utf-8"))


def assert_inert(page: Page, name: str) -> None:
    """No data in a script element, no event handlers, no javascript: or data: links."""
    for script in page.scripts:
        assert "alert(1)" not in script, f"{name}: data ended up inside a <script> element"
    handlers = [(tag, attr) for tag, attr, _ in page.attributes if attr.startswith("on")]
    assert not handlers, f"{name}: event-handler attributes {handlers}"
    for tag, attr, value in page.attributes:
        if attr in ("href", "src", "action", "formaction") and value:
            assert not value.strip().lower().startswith(("javascript:", "vbscript:")), (name, tag, value)
            if value.strip().lower().startswith("data:"):
                assert (tag, attr) == ("img", "src") and value.startswith("data:image/"), (name, tag, value)


def hostile_notebook() -> nbformat.NotebookNode:
    frame = pd.DataFrame({"claim_id": ["x-01"], "quote": [QUOTE]})
    with pd.option_context("display.max_colwidth", None):
        html_frame = frame._repr_html_()
    code = new_code_cell("frame", execution_count=1, outputs=[
        new_output("stream", name="stdout", text=f"printed {PAYLOAD}\n"),
        new_output("display_data", data={"text/plain": f"plain {PAYLOAD}"}),
        new_output("execute_result", execution_count=1, data={
            "text/plain": "a DataFrame",
            "text/html": html_frame,  # pandas escapes cells
        }),
        new_output("display_data", data={
            # an output that does NOT escape: the report must
            "text/html": f"<b>raw</b> {PAYLOAD}<img src=x onerror=alert(2)>"
                         f"<a href=\"javascript:alert(3)\">link</a>",
            "text/plain": "raw html",
        }),
        new_output("display_data", data={"text/markdown": f"**Quote:** {QUOTE}", "text/plain": "md"}),
        new_output("display_data", data={"application/javascript": "alert(4)", "text/plain": "js"}),
        new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"}),
    ])
    return new_notebook(cells=[
        new_markdown_cell(f"# Hostile {PAYLOAD} & title\n\nBody text."),
        code,
        new_markdown_cell(f"Author text with {PAYLOAD} pasted in."),
    ], metadata={"kernelspec": {"name": "fbss-evidence", "display_name": "Python (fbss-evidence)",
                                "language": "python"},
                 "language_info": {"name": "python", "pygments_lexer": "ipython3"},
                 "papermill": {"parameters": {"topic": "opioids", "output_dir": "/tmp/x"}}})


def plain_notebook() -> nbformat.NotebookNode:
    return new_notebook(cells=[
        new_markdown_cell("Intro without a heading.\n\n## Second notebook\n\ntext"),
        new_code_cell("1 + 1", execution_count=1,
                      outputs=[new_output("execute_result", execution_count=1, data={"text/plain": "2"})]),
    ], metadata={"language_info": {"name": "python"}})


def write_csv(path: Path, header: list[str], rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    """A build folder with two executed notebooks, an unfinished run, and tmp data tables."""
    root = tmp_path_factory.mktemp("report")
    build = root / "build"
    build.mkdir()
    nbformat.write(hostile_notebook(), build / "01-hostile.ipynb")
    nbformat.write(plain_notebook(), build / "02-plain.ipynb")
    nbformat.write(plain_notebook(), build / "03-broken.failed.ipynb")
    nbformat.write(plain_notebook(), build / "03-broken.partial.ipynb")
    sources = write_csv(root / "sources.csv", ["source_id", "label", "title", "publisher", "file"], [
        {"source_id": "evil", "label": "Evil", "title": f"Title {PAYLOAD}", "publisher": "A & B",
         "file": "sources/evil.txt"},
        {"source_id": "quiet", "label": "Quiet", "title": "A page with no claims", "publisher": "",
         "file": "sources/quiet.txt"},
    ])
    claims = write_csv(root / "claims.csv", ["claim_id", "source_id", "quote", "value_text", "topic"], [
        {"claim_id": "evil-01", "source_id": "evil", "quote": QUOTE, "value_text": "30%",
         "topic": "failure_cause"},
        {"claim_id": "evil-02", "source_id": "evil", "quote": "plain & simple", "value_text": "1",
         "topic": "opioids"},
        {"claim_id": "ghost-01", "source_id": "ghost", "quote": "from a source not in the table",
         "value_text": "2", "topic": "opioids"},
    ])
    out = root / "out" / "report"
    assert report.main(["--build", str(build), "--out", str(out),
                        "--sources", str(sources), "--claims", str(claims)]) == 0
    return {"root": root, "build": build, "out": out, "sources": sources, "claims": claims}


def test_the_report_has_an_index_a_page_per_executed_notebook_and_a_sources_page(fake):
    names = sorted(p.name for p in fake["out"].iterdir())
    assert names == ["01-hostile.html", "02-plain.html", "index.html", "sources.html"]
    # nothing left behind next to the report
    assert [p.name for p in fake["out"].parent.iterdir()] == ["report"]


def test_the_index_links_each_notebook_page_by_its_first_heading(fake):
    index = read_page(fake["out"] / "index.html")
    assert_inert(index, "index.html")
    assert {"01-hostile.html", "02-plain.html", "sources.html"} <= set(index.links)
    for href in index.links:
        assert (fake["out"] / href).is_file(), href
    assert not any("broken" in href for href in index.links)
    # the notebook title is data: shown as text, never as markup
    assert f"Hostile {PAYLOAD} & title" in index.text
    assert "Second notebook" in index.text
    assert "topic = opioids" in index.text and "output_dir" not in index.text
    assert "03-broken.failed.ipynb" in index.text  # reported as left out
    assert index.scripts == []


def test_notebook_outputs_show_script_tags_as_text_never_as_script(fake):
    text = (fake["out"] / "01-hostile.html").read_text(encoding="utf-8")
    page = Page(text)
    assert_inert(page, "01-hostile.html")
    assert "alert(4)" not in text  # JavaScript outputs are dropped
    visible = page.text
    assert f"plain {PAYLOAD}" in visible  # text/plain
    assert f"printed {PAYLOAD}" in visible  # stream
    assert QUOTE in visible  # DataFrame cell (text/html) and Markdown output
    assert visible.count(PAYLOAD) >= 6  # + the raw HTML output, both Markdown cells
    assert f"{PAYLOAD}<img" not in visible  # ... but escaped tags only where they were text
    assert "Quote:" in visible and "raw" in visible
    assert "Body text." in visible
    # the input is shown, the image embedded, and the page links back to the index
    assert "frame" in visible
    assert any(tag == "img" and attr == "src" and value.startswith("data:image/png;base64,")
               for tag, attr, value in page.attributes)
    assert "index.html" in page.links
    assert 'http-equiv="Content-Security-Policy"' in text


def test_sources_page_lists_every_source_and_shows_quotes_as_text(fake):
    page = read_page(fake["out"] / "sources.html")
    assert_inert(page, "sources.html")
    assert page.scripts == []
    text = page.text
    assert QUOTE in text and "plain & simple" in text
    assert f"Title {PAYLOAD}" in text and "A & B" in text
    assert "A page with no claims" in text
    assert "Unknown source 'ghost'" in text and "from a source not in the table" in text
    # grouped by source: each quote under its own source's heading
    assert text.rindex(f"Title {PAYLOAD}") < text.index(QUOTE) < text.rindex("A page with no claims")
    assert "index.html" in page.links


def test_a_failed_render_leaves_the_previous_report_in_place(fake, tmp_path):
    out = tmp_path / "report"
    report.build_report(fake["build"], out, fake["sources"], fake["claims"])
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = write_csv(tmp_path / "claims.csv", ["claim_id", "source_id"], [{"claim_id": "a", "source_id": "b"}])
    status = report.main(["--build", str(fake["build"]), "--out", str(out),
                          "--sources", str(fake["sources"]), "--claims", str(bad)])
    assert status == 1
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["claims.csv", "report"]


def test_a_rerun_replaces_the_report(fake, tmp_path):
    out = tmp_path / "report"
    (out / "stale").mkdir(parents=True)
    (out / "stale" / "old.html").write_text("old")
    index = report.build_report(fake["build"], out, fake["sources"], fake["claims"])
    assert index == out / "index.html" and index.is_file()
    assert not (out / "stale").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_an_empty_build_folder_is_an_error(tmp_path, capsys):
    (tmp_path / "x.partial.ipynb").write_text("{}")
    assert report.main(["--build", str(tmp_path), "--out", str(tmp_path / "r")]) == 1
    assert "no executed notebooks" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_the_real_sources_page_shows_every_real_quote():
    page = Page(report.sources_page(config.SOURCES_CSV, config.CLAIMS_CSV))
    assert_inert(page, "sources.html")
    claims = pd.read_csv(config.CLAIMS_CSV, dtype=str, keep_default_na=False)
    text = page.text
    missing = [q for q in claims["quote"] if q not in text]
    assert not missing


@pytest.mark.parametrize("fragment, expected", [
    ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("<div><style>.x{}</style><table><tr><th>a</th><td>b</td></tr></table></div>",
     "<div><table><tbody><tr><th>a</th><td>b</td></tr></tbody></table></div>"),
    ('<img src="data:image/png;base64,AAAA" onerror="alert(1)">', '<img src="data:image/png;base64,AAAA">'),
    ('<a href="javascript:alert(1)">x</a>', "<a>x</a>"),
    ('<a href="data:text/html;base64,AAAA">x</a>', "<a>x</a>"),
    ('<svg onload="alert(1)"></svg>', '&lt;svg onload="alert(1)"&gt;&lt;/svg&gt;'),
])
def test_clean_html(fragment, expected):
    assert report.clean_html(fragment) == expected


def test_a_markdown_heading_is_the_title():
    nb = new_notebook(cells=[new_code_cell("x = 1"), new_markdown_cell("text\n### Heading ###\n# Later")])
    assert report.first_heading(nb) == "Heading"
    assert report.first_heading(new_notebook(cells=[new_markdown_cell("no heading")])) is None

"""The HTML report: it leads with the answers, every page renders, links hold, tables read well, no
machine path shows, every page says what it was built from, and text from the data can never run as
script."""
from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
import subprocess
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from PIL import Image

from fbss_evidence import cli, config, schema
from fbss_evidence.dataset import DataPaths
from fbss_build import report

PAYLOAD = "<script>alert(1)</script>"
QUOTE = f'the page said "{PAYLOAD}" & 30% of patients < 1 year'
# A 1x1 PNG.
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
# A text longer than pandas shows in a DataFrame cell (50 characters), recorded in a table of tables/.
LONG = ("The study reports 27% for both arms together, not for fusion alone, and only at two years "
        "of follow-up in a population of manual workers.")
TOPIC_HEADING = "What do the pages claim about one topic?"
QUESTION_HEADING = "What do the primary studies report, and where do the pages' claims fall?"
ROOT = str(config.ROOT)


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


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def cell_texts(row) -> list[str]:
    return [cell.get_text() for cell in row.find_all(["td", "th"])]


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


# -- the fake project: build/, figures/, tables/ and a small valid data folder ----------------------

def papermill(cells: list, parameters: dict) -> list:
    """`cells` with the cell papermill injects after the first one (it names the run's parameters)."""
    source = "# Parameters\n" + "".join(f"{k} = {v!r}\n" for k, v in parameters.items())
    injected = new_code_cell(source, execution_count=1, metadata={"tags": ["injected-parameters"]})
    return cells[:1] + [injected] + cells[1:]


def executed(cells: list, parameters: dict | None = None) -> nbformat.NotebookNode:
    metadata = {"kernelspec": {"name": "fbss-evidence", "display_name": "Python (fbss-evidence)",
                               "language": "python"},
                "language_info": {"name": "python", "pygments_lexer": "ipython3"}}
    if parameters is not None:
        metadata["papermill"] = {"parameters": parameters}
        cells = papermill(cells, parameters)
    return new_notebook(cells=cells, metadata=metadata)


def hostile_notebook(root: Path) -> nbformat.NotebookNode:
    frame = pd.DataFrame({"claim_id": ["x-01"], "quote": [QUOTE]})
    with pd.option_context("display.max_colwidth", None):
        html_frame = frame._repr_html_()
    code = new_code_cell("frame", execution_count=2, outputs=[
        new_output("stream", name="stdout", text=f"printed {PAYLOAD}\n"),
        new_output("stream", name="stdout",
                   text=f"wrote {ROOT}/figures/01-x.png, {root}/tables/01-x.csv and /tmp/elsewhere/scratch.txt\n"),
        new_output("display_data", data={"text/plain": f"plain {PAYLOAD}"}),
        new_output("execute_result", execution_count=2, data={
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
    return executed([
        new_markdown_cell(f"# Hostile {PAYLOAD} & title\n\nBody text."),
        code,
        new_markdown_cell(f"Author text with {PAYLOAD} pasted in."),
    ], {"topic": "opioids", "data_dir": f"{ROOT}/data", "output_dir": f"{root}/build/stage/01-hostile"})


def plain_notebook() -> nbformat.NotebookNode:
    return executed([
        new_markdown_cell("Intro without a heading.\n\n## Second notebook\n\ntext"),
        new_code_cell("1 + 1", execution_count=1,
                      outputs=[new_output("execute_result", execution_count=1, data={"text/plain": "2"})]),
    ])


def topic_notebook(root: Path, topic: str) -> nbformat.NotebookNode:
    return executed([
        new_markdown_cell(f"# {TOPIC_HEADING}\n\nThe generic comparison."),
        new_code_cell("topic", execution_count=2,
                      outputs=[new_output("execute_result", execution_count=2, data={"text/plain": repr(topic)})]),
    ], {"topic": topic, "output_dir": f"{root}/build/stage/07-compare-topic--{topic}"})


def question_notebook(root: Path, question: str) -> nbformat.NotebookNode:
    return executed([new_markdown_cell(f"# {QUESTION_HEADING}\n\nOne question.")],
                    {"question": question, "output_dir": f"{root}/build/stage/10-claims-vs-literature--{question}"})


def audit_notebook() -> nbformat.NotebookNode:
    """A DataFrame as pandas shows it by default: long text cut short with '...', missing values as NaN/None."""
    frame = pd.DataFrame({"claim_id": ["evil-01", "evil-02"], "explanation": [LONG, "short"],
                          "figure": [float("nan"), 12.5], "note": pd.Series([None, "n"], dtype=object)})
    html_frame = frame._repr_html_()
    assert "...</td>" in html_frame and ">NaN<" in html_frame and ">None<" in html_frame
    return executed([
        new_markdown_cell("# Do the cited studies say what the pages claim?"),
        new_code_cell("frame", execution_count=1, outputs=[new_output(
            "execute_result", execution_count=1, data={"text/plain": "a DataFrame", "text/html": html_frame})]),
    ])


def write_csv(path: Path, header: list[str], rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def png(width: int, height: int, colour=(70, 110, 160)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def make_data(folder: Path) -> Path:
    """A small data folder that load_dataset accepts: two sources (one hostile), two claims, one question."""
    texts = {"evil": f"Intro. {QUOTE}. Also plain & simple 1 thing.\n", "quiet": "Nothing here.\n"}
    for name, text in texts.items():
        (folder / "sources").mkdir(parents=True, exist_ok=True)
        (folder / "sources" / f"{name}.txt").write_text(text, encoding="utf-8")

    def sha(name):
        return hashlib.sha256(texts[name].encode()).hexdigest()

    write_csv(folder / "sources.csv", list(schema.columns(schema.SOURCES)), [
        dict(source_id="evil", label="Evil", file="sources/evil.txt", title=f"Title {PAYLOAD}", publisher="A & B",
             sha256=sha("evil")),
        dict(source_id="quiet", label="Quiet", file="sources/quiet.txt", title="A page with no claims",
             publisher="Q", sha256=sha("quiet")),
    ])
    rate = dict(bound="exact", unit="percent", measure="rate", outcome="failure", basis="uncited")
    write_csv(folder / "claims.csv", list(schema.columns(schema.CLAIMS)), [
        dict(claim_id="evil-01", source_id="evil", quote=QUOTE, value_text="30%", value="30",
             topic="failure_cause", finding_id="f-one", **rate),
        dict(claim_id="evil-02", source_id="evil", quote="plain & simple 1", value_text="1", value="1",
             topic="opioids", finding_id="f-two", **(rate | {"unit": "count", "measure": "count"})),
    ])
    write_csv(folder / "questions.csv", list(schema.columns(schema.QUESTIONS)), [
        dict(question_id="q-one", label="Question one", question="How often?", population="adults",
             outcome="failure", followup="2 years", pool_by="all", indirectness="none"),
    ])
    return folder


# Every table but sources, claims and questions is skipped, as fbss-validate's options allow.
SKIPPED = ["references", "studies", "audit", "statement_audit", "claim_questions", "results", "search_log",
           "screening", "number_exclusions"]
SKIP_ARGS = [arg for name in SKIPPED for arg in (f"--{cli._OPTIONS.get(name, name).replace('_', '-')}", "none")]


def data_paths(data: Path) -> DataPaths:
    return DataPaths.in_folder(data, **{name: None for name in SKIPPED})


SOF_HEADER = ["question_id", "label", "group", "k", "cohorts", "total_n", "pooled", "ci_low", "ci_high", "pi_low",
              "pi_high", "i2", "certainty", "design_downgrade", "inconsistency_downgrade", "imprecision_downgrade",
              "indirectness_downgrade", "reasons", "claims"]
SOF_ROWS = [
    dict(question_id="q-one", label="Question one", group="2y", k="3", cohorts="3", total_n="1234",
         pooled="23.4567891", ci_low="12.3456", ci_high="34.5678", pi_low="5.04", pi_high="60.96", i2="67.8",
         certainty="low", design_downgrade="1", inconsistency_downgrade="1", imprecision_downgrade="0",
         indirectness_downgrade="0", reasons="design: 60% of the weight from case series; inconsistency: I\u00b2 68%",
         claims=f"30% (Evil {PAYLOAD}): above the prediction interval"),
    dict(question_id="q-two", label="Question two", group="", k="1", certainty="not pooled",
         reasons="fewer than the minimum number of comparable studies", claims=""),
]
HEADLINE_HEADER = ["claim_id", "value_text", "source", "basis", "question", "group", "evidence", "placement", "why"]
HEADLINE_ROWS = [
    dict(claim_id="evil-01", value_text="30%", source="Evil", basis="uncited", question="Question one", group="2y",
         evidence="pooled 23.5% (CI 12.3-34.6%, PI 5.0-61.0%)", placement="above",
         why="above the prediction interval"),
    dict(claim_id="evil-02", value_text="1", source="Evil", basis="uncited", question="Question two", group="",
         evidence="not pooled", placement="not_comparable", why="not comparable"),
]
AUDIT_HEADER = ["source", "supported", "figure differs", "uncited"]
AUDIT_ROWS = [dict(source="Evil", supported="1", **{"figure differs": "0"}, uncited="2"),
              dict(source=f"Quiet {PAYLOAD}", supported="0", **{"figure differs": "3"}, uncited="0")]
FIGURES = {"11-overview": png(1800, 600), "08-citation-audit": png(300, 200), "02-failure-rates": png(400, 300)}


def make_outputs(root: Path) -> None:
    figures, tables = root / "figures", root / "tables"
    figures.mkdir()
    tables.mkdir()
    for stem, data in FIGURES.items():  # 04-treatments-compared is not built
        (figures / f"{stem}.png").write_bytes(data)
    write_csv(tables / "11-summary-of-findings.csv", SOF_HEADER, SOF_ROWS)
    write_csv(tables / "11-headline-claims.csv", HEADLINE_HEADER, HEADLINE_ROWS)
    write_csv(tables / "08-audit-by-page.csv", AUDIT_HEADER, AUDIT_ROWS)
    write_csv(tables / "08-discrepancies.csv", ["claim_id", "explanation"],
              [{"claim_id": "evil-01", "explanation": LONG}])


def make_build(root: Path) -> Path:
    build = root / "build"
    build.mkdir()
    nbformat.write(hostile_notebook(root), build / "01-hostile.ipynb")
    nbformat.write(plain_notebook(), build / "02-plain.ipynb")
    nbformat.write(plain_notebook(), build / "03-broken.failed.ipynb")
    nbformat.write(plain_notebook(), build / "03-broken.partial.ipynb")
    for topic in ("opioids", "recurrence"):
        nbformat.write(topic_notebook(root, topic), build / f"07-compare-topic--{topic}.ipynb")
    nbformat.write(audit_notebook(), build / "08-citation-audit.ipynb")
    nbformat.write(question_notebook(root, "q-one"), build / "10-claims-vs-literature--q-one.ipynb")
    return build


NOTEBOOK_PAGES = ["01-hostile.html", "02-plain.html", "07-compare-topic--opioids.html",
                  "07-compare-topic--recurrence.html", "08-citation-audit.html",
                  "10-claims-vs-literature--q-one.html"]
FIGURE_PAGES = ["figure-02-failure-rates.html", "figure-08-citation-audit.html", "figure-11-overview.html"]


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    """A project folder: executed notebooks (and an unfinished run), figures, tables and data; the report of it."""
    root = tmp_path_factory.mktemp("report")
    build = make_build(root)
    make_outputs(root)
    data = make_data(root / "data")
    out = root / "out" / "report"
    before = datetime.now(timezone.utc).date().isoformat()
    # as the Makefile calls it: --build build --out build/report [CLAIMS] --data DIR
    assert report.main(["--build", str(build), "--out", str(out), str(data / "claims.csv"), "--data", str(data),
                        *SKIP_ARGS]) == 0
    after = datetime.now(timezone.utc).date().isoformat()
    return {"root": root, "build": build, "out": out, "data": data, "paths": data_paths(data),
            "dates": {before, after}}


def pages(fake) -> list[Path]:
    return sorted(fake["out"].glob("*.html"))


# -- the pages ---------------------------------------------------------------------------------------

def test_the_report_has_an_index_a_page_per_notebook_and_figure_and_a_sources_page(fake):
    names = sorted(p.name for p in fake["out"].iterdir())
    assert names == sorted(NOTEBOOK_PAGES + FIGURE_PAGES + ["index.html", "sources.html"])
    # nothing left behind next to the report
    assert [p.name for p in fake["out"].parent.iterdir()] == ["report"]


def test_every_link_of_every_page_holds_and_every_page_is_inert(fake):
    for path in pages(fake):
        page = read_page(path)
        assert_inert(page, path.name)
        assert page.scripts == [], path.name
        assert 'http-equiv="Content-Security-Policy"' in path.read_text(encoding="utf-8"), path.name
        ids = {tag["id"] for tag in soup(path).find_all(id=True)}
        for href in page.links:
            target, _, anchor = href.partition("#")
            if target:
                assert (fake["out"] / target).is_file(), (path.name, href)
            if anchor:
                target_ids = ids if not target else {t["id"] for t in soup(fake["out"] / target).find_all(id=True)}
                assert anchor in target_ids, (path.name, href)


# -- 1. the index leads with the answers -------------------------------------------------------------

def test_the_index_leads_with_the_answers_then_the_notebooks(fake):
    page = soup(fake["out"] / "index.html")
    order = [section["id"] for section in page.find_all("section")]
    assert order == ["summary", "figures", "headline-claims", "audit", "notebooks", "sources"]


def test_the_summary_of_findings_is_a_rounded_table_with_empty_cells_for_missing_values(fake):
    table = soup(fake["out"] / "index.html").find(id="summary").find("table")
    header = cell_texts(table.find("thead").find("tr"))
    assert header[:10] == ["Question", "Group", "Studies", "Cohorts", "Patients", "Pooled %", "CI %", "PI %",
                           "I² %", "Certainty"]
    rows = [cell_texts(tr) for tr in table.find("tbody").find_all("tr")]
    assert rows[0][:10] == ["Question one", "2y", "3", "3", "1,234", "23.5", "12.3\u201334.6", "5.0\u201361.0",
                            "68", "low"]
    assert rows[0][11] == f"30% (Evil {PAYLOAD}): above the prediction interval"  # data, shown as text
    assert rows[1] == ["Question two", "", "1", "", "", "", "", "", "", "not pooled",
                       "fewer than the minimum number of comparable studies", ""]
    # numbers are set right-aligned, never wrapped
    assert "num" in table.find("tbody").find("tr").find_all("td")[5]["class"]


def test_the_headline_figures_are_thumbnails_linking_to_their_full_size_images(fake):
    section = soup(fake["out"] / "index.html").find(id="figures")
    figures = section.find_all("figure")
    assert [f["id"] for f in figures] == ["figure-11-overview", "figure-08-citation-audit", "figure-02-failure-rates"]
    for figure in figures:
        stem = figure["id"].removeprefix("figure-")
        link = figure.find("a")
        assert link["href"] == f"figure-{stem}.html"
        thumb = link.find("img")["src"]
        assert thumb.startswith("data:image/png;base64,")
        full = soup(fake["out"] / link["href"]).find("img")["src"]
        assert base64.b64decode(full.removeprefix("data:image/png;base64,")) == FIGURES[stem]  # the full image
        width = Image.open(io.BytesIO(base64.b64decode(thumb.removeprefix("data:image/png;base64,")))).width
        assert width == min(report.THUMBNAIL_WIDTH, Image.open(io.BytesIO(FIGURES[stem])).width)
    assert "Not built yet" in section.get_text() and "figures/04-treatments-compared.png" in section.get_text()


def test_the_headline_claims_and_the_audit_summary_are_tables(fake):
    index = soup(fake["out"] / "index.html")
    claims = index.find(id="headline-claims").find("table")
    rows = claims.find("tbody").find_all("tr")
    assert cell_texts(rows[0]) == ["30%", "Evil", "uncited", "Question one", "2y",
                                   "pooled 23.5% (CI 12.3-34.6%, PI 5.0-61.0%)", "above the prediction interval"]
    assert rows[0]["class"] == ["outside"] and not rows[1].get("class")
    assert rows[0].find("a")["href"] == "sources.html#claim-evil-01"  # the verbatim quote
    assert soup(fake["out"] / "sources.html").find(id="claim-evil-01") is not None
    audit = index.find(id="audit").find("table")
    assert cell_texts(audit.find("thead").find("tr")) == AUDIT_HEADER
    assert [cell_texts(tr) for tr in audit.find("tbody").find_all("tr")] == [
        ["Evil", "1", "0", "2"], [f"Quiet {PAYLOAD}", "0", "3", "0"]]


def test_the_notebooks_are_grouped_by_question_each_with_a_distinct_title(fake):
    index = soup(fake["out"] / "index.html")
    section = index.find(id="notebooks")
    links = {a["href"]: a.get_text() for a in section.find_all("a")}
    assert set(links) == set(NOTEBOOK_PAGES)  # not the failed or partial run
    assert len(set(links.values())) == len(links)  # every title distinct
    assert links["07-compare-topic--opioids.html"] == f"{TOPIC_HEADING} \u2014 opioids"
    assert links["07-compare-topic--recurrence.html"] == f"{TOPIC_HEADING} \u2014 recurrence"
    assert links["10-claims-vs-literature--q-one.html"] == f"{QUESTION_HEADING} \u2014 q-one"
    assert links["01-hostile.html"] == f"Hostile {PAYLOAD} & title \u2014 opioids"
    assert links["02-plain.html"] == "Second notebook"
    # the runs of one notebook sit together, under the question the notebook asks
    group = next(li for li in section.find_all("li", class_="notebook")
                 if li.find("strong") is not None and li.find("strong").get_text() == TOPIC_HEADING)
    assert [a["href"] for a in group.find_all("a")] == ["07-compare-topic--opioids.html",
                                                         "07-compare-topic--recurrence.html"]
    question = next(li for li in section.find_all("li", class_="notebook") if "q-one" in li.get_text())
    assert "Question one" in question.get_text()  # the question's label from the data
    assert "03-broken.failed.ipynb" in section.get_text()  # reported as left out
    assert "output_dir" not in index.get_text()
    # each notebook page is titled so too
    page = soup(fake["out"] / "07-compare-topic--opioids.html")
    assert page.title.get_text() == f"{TOPIC_HEADING} \u2014 opioids"


# -- 2. tables for reading -------------------------------------------------------------------------

def test_every_table_scrolls_in_its_box_and_wraps_its_text(fake):
    for path in pages(fake):
        page = soup(path)
        styles = " ".join(style.get_text() for style in page.find_all("style"))
        for table in page.find_all("table"):
            box = table.parent
            assert box.name == "div" and "table-wrap" in box["class"], path.name
        if page.find("table") is not None:
            assert re.search(r"\.table-wrap\s*\{[^}]*overflow-x:\s*auto", styles), path.name
            assert re.search(r"td[^{]*\{[^}]*white-space:\s*normal;[^}]*overflow-wrap:\s*break-word", styles), path.name
            assert re.search(r"td[^{]*\{[^}]*word-break:\s*break-word", styles), path.name


def test_no_table_cell_is_cut_short_or_says_nan(fake):
    for path in pages(fake):
        for cell in soup(path).find_all(["td", "th"]):
            text = cell.get_text().strip()
            assert text not in ("NaN", "nan", "None", "<NA>"), (path.name, text)
            assert not text.endswith(("...", "\u2026")), (path.name, text)
    audit = soup(fake["out"] / "08-citation-audit.html")
    rows = [cell_texts(tr) for tr in audit.find("table").find("tbody").find_all("tr")]
    assert rows == [["0", "evil-01", LONG, "", ""], ["1", "evil-02", "short", "12.5", "n"]]


def test_full_text_restores_a_cut_cell_when_the_text_or_its_row_names_one_text():
    one, other = "Another long text that is here for one row.", "Another long text that is here for another row."
    full = report.FullText([[LONG], ["a-1", one], ["a-2", other]])
    cut = (f"<table><tr><td>x</td><td>{LONG[:46]}...</td></tr>"
           "<tr><td>a-2</td><td>Another long text that is here...</td></tr>"  # its row tells which
           "<tr><td>zzz</td><td>Another long text that is here...</td></tr>"  # ambiguous: left as it is
           "<tr><td>zzz</td><td>Not a text of the data at all, cut...</td></tr></table>")
    rows = [[td.get_text() for td in tr.find_all("td")]
            for tr in BeautifulSoup(full.restore(cut), "html.parser").find_all("tr")]
    assert rows == [["x", LONG], ["a-2", other], ["zzz", "Another long text that is here..."],
                    ["zzz", "Not a text of the data at all, cut..."]]
    assert (full.restored, full.unrestored) == (2, 2)


def test_tidy_tables_gives_long_texts_a_wider_column():
    tidy = report.tidy_tables(f"<table><tr><td>{LONG}</td><td>short</td></tr></table>")
    assert [td.get("class") for td in BeautifulSoup(tidy, "html.parser").find_all("td")] == [["long"], None]


def test_tidy_tables_boxes_tables_empties_missing_values_and_marks_numbers():
    tidy = report.tidy_tables("<table><tr><td>NaN</td><td>None</td><td>1,234</td><td>a b</td></tr></table>")
    assert tidy == ('<div class="table-wrap"><table><tr><td></td><td></td><td class="num">1,234</td>'
                    "<td>a b</td></tr></table></div>")
    assert report.tidy_tables(tidy) == tidy  # already in its box
    assert report.tidy_tables("no table") == "no table"


# -- 3. no machine paths ---------------------------------------------------------------------------

def test_no_page_shows_the_project_folder_or_a_tmp_path(fake):
    for path in pages(fake):
        text = path.read_text(encoding="utf-8")
        assert ROOT not in text, path.name
        assert str(fake["root"]) not in text, path.name
        assert "/tmp/" not in text, path.name
    hostile = soup(fake["out"] / "01-hostile.html").get_text()
    assert "wrote figures/01-x.png, tables/01-x.csv and \u2026/scratch.txt" in hostile  # made relative


def test_the_injected_parameters_cell_is_replaced_by_the_runs_parameters(fake):
    page = soup(fake["out"] / "01-hostile.html")
    assert "output_dir" not in page.get_text()
    params = page.find(class_="run-params")
    assert params is not None
    assert [code.get_text() for code in params.find_all("code")] == ["topic = 'opioids'", "data_dir = 'data'"]


def test_the_path_scrubber_makes_known_folders_relative_and_leaves_images_alone(tmp_path):
    scrub = report.PathScrubber([(tmp_path / "project", ""), (tmp_path / "elsewhere" / "data", "data")])
    image = "data:image/png;base64,AAAA/tmp/xyz/work/AAAA"
    text = (f"{tmp_path}/project/figures/a.png {tmp_path}/project {tmp_path}/projects/b "
            f"{tmp_path}/elsewhere/data/claims.csv /tmp/other/file.txt <img src=\"{image}\">")
    assert scrub(text) == (f"figures/a.png . \u2026/b data/claims.csv \u2026/file.txt <img src=\"{image}\">")


# -- 4. what each page was built from ----------------------------------------------------------------

def test_every_page_has_a_footer_with_the_date_the_commit_and_the_data_hash(fake):
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=config.ROOT, capture_output=True, text=True)
    commit = done.stdout.strip() if done.returncode == 0 else "unknown"
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in fake["paths"].files())).hexdigest()[:12]
    assert [p.name for p in fake["paths"].files()] == ["sources.csv", "claims.csv", "questions.csv"]
    for path in pages(fake):
        footers = soup(path).find_all("footer", class_="report-footer")
        assert len(footers) == 1, path.name
        footer = footers[0]
        date = re.search(r"Built (\d{4}-\d\d-\d\d) \(UTC\)", footer.get_text())
        assert date and date.group(1) in fake["dates"], path.name
        assert footer.find("code", class_="commit").get_text() == commit
        assert footer.find("code", class_="data-hash").get_text() == digest


def test_the_commit_is_unknown_without_git(tmp_path, monkeypatch):
    assert report.git_commit(tmp_path) == "unknown"  # not a repository
    monkeypatch.setenv("PATH", str(tmp_path))  # no git at all
    assert report.git_commit(config.ROOT) == "unknown"


def test_the_data_hash_changes_with_any_data_file(fake, tmp_path):
    before = report.data_hash(fake["paths"])
    copy = tmp_path / "data"
    make_data(copy)
    assert report.data_hash(data_paths(copy)) == before
    with (copy / "questions.csv").open("a", encoding="utf-8") as handle:
        handle.write("\n")
    assert report.data_hash(data_paths(copy)) != before


def test_the_build_date_can_be_pinned(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    assert report.build_date() == "1970-01-02"


# -- 5. safety ---------------------------------------------------------------------------------------

def test_the_index_shows_titles_and_table_cells_as_text(fake):
    index = read_page(fake["out"] / "index.html")
    assert f"Hostile {PAYLOAD} & title" in index.text
    assert f"Quiet {PAYLOAD}" in index.text and f"Evil {PAYLOAD}" in index.text
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
    assert QUOTE in text and "plain & simple 1" in text
    assert f"Title {PAYLOAD}" in text and "A & B" in text
    assert "A page with no claims" in text
    # grouped by source: each quote under its own source's heading
    assert text.rindex(f"Title {PAYLOAD}") < text.index(QUOTE) < text.rindex("A page with no claims")
    assert "index.html" in page.links


def test_a_claim_of_an_unknown_source_is_listed_under_it():
    sources = pd.DataFrame([{"source_id": "evil", "title": f"Title {PAYLOAD}", "publisher": float("nan")}])
    claims = pd.DataFrame([{"claim_id": "ghost-01", "source_id": "ghost", "quote": "from a source not in the table",
                            "value_text": "2", "topic": "opioids"}])
    page = Page(report.sources_page(sources, claims))
    assert_inert(page, "sources.html")
    assert "Unknown source 'ghost'" in page.text and "from a source not in the table" in page.text
    assert "nan" not in page.text.lower().replace("unknown", "")


# -- building, failing and rebuilding ------------------------------------------------------------------

def test_an_index_copes_with_answers_not_built_yet(fake, tmp_path):
    out = tmp_path / "report"
    report.build_report(fake["build"], out, fake["paths"], figures=tmp_path / "figures", tables=tmp_path / "tables")
    text = soup(out / "index.html").get_text()
    for name in ("tables/11-summary-of-findings.csv", "tables/11-headline-claims.csv", "tables/08-audit-by-page.csv",
                 "figures/11-overview.png", "figures/08-citation-audit.png", "figures/04-treatments-compared.png",
                 "figures/02-failure-rates.png"):
        assert re.search(rf"Not built yet: {re.escape(name)}", text), name
    assert not list(out.glob("figure-*.html"))


def test_a_failed_render_leaves_the_previous_report_in_place(fake, tmp_path):
    out = tmp_path / "report"
    report.build_report(fake["build"], out, fake["paths"])
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = write_csv(tmp_path / "claims.csv", ["claim_id", "source_id"], [{"claim_id": "a", "source_id": "b"}])
    status = report.main([str(bad), "--data", str(fake["data"]), *SKIP_ARGS,
                          "--build", str(fake["build"]), "--out", str(out)])
    assert status == 1
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["claims.csv", "report"]


def test_a_rerun_replaces_the_report(fake, tmp_path):
    out = tmp_path / "report"
    (out / "stale").mkdir(parents=True)
    (out / "stale" / "old.html").write_text("old")
    index = report.build_report(fake["build"], out, fake["paths"])
    assert index == out / "index.html" and index.is_file()
    assert not (out / "stale").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_an_empty_build_folder_is_an_error(tmp_path, capsys):
    (tmp_path / "x.partial.ipynb").write_text("{}")
    assert report.main(["--build", str(tmp_path), "--out", str(tmp_path / "r")]) == 1
    assert "no executed notebooks" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_the_real_sources_page_shows_every_real_quote():
    sources = pd.read_csv(config.SOURCES_CSV, dtype=str, keep_default_na=False)
    claims = pd.read_csv(config.CLAIMS_CSV, dtype=str, keep_default_na=False)
    page = Page(report.sources_page(sources, claims))
    assert_inert(page, "sources.html")
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


def test_tidying_keeps_escaped_markup_as_text():
    tidy = report.clean_and_tidy("<table><tr><td><script>alert(1)</script></td></tr></table>")
    assert "<script>" not in tidy and "&lt;script&gt;alert(1)&lt;/script&gt;" in tidy


def test_a_markdown_heading_is_the_title():
    nb = new_notebook(cells=[new_code_cell("x = 1"), new_markdown_cell("text\n### Heading ###\n# Later")])
    assert report.first_heading(nb) == "Heading"
    assert report.first_heading(new_notebook(cells=[new_markdown_cell("no heading")])) is None

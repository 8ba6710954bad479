"""The report site (Sphinx + myst-nb, src/fbss_build/report.py): a page per run that reads answer first
with the run's figures, an index whose summary comes from the tables, tables for people, nothing fetched
from the web, no machine path, and text from the data never run as script."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from PIL import Image

from fbss_build import report
from fbss_evidence import cli, config, schema
from fbss_evidence.dataset import DataPaths

PAYLOAD = "<script>alert(1)</script>"
QUOTE = f'the page said "{PAYLOAD}" & 30% of patients < 1 year'
ROOT = str(config.ROOT)
TOPIC_HEADING = "What do the pages claim about one topic?"


class Page(HTMLParser):
    """What a browser would make of a page: script bodies, visible text, attributes."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.stack, self.scripts, self.visible, self.attributes = [], [], [], []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.attributes += [(tag, name, value) for name, value in attrs]
        if tag == "script":
            self.scripts.append("")
        if tag in ("script", "style", "title"):
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


def png(width: int, height: int, colour=(70, 110, 160)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


# -- the fake project: build/, figures/, tables/ and a small valid data folder ----------------------


def executed(cells: list, parameters: dict | None = None) -> nbformat.NotebookNode:
    """An executed notebook; with `parameters`, the cell papermill injects after the first one."""
    metadata = {
        "kernelspec": {"name": "fbss-evidence", "display_name": "Python (fbss-evidence)", "language": "python"},
        "language_info": {"name": "python"},
    }
    if parameters is not None:
        metadata["papermill"] = {"parameters": parameters}
        source = "# Parameters\n" + "".join(f"{k} = {v!r}\n" for k, v in parameters.items())
        cells = (
            cells[:1]
            + [new_code_cell(source, execution_count=1, metadata={"tags": ["injected-parameters"]})]
            + cells[1:]
        )
    return new_notebook(cells=cells, metadata=metadata)


def hostile_notebook(root: Path) -> nbformat.NotebookNode:
    """A notebook whose outputs carry hostile text the way the real ones carry data: a DataFrame, raw HTML,
    Markdown (the answer), a stream naming machine paths, JavaScript; and no image output."""
    frame_html = (
        f'<style scoped>td {{color: red}}</style><table class="dataframe"><thead><tr><th>claim_id</th>'
        "<th>quote</th><th>total_n</th></tr></thead><tbody><tr><td>x-01</td>"
        f"<td>{QUOTE.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}</td>"
        "<td>32244.0</td></tr><tr><td>x-02</td><td>NaN</td><td>None</td></tr></tbody></table>"
    )
    work = new_code_cell(
        "frame = tables.load()\nframe",
        execution_count=2,
        outputs=[
            new_output("stream", name="stdout", text=f"printed {PAYLOAD}\nwrote {ROOT}/figures/01-hostile.png\n"),
            new_output(
                "execute_result", execution_count=2, data={"text/plain": "a DataFrame", "text/html": frame_html}
            ),
            new_output(
                "display_data",
                data={
                    "text/plain": "raw",
                    "text/html": f"<b>raw</b> {PAYLOAD}"
                    '<img src=x onerror=alert(2)><a href="javascript:alert(3)">link</a>',
                },
            ),
            new_output("display_data", data={"application/javascript": "alert(4)", "text/plain": "js"}),
        ],
    )
    answer = new_code_cell(
        "Markdown(answer_text)",
        execution_count=3,
        outputs=[
            new_output(
                "execute_result",
                execution_count=3,
                data={
                    "text/plain": "<IPython.core.display.Markdown object>",
                    "text/markdown": f"The pages say **{QUOTE}**.\n\n```{{raw}} html\n<script>alert(5)</script>\n```",
                },
            )
        ],
    )
    return executed(
        [
            new_markdown_cell(f"# Hostile {PAYLOAD} & title\n\nWhat this notebook asks."),
            new_markdown_cell("## Load the table"),
            work,
            new_markdown_cell("## Answer"),
            answer,
        ],
        {"topic": "opioids", "data_dir": f"{ROOT}/data", "output_dir": f"{root}/build/stage/01-hostile"},
    )


def topic_notebook(root: Path, topic: str) -> nbformat.NotebookNode:
    return executed(
        [
            new_markdown_cell(f"# {TOPIC_HEADING}\n\nThe generic comparison."),
            new_code_cell(
                "topic",
                execution_count=2,
                outputs=[new_output("execute_result", execution_count=2, data={"text/plain": repr(topic)})],
            ),
        ],
        {"topic": topic, "output_dir": f"{root}/build/stage/07-compare-topic--{topic}"},
    )


def write_csv(path: Path, header: list[str], rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def make_data(folder: Path) -> Path:
    """A small data folder that load_dataset accepts: two sources (one hostile), two claims, one question."""
    texts = {"evil": f"Intro. {QUOTE}. Also plain & simple 1 thing.\n", "quiet": "Nothing here.\n"}
    for name, text in texts.items():
        (folder / "sources").mkdir(parents=True, exist_ok=True)
        (folder / "sources" / f"{name}.txt").write_text(text, encoding="utf-8")

    def sha(name):
        return hashlib.sha256(texts[name].encode()).hexdigest()

    write_csv(
        folder / "sources.csv",
        list(schema.columns(schema.SOURCES)),
        [
            dict(
                source_id="evil",
                label="Evil",
                file="sources/evil.txt",
                title=f"Title {PAYLOAD}",
                publisher="A & B",
                sha256=sha("evil"),
            ),
            dict(
                source_id="quiet",
                label="Quiet",
                file="sources/quiet.txt",
                title="A page with no claims",
                publisher="Q",
                sha256=sha("quiet"),
            ),
        ],
    )
    rate = dict(bound="exact", unit="percent", measure="rate", outcome="failure", basis="uncited")
    write_csv(
        folder / "claims.csv",
        list(schema.columns(schema.CLAIMS)),
        [
            dict(
                claim_id="evil-01",
                source_id="evil",
                quote=QUOTE,
                value_text="30%",
                value="30",
                topic="failure_cause",
                finding_id="f-one",
                **rate,
            ),
            dict(
                claim_id="evil-02",
                source_id="evil",
                quote="plain & simple 1",
                value_text="1",
                value="1",
                topic="opioids",
                finding_id="f-two",
                **(rate | {"unit": "count", "measure": "count"}),
            ),
        ],
    )
    write_csv(
        folder / "questions.csv",
        list(schema.columns(schema.QUESTIONS)),
        [
            dict(
                question_id="q-one",
                label="Question one",
                question="How often?",
                population="adults",
                intervention="surgery",
                outcome="failure",
                followup="2 years",
                pool_by="all",
                grows_with_time="no",
                indirectness="none",
            ),
        ],
    )
    return folder


# Every table but sources, claims and questions is skipped, as fbss-validate's options allow.
SKIPPED = [
    "references",
    "studies",
    "audit",
    "statement_audit",
    "claim_questions",
    "results",
    "search_log",
    "screening",
    "number_exclusions",
    "eligibility",
    "risk_of_bias",
    "reviews",
    "reference_reviews",
]
SKIP_ARGS = [arg for name in SKIPPED for arg in (f"--{cli._OPTIONS.get(name, name).replace('_', '-')}", "none")]


def data_paths(data: Path) -> DataPaths:
    return DataPaths.in_folder(data, **{name: None for name in SKIPPED})


SOF_HEADER = [
    "question_id",
    "label",
    "group",
    "k",
    "cohorts",
    "total_n",
    "pooled",
    "ci_low",
    "ci_high",
    "pi_low",
    "pi_high",
    "i2",
    "certainty",
    "reasons",
    "claims",
]
REASON = "indirectness: the cohorts are not only FBSS and follow-up differs between them."
SOF_ROWS = [
    dict(
        question_id="q-one",
        label="Question one",
        group="2y",
        k="3",
        cohorts="3",
        total_n="32244",
        pooled="23.4567891",
        ci_low="12.3456",
        ci_high="34.5678",
        pi_low="5.04",
        pi_high="60.96",
        i2="67.8",
        certainty="low",
        reasons=f"inconsistency: I\u00b2 68%; {REASON}",
        claims=f"30% (Evil {PAYLOAD})",
    ),
    dict(
        question_id="q-one",
        label="Question one",
        group="5y",
        k="2",
        cohorts="2",
        total_n="2292",
        pooled="30",
        ci_low="68",
        ci_high="68",
        certainty="very low",
        reasons=REASON,
    ),
    dict(
        question_id="q-two",
        label="Question two",
        group="",
        k="1",
        certainty="not pooled",
        reasons="fewer than the minimum number of comparable studies",
        claims="",
    ),
]
HEADLINE_HEADER = ["claim_id", "value_text", "source", "basis", "question", "group", "evidence", "placement", "why"]
HEADLINE_ROWS = [
    dict(
        claim_id="evil-01",
        value_text="30%",
        source="Evil",
        basis="uncited",
        question="Question one",
        group="2y",
        evidence="pooled 23.5%",
        placement="above",
        why="above the prediction interval",
    ),
    dict(
        claim_id="evil-02",
        value_text="1",
        source="Evil",
        basis="uncited",
        question="Question two",
        group="",
        evidence="not pooled",
        placement="not_comparable",
        why="not comparable",
    ),
]
AUDIT_HEADER = ["source", "supported", "figure differs", "unverifiable", "clinic experience", "uncited"]
AUDIT_ROWS = [
    dict(
        source="Evil", supported="1", **{"figure differs": "0", "clinic experience": "4"}, unverifiable="1", uncited="2"
    ),
    dict(
        source=f"Quiet {PAYLOAD}",
        supported="0",
        **{"figure differs": "3", "clinic experience": "0"},
        unverifiable="0",
        uncited="0",
    ),
]
FIGURES = {
    "11-overview": png(1800, 600),
    "08-citation-audit": png(300, 200),
    "01-hostile": png(400, 300),
    "07-compare-opioids": png(500, 300),
}


def make_outputs(root: Path) -> None:
    figures, tables = root / "figures", root / "tables"
    figures.mkdir()
    for stem, data in FIGURES.items():
        (figures / f"{stem}.png").write_bytes(data)
    write_csv(tables / "11-summary-of-findings.csv", SOF_HEADER, SOF_ROWS)
    write_csv(tables / "11-headline-claims.csv", HEADLINE_HEADER, HEADLINE_ROWS)
    write_csv(tables / "08-audit-by-page.csv", AUDIT_HEADER, AUDIT_ROWS)


def make_build(root: Path) -> Path:
    build = root / "build"
    build.mkdir()
    nbformat.write(hostile_notebook(root), build / "01-hostile.ipynb")
    (build / "01-hostile.outputs").write_text("figures/01-hostile.png\ntables/01-hostile.csv\n")
    for name in ("03-broken.failed.ipynb", "03-broken.partial.ipynb"):
        nbformat.write(executed([new_markdown_cell("# Broken")]), build / name)
    for topic in ("opioids", "recurrence"):
        nbformat.write(topic_notebook(root, topic), build / f"07-compare-topic--{topic}.ipynb")
    (build / "07-compare-topic--opioids.outputs").write_text("figures/07-compare-opioids.png\n")
    return build


PAGES = [
    "01-hostile.html",
    "07-compare-topic--opioids.html",
    "07-compare-topic--recurrence.html",
    "index.html",
    "sources.html",
]


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    """A project folder (executed notebooks with an unfinished run, figures, tables, data) and its report."""
    root = tmp_path_factory.mktemp("report")
    build = make_build(root)
    make_outputs(root)
    data = make_data(root / "data")
    out = root / "out" / "report"
    before = datetime.now(timezone.utc).date().isoformat()
    # as the Makefile calls it: --build build --out build/report [CLAIMS] --data DIR
    assert (
        report.main(
            ["--build", str(build), "--out", str(out), str(data / "claims.csv"), "--data", str(data), *SKIP_ARGS]
        )
        == 0
    )
    after = datetime.now(timezone.utc).date().isoformat()
    return {"root": root, "build": build, "out": out, "data": data, "dates": {before, after}}


def html_pages(out: Path) -> list[Path]:
    return sorted(out.glob("*.html"))


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


# -- the site ------------------------------------------------------------------------------------


def test_the_site_has_an_index_a_sources_page_and_a_page_per_finished_run(fake):
    names = {p.name for p in html_pages(fake["out"])}
    assert set(PAGES) <= names
    assert not any("broken" in n for n in names)  # the failed and partial runs are left out
    assert [p.name for p in fake["out"].parent.iterdir()] == ["report"]  # nothing left beside it


def test_every_internal_link_and_image_of_every_page_holds(fake):
    for path in html_pages(fake["out"]):
        for tag in soup(path).find_all(["a", "img", "link", "script"]):
            target = tag.get("href") or tag.get("src")
            if not target or target.startswith(("#", "mailto:")) or re.match(r"https?:", target):
                continue
            assert (fake["out"] / target.split("#")[0].split("?")[0]).is_file(), (path.name, target)


def test_no_page_or_stylesheet_loads_anything_from_the_web(fake):
    """Offline: no script, stylesheet, font, image or frame is fetched from http(s); links to read are allowed."""
    for path in fake["out"].rglob("*"):
        if path.suffix == ".html":
            for tag in soup(path).find_all(
                ["script", "link", "img", "iframe", "source", "video", "audio", "embed", "object"]
            ):
                for attr in ("src", "href", "data", "srcset"):
                    value = tag.get(attr) or ""
                    assert not re.match(r"\s*(https?:)?//", value), (path.name, str(tag)[:200])
            assert not re.search(r"url\(\s*['\"]?(https?:)?//", path.read_text(encoding="utf-8")), path.name
        elif path.suffix == ".css":
            assert not re.search(
                r"url\(\s*['\"]?(https?:)?//|@import\s+['\"]?(url\()?\s*['\"]?https?:", path.read_text(encoding="utf-8")
            ), path.name


def test_text_from_the_data_never_runs_as_script_anywhere(fake):
    for path in html_pages(fake["out"]):
        page = Page(path.read_text(encoding="utf-8"))
        assert not any("alert(" in s for s in page.scripts), path.name
        assert not [(t, a) for t, a, _ in page.attributes if a.startswith("on")], path.name
        assert not [v for t, a, v in page.attributes if a in ("href", "src") and v and "javascript:" in v.lower()]
    # ... and shows as the text it is
    hostile = Page((fake["out"] / "01-hostile.html").read_text(encoding="utf-8")).text
    assert f"Hostile {PAYLOAD} & title" in hostile
    assert QUOTE in hostile  # the answer (a Markdown output) and the DataFrame cell
    assert f"printed {PAYLOAD}" in hostile and f"raw {PAYLOAD}" in hostile
    assert "<script>alert(5)</script>" in hostile  # a directive inside a Markdown output is text too
    assert "alert(4)" not in hostile  # the JavaScript output is dropped
    assert QUOTE in Page((fake["out"] / "sources.html").read_text(encoding="utf-8")).text
    index = Page((fake["out"] / "index.html").read_text(encoding="utf-8")).text
    assert f"Quiet {PAYLOAD}" in index


def test_a_notebook_page_reads_answer_first_with_its_code_folded(fake):
    page = soup(fake["out"] / "01-hostile.html")
    article = page.find("article") or page
    text = article.get_text(" ")
    order = [text.index(s) for s in ("What this notebook asks", "Answer", "Figures", "The notebook", "Load the table")]
    assert order == sorted(order)
    assert "Markdown(answer_text)" not in text  # the answer's code is removed
    code = [c for c in article.find_all(class_="cell_input")]
    assert code and all(c.find_parent("details") is not None for c in code)  # every other code cell folded
    assert all(text.index(c.get_text(" ").strip()[:20]) > text.index("The notebook") for c in code)
    assert "This run's parameters" in text and "topic = 'opioids'" in text and "output_dir" not in text


def test_each_notebook_page_shows_every_figure_its_run_wrote(fake):
    for page, figures in (
        ("01-hostile.html", ["01-hostile.png"]),
        ("07-compare-topic--opioids.html", ["07-compare-opioids.png"]),
        ("07-compare-topic--recurrence.html", []),
    ):
        shown = [Path(img["src"]).name for img in soup(fake["out"] / page).select("article img")]
        assert shown == figures, page
        for name in figures:
            assert (fake["out"] / "_images" / name).read_bytes() == FIGURES[name.removesuffix(".png")]


def test_the_index_opens_with_a_summary_from_the_tables_then_the_figures_at_full_width(fake):
    page = soup(fake["out"] / "index.html")
    text = " ".join(page.find("article").get_text(" ").split())
    assert "The 2 clinic web pages about failed back surgery syndrome in the data make 2 quantitative claims" in text
    assert "For 1 of the 2 questions" in text and "in 2 groups" in text and "1 low, 1 very low certainty" in text
    assert "Of the pages' 2 headline numbers" in text and "1 fall outside" in text and "30% (Question one)" in text
    assert "Of the 5 numbers the pages attribute to a study, the study supports 1; for 3" in text
    assert text.index("This report sets each") < text.index("Figures") < text.index("Summary of findings")
    images = [img for img in page.select("article img")]
    # No scorecards in this project: the headline figures lead.
    assert [Path(i["src"]).name for i in images] == ["11-overview.png", "08-citation-audit.png"]
    assert all("width: 100%" in i.get("style", "") for i in images)


def test_the_index_tables_are_for_people(fake):
    page = soup(fake["out"] / "index.html")
    sof, headline, audit = page.select("table.people")[:3]
    rows = [[td.get_text() for td in tr.find_all("td")] for tr in sof.find("tbody").find_all("tr")]
    assert [th.get_text() for th in sof.find_all("th")][:9] == [
        "Question",
        "Group",
        "Studies",
        "Patients",
        "Pooled",
        "95% CI",
        "Prediction interval",
        "I\u00b2",
        "Certainty",
    ]
    assert rows[0][:9] == [
        "Question one",
        "2y",
        "3",
        "32,244",
        "23.5%",
        "12.3\u201334.6%",
        "5.0\u201361.0%",
        "67.8%",
        "low",
    ]
    assert rows[1][:9] == ["", "5y", "2", "2,292", "30.0%", "68.0%", "", "", "very low"]  # grouped; one value
    assert rows[2][:4] == ["Question two", "", "1", ""]
    assert rows[0][9] == "inconsistency: I\u00b2 68%; [1]" and rows[1][9] == "[1]"  # the repeated reason, once
    assert f"[1] {REASON}" in page.get_text()
    for cell in (td.get_text() for td in page.select("table.people td")):  # no float, missing value or dict
        assert not re.fullmatch(r"-?[\d,]+\.0|nan|NaN|None|\{.*\}|.*\b(\d+(\.\d)?)-\1%.*", cell), cell
    assert "not comparable" in headline.get_text() and "not_comparable" not in headline.get_text()
    assert [td.get_text() for td in audit.find("tbody").find("tr").find_all("td")] == ["Evil", "1", "0", "1", "4", "2"]


def test_dataframe_outputs_read_as_numbers_not_floats(fake):
    cells = [td.get_text() for td in soup(fake["out"] / "01-hostile.html").select("table.dataframe td")]
    assert cells == ["x-01", QUOTE, "32,244", "x-02", "", ""]


def test_no_page_shows_the_project_folder(fake):
    for path in html_pages(fake["out"]):
        text = path.read_text(encoding="utf-8")
        assert ROOT not in text and str(fake["root"]) not in text, path.name
    assert "wrote figures/01-hostile.png" in (fake["out"] / "01-hostile.html").read_text(encoding="utf-8")


def test_every_page_ends_with_the_build_date_the_commit_and_a_hash_of_the_data(fake):
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in data_paths(fake["data"]).files())).hexdigest()[:12]
    for path in html_pages(fake["out"]):
        footer = re.search(r"Built (\d{4}-\d\d-\d\d) \(UTC\), commit (\w+), data (\w+)", path.read_text("utf-8"))
        assert footer and footer[1] in fake["dates"] and footer[3] == digest, path.name


def test_the_build_date_can_be_pinned(monkeypatch, fake):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    assert report.provenance(data_paths(fake["data"])).startswith("Built 1970-01-01 (UTC)")


def test_a_failed_build_leaves_the_previous_report_in_place(fake, tmp_path, monkeypatch):
    out = tmp_path / "report"
    out.mkdir()
    (out / "index.html").write_text("previous")

    def fail(*args, **kwargs):
        raise RuntimeError("Sphinx failed")

    monkeypatch.setattr(report, "write_sources", fail)
    with pytest.raises(RuntimeError):
        report.build_report(fake["build"], out, data_paths(fake["data"]))
    assert (out / "index.html").read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["report"]


def test_an_empty_build_folder_is_an_error(tmp_path, capsys):
    (tmp_path / "build").mkdir()
    assert report.main(["--build", str(tmp_path / "build"), "--out", str(tmp_path / "out")]) == 1
    assert "no executed notebooks" in capsys.readouterr().err


def test_the_report_module_is_glue_under_300_lines():
    lines = Path(report.__file__).read_text(encoding="utf-8").count("\n")
    assert lines < 300, f"src/fbss_build/report.py has {lines} lines"


@pytest.mark.parametrize(
    "fragment, expected",
    [
        (f"<b>x</b>{PAYLOAD}", "<b>x</b>&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("<img src=x onerror=alert(2)>", "&lt;img src=x onerror=alert(2)&gt;"),
        ('<a href="javascript:alert(3)">l</a>', "<a>l</a>"),
        (
            "<style>td {}</style><table><tr><td>2.0</td><td>NaN</td></tr></table>",
            "<table><tbody><tr><td>2</td><td></td></tr></tbody></table>",
        ),
    ],
)
def test_clean_html(fragment, expected):
    assert report.clean_html(fragment) == expected


def test_md_shows_text_as_it_is():
    assert report.md("*a* <b> [x](javascript:y) ```{raw} html") == (
        "\\*a\\* \\<b\\> \\[x\\]\\(javascript\\:y\\) \\`\\`\\`\\{raw\\} html"
    )

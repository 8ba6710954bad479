"""The built report in a real browser. Headless Chromium (Debian's package; `make test` installs it when
/usr/bin/chromium is missing, and builds the report first) loads every page of build/report from a server
on 127.0.0.1; every image must have loaded (naturalWidth > 0), and every figure in figures/ must be on the
notebook page of the run that wrote it. The server adds a small script to each page it serves that writes
each image's naturalWidth into the page once it has loaded, and Chromium's --dump-dom prints the result."""

from __future__ import annotations

import functools
import http.server
import io
import os
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from fbss_evidence import config

pytestmark = pytest.mark.slow

REPORT = config.BUILD / "report"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]
PROBE = (
    b"<script>addEventListener('load', () => { for (const img of document.images) "
    b"img.setAttribute('data-natural-width', img.complete ? img.naturalWidth : -1); "
    b"document.body.setAttribute('data-probed', 'yes'); });</script>"
)


class Server(http.server.SimpleHTTPRequestHandler):
    """build/report as it is, with the probe added before </body> of each HTML page; no request log."""

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.suffix != ".html" or not path.is_file():
            return super().send_head()
        body = path.read_bytes().replace(b"</body>", PROBE + b"</body>", 1)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    if not (REPORT / "index.html").is_file():
        pytest.fail(f"{REPORT} is not built: run `make report` (make test builds it first)")
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Server, directory=str(REPORT)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def chromium(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    profile = tempfile.mkdtemp(prefix="profile-", dir=tmp_path)  # a fresh profile for every run
    try:
        return subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, url],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def loaded(tmp_path: Path, url: str) -> BeautifulSoup:
    """The page's DOM once it has loaded, as Chromium dumps it."""
    return BeautifulSoup(chromium(tmp_path, url, "--virtual-time-budget=15000", "--dump-dom").stdout, "html.parser")


def run_figures() -> dict[str, list[str]]:
    """Each run's page and the figures its build/<run>.outputs lists."""
    pages = {}
    for listed in sorted(config.BUILD.glob("*.outputs")):
        names = [Path(n).name for n in listed.read_text(encoding="utf-8").split() if n.startswith("figures/")]
        pages[f"{listed.stem}.html"] = [n for n in names if Path(n).suffix == ".png"]
    return pages


def test_every_page_loads_with_every_image(site, tmp_path):
    pages = sorted(p.name for p in REPORT.glob("*.html"))
    assert "index.html" in pages and len(pages) > 30
    with ThreadPoolExecutor(max_workers=2) as pool:
        doms = dict(zip(pages, pool.map(lambda name: loaded(tmp_path, f"{site}/{name}"), pages)))
    figures = run_figures()
    shown: set[str] = set()
    for name, dom in doms.items():
        assert dom.body is not None and dom.body.get("data-probed") == "yes", f"{name} did not finish loading"
        images = dom.find_all("img")
        broken = [img.get("src") for img in images if int(img.get("data-natural-width", "-1")) <= 0]
        assert not broken, f"{name}: images that did not load: {broken}"
        names = [Path(img.get("src", "")).name for img in images]
        missing = [f for f in figures.get(name, []) if f not in names]
        assert not missing, f"{name} does not show the figures its run wrote: {missing}"
        shown.update(names)
    on_disk = sorted(p.name for p in (config.ROOT / "figures").glob("*.png"))
    assert not sorted(set(on_disk) - shown), "figures in figures/ that no page of the report shows"
    index = [Path(img["src"]).name for img in doms["index.html"].select("article img")]
    assert index[:3] == ["12-scorecards.png", "11-overview.png", "08-citation-audit.png"]  # the scorecards lead


def test_a_screenshot_of_the_index_and_of_a_notebook_page(site, tmp_path):
    from PIL import Image

    for name in ("index.html", "02-failure-rates.html"):
        shot = tmp_path / f"{name}.png"
        chromium(
            tmp_path, f"{site}/{name}", "--window-size=1280,2000", "--virtual-time-budget=15000", f"--screenshot={shot}"
        )
        with Image.open(shot) as image:
            assert image.size == (1280, 2000)
            colours = image.convert("L").getcolors(maxcolors=1 << 16)
            assert colours is None or len(colours) > 20, f"{name}: the screenshot is blank"

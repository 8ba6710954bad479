"""`make lab` works: JupyterLab from .venv serves the notebooks and offers the project's kernel.

One JupyterLab server is started for this module, on 127.0.0.1 with a random
token and its own config/runtime folders, and driven through its REST API with
urllib. The fixture always stops it (SIGTERM, then SIGKILL of its process group
after 10 s), whatever the tests did.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV = REPO / ".venv"
JUPYTER = VENV / "bin" / "jupyter"
KERNEL = "fbss-evidence"
HOST = "127.0.0.1"
START_TIMEOUT = 60
STOP_TIMEOUT = 10

# Never send loopback requests through a proxy from the environment.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Lab:
    process: subprocess.Popen
    port: int
    token: str
    runtime_dir: Path
    log: Path

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def request(
        self, method: str, path: str, body: dict | None = None, token: bool = True, timeout: float = 10
    ) -> tuple[int, bytes]:
        headers = {"Authorization": f"token {self.token}"} if token else {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with _opener.open(req, timeout=timeout) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def json(self, method: str, path: str, body: dict | None = None, expect: int = 200):
        status, raw = self.request(method, path, body)
        assert status == expect, f"{method} {path}: HTTP {status}: {raw[:500]!r}\n{self.log_tail()}"
        return json.loads(raw) if raw else None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "server log (tail):\n" + "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the server (it shuts its kernels down); SIGKILL its process group if it lingers."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # the group of the server we started, nothing else
        except ProcessLookupError:
            pass
        process.wait(timeout=STOP_TIMEOUT)


def _wait_until_ready(lab: Lab) -> bool:
    """True once /api/status answers; False if the server exited first."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            return False
        try:
            status, _ = lab.request("GET", "/api/status", timeout=2)
            if status == 200:
                return True
        except (urllib.error.URLError, ConnectionError, socket.timeout, OSError):
            pass
        time.sleep(0.25)
    pytest.fail(f"JupyterLab did not answer /api/status within {START_TIMEOUT} s\n{lab.log_tail()}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    assert JUPYTER.exists(), f"{JUPYTER} is missing; run `make env`"
    home = tmp_path_factory.mktemp("jupyterlab")
    env = {
        **os.environ,
        # Keep the server's and kernel's state out of the user's home folder.
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "IPYTHONDIR": str(home / "ipython"),
        "MPLCONFIGDIR": str(home / "matplotlib"),
        "JUPYTER_PLATFORM_DIRS": "0",
        "NO_PROXY": HOST,
        "no_proxy": HOST,
    }
    started: list[subprocess.Popen] = []
    try:
        for attempt in range(3):  # another process may grab the free port before the server does
            port, token = _free_port(), secrets.token_hex(24)
            log = home / f"server-{attempt}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [
                        str(JUPYTER),
                        "lab",
                        "--no-browser",
                        f"--ServerApp.ip={HOST}",
                        f"--ServerApp.port={port}",
                        "--ServerApp.port_retries=0",
                        f"--IdentityProvider.token={token}",
                        f"--ServerApp.root_dir={REPO}",
                        # nothing that would reach beyond loopback (PyPI, news feed, update check)
                        "--LabApp.extension_manager=readonly",
                        "--LabApp.news_url=None",
                        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
                        *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
                    ],
                    cwd=home,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            started.append(process)
            server = Lab(process, port, token, home / "runtime", log)
            if _wait_until_ready(server):
                break
        else:
            pytest.fail(f"JupyterLab exited before answering (3 attempts)\n{server.log_tail()}")
        yield server
    finally:
        for process in started:
            _stop(process)
    for process in started:
        assert process.poll() is not None, "JupyterLab is still running"


def test_the_api_refuses_requests_without_the_token(lab):
    status, _ = lab.request("GET", "/api/contents/notebooks", token=False)
    assert status in (401, 403)


def test_lab_serves_its_page(lab):
    status, body = lab.request("GET", "/lab")
    assert status == 200
    assert b"JupyterLab" in body or b"jupyter-config-data" in body


def test_the_notebooks_folder_lists_every_notebook(lab):
    listing = lab.json("GET", "/api/contents/notebooks?content=1")
    assert listing["type"] == "directory"
    served = sorted(item["name"] for item in listing["content"] if item["type"] == "notebook")
    on_disk = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
    assert len(on_disk) >= 9
    # jupytext serves each notebook's paired percent script as the same notebook too
    paired = sorted(p.name for p in (REPO / "notebooks").glob("*.py"))
    assert served == sorted(on_disk + paired)
    for item in listing["content"]:
        if item["type"] == "notebook":
            assert item["path"] == f"notebooks/{item['name']}"


def test_a_notebook_opens_through_the_api(lab):
    name = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))[0]
    model = lab.json("GET", f"/api/contents/notebooks/{name}?content=1")
    assert model["type"] == "notebook" and model["format"] == "json"
    assert model["content"]["metadata"]["kernelspec"]["name"] == KERNEL


def test_the_project_kernel_is_offered_and_runs_from_the_venv(lab):
    specs = lab.json("GET", "/api/kernelspecs")["kernelspecs"]
    assert KERNEL in specs, f"kernels offered: {sorted(specs)}"
    argv = specs[KERNEL]["spec"]["argv"]
    assert Path(argv[0]).is_absolute()
    # Its folder resolved: .venv may be a symlink (the benchmark's scratch copies share one),
    # and the venv's python is a symlink to the base interpreter.
    assert Path(argv[0]).parent.resolve().is_relative_to(VENV.resolve()), (
        f"{KERNEL} runs {argv[0]}, not the project's .venv"
    )
    assert specs[KERNEL]["spec"]["language"] == "python"


def test_the_project_kernel_starts_and_is_shut_down(lab):
    kernel = lab.json("POST", "/api/kernels", {"name": KERNEL}, expect=201)
    kernel_id = kernel["id"]
    try:
        assert kernel["name"] == KERNEL
        assert kernel_id in {k["id"] for k in lab.json("GET", "/api/kernels")}
        # The kernel answers (over its loopback connection) and runs the venv's Python ...
        assert _kernel_prefix(lab, kernel_id).resolve() == VENV.resolve()
        # ... and the server, which only learns the state from the kernel's messages, sees it alive.
        deadline = time.monotonic() + START_TIMEOUT
        state = None
        while state not in ("idle", "busy") and time.monotonic() < deadline:
            state = lab.json("GET", f"/api/kernels/{kernel_id}")["execution_state"]
            if state in ("dead", None):
                break
            time.sleep(0.25)
        assert state in ("idle", "busy"), f"kernel state {state!r}\n{lab.log_tail()}"
    finally:
        status, _ = lab.request("DELETE", f"/api/kernels/{kernel_id}")
    assert status == 204
    assert kernel_id not in {k["id"] for k in lab.json("GET", "/api/kernels")}


def _kernel_prefix(lab: Lab, kernel_id: str) -> Path:
    """The kernel's sys.prefix, asked over the connection file the server wrote for it."""
    from jupyter_client import BlockingKernelClient

    connection = lab.runtime_dir / f"kernel-{kernel_id}.json"
    deadline = time.monotonic() + 10
    while not connection.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert connection.exists(), f"no connection file {connection}\n{lab.log_tail()}"
    info = json.loads(connection.read_text())
    assert info["ip"] in (HOST, "localhost"), info["ip"]
    client = BlockingKernelClient(connection_file=str(connection))
    client.load_connection_file()
    client.start_channels()
    outputs: list[dict] = []
    try:
        client.wait_for_ready(timeout=START_TIMEOUT)
        reply = client.execute_interactive("import sys; print(sys.prefix)", timeout=30, output_hook=outputs.append)
    finally:
        client.stop_channels()
    assert reply["content"]["status"] == "ok", reply["content"]
    printed = "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")
    return Path(printed.strip())

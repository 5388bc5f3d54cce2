"""Notebook 01's widgets work in a real browser: Voila serves a copy, Playwright drives Debian's Chromium,
a slider moves and the rendered figure changes."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "01_warping_spaces.ipynb"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def voila(data_env, tmp_path):
    if not Path(CHROMIUM).exists():
        message = "Debian's Chromium is not installed (apt-get install chromium); .ci/run installs it"
        if os.environ.get("FACELIB_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    shutil.copy(NOTEBOOK, tmp_path / NOTEBOOK.name)  # serve a temporary copy, never the committed file
    port = _free_port()
    log = open(tmp_path / "voila.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "voila", NOTEBOOK.name, f"--port={port}", "--no-browser", "--Voila.ip=127.0.0.1"],
        cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=5).close()  # noqa: S310 - loopback only
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    log.flush()
                    pytest.fail("Voila did not start:\n" + (tmp_path / "voila.log").read_text()[-3000:])
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.mark.browser
def test_moving_the_angle_slider_redraws_the_figure_in_the_browser(voila, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(voila, timeout=180_000)
            slider = page.locator(".widget-slider", has_text="angle (deg)")
            slider.wait_for(timeout=180_000)
            figure = page.locator(".widget-image").last
            figure.wait_for(timeout=60_000)
            before_src, before_pixels = figure.get_attribute("src"), figure.screenshot()
            assert slider.locator(".widget-readout").inner_text().strip() == "0"

            handle = slider.locator(".noUi-handle")
            handle.focus()
            for _ in range(6):
                handle.press("ArrowRight")
            page.wait_for_function("([img, old]) => img.src !== old", arg=[figure.element_handle(), before_src],
                                   timeout=60_000)
            page.wait_for_timeout(500)  # let the new PNG paint
            assert slider.locator(".widget-readout").inner_text().strip() == "30"
            after_pixels = figure.screenshot()
            assert after_pixels != before_pixels
            page.screenshot(path=str(tmp_path / "voila.png"))
        finally:
            browser.close()


@pytest.mark.browser
@pytest.mark.notebook
def test_the_explorer_shows_its_figure_in_html_opened_offline(data_env, tmp_path):
    """Notebook 01 executed and exported as `make notebooks` does, opened from disk in Chromium with every network
    request aborted (a classroom without network): the explorer's cell still shows its figure."""
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        message = "Debian's Chromium is not installed (apt-get install chromium); .ci/run installs it"
        if os.environ.get("FACELIB_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    html, _ = HTMLExporter().from_notebook_node(notebook)
    page_file = tmp_path / "01_warping_spaces.html"
    page_file.write_text(html)
    blocked = []

    def offline(route):
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.route("**/*", offline)
            page.goto(page_file.as_uri(), timeout=120_000)
            cell = page.locator(".jp-Cell", has_text="explorer.snapshot()")
            image = cell.locator(".jp-OutputArea img").first
            image.wait_for(timeout=60_000)
            image.scroll_into_view_if_needed()
            width = image.evaluate("img => img.complete ? img.naturalWidth : 0")
            page.screenshot(path=str(tmp_path / "offline.png"))
        finally:
            browser.close()
    assert width >= 400, "the explorer's cell shows no figure offline"
    assert blocked, "the export asked for nothing from the network, so this test did not block anything"

"""facelib.data.fetch against a loopback HTTP server over the mirror: checksums, resume, atomicity."""

from __future__ import annotations

import http.server
import os
import threading
from functools import partial
from pathlib import Path

import pytest

from facelib import cli
from facelib.data import fetch


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with single-range support (what a publisher's server offers for resuming)."""

    requests: list[tuple[str, str | None]] = []

    def log_message(self, *args):  # keep test output clean
        pass

    def send_head(self):
        _RangeHandler.requests.append((self.path, self.headers.get("Range")))
        range_header = self.headers.get("Range")
        path = Path(self.translate_path(self.path))
        if range_header is None or not path.is_file():
            return super().send_head()
        start = int(range_header.removeprefix("bytes=").split("-")[0])
        size = path.stat().st_size
        if start >= size:
            self.send_error(416)
            return None
        f = open(path, "rb")  # noqa: SIM115 - closed by the base class after copying
        f.seek(start)
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        self.send_header("Content-Length", str(size - start))
        self.end_headers()
        return f


@pytest.fixture
def server(mirror):
    _RangeHandler.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_RangeHandler, directory=str(mirror)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FACELIB_DATA_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_fetch_over_http_verifies_and_places_files(server, cache, monkeypatch):
    monkeypatch.setenv("FACELIB_DATA_MIRROR", server)
    path = fetch.fetch_file("lfw/pairs.txt", progress=False)
    assert path == cache / "lfw" / "pairs.txt"
    assert fetch.sha256sum(path) == fetch.FILES["lfw/pairs.txt"].sha256
    assert path.read_text().splitlines()[0].split() == ["10", "300"]
    assert not list(cache.rglob("*.part"))
    # A second call uses the cache without asking the server.
    count = len(_RangeHandler.requests)
    assert fetch.fetch_file("lfw/pairs.txt", progress=False) == path
    assert len(_RangeHandler.requests) == count


def test_interrupted_download_resumes_with_a_range_request(server, cache, mirror, monkeypatch):
    monkeypatch.setenv("FACELIB_DATA_MIRROR", server)
    original = (mirror / "orl" / "att_faces.tgz").read_bytes()
    part = cache / "orl" / "att_faces.tgz.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(original[:1_000_000])
    path = fetch.fetch_file("orl/att_faces.tgz", progress=False)
    assert path.read_bytes() == original
    assert ("/orl/att_faces.tgz", "bytes=1000000-") in _RangeHandler.requests
    assert not part.exists()


def test_corrupt_download_is_deleted_and_reported(server, cache, monkeypatch):
    monkeypatch.setenv("FACELIB_DATA_MIRROR", server)
    bad = fetch.RemoteFile("lfw/pairs.txt", "", "0" * 64)
    monkeypatch.setitem(fetch.FILES, "lfw/pairs.txt", bad)
    with pytest.raises(fetch.DataError, match="checksum mismatch"):
        fetch.fetch_file("lfw/pairs.txt", progress=False)
    assert not (cache / "lfw" / "pairs.txt").exists()
    assert not (cache / "lfw" / "pairs.txt.part").exists()


def test_missing_file_on_server_is_a_clear_error(server, cache, monkeypatch, tmp_path):
    monkeypatch.setenv("FACELIB_DATA_MIRROR", server + "/nowhere")
    with pytest.raises(fetch.DataError, match="HTTP 404"):
        fetch.fetch_file("lfw/people.txt", progress=False)


def test_local_mirror_is_read_in_place_and_verified(mirror, cache, monkeypatch, tmp_path):
    monkeypatch.setenv("FACELIB_DATA_MIRROR", str(mirror))
    assert fetch.fetch_file("lfw/people.txt", progress=False) == (mirror / "lfw" / "people.txt").resolve()
    fake = tmp_path / "fake"
    (fake / "lfw").mkdir(parents=True)
    (fake / "lfw" / "people.txt").write_text("not the real file\n")
    monkeypatch.setenv("FACELIB_DATA_MIRROR", str(fake))
    with pytest.raises(fetch.DataError, match="checksum mismatch"):
        fetch.fetch_file("lfw/people.txt", progress=False)
    with pytest.raises(fetch.DataError, match="does not hold lfw/pairs.txt"):
        fetch.fetch_file("lfw/pairs.txt", progress=False)


def test_unknown_names_are_rejected():
    with pytest.raises(fetch.DataError, match="unknown data file"):
        fetch.fetch_file("lfw/nope.txt")
    with pytest.raises(fetch.DataError, match="unknown data set"):
        fetch.fetch("imagenet")


def test_extract_is_atomic_and_done_once(mirror, cache, monkeypatch):
    monkeypatch.setenv("FACELIB_DATA_MIRROR", str(mirror))
    folder = fetch.extract(fetch.fetch_file("orl/att_faces.tgz", progress=False))
    assert len(list(folder.glob("att_faces/s*/*.pgm"))) == 400
    mtime = os.stat(folder).st_mtime_ns
    assert fetch.extract(fetch.fetch_file("orl/att_faces.tgz", progress=False)) == folder
    assert os.stat(folder).st_mtime_ns == mtime
    assert not [p for p in folder.parent.iterdir() if p.name.startswith("att_faces.tgz.") and p != folder]


def test_cli_fetch_reports_paths_and_errors(server, cache, monkeypatch, capsys):
    monkeypatch.setenv("FACELIB_DATA_MIRROR", server)
    assert cli.main(["fetch", "orl", "--quiet"]) == 0
    assert "orl/att_faces.tgz" in capsys.readouterr().out
    monkeypatch.setenv("FACELIB_DATA_MIRROR", server + "/nowhere")
    monkeypatch.setattr(fetch, "DATASETS", {**fetch.DATASETS, "lfw": ("lfw/people.txt",)})
    assert cli.main(["fetch", "lfw", "--quiet"]) == 2
    assert "HTTP 404" in capsys.readouterr().err


def test_an_interrupted_extraction_leaves_nothing_and_stale_folders_are_swept(tmp_path, monkeypatch):
    import tarfile
    import time

    archive = tmp_path / "tiny.tgz"
    (tmp_path / "member.txt").write_text("x" * 1000)
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "member.txt", arcname="tiny/member.txt")
    dest = tmp_path / "cache"

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tarfile.TarFile, "extractall", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fetch.extract(archive, dest)
    assert not list(dest.iterdir())  # the temporary folder went with the interruption
    monkeypatch.undo()
    stale = dest / "tiny.tgz.extracting-dead"
    stale.mkdir()
    (stale / "junk").write_text("left by a run that was killed")
    old = time.time() - 2 * fetch.STALE_SECONDS
    os.utime(stale, (old, old))
    fresh = dest / "tiny.tgz.extracting-running"
    fresh.mkdir()  # another process extracting right now: kept
    done = fetch.extract(archive, dest)
    assert (done / "tiny" / "member.txt").is_file()
    assert not stale.exists() and fresh.exists()

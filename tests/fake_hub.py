"""A tiny local stand-in for the Hugging Face hub: model info and file downloads with Range.

It serves a folder as one repository, can cut a transfer short once (to test
resume) and can serve a corrupted byte (to test the checksum).
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class FakeHub:
    """Serve ``folder`` as repository ``repo_id`` on 127.0.0.1."""

    def __init__(self, folder: Path, repo_id: str) -> None:
        self.folder, self.repo_id = folder, repo_id
        self.cut_after: int | None = None  #: close the next transfer after this many bytes
        self.corrupt: str | None = None  #: flip one byte of this file in every transfer
        self.requests: list[tuple[str, str | None]] = []  #: (path, Range header)
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                hub.requests.append((self.path, self.headers.get("Range")))
                if self.path.startswith(f"/api/models/{hub.repo_id}"):
                    return self._json(hub.info())
                prefix = f"/{hub.repo_id}/resolve/main/"
                if self.path.startswith(prefix):
                    return self._file(self.path[len(prefix) :])
                self.send_error(404)

            def _json(self, data):
                body = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _file(self, name):
                path = hub.folder / name
                if not path.is_file():
                    return self.send_error(404)
                data = bytearray(path.read_bytes())
                if hub.corrupt == name:
                    data[len(data) // 2] ^= 0xFF
                start = 0
                if self.headers.get("Range"):
                    start = int(self.headers["Range"].split("=")[1].split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = bytes(data[start:])
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if hub.cut_after is not None and len(body) > hub.cut_after:
                    self.wfile.write(body[: hub.cut_after])
                    hub.cut_after = None
                    self.wfile.flush()
                    self.connection.close()
                    return
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def info(self) -> dict:
        """The model-info JSON the hub API returns (with file sizes and LFS hashes)."""
        siblings = []
        for path in sorted(p for p in self.folder.rglob("*") if p.is_file()):
            data = path.read_bytes()
            entry = {"rfilename": path.relative_to(self.folder).as_posix(), "size": len(data)}
            if path.suffix == ".safetensors":
                entry["lfs"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
            siblings.append(entry)
        return {"id": self.repo_id, "modelId": self.repo_id, "sha": "0" * 40, "siblings": siblings}

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()

"""The web client's CSS and plain ES modules, served from the package (no build step).

Each URL carries the file's content hash (`/static/kabinet.css?v=…`), so browsers may keep a file for a year and
still see a new one at the next deploy. Only files of the folder are served, by exact name.
"""

from __future__ import annotations

import hashlib
import pathlib
from functools import cache

from chalice import Blueprint, Response

DIR = pathlib.Path(__file__).resolve().parent / "static"
TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".svg": "image/svg+xml", ".ico": "image/x-icon"}

bp = Blueprint(__name__)


@cache
def _files() -> dict[str, tuple[bytes, str]]:
    found = {}
    for path in DIR.iterdir():
        if path.is_file() and path.suffix in TYPES:
            data = path.read_bytes()
            found[path.name] = (data, hashlib.sha256(data).hexdigest()[:12])
    return found


def url(name: str) -> str:
    return f"/static/{name}?v={_files()[name][1]}"


@bp.route("/static/{name}", methods=["GET"])
def serve(name: str) -> Response:
    found = _files().get(name)
    if found is None:
        return Response(body="Not found", status_code=404, headers={"Content-Type": "text/plain; charset=utf-8"})
    return Response(body=found[0].decode("utf-8"), status_code=200, headers={
        "Content-Type": TYPES[pathlib.Path(name).suffix], "Cache-Control": "public, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff"})

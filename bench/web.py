"""The web client on the local cloud: page weight and render speed against the JSON route with the same data.

- Weight: each page's HTML and the CSS and JS it links, raw and gzipped (issue 12's budget: 60 KB of CSS and JS
  per page, gzipped).
- Speed: p50/p95 of the main page (`/`) against `GET /requests` + `GET /me/messages` (the JSON the page shows),
  and of `/applications` against `GET /requests`, for the seeded demo citizen over HTTP. The ratio is what the
  issue bounds (≤ 1.5×); pages that are not built yet are reported as missing.
"""

from __future__ import annotations

import collections
import gzip
import json
import re
import time
from typing import Any

import requests

from bench._common import ms, percentile, report
from bench.latency import LocalCloud
from infra.seed import DEMO_PASSWORD

DEMO = "+79990000001"
RUNS = 60
WARMUP = 5
PAGES = ("/", "/login", "/register", "/applications", "/catalog", "/my-documents", "/profile", "/security", "/pay",
         "/pay/history")
ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def _sign_in(base: str) -> tuple[requests.Session, str]:
    web = requests.Session()
    page = web.get(f"{base}/login", timeout=10)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    done = web.post(f"{base}/login", data={"csrf": csrf, "login": DEMO, "password": DEMO_PASSWORD, "next": "/"},
                    timeout=10, allow_redirects=False)
    assert done.status_code == 303, done.text[:300]
    api = requests.post(f"{base}/auth/login", json={"login": DEMO, "password": DEMO_PASSWORD}, timeout=10).json()
    return web, api["access_token"]


def _times(fn: Any) -> list[float]:
    for _ in range(WARMUP):
        fn()
    out = []
    for _ in range(RUNS):
        start = time.perf_counter()
        resp = fn()
        out.append(time.perf_counter() - start)
        assert resp.status_code == 200, (resp.status_code, resp.text[:200])
    return out


def _weight(web: requests.Session, base: str, path: str) -> tuple[int, int, int] | None:
    page = web.get(f"{base}{path}", timeout=10)
    if page.status_code != 200 or "text/html" not in page.headers.get("content-type", ""):
        return None
    assets = b"".join(web.get(f"{base}{a}", timeout=10).content for a in sorted(set(ASSET.findall(page.text))))
    return len(page.content), len(gzip.compress(page.content)), len(gzip.compress(assets))


class LoggingCloud(LocalCloud):
    """The local cloud, keeping each request's server-side duration by route from its JSON log lines (the
    client-side time over chalice local's keep-alive adds delayed-ACK stalls that no deployment has)."""

    def __init__(self) -> None:
        self.durations: dict[str, list[float]] = collections.defaultdict(list)
        super().__init__()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.tail.append(line.rstrip())
            if "Ready." in line:
                self.ready.set()
            if line.startswith("{") and '"duration_ms"' in line:
                entry = json.loads(line)
                self.durations[f"{entry.get('method')} {entry.get('route')}"].append(entry["duration_ms"] / 1000)

    def server(self, route: str) -> list[float]:
        found = list(self.durations[route])
        self.durations[route].clear()
        return found


def run() -> dict[str, str]:
    cloud = LoggingCloud()
    try:
        cloud.wait_ready()
        base = f"http://127.0.0.1:{cloud.api_port}"
        web, token = _sign_in(base)
        bearer = {"Authorization": f"Bearer {token}"}
        print("Page weight (HTML raw / gzip; linked CSS+JS gzip; budget 60 KB CSS+JS):")
        heaviest = 0
        for path in PAGES:
            found = _weight(web, base, path)
            if found is None:
                print(f"  {path:16} (not built yet)")
                continue
            heaviest = max(heaviest, found[2])
            raw, packed, assets = (n / 1024 for n in found)
            print(f"  {path:16} {raw:6.1f} KB / {packed:5.1f} KB; assets {assets:5.1f} KB")
        for route in list(cloud.durations):
            cloud.server(route)
        _times(lambda: web.get(f"{base}/", timeout=10))
        _times(lambda: requests.get(f"{base}/requests", headers=bearer, timeout=10))
        _times(lambda: requests.get(f"{base}/me/messages", headers=bearer, timeout=10))
        time.sleep(0.5)  # the last log lines
        home, reqs, msgs = cloud.server("GET /"), cloud.server("GET /requests"), cloud.server("GET /me/messages")
        json_p50 = percentile(reqs, 50) + percentile(msgs, 50)
        ratio = percentile(home, 50) / json_p50
        print(f"Server side: main page p50 {ms(percentile(home, 50))} p95 {ms(percentile(home, 95))}; JSON GET "
              f"/requests p50 {ms(percentile(reqs, 50))} + GET /me/messages p50 {ms(percentile(msgs, 50))} → ratio "
              f"{ratio:.2f} (budget 1.5)")
        summary = {"web": f"main page p50 {ms(percentile(home, 50))} vs its JSON {ms(json_p50)} (ratio {ratio:.2f}); "
                          f"heaviest CSS+JS {heaviest / 1024:.1f} KB gzip"}
        if web.get(f"{base}/applications", timeout=10).status_code == 200:
            _times(lambda: web.get(f"{base}/applications", timeout=10))
            _times(lambda: requests.get(f"{base}/requests", headers=bearer, timeout=10))
            time.sleep(0.5)
            apps, apps_json = cloud.server("GET /applications"), cloud.server("GET /requests")
            ratio = percentile(apps, 50) / percentile(apps_json, 50)
            print(f"Server side: /applications p50 {ms(percentile(apps, 50))}; JSON GET /requests p50 "
                  f"{ms(percentile(apps_json, 50))} → ratio {ratio:.2f} (budget 1.5)")
            summary["web"] += f"; /applications ratio {ratio:.2f}"
        return summary
    finally:
        cloud.stop()


if __name__ == "__main__":
    report(run())

"""OIDC Back-Channel Logout 1.0, the outgoing side: a form POST of `logout_token` to a relying party's registered
`backchannel_logout_uri`. The relying parties are other state systems, so this is an adapter for the outside
world; locally the demo relying party (infra/demo_rp.py) and the tests' receivers answer it over real HTTP."""

from __future__ import annotations

import logging
import urllib.error
import urllib.parse
import urllib.request

log = logging.getLogger("kabinet.backchannel")
TIMEOUT = 5  # seconds: a system that does not answer is retried with the event, not waited for


def post(uri: str, logout_token: str) -> int:
    """The HTTP status the relying party answered (0 when it did not answer)."""
    body = urllib.parse.urlencode({"logout_token": logout_token}).encode()
    request = urllib.request.Request(uri, data=body, method="POST",  # noqa: S310 - only registered https/http URIs
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:  # noqa: S310
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError) as exc:
        log.warning("back-channel logout to %s: no answer (%s)", uri, exc)
        return 0

"""Device type, OS and browser from a User-Agent header (AU-9), via ua-parser, loaded on first use."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

_TABLET_HINTS = ("ipad", "tablet", "kindle", "silk", "playbook")


@dataclass(frozen=True)
class Device:
    device_type: str  # computer | phone | tablet | unknown
    os: str
    browser: str


@cache
def _parser() -> Any:
    from ua_parser import parse

    return parse


@cache
def parse_device(user_agent: str | None) -> Device:
    if not user_agent:
        return Device("unknown", "Неизвестно", "Неизвестно")
    result = _parser()(user_agent[:512])
    ua = user_agent.lower()
    if any(h in ua for h in _TABLET_HINTS) or ("android" in ua and "mobile" not in ua):
        kind = "tablet"
    elif any(h in ua for h in ("mobi", "iphone", "android", "windows phone")):
        kind = "phone"
    elif any(h in ua for h in ("windows", "macintosh", "x11", "linux", "cros")):
        kind = "computer"
    else:
        kind = "unknown"

    def name(part: Any) -> str:
        if part is None or part.family in (None, "Other"):
            return "Неизвестно"
        return " ".join(str(x) for x in (part.family, part.major) if x)

    return Device(kind, name(result.os), name(result.user_agent))

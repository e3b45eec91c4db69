"""The fixed catalog of news topics (NT-4) and the frequencies a subscription may have.

Fixed in code, not in the table: a topic is part of the subscriber index's key (store/keys.py), so adding one
is a deployment, and the API documents the list as an enum.
"""

from __future__ import annotations

from typing import Literal

TOPICS: dict[str, str] = {
    "pensions": "Пенсии и социальные выплаты",
    "vehicles": "Транспорт и водители",
    "certificates": "Справки и выписки",
    "taxes": "Налоги",
    "health": "Здоровье",
    "family": "Семья и дети",
}
Topic = Literal["pensions", "vehicles", "certificates", "taxes", "health", "family"]

# The frequencies of the notification settings (NT-3): the lead's worker reads them from the per-person event.
FREQUENCIES: dict[str, str] = {"immediately": "Сразу", "daily": "Раз в день", "weekly": "Раз в неделю"}
Frequency = Literal["immediately", "daily", "weekly"]
Choice = Literal["immediately", "daily", "weekly", "off"]  # what PUT takes per topic: a frequency, or off
RANK = {"immediately": 0, "daily": 1, "weekly": 2}  # a publication on two of one's topics: the more urgent wins


def title(topic: str) -> str:
    return TOPICS[topic]

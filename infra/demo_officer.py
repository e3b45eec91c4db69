"""The local demo officer (stage `local` only): moves waiting applications along so that a person trying
`make run` sees statuses change. Registered by app.py only when the stage is local; never deployed."""

from __future__ import annotations

import logging
from typing import Any

from chalicelib.applications import agency, transitions
from chalicelib.applications.actors import Actor
from chalicelib.catalog import services as catalog
from chalicelib.core import clock
from chalicelib.core.errors import Conflict
from chalicelib.store import keys, table

log = logging.getLogger("kabinet.demo")
DEMO_OFFICER = Actor("system", name="Демо-сотрудник ведомства", department="Демонстрационный режим")
DEMO_DELAY = 20  # seconds a demo application waits before the simulator takes or decides it
DEMO_BATCH = 5  # moves per run: each approval renders and signs a PDF, and a run must stay short


def register(app: Any) -> None:
    @app.schedule("rate(1 minute)", name="agency_simulator")
    def agency_simulator(event: Any) -> dict[str, int]:
        return {"moved": simulate_all()}


def simulate_all() -> int:
    return simulate(sorted({s.agency.id for s in catalog.all_services() if not s.automatic}))


def simulate(agencies: list[str]) -> int:
    """Local demo only: takes applications that waited DEMO_DELAY seconds and approves the ones it took,
    so a person trying `make run` sees statuses move. Applications a real officer took are left alone."""
    moved = 0
    cutoff = clock.iso(clock.from_epoch(clock.epoch() - DEMO_DELAY))
    for agency_id in agencies:
        for status in ("submitted", "in_progress"):
            page = table.query(keys.agency_inbox(agency_id), keys.inbox_prefix(status), index="GSI2", limit=50,
                               newest_first=False)
            for req in page.items:
                if req["updated_at"] > cutoff:
                    continue
                if moved >= DEMO_BATCH:
                    return moved
                try:
                    if status == "submitted":
                        transitions.transition(req, "in_progress", DEMO_OFFICER, text="Заявление взято в работу",
                                        fields={"officer": {"user_id": None, "name": DEMO_OFFICER.name}})
                    elif (req.get("officer") or {}).get("user_id") is None:
                        agency.approve_loaded(req, DEMO_OFFICER, "Решение принято в демонстрационном режиме")
                    else:
                        continue
                    moved += 1
                except Conflict:
                    log.info("demo officer lost a race on %s", req["id"])
    return moved



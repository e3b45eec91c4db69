"""System-issued documents in-process, no AWS: render a one-page profile extract, sign it (PAdES B-B), verify it.

The identity comes from `new_identity("bench")`, so the figures are fpdf2's and pyhanko's own, with no Secrets
Manager call. The first round (imports, font parsing on a cold process) is reported apart from the medians.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench._common import ms, percentile, report

RUNS = 20
TARGET_RENDER = 0.100
DOCUMENT_ID = "01JDQ7Z8K3V5M2N4P6R8T0W1XY"
VERIFY_URL = f"https://kabinet.example/verify/{DOCUMENT_ID}"


def _layout() -> Any:
    from chalicelib.documents import pdf

    rows = [("Фамилия, имя, отчество", "Щербакова Юлия Викторовна"), ("Дата рождения", "12.04.1988"),
            ("Мобильный телефон", "+7 916 123-45-67"), ("Электронная почта", "yulia.shcherbakova@example.ru"),
            ("Уровень учётной записи", "Подтверждённая"), ("Учётная запись создана", "03.02.2025 10:41:07")]
    return pdf.Layout(title="Выписка из профиля", subtitle="Сведения учётной записи портала госуслуг", sections=[
        pdf.Section(heading="Сведения о пользователе", rows=rows),
        pdf.Section(paragraphs=["Выписка сформирована автоматически и подписана электронной подписью системы. "
                                "Подлинность можно проверить по QR-коду или ссылке внизу страницы."])])


def _timed(step: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = step()
    return time.perf_counter() - start, result


def _line(label: str, times: list[float]) -> str:
    return (f"  {label:<8} median {ms(statistics.median(times))}  p95 {ms(percentile(times, 95))}  "
            f"(min {ms(min(times))}, max {ms(max(times))})")


def run() -> dict[str, str]:
    from chalicelib.adapters import signer
    from chalicelib.documents import pdf

    ident = signer.Identity.from_json(signer.new_identity("bench"))
    layout = _layout()
    issued = datetime.now(UTC)

    def render() -> bytes:
        return pdf.render(layout, document_id=DOCUMENT_ID, verify_url=VERIFY_URL, issued_at=issued)

    cold_render, unsigned = _timed(render)
    cold_sign, signed = _timed(lambda: signer.sign(unsigned, reason=layout.title, ident=ident))
    cold_verify, found = _timed(lambda: signer.verify(signed.data, ident=ident))
    assert found.valid, found.reason

    times: dict[str, list[float]] = {"render": [], "sign": [], "verify": []}
    for _ in range(RUNS):
        spent, unsigned = _timed(render)
        times["render"].append(spent)
        spent, signed = _timed(lambda unsigned=unsigned: signer.sign(unsigned, reason=layout.title, ident=ident))
        times["sign"].append(spent)
        spent, found = _timed(lambda signed=signed: signer.verify(signed.data, ident=ident))
        times["verify"].append(spent)
        assert found.valid, found.reason

    print(f"== System-issued PDF ({RUNS} runs each, in-process, identity from new_identity) ==")
    for label, values in times.items():
        print(_line(label, values))
    total = [sum(step) for step in zip(*times.values(), strict=True)]
    print(_line("total", total))
    print(f"  first round in this process (imports, lazy set-up): render {ms(cold_render)}, sign {ms(cold_sign)}, "
          f"verify {ms(cold_verify)}")
    print(f"  size: unsigned {len(unsigned) / 1024:.1f} KiB, signed {len(signed.data) / 1024:.1f} KiB")
    render_med = statistics.median(times["render"])
    print(f"  render target: one page under {ms(TARGET_RENDER)}: {'met' if render_med < TARGET_RENDER else 'MISSED'}")
    return {"pdf": f"render {ms(render_med)}, sign {ms(statistics.median(times['sign']))}, verify "
                   f"{ms(statistics.median(times['verify']))} (medians of {RUNS}); signed one-pager "
                   f"{len(signed.data) / 1024:.1f} KiB"}


if __name__ == "__main__":
    report(run())

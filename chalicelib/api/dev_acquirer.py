"""The local card acquirer's own pages (stage `local` only, docs/acquirer.md): the card form, 3-D Secure, SBP with its
QR code, the e-wallet, bank-transfer requisites. The acquirer's logic and state are infra/acquirer_simulator.py.

These are the acquirer's pages, not Kabinet's: their own look (templates/acquirer/), their own stylesheet, Russian
only, no scripts. The session ref in the address is the capability (an unguessable id, as acquirers' payment pages
do); a page for a finished session offers the way back to the shop. Every answer carries a strict CSP.
"""

from __future__ import annotations

import base64
import pathlib
import urllib.parse
from functools import cache
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.adapters import acquirer
from chalicelib.api.http import Call, Content, endpoint
from chalicelib.core.errors import Invalid, NotFound
from infra import acquirer_simulator as sim

if TYPE_CHECKING:
    import jinja2

bp = Blueprint(__name__)
HTML = Content("text/html", description="HTML-страница эквайера")
CSS = Content("text/css", description="Стили страниц эквайера")
FORM = "application/x-www-form-urlencoded"
TEMPLATES = pathlib.Path(__file__).resolve().parent.parent / "templates" / "acquirer"
STYLE = """body{margin:0;font:16px/1.5 Georgia,serif;background:#eef0e8;color:#1d2417}
header{background:#24452b;color:#f4f1de;padding:.6rem 1rem;font:600 1rem sans-serif;letter-spacing:.05em}
main{max-width:30rem;margin:2rem auto;background:#fff;border:2px solid #24452b;padding:1.5rem}
h1{font-size:1.4rem;margin-top:0}label{display:block;margin-top:1rem;font-weight:600}
input[type=text],input:not([type]){display:block;width:100%;box-sizing:border-box;padding:.5rem;font:inherit;
border:1px solid #4d5b45}input[aria-invalid=true]{border:2px solid #a1260d}
.check{font-weight:400}.error{color:#a1260d;display:block;font-weight:400}
.summary{border:3px solid #a1260d;padding:.5rem 1rem;margin-bottom:1rem}
button{margin-top:1.2rem;padding:.6rem 1.2rem;font:600 1rem sans-serif;background:#24452b;color:#fff;border:0}
button.secondary{background:#fff;color:#24452b;border:2px solid #24452b}.hint{background:#f4f1de;padding:.5rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0}
.amount{font-size:1.3rem;font-weight:600}img.qr{display:block;margin:1rem auto;width:14rem;height:14rem}
"""


@cache
def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["rub"] = _rubles
    return env


def _rubles(kopecks: int) -> str:
    """12345678 → "123 456,78 ₽" (no-break spaces), as a Russian receipt writes an amount."""
    return f"{kopecks // 100:,}".replace(",", "\u00a0") + f",{kopecks % 100:02d}\u00a0₽"


def _headers(session: dict[str, Any] | None) -> dict[str, str]:
    targets = "'self'"
    if session:  # a form's redirect back to the shop must be allowed by form-action too
        parts = urllib.parse.urlsplit(session["return_url"])
        if parts.scheme in ("http", "https") and parts.netloc:
            targets += f" {parts.scheme}://{parts.netloc}"
    return {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src data:; "
                                       f"form-action {targets}; frame-ancestors 'none'; base-uri 'none'",
            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def _render(template: str, session: dict[str, Any] | None, status: int = 200, **context: Any) -> Response:
    body = _environment().get_template(template).render(session=session, base=sim.PAGES, **context)
    return Response(body=body, status_code=status, headers=_headers(session))


def _see_other(location: str, session: dict[str, Any] | None) -> Response:
    return Response(body="", status_code=303, headers={**_headers(session), "Location": location})


def _form(data: bytes) -> dict[str, str]:
    try:
        pairs = urllib.parse.parse_qsl(data.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise Invalid("INVALID_FORM", "Тело запроса должно быть формой application/x-www-form-urlencoded") from None
    return dict(pairs)


def _qr(ref: str) -> str:
    """The SBP QR code as a data: URI (the CSP allows images from data: only): it opens this very page."""
    import segno

    svg = segno.make_qr(sim.page_url(ref), error="m").svg_inline(scale=4)
    if "xmlns=" not in svg:
        svg = svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _page(session: dict[str, Any], **context: Any) -> Response:
    """The page the session is at: its method's step, or the finished payment with the way back."""
    step = session["page_step"]
    if step == "card":
        return _render("card.html", session, errors=context.get("errors", {}), form=context.get("form", {}))
    if step == "3ds":
        return _render("threeds.html", session, error=context.get("error"), code=sim.THREEDS_CODE)
    if step == "sbp":
        return _render("sbp.html", session, qr=_qr(session["ref"]))
    if step == "wallet":
        return _render("wallet.html", session)
    if step == "bank_transfer":
        return _render("transfer.html", session)
    return _render("done.html", session, outcome=sim.outcome(session), back=sim.back_url(session),
                   reasons=acquirer.REASONS)


@endpoint(bp, "GET", "/dev/acquirer/style.css", summary="Acquirer simulator: its stylesheet (local only)",
          auth=False, response=CSS, tag="dev")
def style(call: Call) -> Response:
    return Response(body=STYLE, status_code=200, headers={"Content-Type": "text/css; charset=utf-8",
                                                          "Cache-Control": "max-age=300"})


def _gone() -> NotFound:
    """No such session: the documented error shape (a stale link from a finished payment lands here too)."""
    return NotFound("NOT_FOUND", "Платёжная страница не найдена: начните оплату заново на сайте, где её начинали")


@endpoint(bp, "GET", "/dev/acquirer/pay/{ref}", summary="Acquirer simulator: the payment page (local only)",
          auth=False, response=HTML, tag="dev")
def pay_page(call: Call, ref: str) -> Response:
    session = sim.get(ref)
    if session is None:
        raise _gone()
    return _page(session)


@endpoint(bp, "POST", "/dev/acquirer/pay/{ref}/card", summary="Acquirer simulator: card details (local only)",
          auth=False, raw=(FORM,), response=HTML, status=303, tag="dev")
def card(call: Call, data: bytes, ref: str) -> Response:
    session = sim.get(ref)
    if session is None:
        raise _gone()
    if session["page_step"] != "card":
        return _see_other(f"{sim.PAGES}/pay/{ref}", session)
    form = _form(data)
    errors = sim.submit_card(ref, form)
    if errors:
        kept = {k: form.get(k, "") for k in ("number", "expiry", "holder")}  # never the CVC
        return _render("card.html", session, 400, errors=errors, form={**kept, "save": form.get("save") == "on"})
    return _see_other(f"{sim.PAGES}/pay/{ref}", session)


@endpoint(bp, "POST", "/dev/acquirer/pay/{ref}/3ds", summary="Acquirer simulator: the 3-D Secure code (local only)",
          auth=False, raw=(FORM,), response=HTML, status=303, tag="dev")
def threeds(call: Call, data: bytes, ref: str) -> Response:
    session = sim.get(ref)
    if session is None:
        raise _gone()
    if session["page_step"] != "3ds":
        return _see_other(f"{sim.PAGES}/pay/{ref}", session)
    error = sim.confirm_3ds(ref, _form(data).get("code", ""))
    if error:
        return _render("threeds.html", session, 400, error=error, code=sim.THREEDS_CODE)
    return _see_other(sim.back_url(session), session)


@endpoint(bp, "POST", "/dev/acquirer/pay/{ref}/decide", summary="Acquirer simulator: SBP or e-wallet answer "
          "(local only)", auth=False, raw=(FORM,), response=HTML, status=303, tag="dev")
def decide(call: Call, data: bytes, ref: str) -> Response:
    session = sim.get(ref)
    if session is None:
        raise _gone()
    sim.decide(ref, _form(data).get("action") == "pay")
    return _see_other(sim.back_url(session), session)


@endpoint(bp, "POST", "/dev/acquirer/pay/{ref}/transfer", summary="Acquirer simulator: «Я оплатил в своём банке» "
          "(local only)", auth=False, raw=(FORM,), response=HTML, status=303, tag="dev")
def transfer(call: Call, data: bytes, ref: str) -> Response:
    session = sim.get(ref)
    if session is None:
        raise _gone()
    sim.transfer_sent(ref)
    return _see_other(sim.back_url(session), session)


def register(app: Any) -> None:
    """The local card acquirer on `app` (app.py, stage local only): these pages and the simulator as the backend."""
    app.register_blueprint(bp)
    sim.register()

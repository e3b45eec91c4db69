"""Pages from jinja2 templates (`chalicelib/templates/web/`), autoescaped, one environment per language with the
gettext catalogs installed (`{{ _("…") }}` in templates)."""

from __future__ import annotations

import pathlib
from functools import cache
from typing import TYPE_CHECKING, Any

from chalicelib.core import i18n
from chalicelib.web import static

if TYPE_CHECKING:
    import jinja2

    from chalicelib.web.pages import Visit

TEMPLATES = pathlib.Path(__file__).resolve().parent.parent / "templates" / "web"


@cache
def environment(lang: str) -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.i18n"],
                             trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(static=static.url, languages=i18n.TITLES)
    env.filters["day"] = _day
    return env


def _day(value: str | None) -> str:
    """ISO date or timestamp → DD.MM.YYYY, as a person reads dates (ID-3)."""
    if not value:
        return ""
    y, m, d = value[:10].split("-")
    return f"{d}.{m}.{y}"


def page(visit: Visit, template: str, context: dict[str, Any]) -> str:
    env = environment(visit.lang)
    return env.get_template(template).render(visit=visit, lang=visit.lang, nonce=visit.nonce, csrf=visit.csrf,
                                             signed_in=visit.principal is not None,
                                             **{"active": "", **context})

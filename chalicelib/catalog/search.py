"""Catalog search and suggestions (SV-1), in memory: an index built once per container, no AWS call
except the popularity counts (cached for minutes, see popularity.py).

Matching: lower case, ё = е, words split on anything that is not a letter or digit (and between digits
and letters, so "2ндфл" is "2 ндфл"). A query word matches an index word it is a prefix of; a query word
of 4+ letters also matches when it is one typo (Damerau-Levenshtein distance 1) away from the index word's
prefix of its own length, one shorter or one longer ("спровка" → "справка", "загранпспорт" →
"загранпаспорт"), keeping its first letter (people rarely miss that one, and without the rule "пасп"
would find "расп..."). The same goes for the query word without its case ending ("архивная" finds
"архивной"). Every query word must match, except function words ("о", "на", "ко"...), which only
add to the score: "запись ко врачу" finds "Запись на приём к врачу". A query typed on the Latin keyboard
layout that finds nothing is retried as if typed on the Russian one ("cghfdrf" → "справка").

Typos are found with a symmetric-deletion map (every index prefix and each of its one-letter deletions →
the prefix), so a lookup costs a few dictionary probes instead of a scan of the vocabulary.
"""

from __future__ import annotations

import base64
import heapq
import json
import re
import zlib
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from chalicelib.catalog import popularity, services
from chalicelib.catalog.services import CATEGORIES, TIERS, Service
from chalicelib.core.errors import Invalid, invalid

PAGE = 20
SUGGEST_LIMIT = 10
SUGGEST_MIN = 2  # characters; shorter input would match half the catalog
MAX_QUERY = 200  # characters
MAX_WORDS = 10
MAX_DAYS = 365
FUZZY_MIN = 4  # letters; shorter words are too easy to confuse with others
SORTS = ("relevance", "popularity", "updated", "title", "tier")

# Field classes: a match in the title outranks one in keywords, which outranks description and agency.
TITLE, KEYWORD, TEXT = 3, 2, 1
# Per query word: 3 * class for the whole word, one less for a prefix of a word, two less for a typo
# (title word 9, title prefix 8, title typo 7, keyword word 6 ... description typo 1).
PREFIX, TYPO = 1, 2

STOP_WORDS = frozenset({"а", "в", "во", "для", "до", "за", "и", "из", "или", "к", "ко", "на", "о", "об", "обо",
                        "от", "по", "при", "с", "со", "у"})
_WORD = re.compile(r"[0-9]+|[a-zа-я]+")
_LATIN = re.compile(r"[a-z]")
_CYRILLIC = re.compile(r"[а-я]")
_CYRILLIC_WORD = re.compile(r"^[а-я]+$")
# Endings of Russian nouns and adjectives, longest first.
_ENDINGS = tuple(sorted({
    "ами", "ями", "ими", "ыми", "его", "ого", "ему", "ому", "иям", "иях", "ием", "ией",
    "ая", "яя", "ое", "ее", "ие", "ые", "ий", "ый", "ой", "ей", "ую", "юю", "ым", "им", "ом", "ем", "ых", "их",
    "ам", "ям", "ах", "ях", "ов", "ев", "ия", "ии", "ью", "ье", "ья",
    "а", "я", "о", "е", "и", "ы", "у", "ю", "ь", "й"}, key=len, reverse=True))
STEM_MIN = 5  # letters left after the ending: "права" stays "права", not "прав" (правила, правонарушения...)
# The same keys on a QWERTY and a ЙЦУКЕН keyboard.
_LAYOUT = str.maketrans("qwertyuiop[]asdfghjkl;'zxcvbnm,.`", "йцукенгшщзхъфывапролджэячсмитьбюё")


def normalize(text: str) -> str:
    return text.lower().replace("ё", "е")


def words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


def stem(word: str) -> str:
    """The word without its case or gender ending, if enough of it stays: a query says "архивная справка",
    the title "архивной справки". Not a full stemmer; just enough that inflection does not hide a service."""
    if _CYRILLIC_WORD.fullmatch(word):
        for ending in _ENDINGS:
            if word.endswith(ending) and len(word) - len(ending) >= STEM_MIN:
                return word[:-len(ending)]
    return word


def _deletions(word: str) -> set[str]:
    """One-letter deletions, all but the first letter (typo matches keep it)."""
    return {word[:i] + word[i + 1:] for i in range(1, len(word))}


def within_one(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance (adjacent transpositions) between a and b is at most 1."""
    if len(a) > len(b):
        a, b = b, a
    la, lb = len(a), len(b)
    if lb - la > 1:
        return False
    i = 0
    while i < la and a[i] == b[i]:
        i += 1
    if la < lb:
        return a[i:] == b[i + 1:]
    if i == la or a[i + 1:] == b[i + 1:]:
        return True
    return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2:] == b[i + 2:]


class Index:
    """Everything a query needs, precomputed from a list of services (the catalog, or a bench's own)."""

    def __init__(self, items: Iterable[Service]) -> None:
        self.services: tuple[Service, ...] = tuple(items)
        postings: dict[str, dict[int, int]] = {}
        for pos, service in enumerate(self.services):
            fields = ((TITLE, (service.title,)), (KEYWORD, service.keywords),
                      (TEXT, (service.description, service.agency.title)))
            for cls, texts in fields:
                for text in texts:
                    for word in words(text):
                        found = postings.setdefault(word, {})
                        if found.get(pos, 0) < cls:
                            found[pos] = cls
        self._postings = postings
        self._words: list[str] = sorted(postings)
        # Per word (in sorted order): the positions of services holding it, grouped by field class, so a
        # prefix's services are gathered with set.update (in C) rather than one posting at a time.
        self._groups: list[tuple[tuple[int, frozenset[int]], ...]] = [
            tuple((cls, frozenset(p for p, c in postings[w].items() if c == cls))
                  for cls in (TITLE, KEYWORD, TEXT) if cls in postings[w].values())
            for w in self._words]
        fuzzy: dict[str, list[str]] = {}
        for prefix in {w[:n] for w in self._words if w.isalpha() for n in range(FUZZY_MIN - 1, len(w) + 1)}:
            for key in (prefix, *_deletions(prefix)):
                fuzzy.setdefault(key, []).append(prefix)
        self._fuzzy = {key: tuple(found) for key, found in fuzzy.items()}
        self.title_keys: tuple[str, ...] = tuple(normalize(s.title) for s in self.services)
        self.positions = {s.id: pos for pos, s in enumerate(self.services)}
        self._word_cache: dict[str, dict[int, int]] = {}
        self._rank: tuple[Mapping[str, int] | None, list[int]] = (None, [])

    def rank(self, counts: Mapping[str, int]) -> list[int]:
        """Position → place in the catalog by popularity, then title; recomputed when the counts change."""
        seen, ranks = self._rank
        if seen is not counts:
            order = sorted(range(len(self.services)),
                           key=lambda pos: (-counts.get(self.services[pos].id, 0), self.title_keys[pos]))
            ranks = [0] * len(order)
            for place, pos in enumerate(order):
                ranks[pos] = place
            self._rank = (counts, ranks)
        return ranks

    def _gather(self, levels: dict[int, set[int]], prefix: str, penalty: int) -> None:
        """Every service with a word starting with `prefix`, at score 3 * class - penalty."""
        start = bisect_left(self._words, prefix)
        stop = bisect_left(self._words, prefix + "\uffff", start)
        for groups in self._groups[start:stop]:
            for cls, positions in groups:
                score = 3 * cls - penalty
                if score in levels:
                    levels[score].update(positions)
                else:
                    levels[score] = set(positions)

    def _typo_prefixes(self, word: str) -> set[str]:
        out = set()
        for key in (word, *_deletions(word)):
            for prefix in self._fuzzy.get(key, ()):
                if prefix[0] == word[0] and abs(len(prefix) - len(word)) <= 1 and within_one(word, prefix):
                    out.add(prefix)
        return out

    def word_matches(self, word: str) -> dict[int, int]:
        """Service position → best score of one query word. Kept per container: typing repeats words."""
        found = self._word_cache.get(word)
        if found is None:
            levels: dict[int, set[int]] = {}
            exact = self._postings.get(word, {})
            for cls in (TITLE, KEYWORD, TEXT):
                levels[3 * cls] = {pos for pos, c in exact.items() if c == cls}
            self._gather(levels, word, PREFIX)
            base = stem(word)
            if base != word:
                self._gather(levels, base, PREFIX)
            if len(word) >= FUZZY_MIN and word.isalpha():
                for prefix in self._typo_prefixes(word) | self._typo_prefixes(base):
                    self._gather(levels, prefix, TYPO)
            found = {}
            for score in sorted(levels, reverse=True):  # a service keeps its best score
                found.update(dict.fromkeys(levels[score].difference(found), score))
            if len(self._word_cache) >= 4096:
                self._word_cache.clear()
            self._word_cache[word] = found
        return found

    def scores(self, query: str) -> dict[int, int]:
        """Service position → relevance of every service matching all (non-function) words of `query`."""
        found = self._scores(words(query)[:MAX_WORDS])
        if not found and _LATIN.search(query) and not _CYRILLIC.search(normalize(query)):
            found = self._scores(words(normalize(query).translate(_LAYOUT))[:MAX_WORDS])
        return found

    def _scores(self, query_words: list[str]) -> dict[int, int]:
        required = [w for w in query_words if w not in STOP_WORDS] or query_words
        optional = [w for w in query_words if w in STOP_WORDS] if len(required) < len(query_words) else []
        if not required:
            return {}
        matches = sorted((self.word_matches(w) for w in required), key=len)
        total = dict(matches[0])
        for found in matches[1:]:
            total = {pos: score + found[pos] for pos, score in total.items() if pos in found}
            if not total:
                return total
        for word in optional:  # function words: an exact occurrence adds a little, absence costs nothing
            for pos, cls in self._postings.get(word, {}).items():
                if pos in total:
                    total[pos] += cls
        return total

    def top(self, found: Mapping[int, int], counts: Mapping[str, int], limit: int) -> list[int]:
        """The `limit` best positions: highest score, then most popular, then by title; only the last score
        level that does not fit whole is ordered, by a precomputed rank (no Python key per candidate)."""
        ranks = self.rank(counts)
        levels: dict[int, list[int]] = {}
        for pos, score in found.items():
            levels.setdefault(score, []).append(pos)
        out: list[int] = []
        for score in sorted(levels, reverse=True):
            level = levels[score]
            room = limit - len(out)
            out += heapq.nsmallest(room, level, key=ranks.__getitem__) if len(level) > room else sorted(
                level, key=ranks.__getitem__)
            if len(out) >= limit:
                break
        return out


@cache
def default_index() -> Index:
    return Index(services.all_services())


def suggest(query: str, *, index: Index | None = None, limit: int = SUGGEST_LIMIT) -> list[dict[str, str]]:
    """Up to `limit` services for what has been typed so far: best match first, then the most popular."""
    if len(query) > MAX_QUERY:
        raise invalid({"q": f"Не длиннее {MAX_QUERY} символов"})
    if len(normalize(query).strip()) < SUGGEST_MIN:
        return []
    index = index or default_index()
    found = index.scores(query)
    if not found:
        return []
    best = index.top(found, popularity.counts(), limit)
    return [{"id": index.services[pos].id, "title": index.services[pos].title} for pos in best]


def _fingerprint(*parts: Any) -> str:
    return format(zlib.crc32(json.dumps(parts, ensure_ascii=False).encode()), "08x")


def _encode_cursor(offset: int, fingerprint: str) -> str:
    raw = json.dumps({"o": offset, "f": fingerprint}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, fingerprint: str) -> int:
    """An offset into the same list: a cursor from another query or filter is refused, not misapplied."""
    bad = Invalid("INVALID_CURSOR", "Некорректный курсор постраничного вывода", {"cursor": "invalid"})
    if len(cursor) > 100:
        raise bad
    try:
        plain = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError):
        raise bad from None
    if not isinstance(plain, dict) or plain.get("f") != fingerprint:
        raise bad
    offset = plain.get("o")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 1:
        raise bad
    return offset


def search(q: str | None = None, *, category: str | None = None, region: str | None = None,
           max_days: int | None = None, sort: str | None = None, cursor: str | None = None,
           index: Index | None = None, page_size: int = PAGE) -> dict[str, Any]:
    """One page of the catalog: matching `q` (if any), filtered, sorted; `cursor` continues a previous page."""
    q = (q or "").strip() or None
    errors: dict[str, str] = {}
    if q is not None and len(q) > MAX_QUERY:
        errors["q"] = f"Не длиннее {MAX_QUERY} символов"
    if category is not None and category not in CATEGORIES:
        errors["category"] = f"Допустимо: {', '.join(CATEGORIES)}"
    if region is not None and not (len(region) == 2 and region.isascii() and region.isdigit()):
        errors["region"] = "Код региона из двух цифр, например 77"
    if max_days is not None and not 1 <= max_days <= MAX_DAYS:
        errors["max_days"] = f"Целое число от 1 до {MAX_DAYS}"
    if sort is not None and sort not in SORTS:
        errors["sort"] = f"Допустимо: {', '.join(SORTS)}"
    if errors:
        raise invalid(errors)
    sort = sort or ("relevance" if q else "popularity")
    fingerprint = _fingerprint(normalize(q or ""), category, region, max_days, sort)
    offset = _decode_cursor(cursor, fingerprint) if cursor else 0

    index = index or default_index()
    found = index.scores(q) if q else None
    candidates: Iterable[int] = found if found is not None else range(len(index.services))
    picked = [pos for pos in candidates if _passes(index.services[pos], category, region, max_days)]
    counts = popularity.counts()
    ranks = index.rank(counts)

    def pop(pos: int) -> int:
        return counts.get(index.services[pos].id, 0)

    keys_by_sort = {
        "relevance": lambda pos: (-(found or {}).get(pos, 0), ranks[pos]),
        "popularity": ranks.__getitem__,
        "updated": lambda pos: (-index.services[pos].updated.toordinal(), index.title_keys[pos]),
        "title": lambda pos: (index.title_keys[pos],),
        "tier": lambda pos: (TIERS.index(index.services[pos].tier), index.title_keys[pos]),
    }
    picked.sort(key=keys_by_sort[sort])
    page = picked[offset:offset + page_size]
    more = offset + page_size < len(picked)
    return {"items": [services.summary(index.services[pos], pop(pos)) for pos in page],
            "cursor": _encode_cursor(offset + page_size, fingerprint) if more else None,
            "total": len(picked)}


def _passes(service: Service, category: str | None, region: str | None, max_days: int | None) -> bool:
    return ((category is None or service.category == category)
            and (region is None or service.available_in(region))
            and (max_days is None or service.days <= max_days))


def search_query(query: Mapping[str, str]) -> dict[str, Any]:
    """`search` from a query string: every parameter arrives as text."""
    max_days: int | None = None
    raw_days = query.get("max_days") or None
    if raw_days is not None:
        text = raw_days.strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 4):
            raise invalid({"max_days": f"Целое число от 1 до {MAX_DAYS}"})
        max_days = int(text)
    return search(query.get("q"), category=query.get("category") or None, region=query.get("region") or None,
                  max_days=max_days, sort=query.get("sort") or None, cursor=query.get("cursor") or None)

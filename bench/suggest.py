"""Catalog suggestions in-process, no AWS: 1,000 services (the real catalog plus generated ones), ~200 queries
typed as people type them (partial words, one typo, the Latin keyboard layout).

Two regimes: every query word computed from scratch (the per-word cache emptied before each query), and the
same queries again with the cache a running container would have. Popularity comes from a primed cache and
the bench checks that boto3 was never even imported, so the figures are the index's own.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
import tracemalloc

from bench._common import percentile, report

SIZE = 1000
TARGET_MEDIAN_US = 1000.0
SEED = 7

ACTIONS = ["Выдача", "Получение", "Оформление", "Продление", "Переоформление", "Замена", "Аннулирование",
           "Предоставление", "Согласование", "Регистрация", "Учёт", "Восстановление"]
OBJECTS = ["разрешения на строительство", "лицензии на розничную продажу алкогольной продукции",
           "охотничьего билета единого федерального образца", "разрешения на хранение и ношение оружия",
           "свидетельства о рождении", "свидетельства о заключении брака", "справки о составе семьи",
           "путёвки в детский оздоровительный лагерь", "удостоверения многодетной семьи", "социальной карты",
           "разрешения на вырубку зелёных насаждений", "ордера на производство земляных работ",
           "парковочного разрешения для инвалида", "компенсации родительской платы за детский сад",
           "разрешения на осуществление деятельности такси", "удостоверения ветерана труда",
           "пособия по безработице", "субсидии на развитие фермерского хозяйства", "архивной справки",
           "выписки из домовой книги", "градостроительного плана земельного участка",
           "разрешения на ввод объекта в эксплуатацию", "лицензии на медицинскую деятельность",
           "удостоверения тракториста-машиниста", "регистрационного удостоверения маломерного судна",
           "сертификата на жилищную субсидию", "направления на медико-социальную экспертизу",
           "ежемесячной денежной выплаты", "компенсации расходов на оплату жилья", "квоты на вылов рыбы"]
QUALIFIERS = ["", "для юридических лиц", "для физических лиц", "в электронном виде",
              "для индивидуальных предпринимателей", "по месту пребывания", "для пенсионеров",
              "для многодетных семей", "иностранным гражданам"]
QUERIES = ["справка о судимости", "загранпаспорт", "выписка из егрн", "налоговый вычет", "запись к врачу",
           "регистрация ип", "закрыть ип", "единое пособие", "материнский капитал", "замена паспорта",
           "водительское удостоверение", "регистрация по месту жительства", "полис осаго", "штрафы гибдд",
           "разрешение на строительство", "охотничий билет", "свидетельство о рождении", "пособие по безработице",
           "удостоверение многодетной семьи", "парковочное разрешение", "детский сад", "субсидия жкх",
           "справка о доходах", "выписка егрип", "декларация 3-ндфл", "самозанятый", "пенсия справка",
           "лицензия такси", "архивная справка", "ветеран труда", "земельный участок", "оружие разрешение",
           "социальная карта", "вырубка деревьев", "медицинская лицензия", "снилс", "госпошлина",
           "задолженность по налогам", "отчётность сфр", "жалоба"]


def _typo(word: str, rng: random.Random) -> str:
    """One typo a person makes: a swapped pair, a wrong vowel, a missed or a doubled letter (not the first)."""
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("swap", "vowel", "miss", "double"))
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "vowel" and word[i] in "аоеиуяыэю":
        return word[:i] + rng.choice("аоеи".replace(word[i], "")) + word[i + 1:]
    if kind == "miss":
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]


def _queries(rng: random.Random) -> list[str]:
    """What a suggest box receives: the phrase being typed (cut at 3, 6, 10 letters), whole, with a typo,
    and now and then on the Latin keyboard layout."""
    out: list[str] = []
    layout = str.maketrans("йцукенгшщзхъфывапролджэячсмитьбюё", "qwertyuiop[]asdfghjkl;'zxcvbnm,.`")
    for phrase in QUERIES:
        out += [phrase[:3], phrase[:6], phrase[:10], phrase]
        out.append(" ".join(_typo(w, rng) for w in phrase.split()))
    out += [q.translate(layout) for q in rng.sample(QUERIES, 10)]
    return [q for q in out if len(q.strip()) >= 2]


def _word_forms(real: list) -> list[str]:
    """Inflected forms of the real catalog's words, so generated descriptions bring a vocabulary of the size a
    real 1,000-service catalog has (several thousand word forms), not just the templates' few hundred."""
    from chalicelib.catalog.search import stem, words

    base = {w for s in real for text in (s.title, s.description, *s.keywords) for w in words(text) if len(w) >= 5}
    endings = ("а", "ы", "е", "у", "ой", "ом", "ами", "ах", "ого", "ому", "ых", "ие", "ия", "ию")
    return sorted({stem(w) + e for w in base for e in endings} | base)


def _catalog(rng: random.Random) -> list:
    from chalicelib.catalog import services

    real = list(services.all_services())
    forms = _word_forms(real)
    titles = [f"{a} {o} {q}".strip() for a in ACTIONS for o in OBJECTS for q in QUALIFIERS]
    rng.shuffle(titles)
    made = []
    for n, title in enumerate(titles[:SIZE - len(real)]):
        base = real[n % len(real)]
        words = title.split()
        made.append(base.model_copy(update={
            "id": f"generated-{n}", "title": title, "certificate_kind": None, "automatic": False,
            "description": f"{title}: {' '.join(rng.sample(forms, 12))}. Срок — {base.days} рабочих дней.",
            "keywords": (words[1], " ".join(words[1:3]))}))
    return real + made


def _time(run) -> list[float]:
    times = []
    for step in run:
        start = time.perf_counter_ns()
        step()
        times.append((time.perf_counter_ns() - start) / 1000)
    return times


def _line(label: str, times: list[float]) -> str:
    return (f"  {label:<34} median {statistics.median(times):7.1f} us  p95 {percentile(times, 95):7.1f} us  "
            f"p99 {percentile(times, 99):7.1f} us  max {max(times):7.1f} us")


def run() -> dict[str, str]:
    os.environ.pop("AWS_ENDPOINT_URL", None)  # nowhere to go even if something tried
    from chalicelib.catalog import popularity, search
    from chalicelib.core import aws

    rng = random.Random(SEED)
    catalog = _catalog(rng)
    queries = _queries(rng)
    popularity.prime({s.id: rng.randrange(0, 5000) for s in catalog})

    tracemalloc.start()
    traced = search.Index(catalog)
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del traced
    start = time.perf_counter()
    index = search.Index(catalog)
    build = time.perf_counter() - start
    empty = 0

    def cold(q: str):
        def step() -> None:
            nonlocal empty
            index._word_cache.clear()
            empty += not search.suggest(q, index=index)
        return step

    for q in queries:  # one untimed round: the process's own first-time costs are not the index's
        search.suggest(q, index=index)
    cold_times = _time(cold(q) for q in queries)
    for q in queries:  # what a container that has served these words before holds
        search.suggest(q, index=index)
    warm_times = _time((lambda q=q: search.suggest(q, index=index)) for q in queries)
    assert "boto3" not in sys.modules and "botocore" not in sys.modules and aws.client.cache_info().currsize == 0

    median = statistics.median(cold_times)
    print(f"== Catalog suggest ({len(catalog)} services, {len(queries)} queries, in-process, no AWS) ==")
    print(f"  index: {len(index._words)} words, {len(index._fuzzy)} typo keys; built in {build * 1000:.0f} ms, "
          f"~{size / 2**20:.1f} MiB (tracemalloc)")
    print(_line("every word computed (cold)", cold_times))
    print(_line("per-word cache warm", warm_times))
    print(f"  queries with no suggestion: {empty} of {len(queries)}")
    print("  AWS: boto3 never imported, no client created (popularity from a primed cache)")
    print(f"  target: median under {TARGET_MEDIAN_US:.0f} us: {'met' if median < TARGET_MEDIAN_US else 'MISSED'}")
    for q in ("спровка о судимасти", "загранпспорт", "hfphtitybt yf cnhjbn"):
        print(f"    {q!r} -> {[s['title'][:50] for s in search.suggest(q, index=index)[:2]]}")
    return {"suggest": f"{len(catalog)} services: median {median:.0f} us, p95 {percentile(cold_times, 95):.0f} us, "
                       f"p99 {percentile(cold_times, 99):.0f} us per query (cold words); "
                       f"warm median {statistics.median(warm_times):.0f} us; no AWS call"}


if __name__ == "__main__":
    report(run())

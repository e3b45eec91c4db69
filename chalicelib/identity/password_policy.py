"""Password rules of ID-4, each broken rule reported separately so the form can show them all.

Composition rules alone let through "P@ssw0rd!" or "Spartak1922!", so, as NIST SP 800-63B 5.1.1.2 asks, a new
password is also checked against commonly used ones: a list of base words (chalicelib/data/common_passwords.txt)
seen through the usual disguises, and the zxcvbn estimator for what no list enumerates (patterns, dates, names).
"""

from __future__ import annotations

import functools
import itertools
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

MIN_LENGTH = 8
# zxcvbn scores 0..4; 3 means about 10^8 guesses or more, out of reach of an online attack behind our lockout and
# costly offline against argon2 hashes (4, 10^10, would refuse memorable two-word passwords people can keep).
MIN_STRENGTH = 3
ZXCVBN_MAX_LENGTH = 72  # zxcvbn refuses longer input and slows down with length; the rest only adds strength
COMMON_FILE = Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"

# Words so common that they are refused even inside a longer password ("Пароль#71Zx", "MyQwerty#7"); the list
# file, matched against the whole password, is the broad net.
_NEVER_INSIDE = (
    "password", "passw0rd", "qwerty", "qwertyui", "asdfgh", "zxcvbn", "letmein", "welcome", "admin",
    "administrator", "iloveyou", "monkey", "dragon", "master", "sunshine", "princess", "football",
    "baseball", "superman", "starwars", "trustno1", "secret", "login", "abc123", "qazwsx", "1q2w3e",
    "пароль", "йцукен", "фывапр", "любовь", "привет", "солнышко", "россия", "москва", "gosuslugi",
    "госуслуги", "user", "test", "changeme", "default", "hello", "freedom", "shadow", "michael",
)

_RU_TO_LAT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                      ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p",
                       "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"],
                      strict=True))
# Other spellings people use for the same letters: "Dmitriy", "Mariia", "Natalja", "Mihail", "Ksjusha".
_RU_TO_LAT_ALSO = {"ж": ("j",), "й": ("i", "j"), "х": ("h",), "ц": ("c",), "щ": ("sch",), "ы": ("i",),
                   "ю": ("iu", "ju", "u"), "я": ("ia", "ja")}
_TRANSLIT_VARIANTS = 24  # enough for the usual spellings of a word, without a combinatorial blow-up
# The same keys on a Russian (ЙЦУКЕН) and a Latin (QWERTY) keyboard: "Иванов" typed blind is "Bdfyjd".
_RU_KEYS = "йцукенгшщзхъфывапролджэячсмитьбю"
_LAT_KEYS = "qwertyuiop[]asdfghjkl;'zxcvbnm,."
_RU_TO_KEYS = dict(zip(_RU_KEYS, _LAT_KEYS, strict=True))
_KEYS_TO_RU = str.maketrans(_LAT_KEYS, _RU_KEYS)

_NOT_LETTER = re.compile(r"[^a-zа-я]")
_CYRILLIC = re.compile(r"[а-я]")
# Leading non-letters, the word (first to last letter), trailing non-letters: "!!Spartak1922!" -> "!!", ...
_EDGES = re.compile(r"([^a-zа-я]*)(.*?)([^a-zа-я]*)", re.DOTALL)
_EDGE_KEPT = 3  # edge characters that may be l33t letters of the word itself: "Dinam0!", "$partak"
_MIN_LETTERS_ONLY = 4  # "S.p.a.r.t.a.k" is looked up as "spartak"; fewer letters than this would say little
# l33t folding, once with 1/!/| read as i and once as l; Cyrillic words get their own look-alikes.
_LEET = {"@": "a", "4": "a", "8": "b", "3": "e", "0": "o", "5": "s", "$": "s", "7": "t", "+": "t", "!": "i"}
_LEET_TABLES = (str.maketrans({**_LEET, "1": "i", "|": "i"}), str.maketrans({**_LEET, "1": "l", "|": "l"}))
_LEET_CYRILLIC = str.maketrans({"@": "а", "4": "ч", "6": "б", "3": "з", "0": "о"})

_HOW = {
    "translit": " («{word}» латиницей)",
    "keys_lat": " (набрано в английской раскладке)",
    "keys_ru": " (набрано в русской раскладке)",
}
_LEET_NOTE = " (цифры и знаки вместо букв не помогают)"

# zxcvbn 4.5 feedback warnings (feedback.py), in Russian.
_WARNINGS_RU = {
    "This is a top-10 common password.": "это один из десяти самых частых паролей",
    "This is a top-100 common password.": "это один из ста самых частых паролей",
    "This is a very common password.": "это очень частый пароль",
    "This is similar to a commonly used password.": "он похож на часто используемый пароль",
    "A word by itself is easy to guess.": "одно слово подбирается по словарю",
    "Names and surnames by themselves are easy to guess.": "имя или фамилия подбираются по словарю",
    "Common names and surnames are easy to guess.": "распространённые имена и фамилии подбираются по словарю",
    "Straight rows of keys are easy to guess.": "ряд соседних клавиш легко угадать",
    "Short keyboard patterns are easy to guess.": "короткий узор на клавиатуре легко угадать",
    'Repeats like "aaa" are easy to guess.': "повторы вроде «aaa» легко угадать",
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".':
        "повторы вроде «abcabcabc» угадать почти так же легко, как «abc»",
    'Sequences like "abc" or "6543" are easy to guess.': "последовательности вроде «abc» или «6543» легко угадать",
    "Recent years are easy to guess.": "недавние годы легко угадать",
    "Dates are often easy to guess.": "даты легко угадать",
}
# When zxcvbn gives no warning (its weakest part is not the whole password), the longest part it recognised says why.
_PARTS_RU = {
    "user_inputs": "в нём угадываются ваши личные данные",
    "passwords": "в нём есть часто используемый пароль",
    "male_names": "в нём есть распространённое имя",
    "female_names": "в нём есть распространённое имя",
    "surnames": "в нём есть распространённая фамилия",
    "english_wikipedia": "в нём есть слово из словаря",
    "us_tv_and_film": "в нём есть слово из словаря",
    "spatial": "в нём есть узор на клавиатуре",
    "repeat": "в нём есть повторы",
    "sequence": "в нём есть последовательность символов",
    "date": "в нём есть дата",
    "regex": "в нём есть год",
}
_WEAK_DEFAULT = "добавьте ещё одно-два редких слова"
_ZXCVBN_LOCK = threading.Lock()  # zxcvbn keeps the user inputs of a call in a module-level dictionary


def _translit(word: str) -> str:
    return "".join(_RU_TO_LAT.get(c, c) for c in word)


def _keyboard(word: str) -> str:
    return "".join(_RU_TO_KEYS.get(c, c) for c in word)


def _translits(word: str) -> set[str]:
    """The usual Latin spellings of a Cyrillic word: "максим" -> maksim, maxim; "дмитрий" -> dmitriy, dmitry."""
    spellings = {word}
    if word.endswith("ий"):
        spellings.add(word[:-2] + "ы")  # Dmitry, Dmitri
    spellings.update(w.replace("ия", "иа") for w in list(spellings))  # Maria, Rossia
    out: set[str] = set()
    for spelling in spellings:
        choices = [(_RU_TO_LAT.get(c, c), *_RU_TO_LAT_ALSO.get(c, ())) for c in spelling]
        out.update("".join(p) for p in itertools.islice(itertools.product(*choices), _TRANSLIT_VARIANTS))
    if word.startswith("е"):
        out.add("y" + _translit(word))  # Yelena, Yevgeniy
    out.update({w.replace("ks", "x") for w in out if "ks" in w})  # Maxim, Alexandr, Xenia
    return out


@functools.cache
def _common_forms() -> dict[str, tuple[str, str]]:
    """Every form of every listed word, mapped to (the word, how it was disguised); read once per process, on
    the first password check, so cold starts of the other routes do not pay for it."""
    words: list[str] = []
    for line in COMMON_FILE.read_text(encoding="utf-8").splitlines():
        word = line.strip().lower().replace("ё", "е")
        if word and not word.startswith("#"):
            words.append(word)
    forms = {word: (word, "") for word in words}  # a word as written wins over another word's disguise
    for word in words:
        if _CYRILLIC.search(word):
            disguises = [(form, "translit") for form in _translits(word)] + [(_keyboard(word), "keys_lat")]
        else:
            disguises = [(word.translate(_KEYS_TO_RU), "keys_ru")]
        for form, how in disguises:
            forms.setdefault(form, (word, how))
    return forms


@functools.cache
def _never_inside() -> tuple[str, ...]:
    """_NEVER_INSIDE with its Cyrillic words also transliterated and typed on the Latin layout."""
    forms: set[str] = set(_NEVER_INSIDE)
    for word in _NEVER_INSIDE:
        if _CYRILLIC.search(word):
            forms.update({_translit(word), _keyboard(word)})
    return tuple(sorted(forms))


def _lookup_candidates(lowered: str) -> dict[str, bool]:
    """What the password may be hiding, each with whether l33t folding produced it: the word without the digits
    and symbols around it (keeping a few next to it, which may be l33t letters), and its letters alone."""
    match = _EDGES.fullmatch(lowered)
    assert match is not None  # every part of the pattern accepts the empty string
    lead, word, tail = match.groups()
    plain = {lead[i:] + word + tail[:j]
             for i in range(max(0, len(lead) - _EDGE_KEPT), len(lead) + 1)
             for j in range(min(len(tail), _EDGE_KEPT) + 1)}
    letters = _NOT_LETTER.sub("", lowered)
    if len(letters) >= _MIN_LETTERS_ONLY:
        plain.add(letters)
    out = dict.fromkeys(plain, False)
    for text in plain:
        tables = (*_LEET_TABLES, _LEET_CYRILLIC) if _CYRILLIC.search(text) else _LEET_TABLES
        for table in tables:
            out.setdefault(text.translate(table), True)
    out.pop("", None)
    return out


def _common_word_reason(password: str) -> str | None:
    """Why the password counts as a common one, naming the listed word (not what was typed), or None."""
    lowered = password.lower().replace("ё", "е")
    forms = _common_forms()
    found = [(text, leet) for text, leet in _lookup_candidates(lowered).items() if text in forms]
    if found:
        text, leet = max(found, key=lambda f: (len(f[0]), not f[1]))  # the longest, unfolded first
        word, how = forms[text]
        shown = text if how in ("", "translit") else word
        note = _HOW[how].format(word=word) if how else _LEET_NOTE if leet else ""
        return f"Без простых и распространённых слов: «{shown}» — из списка часто используемых паролей{note}"
    letters = _NOT_LETTER.sub("", lowered)
    inside = next((w for w in _never_inside() if w in lowered or w in letters), None)
    if inside:
        return f"Без простых и распространённых слов: «{inside}» — из списка часто используемых паролей"
    return None


def _strength_reason(password: str, user_inputs: list[str]) -> str | None:
    """zxcvbn's verdict, in Russian, when its score is below MIN_STRENGTH; imported on first use (about 40 ms)."""
    from zxcvbn import zxcvbn

    with _ZXCVBN_LOCK:
        result: dict[str, Any] = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=user_inputs)
    if result["score"] >= MIN_STRENGTH:
        return None
    warning = _WARNINGS_RU.get(result["feedback"]["warning"])
    if warning is None:
        parts = [m for m in result["sequence"] if m["pattern"] != "bruteforce"]
        longest = max(parts, key=lambda m: len(m["token"]), default={})
        warning = _PARTS_RU.get(longest.get("dictionary_name") or longest.get("pattern", ""), _WEAK_DEFAULT)
    return f"Пароль легко подобрать: {warning}"


def _has_sequence(password: str) -> bool:
    digits = [int(c) if c.isdigit() else None for c in password]
    for i in range(len(digits) - 2):
        a, b, c = digits[i:i + 3]
        if a is not None and b is not None and c is not None and (b - a == c - b) and abs(b - a) == 1:
            return True
    return False


def _personal_fragments(names: Iterable[str | None], phone: str | None, birth_date: str | None,
                        numbers: Iterable[str | None] = ()) -> set[str]:
    out: set[str] = set()
    for name in names:
        if not name:
            continue
        for part in re.split(r"[\s\-]+", name.lower()):
            if len(part) >= 3:
                out.update({part, _translit(part), _keyboard(part)})
    if phone:
        digits = phone.lstrip("+")
        out.update({digits[1:], digits[-7:]})
    if birth_date:  # ISO YYYY-MM-DD as stored, or DD.MM.YYYY as typed
        y, m, d = birth_date.split("-") if "-" in birth_date else reversed(birth_date.split("."))
        out.update({d + m + y, y + m + d, d + m + y[2:], y, d + m})
    for number in numbers:  # SNILS, passport series and number: any 4 digits in a row of them
        digits = re.sub(r"\D", "", number or "")
        out.update(digits[i:i + 4] for i in range(len(digits) - 3))
    return {f for f in out if len(f) >= 4}


def check_password(password: str, repeat: str, *, names: Iterable[str | None] = (), phone: str | None = None,
                   birth_date: str | None = None, numbers: Iterable[str | None] = ()) -> list[str]:
    """Every rule the password breaks, as Russian reasons; an empty list means it is acceptable.

    The zxcvbn reason is left out when a common word, personal data or a digit sequence already explains
    the weakness, so that one weakness is reported once, by its most specific rule."""
    reasons: list[str] = []
    if len(password) < MIN_LENGTH:
        reasons.append(f"Не менее {MIN_LENGTH} символов")
    if not any(c.isupper() for c in password):
        reasons.append("Хотя бы одна заглавная буква")
    if not any(c.islower() for c in password):
        reasons.append("Хотя бы одна строчная буква")
    if not any(c.isdigit() for c in password):
        reasons.append("Хотя бы одна цифра")
    if all(c.isalnum() for c in password):
        reasons.append("Хотя бы один специальный символ, например ! @ # $ %")
    if any(c.isspace() for c in password):
        reasons.append("Без пробелов")
    explained = False
    if _has_sequence(password):
        reasons.append("Без последовательностей цифр, например 123 или 987")
        explained = True
    common = _common_word_reason(password)
    if common:
        reasons.append(common)
        explained = True
    personal = _personal_fragments(names, phone, birth_date, numbers)
    if any(f in password.lower() for f in personal):
        reasons.append("Без личных данных: имени, фамилии, телефона, даты рождения, СНИЛС, номера паспорта")
        explained = True
    if not explained:
        weak = _strength_reason(password, sorted(personal))
        if weak:
            reasons.append(weak)
    if password != repeat:
        reasons.append("Пароли не совпадают")
    return reasons

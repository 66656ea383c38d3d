"""Word-by-word translation of a photo query into other languages, from a glossary.

There is no machine translation here (the system runs offline): the bundled ``glossary.json``
holds a few hundred common photo-subject words (animals, landscape, weather, city, food,
people, objects, colours and descriptive words) in es, fr, de, it, pt, ja and zh, keyed by
English. A user glossary (``PHOTOATLAS_GLOSSARY``, or files passed to :meth:`Glossary.load`)
adds or corrects words. A query is translated word by word, the longest glossary phrase
first ("polar bear" before "polar"); a word the glossary lacks for a language is an error
naming the words and the languages — never a silent English search in that language.

A glossary file is JSON, either ``{"words": {"macaque": {"es": "macaco", "ja": "マカク"}}}``
(or that mapping alone, without ``"words"``), or the bundled table form: ``"languages"``
plus ``"words": {"monkey": ["mono", "singe", ...]}`` in that order; ``"aliases"`` maps other
spellings to a word (``"harbor": "harbour"``).
"""

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

BUNDLED_GLOSSARY = Path(__file__).with_name("glossary.json")
GLOSSARY_ENV = "PHOTOATLAS_GLOSSARY"  # user glossary files, separated like PATH
SOURCE_LANG = "en"  # queries are written in English; the glossary is keyed by English words
DROPPED_WORDS = frozenset({"a", "an", "the", "of", "and", "in", "on", "at", "with", "by"})  # nothing to search for
_EDGE_PUNCTUATION = ".,;:!?\"'()[]{}"


class GlossaryError(ValueError):
    """A glossary file that cannot be read or has the wrong shape."""


class MissingWords(ValueError):
    """Words of a query that the glossary cannot put into some of the requested languages."""

    def __init__(self, text: str, missing: dict[str, list[str]], known: list[str]):
        self.text, self.missing, self.known = text, missing, known
        lines = [f"cannot translate {text!r} word by word:"]
        for lang, words in missing.items():
            note = "" if lang in known else " (no glossary has this language)"
            lines.append(f"  {lang}: no glossary entry for {', '.join(repr(w) for w in words)}{note}")
        lang, words = next(iter(missing.items()))
        example = json.dumps({"words": {words[0].lower().lstrip("-"): {lang: "..."}}}, ensure_ascii=False)
        lines.append(f"the glossary covers {', '.join(known)}. Add the words to a glossary file (--glossary FILE "
                     f"or ${GLOSSARY_ENV}), e.g. {example}, or give that language's whole query with "
                     f'--variant {lang}=TEXT ("variants" in a query\'s JSON).')
        super().__init__("\n".join(lines))


@dataclass
class Glossary:
    terms: dict[str, dict[str, str]] = field(default_factory=dict)  # English word or phrase -> language -> text
    aliases: dict[str, str] = field(default_factory=dict)  # other English spelling -> a key of terms

    @classmethod
    def load(cls, *extra: str | Path, environ=os.environ) -> "Glossary":
        """The bundled glossary, then the files in $PHOTOATLAS_GLOSSARY, then ``extra`` (later files win)."""
        paths = [BUNDLED_GLOSSARY] + [Path(p) for p in environ.get(GLOSSARY_ENV, "").split(os.pathsep) if p.strip()]
        glossary = cls()
        for path in paths + [Path(p) for p in extra]:
            glossary.update(cls.from_file(path))
        return glossary

    @classmethod
    def from_file(cls, path: str | Path) -> "Glossary":
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise GlossaryError(f"glossary {path}: {e}") from e
        return cls.from_dict(doc, origin=str(path))

    @classmethod
    def from_dict(cls, doc: dict, origin: str = "glossary") -> "Glossary":
        if not isinstance(doc, dict):
            raise GlossaryError(f"{origin}: a glossary is a JSON object")
        words = doc["words"] if "words" in doc else {k: v for k, v in doc.items() if isinstance(v, dict)}
        languages = doc.get("languages")
        if not isinstance(words, dict):
            raise GlossaryError(f"{origin}: \"words\" is an object of English word -> translations")
        terms: dict[str, dict[str, str]] = {}
        for word, row in words.items():
            if isinstance(row, list) and isinstance(languages, list) and len(row) == len(languages):
                row = dict(zip(languages, row))
            if not isinstance(row, dict) or not all(isinstance(v, str) and v.strip() for v in row.values()):
                raise GlossaryError(f"{origin}: {word!r} needs an object of language -> non-empty text"
                                    + (f" or a list of {len(languages)} texts" if isinstance(languages, list) else ""))
            terms[_key(word)] = {lang.strip().lower(): text.strip() for lang, text in row.items()}
        aliases = doc.get("aliases") or {}
        if not isinstance(aliases, dict) or not all(isinstance(v, str) for v in aliases.values()):
            raise GlossaryError(f"{origin}: \"aliases\" is an object of spelling -> word")
        return cls(terms, {_key(a): _key(w) for a, w in aliases.items()})

    def update(self, other: "Glossary") -> None:
        """Add ``other``'s words; where both have a word in a language, ``other`` wins."""
        for word, row in other.terms.items():
            self.terms.setdefault(word, {}).update(row)
        self.aliases.update(other.aliases)

    def languages(self) -> list[str]:
        return [SOURCE_LANG] + sorted({lang for row in self.terms.values() for lang in row} - {SOURCE_LANG})

    def lookup(self, phrase: str, lang: str) -> str | None:
        """``phrase`` (English) in ``lang``, trying aliases and a plural's singular; None if unknown."""
        for key in _candidates(_key(phrase)):
            key = key if key in self.terms else self.aliases.get(key, key)
            if key in self.terms:
                return self.terms[key].get(lang)
        return None

    def translate(self, text: str, lang: str) -> str:
        """``text`` in ``lang``, word by word; MissingWords if a word has no entry for ``lang``."""
        out, missing = self.translate_words(text, lang)
        if missing:
            raise MissingWords(text, {lang: missing}, self.languages())
        return out

    def translate_words(self, text: str, lang: str) -> tuple[str, list[str]]:
        """``text`` in ``lang`` as far as the glossary goes, and the words it could not translate."""
        if lang == SOURCE_LANG:
            return text.strip(), []
        tokens = [t for t in (t.strip(_EDGE_PUNCTUATION) for t in text.split()) if t]
        longest = max((len(k.split()) for k in self.terms), default=1)
        out, missing, i = [], [], 0
        while i < len(tokens):
            negate = "-" if tokens[i].startswith("-") and len(tokens[i]) > 1 else ""  # Flickr: -word excludes
            for n in range(min(longest, len(tokens) - i), 0, -1):
                found = self.lookup(" ".join([tokens[i][len(negate):]] + tokens[i + 1:i + n]), lang)
                if found:
                    out.append(negate + found)
                    break
            else:
                n, word = 1, tokens[i][len(negate):]
                if word.isdigit():
                    out.append(tokens[i])  # years and numbers read the same in every language
                elif word.lower() not in DROPPED_WORDS:
                    missing.append(tokens[i])
            i += n
        return " ".join(out), list(dict.fromkeys(missing))


def query_variants(text: str | None, tags: list[str] | tuple[str, ...], languages: list[str],
                   overrides: dict[str, str] | None = None, glossary: Glossary | None = None) -> list[dict]:
    """One ``{"lang", "text", "tags"}`` per language (then one per override not among them).

    An override is a language's whole query, given instead of translated: its text (the query's
    tags are then not used in that language), or, for a query of tags only, its comma-separated
    tags. Every missing word of every language is reported at once.
    """
    overrides = {lang.strip().lower(): value.strip() for lang, value in (overrides or {}).items()}
    langs = list(dict.fromkeys([lang.strip().lower() for lang in languages if lang.strip()] + list(overrides)))
    tags = [t.strip() for t in (tags or []) if t.strip()]
    glossary = glossary if glossary is not None else Glossary.load()
    variants, missing = [], {}
    for lang in langs:
        override, gaps = overrides.get(lang), []
        if override is not None:
            split = [t.strip() for t in override.split(",") if t.strip()]
            variants.append({"lang": lang, "text": override if text else None, "tags": [] if text else split})
            continue
        v_text, v_tags = None, []
        if text:
            v_text, gaps = glossary.translate_words(text, lang)
        for tag in tags:
            translated, tag_gaps = glossary.translate_words(tag, lang)
            v_tags.append(translated)
            gaps += tag_gaps
        if gaps:
            missing[lang] = list(dict.fromkeys(gaps))
        variants.append({"lang": lang, "text": v_text or None, "tags": v_tags})
    if missing:
        raise MissingWords(" ".join(filter(None, [text, ", ".join(tags)])), missing, glossary.languages())
    return variants


def _key(word: str) -> str:
    return " ".join(word.lower().split())


def _candidates(key: str) -> list[str]:
    """The word, then what its English plural could be the plural of (cities, beaches, horses)."""
    out = [key]
    if len(key) > 3 and key.endswith("ies"):
        out.append(key[:-3] + "y")
    if len(key) > 3 and key.endswith("es"):
        out.append(key[:-2])
    if len(key) > 3 and key.endswith("s") and not key.endswith("ss"):
        out.append(key[:-1])
    return out

"""Word-by-word query translation from the bundled glossary (plus a user's), and Flickr queries built from it."""

import json
from datetime import datetime

import pytest

from photoatlas.sources.flickr_query import DEFAULT_SINCE, FlickrQuery, Variant
from photoatlas.sources.glossary import (
    BUNDLED_GLOSSARY,
    GLOSSARY_ENV,
    Glossary,
    GlossaryError,
    MissingWords,
    query_variants,
)

LANGS = ["es", "fr", "de", "it", "pt", "ja", "zh"]


@pytest.fixture(scope="module")
def bundled():
    return Glossary.load(environ={})


def test_the_bundled_glossary_is_complete_and_well_formed(bundled):
    doc = json.loads(BUNDLED_GLOSSARY.read_text(encoding="utf-8"))
    assert doc["languages"] == LANGS
    assert len(doc["words"]) >= 300
    for word, row in doc["words"].items():
        assert word == " ".join(word.lower().split()), word
        assert len(row) == len(LANGS) and all(t.strip() == t and t for t in row), word
    assert all(target in doc["words"] for target in doc["aliases"].values())
    assert bundled.languages() == ["en", "de", "es", "fr", "it", "ja", "pt", "zh"]


@pytest.mark.parametrize("lang, expected", [
    ("en", "monkey wild"), ("es", "mono salvaje"), ("fr", "singe sauvage"), ("de", "Affe wild"),
    ("it", "scimmia selvaggio"), ("pt", "macaco selvagem"), ("ja", "サル 野生"), ("zh", "猴子 野生"),
])
def test_golden_translations_word_by_word(bundled, lang, expected):
    assert bundled.translate("monkey wild", lang) == expected


def test_phrases_first_then_words_plurals_aliases_numbers_and_dropped_words(bundled):
    assert bundled.translate("polar bear", "de") == "Eisbär"  # the phrase, not "polar" + "Bär"
    assert bundled.translate("Polar Bears in the snow, 2024!", "fr") == "ours polaire neige 2024"
    assert bundled.translate("old cities", "es") == "viejo ciudad"  # plural -> singular entry
    assert bundled.translate("horses beaches", "it") == "cavallo spiaggia"
    assert bundled.translate("harbor gray", "pt") == "porto cinza"  # American spellings via aliases
    assert bundled.translate("hot air balloon sunrise", "ja") == "熱気球 日の出"
    assert bundled.translate("sea -boat", "fr") == "mer -bateau"  # Flickr's exclusion survives


def test_a_missing_word_is_an_error_naming_words_languages_and_the_way_out(bundled):
    with pytest.raises(MissingWords) as info:
        query_variants("macaque Borneo", [], ["en", "es", "ja", "ko"], glossary=bundled)
    err = info.value
    assert err.missing == {"es": ["Borneo"], "ja": ["Borneo"], "ko": ["macaque", "Borneo"]}
    text = str(err)
    assert "'Borneo'" in text and "ko:" in text and "no glossary has this language" in text
    assert "--glossary" in text and GLOSSARY_ENV in text and "--variant es=TEXT" in text
    with pytest.raises(MissingWords):
        bundled.translate("monkey Borneo", "es")


def test_user_glossary_adds_and_overrides_words(tmp_path, bundled):
    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps({"words": {"borneo": {"es": "Borneo", "ja": "ボルネオ"}, "monkey": {"ja": "猿"},
                                          "proboscis monkey": {"es": "mono narigudo"}}}), encoding="utf-8")
    g = Glossary.load(mine, environ={})
    assert g.translate("monkey Borneo", "ja") == "猿 ボルネオ"
    assert g.translate("proboscis monkey Borneo", "es") == "mono narigudo Borneo"
    assert g.translate("monkey", "fr") == "singe", "the bundled words stay"
    assert bundled.translate("monkey", "ja") == "サル", "loading another glossary changes nothing shared"
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"borneo": {"fr": "Bornéo"}}), encoding="utf-8")
    assert Glossary.load(environ={GLOSSARY_ENV: str(flat)}).translate("Borneo", "fr") == "Bornéo"


@pytest.mark.parametrize("doc", [[1, 2], {"words": {"x": {"es": ""}}}, {"words": {"x": ["a"]}, "languages": ["es", "fr"]},
                                 {"words": {}, "aliases": {"a": 1}}])
def test_malformed_glossaries_are_refused(tmp_path, doc):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(GlossaryError, match="bad.json"):
        Glossary.load(path, environ={})
    path.write_text("{not json")
    with pytest.raises(GlossaryError, match="bad.json"):
        Glossary.from_file(path)


def test_query_variants_translate_text_and_tags_and_take_overrides(bundled):
    variants = query_variants("monkey wild", ["jungle"], ["en", "es", "ja"], {"ja": "野生の猿", "ko": "야생 원숭이"},
                              glossary=bundled)
    assert variants == [
        {"lang": "en", "text": "monkey wild", "tags": ["jungle"]},
        {"lang": "es", "text": "mono salvaje", "tags": ["selva"]},
        {"lang": "ja", "text": "野生の猿", "tags": []},  # an override is the language's whole query
        {"lang": "ko", "text": "야생 원숭이", "tags": []},  # beside the requested languages
    ]
    tags_only = query_variants(None, ["lighthouse", "sea"], ["fr", "de"], {"de": "Leuchtturm,Meer,Küste"}, glossary=bundled)
    assert tags_only == [{"lang": "fr", "text": None, "tags": ["phare", "mer"]},
                         {"lang": "de", "text": None, "tags": ["Leuchtturm", "Meer", "Küste"]}]


def test_flickr_query_from_dict_with_languages_and_variant_overrides(bundled):
    q = FlickrQuery.from_dict({"text": "monkey wild", "languages": "en,es,fr,de,ja", "bbox": "116 4 127 22",
                               "variants": {"ja": "野生の猿"}}, glossary=bundled)
    assert [(v.lang, v.text) for v in q.variants] == [("en", "monkey wild"), ("es", "mono salvaje"),
                                                      ("fr", "singe sauvage"), ("de", "Affe wild"), ("ja", "野生の猿")]
    assert q.bbox == (116, 4, 127, 22) and q.since == DEFAULT_SINCE and q.until is None
    alone = FlickrQuery.from_dict({"text": "harbour", "variants": {"fr": "port de pêche"}}, glossary=bundled)
    assert [(v.lang, v.text) for v in alone.variants] == [("en", "harbour"), ("fr", "port de pêche")]
    with pytest.raises(MissingWords, match="Borneo"):
        FlickrQuery.from_dict({"text": "monkey Borneo", "languages": ["es"]}, glossary=bundled)


def test_from_dict_keeps_the_fingerprint_of_the_scheduled_pulls_json():
    """$PHOTOATLAS_FLICKR_QUERY cursors stored before from_dict existed must still match their query."""
    spec = {"text": "harbour", "tags": ["boat", "sea"], "since": "2024-01-01", "until": "2024-06-01T00:00:00Z",
            "bbox": [-74.3, 40.5, -73.7, 40.9], "licences": [4, 9], "open_only": True}
    before = FlickrQuery(since=datetime(2024, 1, 1), until=datetime.fromisoformat("2024-06-01T00:00:00+00:00"),
                         text="harbour", tags=("boat", "sea"), bbox=(-74.3, 40.5, -73.7, 40.9), licences=(4, 9),
                         open_only=True)
    assert FlickrQuery.from_dict(json.loads(json.dumps(spec))).fingerprint() == before.fingerprint()
    # the CLI's text form of the same box gives the same query
    assert FlickrQuery.from_dict({**spec, "bbox": "-74.3 40.5 -73.7 40.9"}) == FlickrQuery.from_dict(spec)
    listed = FlickrQuery.from_dict({"text": "x", "since": "2024-01-01", "variants": [{"lang": "fr", "text": "y", "tags": ["z"]}]})
    assert listed.variants == (Variant("fr", "y", ("z",)),)


@pytest.mark.parametrize("spec, message", [
    ({"text": "x", "bbox": "1 2 3"}, "bbox"), ({"text": "x", "bbox": "10 0 5 1"}, "west < east"),
    ({"text": "x", "since": "last week"}, "ISO"), ({"text": "x", "colour": "red"}, "unknown Flickr query field"),
    ({"text": "x", "date_field": "posted"}, "date_field"), ({"text": "x", "variants": [{"text": "no lang"}]}, "variant"),
])
def test_from_dict_refuses_bad_settings_clearly(spec, message):
    with pytest.raises(ValueError, match=message):
        FlickrQuery.from_dict(spec)

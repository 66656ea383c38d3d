"""Flickr licence ids → names and URLs, and which of them are *open* (reuse and adaptation allowed,
commercial use included, at most attribution and share-alike asked).

The table is what ``flickr.photos.licenses.getInfo`` returns for ids 0–10; the source refreshes it
from the API once per run, so ids Flickr adds later (its CC 4.0 suite, 2025) are named from the
live table. Openness is decided from the licence URL, so it holds for ids this table lacks.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Licence:
    id: int
    name: str
    url: str

    @property
    def short(self) -> str:
        """A compact, stable label for the manifest, e.g. 'CC BY-SA 2.0' or 'All Rights Reserved'."""
        cc = _cc_label(self.url)
        return cc or self.name

    @property
    def is_open(self) -> bool:
        return is_open_url(self.url)


FLICKR_LICENCES = {
    lic.id: lic
    for lic in (
        Licence(0, "All Rights Reserved", ""),
        Licence(1, "Attribution-NonCommercial-ShareAlike License", "https://creativecommons.org/licenses/by-nc-sa/2.0/"),
        Licence(2, "Attribution-NonCommercial License", "https://creativecommons.org/licenses/by-nc/2.0/"),
        Licence(3, "Attribution-NonCommercial-NoDerivs License", "https://creativecommons.org/licenses/by-nc-nd/2.0/"),
        Licence(4, "Attribution License", "https://creativecommons.org/licenses/by/2.0/"),
        Licence(5, "Attribution-ShareAlike License", "https://creativecommons.org/licenses/by-sa/2.0/"),
        Licence(6, "Attribution-NoDerivs License", "https://creativecommons.org/licenses/by-nd/2.0/"),
        Licence(7, "No known copyright restrictions", "https://www.flickr.com/commons/usage/"),
        Licence(8, "United States Government Work", "http://www.usa.gov/copyright.shtml"),
        Licence(9, "Public Domain Dedication (CC0)", "https://creativecommons.org/publicdomain/zero/1.0/"),
        Licence(10, "Public Domain Mark", "https://creativecommons.org/publicdomain/mark/1.0/"),
    )
}

_OPEN_CC = ("/licenses/by/", "/licenses/by-sa/", "/publicdomain/zero/", "/publicdomain/mark/")
_OPEN_OTHER = ("flickr.com/commons/usage", "usa.gov/copyright", "usa.gov/government-works")


def is_open_url(url: str) -> bool:
    url = (url or "").lower()
    return any(part in url for part in _OPEN_CC + _OPEN_OTHER)


def _cc_label(url: str) -> str | None:
    url = (url or "").lower().rstrip("/")
    for marker, prefix in (("/licenses/", "CC "), ("/publicdomain/", "")):
        if marker in url:
            kind, _, version = url.split(marker, 1)[1].partition("/")
            if prefix:
                return f"CC {kind.upper()} {version}".strip()
            return {"zero": f"CC0 {version}", "mark": f"Public Domain Mark {version}"}.get(kind, kind).strip()
    return None


def parse_licences(payload: dict) -> dict[int, Licence]:
    """The table from a flickr.photos.licenses.getInfo JSON response."""
    out = {}
    for entry in payload.get("licenses", {}).get("license", []):
        try:
            out[int(entry["id"])] = Licence(int(entry["id"]), str(entry.get("name", "")), str(entry.get("url", "")))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def licence_meta(licence_id, table: dict[int, Licence] = FLICKR_LICENCES) -> tuple[dict, list[str]]:
    """Manifest meta for a photo's licence id: licence label, name, URL, id; a warning if unknown."""
    try:
        lic = table.get(int(licence_id))
    except (TypeError, ValueError):
        lic = None
    if lic is None:
        meta = {"licence": f"flickr-licence-{licence_id}", "licence_id": str(licence_id)}
        return meta, [f"unknown_licence: {licence_id!r}"]
    return {"licence": lic.short, "licence_name": lic.name, "licence_url": lic.url, "licence_id": str(lic.id),
            "licence_open": lic.is_open}, []

"""Code tables: ISO 3166 for Natural Earth features, postal codes for US state FIPS."""

# Natural Earth features that carry no ISO numeric id in world-atlas, mapped to the
# ISO 3166-1 alpha-2 code of the territory a photo there is usually filed under
# (the code GeoNames gives the places inside). None: disputed with no de-facto owner.
NO_ID_FEATURES: dict[str, str | None] = {
    "Kosovo": "XK",  # user-assigned code, used by GeoNames, the EU and the IMF
    "Somaliland": "SO",
    "N. Cyprus": "CY",
    "Cyprus U.N. Buffer Zone": "CY",
    "Akrotiri": "CY",  # UK sovereign base areas; GeoNames files them under Cyprus
    "Dhekelia": "CY",
    "USNB Guantanamo Bay": "CU",
    "Baikonur": "KZ",  # leased to Russia, Kazakh territory
    "Siachen Glacier": "IN",  # de-facto Indian administration
    "Coral Sea Is.": "AU",
    "Clipperton I.": "FR",
    "Bajo Nuevo Bank": "CO",  # administered by Colombia
    "Serranilla Bank": "CO",
    "Spratly Is.": None,
    "Scarborough Reef": None,
    "Indian Ocean Ter.": "CX",  # split per island in iso_for_part()
}

# "Indian Ocean Ter." holds both Australian external territories.
_COCOS_MAX_LON = 101.0


def iso_for_part(feature_name: str, iso2: str | None, part_centroid_lon: float) -> str | None:
    """ISO alpha-2 of one polygon of a feature (only Indian Ocean Ter. differs per part)."""
    if feature_name == "Indian Ocean Ter.":
        return "CC" if part_centroid_lon < _COCOS_MAX_LON else "CX"
    return iso2


# US state and territory FIPS codes -> USPS codes (ISO 3166-2:US subdivision suffixes).
# fmt: off
STATE_FIPS_TO_USPS: dict[str, str] = {
    "01": "AL", "02": "AK", "04": "AZ", "05": "AR", "06": "CA", "08": "CO", "09": "CT",
    "10": "DE", "11": "DC", "12": "FL", "13": "GA", "15": "HI", "16": "ID", "17": "IL",
    "18": "IN", "19": "IA", "20": "KS", "21": "KY", "22": "LA", "23": "ME", "24": "MD",
    "25": "MA", "26": "MI", "27": "MN", "28": "MS", "29": "MO", "30": "MT", "31": "NE",
    "32": "NV", "33": "NH", "34": "NJ", "35": "NM", "36": "NY", "37": "NC", "38": "ND",
    "39": "OH", "40": "OK", "41": "OR", "42": "PA", "44": "RI", "45": "SC", "46": "SD",
    "47": "TN", "48": "TX", "49": "UT", "50": "VT", "51": "VA", "53": "WA", "54": "WV",
    "55": "WI", "56": "WY", "60": "AS", "66": "GU", "69": "MP", "72": "PR", "78": "VI",
}
# fmt: on

# Territories in us-atlas that ISO 3166-1 lists as countries of their own.
TERRITORY_COUNTRY: dict[str, str] = {"AS": "AS", "GU": "GU", "MP": "MP", "PR": "PR", "VI": "VI"}

# GeoNames admin1 names of US cities that differ from us-atlas state names.
GEONAMES_STATE_ALIASES: dict[str, str] = {"Washington, D.C.": "District of Columbia"}

"""Golden places with known country and county: the one table the tests and bench share.

Chosen to cover the hard cases: Alaska and Hawaii, the five New York boroughs, points a
few km either side of state and national borders, coastal points that the 1:10M
coastlines put in the sea (piers, beaches, bridges), the antimeridian (Chukotka, Fiji,
Kiribati, the Aleutians) and Natural Earth features without an ISO id.
"""

from typing import NamedTuple


class Landmark(NamedTuple):
    name: str
    lat: float
    lon: float
    country: str  # ISO 3166-1 alpha-2
    county: str | None  # 5-digit FIPS, None outside US counties


LANDMARKS: tuple[Landmark, ...] = (
    # Alaska and Hawaii
    Landmark("Anchorage, AK", 61.2181, -149.9003, "US", "02020"),
    Landmark("Juneau, AK", 58.3019, -134.4197, "US", "02110"),
    Landmark("Utqiagvik (Barrow), AK", 71.2906, -156.7886, "US", "02185"),
    Landmark("Fairbanks, AK", 64.8378, -147.7164, "US", "02090"),
    Landmark("Adak, Aleutians, AK (west of -170)", 51.8800, -176.6500, "US", "02016"),
    Landmark("Attu Island, AK (east of 180)", 52.9000, 172.9000, "US", "02016"),
    Landmark("Honolulu, HI", 21.3069, -157.8583, "US", "15003"),
    Landmark("Hilo, HI", 19.7241, -155.0868, "US", "15001"),
    # New York City's five boroughs
    Landmark("Empire State Building, Manhattan", 40.7484, -73.9857, "US", "36061"),
    Landmark("Prospect Park, Brooklyn", 40.6602, -73.9690, "US", "36047"),
    Landmark("Unisphere, Queens", 40.7461, -73.8448, "US", "36081"),
    Landmark("Yankee Stadium, Bronx", 40.8296, -73.9262, "US", "36005"),
    Landmark("Historic Richmond Town, Staten Island", 40.5710, -74.1459, "US", "36085"),
    # Near state lines
    Landmark("Power & Light District, Kansas City MO", 39.0997, -94.5786, "US", "29095"),
    Landmark("City Hall, Kansas City KS", 39.1142, -94.6275, "US", "20209"),
    Landmark("Texarkana TX", 33.4418, -94.0766, "US", "48037"),
    Landmark("Texarkana AR", 33.4416, -93.9940, "US", "05091"),
    Landmark("South Lake Tahoe, CA", 38.9399, -119.9772, "US", "06017"),
    Landmark("Tahoe City, CA", 39.1677, -120.1452, "US", "06061"),
    Landmark("Incline Village, NV", 39.2505, -119.9727, "US", "32031"),
    Landmark("Zephyr Cove, NV", 39.0038, -119.9486, "US", "32005"),
    Landmark("Downtown Detroit, MI", 42.3314, -83.0458, "US", "26163"),
    Landmark("San Ysidro, CA", 32.5556, -117.0470, "US", "06073"),
    # Coastal: piers, beaches, bridges
    Landmark("Santa Monica Pier (end), CA", 34.0078, -118.4998, "US", "06037"),
    Landmark("South Beach, Miami Beach, FL", 25.7826, -80.1300, "US", "12086"),
    Landmark("Golden Gate Bridge south end, CA", 37.8102, -122.4773, "US", "06075"),
    Landmark("Key West, FL", 24.5551, -81.7800, "US", "12087"),
    # Other US
    Landmark("White House, DC", 38.8977, -77.0365, "US", "11001"),
    Landmark("Millennium Park, Chicago", 41.8826, -87.6226, "US", "17031"),
    Landmark("Space Needle, Seattle", 47.6205, -122.3493, "US", "53033"),
    Landmark("French Quarter, New Orleans", 29.9584, -90.0644, "US", "22071"),
    Landmark("Las Vegas Strip, NV", 36.1147, -115.1728, "US", "32003"),
    Landmark("Denver, CO", 39.7392, -104.9903, "US", "08031"),
    Landmark("San Juan, Puerto Rico", 18.4655, -66.1057, "PR", "72127"),
    # World
    Landmark("Paris", 48.8566, 2.3522, "FR", None),
    Landmark("Tokyo", 35.6762, 139.6503, "JP", None),
    Landmark("Sydney Opera House", -33.8568, 151.2153, "AU", None),
    Landmark("Suva", -18.1416, 178.4419, "FJ", None),
    Landmark("Taveuni airport, Fiji (east of 180)", -16.6906, -179.8767, "FJ", None),
    Landmark("Anadyr, Chukotka", 64.7337, 177.4968, "RU", None),
    Landmark("Provideniya, Chukotka (west of -170)", 64.4233, -173.2258, "RU", None),
    Landmark("Kiritimati (Line Islands)", 1.9833, -157.4750, "KI", None),
    Landmark("South Tarawa (Gilbert Islands)", 1.3278, 172.9769, "KI", None),
    Landmark("Reykjavik", 64.1466, -21.9426, "IS", None),
    Landmark("Cape Town", -33.9249, 18.4241, "ZA", None),
    Landmark("Ushuaia", -54.8019, -68.3030, "AR", None),
    Landmark("McMurdo Station", -77.8460, 166.6760, "AQ", None),
    Landmark("Windsor, Ontario (across from Detroit)", 42.3149, -83.0364, "CA", None),
    Landmark("Tijuana", 32.5149, -117.0382, "MX", None),
    Landmark("Strasbourg", 48.5734, 7.7521, "FR", None),
    Landmark("Kehl (across the Rhine)", 48.5763, 7.8157, "DE", None),
    Landmark("Pristina, Kosovo", 42.6629, 21.1655, "XK", None),
    Landmark("Kyrenia, Northern Cyprus", 35.3364, 33.3199, "CY", None),
    Landmark("Hargeisa, Somaliland", 9.5600, 44.0650, "SO", None),
    Landmark("London", 51.5074, -0.1278, "GB", None),
    Landmark("Rio de Janeiro", -22.9068, -43.1729, "BR", None),
    Landmark("Mumbai", 19.0760, 72.8777, "IN", None),
    Landmark("Cairo", 30.0444, 31.2357, "EG", None),
    Landmark("Beijing", 39.9042, 116.4074, "CN", None),
    Landmark("Mexico City", 19.4326, -99.1332, "MX", None),
    Landmark("Auckland", -36.8485, 174.7633, "NZ", None),
    Landmark("Singapore", 1.3521, 103.8198, "SG", None),
    Landmark("Hong Kong", 22.3193, 114.1694, "HK", None),
    Landmark("Nuuk", 64.1814, -51.6941, "GL", None),
    # Same latitudes as the antimeridian-stitched rings of Chukotka and Fiji: a planar
    # misreading of those rings would paint these Russian or Fijian.
    Landmark("Cambridge Bay, Nunavut", 69.1169, -105.0597, "CA", None),
    Landmark("Kangerlussuaq, Greenland", 67.0086, -50.6892, "GL", None),
    Landmark("Akureyri, Iceland", 65.6835, -18.0878, "IS", None),
    Landmark("Tromso", 69.6492, 18.9553, "NO", None),
    Landmark("Rovaniemi", 66.5039, 25.7294, "FI", None),
    Landmark("Apia, Samoa", -13.8333, -171.7500, "WS", None),
    Landmark("Papeete, Tahiti", -17.5516, -149.5585, "PF", None),
    Landmark("Port Vila, Vanuatu", -17.7333, 168.3273, "VU", None),
    Landmark("Cairns", -16.9186, 145.7781, "AU", None),
    Landmark("Cuiaba", -15.6014, -56.0979, "BR", None),
    Landmark("Harare", -17.8292, 31.0522, "ZW", None),
    Landmark("Antananarivo", -18.8792, 47.5079, "MG", None),
)

"""Flag emoji and the one-line place label ("🇺🇸 California, USA")."""

from __future__ import annotations

_REGIONAL_INDICATOR_A = 0x1F1E6

# Short forms people expect in a one-line label; every other country keeps its data name.
COUNTRY_LABELS: dict[str, str] = {
    "US": "USA",
    "GB": "UK",
    "AE": "UAE",
    "RU": "Russia",
    "KR": "South Korea",
    "KP": "North Korea",
    "IR": "Iran",
    "SY": "Syria",
    "VN": "Vietnam",
    "TW": "Taiwan",
    "MD": "Moldova",
    "BO": "Bolivia",
    "VE": "Venezuela",
    "TZ": "Tanzania",
    "LA": "Laos",
    "CZ": "Czechia",
    "NL": "Netherlands",
    "HK": "Hong Kong",
    "MO": "Macao",
    "PS": "Palestine",
    "CD": "DR Congo",
    "CG": "Congo",
}


def flag_emoji(country_code: str | None) -> str | None:
    """Two regional-indicator symbols for an ISO 3166-1 alpha-2 code; None if it is not one."""
    if not country_code:
        return None
    code = country_code.strip().upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        return None
    return "".join(chr(_REGIONAL_INDICATOR_A + ord(letter) - ord("A")) for letter in code)


def country_label(country_code: str | None, country_name: str | None) -> str | None:
    code = (country_code or "").strip().upper()
    return COUNTRY_LABELS.get(code) or (country_name or None) or (code or None)


def place_label(
    city: str | None,
    region: str | None,
    country_code: str | None,
    country_name: str | None,
) -> str | None:
    """ "🇺🇸 California, USA": the region (else the city) and the country; None if nothing known."""
    country = country_label(country_code, country_name)
    place = region or city
    parts = [p for p in (place, country) if p]
    # City-states: "Singapore, Singapore" says nothing twice.
    if len(parts) == 2 and parts[0].casefold() == parts[1].casefold():
        parts = parts[1:]
    if not parts:
        return None
    flag = flag_emoji(country_code)
    text = ", ".join(parts)
    return f"{flag} {text}" if flag else text

"""Phone numbers compared and stored in one form, E.164 (`phonenumbers`, Google's libphonenumber
port): "04 555 0101" and "+64 4 555 0101" are one number."""

from __future__ import annotations

import phonenumbers


def normalise_phone(raw: str, region: str = "NZ") -> str | None:
    """`raw` in E.164 (a national number read in `region`), or None when it is not a valid
    phone number."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))

"""Identifiers the cases carry: credit codes, identity numbers, EMS waybills, certificate identifiers.

Each `*_problems` function returns every problem at once as short phrases (empty when valid), so a
caller can prefix them with a field name. Messages never repeat an identity number or any of its
characters: identity numbers are personal data. The masking helpers are for logs and free text.
"""

import re
from collections.abc import Sequence
from datetime import date

DIGITS = "0123456789"
UPPER_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ALPHANUMERIC = DIGITS + UPPER_LETTERS

# --- Unified social credit code (GB 32100-2015) -------------------------------------------------------

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_LENGTH = 18
# Position i (1-based) weighs 3^(i-1) mod 31.
CREDIT_CODE_WEIGHTS = tuple(pow(3, i, 31) for i in range(CREDIT_CODE_LENGTH - 1))
# These registration authorities may put letters in positions 1-8, so no division code is required.
AUTHORITIES_WITHOUT_DIVISION_CODE = frozenset("ANY")
ORGANISATION_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def credit_code_problems(code: str) -> list[str]:
    """Every problem with an 18-character unified social credit code (GB 32100-2015).

    Letters must be upper case. Some early Fujian pilot codes are legal yet fail the check
    character; a caller that must accept them has to whitelist them itself.
    """
    problems: list[str] = []
    if len(code) != CREDIT_CODE_LENGTH:
        problems.append(f"must be {CREDIT_CODE_LENGTH} characters, got {len(code)}")
    outside = [i + 1 for i, char in enumerate(code) if char not in CREDIT_CODE_ALPHABET]
    if outside:
        problems.append(f"{_positions(outside)} outside the 31-symbol alphabet (0-9, A-Y except I, O, S, V)")
    if code[:1] not in AUTHORITIES_WITHOUT_DIVISION_CODE and not _all_in(code[2:8], DIGITS):
        problems.append("positions 3-8 (administrative division code) must be digits")
    problems += _organisation_code_problems(code[8:17])
    if len(code) == CREDIT_CODE_LENGTH and _all_in(code[:17], CREDIT_CODE_ALPHABET):
        expected = credit_code_check_char(code[:17])
        if code[17] != expected:
            problems.append(f"check character is {code[17]!r}, expected {expected!r} (GB 32100-2015)")
    return problems


def credit_code_check_char(first_17: str) -> str:
    """Position 18 of a credit code from positions 1-17."""
    total = sum(
        CREDIT_CODE_ALPHABET.index(char) * weight
        for char, weight in zip(first_17, CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def organisation_code_check_char(first_8: str) -> str:
    """The 9th character of an organisation code (GB 11714) from its first 8 (0-9, A-Z)."""
    total = sum(
        ALPHANUMERIC.index(char) * weight
        for char, weight in zip(first_8, ORGANISATION_CODE_WEIGHTS, strict=True)
    )
    remainder = 11 - total % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


# Registration authority 9 (market regulation) and its categories (GB 32100-2015, table 1).
MARKET_REGULATION = "9"
CATEGORY_ENTERPRISE = "1"
CATEGORY_INDIVIDUAL_BUSINESS = "2"
CATEGORY_FARMERS_COOPERATIVE = "3"
# New organisation codes issued with credit codes start with these two characters.
NEW_ORGANISATION_CODE_PREFIX = "MA"
ORGANISATION_SERIAL_LENGTH = 6


def unified_credit_code(authority: str, category: str, region_code: str, organisation_code: str) -> str:
    """Assign a unified social credit code (GB 32100-2015): registration authority, category,
    6-digit administrative division, 9-character organisation code (GB 11714, with its own check
    character) and the check character. Raises ValueError naming every problem of the parts."""
    problems: list[str] = []
    for name, part in (("registration authority", authority), ("category", category)):
        if len(part) != 1 or part not in CREDIT_CODE_ALPHABET:
            problems.append(f"{name} must be one character of the credit-code alphabet")
    if len(region_code) != 6 or not _all_in(region_code, DIGITS):
        problems.append("region code must be 6 digits")
    if len(organisation_code) != 9 or not _all_in(organisation_code, CREDIT_CODE_ALPHABET):
        problems.append("organisation code must be 9 characters of the credit-code alphabet")
    else:
        problems += _organisation_code_problems(organisation_code)
    if problems:
        raise ValueError("; ".join(problems))
    first_17 = authority + category + region_code + organisation_code
    return first_17 + credit_code_check_char(first_17)


def organisation_code(first_8: str) -> str:
    """An organisation code (GB 11714): the 8 characters and their check character."""
    return first_8 + organisation_code_check_char(first_8)


def new_organisation_code(serial: int) -> str:
    """The organisation code of the ``serial``-th registration: 'MA', the serial in base 31 over
    the credit-code alphabet (6 characters), check character. Raises ValueError out of range."""
    base = len(CREDIT_CODE_ALPHABET)
    if not 0 <= serial < base**ORGANISATION_SERIAL_LENGTH:
        raise ValueError(f"serial must be from 0 to {base**ORGANISATION_SERIAL_LENGTH - 1}")
    digits = []
    for _ in range(ORGANISATION_SERIAL_LENGTH):
        serial, digit = divmod(serial, base)
        digits.append(CREDIT_CODE_ALPHABET[digit])
    return organisation_code(NEW_ORGANISATION_CODE_PREFIX + "".join(reversed(digits)))


def _organisation_code_problems(organisation_code: str) -> list[str]:
    """The embedded organisation code occupies credit-code positions 9-17."""
    if len(organisation_code) != 9 or not _all_in(organisation_code[:8], ALPHANUMERIC):
        return []
    expected = organisation_code_check_char(organisation_code[:8])
    if organisation_code[8] == expected:
        return []
    return [
        f"organisation code check character (position 17) is {organisation_code[8]!r}, expected {expected!r}"
    ]


# --- Resident identity number (GB 11643-1999) ---------------------------------------------------------

ID_NUMBER_LENGTH = 18
ID_NUMBER_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_NUMBER_CHECK_CHARS = "10X98765432"


def id_number_problems(number: str, today: date) -> list[str]:
    """Every problem with an 18-character resident identity number (GB 11643-1999).

    A lowercase 'x' is read as 'X' before checking. The region code is not checked: codes of
    abolished regions stay on valid cards. Messages never contain the number or its characters.
    """
    number = number.replace("x", "X")
    problems: list[str] = []
    if len(number) != ID_NUMBER_LENGTH:
        problems.append(f"must be {ID_NUMBER_LENGTH} characters, got {len(number)}")
    body = number[:17]
    body_is_digits = _all_in(body, DIGITS)
    if not body_is_digits:
        problems.append("characters 1-17 must be digits")
    check_char = number[17:18]
    if check_char and check_char not in DIGITS + "X":
        problems.append("check character (character 18) must be a digit or X")
    problems += _birth_date_problems(number[6:14], today)
    check_is_comparable = (
        len(number) == ID_NUMBER_LENGTH and body_is_digits and check_char in ID_NUMBER_CHECK_CHARS
    )
    if check_is_comparable and check_char != id_number_check_char(body):
        problems.append("check character does not match (GB 11643, ISO 7064 MOD 11-2)")
    return problems


def id_number_check_char(first_17: str) -> str:
    """ISO 7064 MOD 11-2 check character of an identity number's first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first_17, ID_NUMBER_WEIGHTS, strict=True))
    return ID_NUMBER_CHECK_CHARS[total % 11]


def birth_date(number: str) -> date | None:
    """The birth date an identity number carries, or None when characters 7-14 are not a date."""
    yyyymmdd = number[6:14]
    if len(yyyymmdd) != 8 or not _all_in(yyyymmdd, DIGITS):
        return None
    try:
        return date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        return None


def age_on(number: str, day: date) -> int | None:
    """Full years of age on ``day`` of the identity number's holder (None without a birth date).
    Someone born on 29 February comes of age on 1 March in a common year."""
    born = birth_date(number)
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _birth_date_problems(yyyymmdd: str, today: date) -> list[str]:
    if len(yyyymmdd) != 8 or not _all_in(yyyymmdd, DIGITS):
        return []  # already reported as a length or digit problem
    try:
        birth = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        return ["birth date (characters 7-14) is not a real date"]
    if birth > today:
        return ["birth date (characters 7-14) is in the future"]
    return []


# --- EMS waybill (UPU S10) ----------------------------------------------------------------------------

S10_LENGTH = 13
S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10_problems(waybill: str) -> list[str]:
    """Every problem with a UPU S10 EMS waybill: 'E' + letter, 8-digit serial, check digit, country.

    Domestic 13-digit EMS numbers have no S10 check digit and are not accepted here.
    """
    problems: list[str] = []
    if len(waybill) != S10_LENGTH:
        problems.append(f"must be {S10_LENGTH} characters, got {len(waybill)}")
    service = waybill[:2]
    if len(service) != 2 or not _all_in(service, UPPER_LETTERS):
        problems.append("service indicator (characters 1-2) must be two capital letters")
    elif not service.startswith("E"):
        problems.append("service indicator of an EMS item starts with 'E'")
    serial = waybill[2:10]
    serial_is_valid = len(serial) == 8 and _all_in(serial, DIGITS)
    if not serial_is_valid:
        problems.append("serial number (characters 3-10) must be 8 digits")
    check_digit = waybill[10:11]
    if len(check_digit) != 1 or check_digit not in DIGITS:
        problems.append("check digit (character 11) must be a digit")
    elif serial_is_valid and check_digit != s10_check_digit(serial):
        problems.append(f"check digit is {check_digit!r}, expected {s10_check_digit(serial)!r}")
    country = waybill[11:13]
    if len(country) != 2 or not _all_in(country, UPPER_LETTERS):
        problems.append("country code (characters 12-13) must be two capital letters")
    return problems


def s10_check_digit(serial: str) -> str:
    """Check digit of an 8-digit S10 serial number."""
    total = sum(int(digit) * weight for digit, weight in zip(serial, S10_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "0", 11: "5"}.get(check, str(check))


# --- A certificate holder: a person or an organisation ----------------------------------------------

ID_NUMBER_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
EXPECTED_CHARACTER = re.compile(r"is '.', expected '.'")


def holder_problems(holder: str, today: date) -> list[str]:
    """Every problem with a certificate holder's identity: a resident identity number (upper-case X)
    or a unified social credit code. An identity-number shape is judged as one; the messages never
    repeat the value, nor the check character either scheme expects."""
    if not id_number_problems(holder, today) or not credit_code_problems(holder):
        return []
    if len(holder) != CREDIT_CODE_LENGTH:
        return [
            "must be an 18-character identity number or unified social credit code, "
            f"got {len(holder)} characters"
        ]
    if ID_NUMBER_SHAPE.fullmatch(holder):
        return [f"not a valid identity number: {p}" for p in id_number_problems(holder, today)]
    return [
        f"not a valid unified social credit code: {EXPECTED_CHARACTER.sub('does not match', p)}"
        for p in credit_code_problems(holder)
    ]


# --- Electronic certificate identifier (GB/T 36901-36906-2018) ---------------------------------------

CERTIFICATE_PREFIX = "1.2.156.3005.2."
CERTIFICATE_FIELDS = ("type code", "issuer code", "serial", "version", "check character")


def mod37_36_check_char(payload: str) -> str:
    """ISO/IEC 7064 MOD 37,36 (hybrid system) check character over characters 0-9 and A-Z."""
    if not _all_in(payload, ALPHANUMERIC):
        raise ValueError("MOD 37,36 takes only the characters 0-9 and A-Z")
    modulus = len(ALPHANUMERIC)
    carry = modulus
    for char in payload:
        carry = (carry + ALPHANUMERIC.index(char)) % modulus or modulus
        carry = carry * 2 % (modulus + 1)
    return ALPHANUMERIC[(modulus + 1 - carry) % modulus]


def certificate_identifier(type_code: str, issuer_code: str, serial: str, version: int) -> str:
    """`1.2.156.3005.2.{type}.{issuer}.{serial}.{version:03d}.{check}`; the check character covers the
    prefix digits and every field concatenated without dots. Raises ValueError naming every problem."""
    fields = (type_code, issuer_code, serial, f"{version:03d}")
    problems = _certificate_field_problems(*fields)
    if problems:
        raise ValueError("; ".join(problems))
    return f"{CERTIFICATE_PREFIX}{'.'.join(fields)}.{_certificate_check_char(fields)}"


def certificate_identifier_problems(identifier: str) -> list[str]:
    """Every problem with an electronic-certificate identifier.

    The embedded credit codes are checked for shape only: their own check characters are not
    verified, because some legal codes fail them.
    """
    if not identifier.startswith(CERTIFICATE_PREFIX):
        return [f"must start with '{CERTIFICATE_PREFIX}'"]
    fields = identifier.removeprefix(CERTIFICATE_PREFIX).split(".")
    if len(fields) != len(CERTIFICATE_FIELDS):
        return [f"must have {len(CERTIFICATE_FIELDS)} fields after the prefix, got {len(fields)}"]
    type_code, issuer_code, serial, version, check = fields
    problems = _certificate_field_problems(type_code, issuer_code, serial, version)
    if len(check) != 1 or check not in ALPHANUMERIC:
        problems.append("check character must be one character from 0-9 and A-Z")
    elif not problems:
        expected = _certificate_check_char(fields[:4])
        if check != expected:
            problems.append(f"check character is {check!r}, expected {expected!r}")
    return problems


def _certificate_check_char(fields: Sequence[str]) -> str:
    return mod37_36_check_char(CERTIFICATE_PREFIX.replace(".", "") + "".join(fields))


def _certificate_field_problems(type_code: str, issuer_code: str, serial: str, version: str) -> list[str]:
    problems: list[str] = []
    if not (
        len(type_code) == 21 and _is_credit_code_shaped(type_code[:18]) and _all_in(type_code[18:], DIGITS)
    ):
        problems.append("type code must be an 18-character credit code followed by 3 digits")
    if not _is_credit_code_shaped(issuer_code):
        problems.append("issuer code must be an 18-character credit code")
    if not serial or not _all_in(serial, ALPHANUMERIC):
        problems.append("serial must be one or more characters from 0-9 and A-Z")
    if len(version) != 3 or not _all_in(version, DIGITS):
        problems.append("version must be 3 digits")
    return problems


def _is_credit_code_shaped(code: str) -> bool:
    return len(code) == CREDIT_CODE_LENGTH and _all_in(code, CREDIT_CODE_ALPHABET)


# --- Masking personal data ----------------------------------------------------------------------------

# Lookarounds keep a match from being the middle of a longer number or code.
ID_NUMBER_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
MOBILE_IN_TEXT = re.compile(
    r"(?<![0-9])(?P<prefix>(?:\+|00)?86[ -]?)?"
    r"(?P<head>1[3-9][0-9])(?P<sep>[ -]?)[0-9]{4}(?P=sep)(?P<tail>[0-9]{4})(?![0-9])"
)


def mask_id_number(value: str) -> str:
    """Keep the first 3 and last 2 characters: '110*************2X'."""
    return _mask_middle(value, keep_start=3, keep_end=2)


def mask_phone(value: str) -> str:
    """Keep the first 3 and last 4 of the 11 digits: '138****5678'."""
    return _mask_middle(value, keep_start=3, keep_end=4)


def mask_address(value: str) -> str:
    """Keep the first 6 characters (usually province and city), hide the rest and its length."""
    return value[:6] + "***"


def mask_personal_data(text: str) -> str:
    """Mask 18-character identity numbers and mainland mobile numbers (also as +86 138 1234 5678)
    found anywhere in free text. Any 18-character number is masked, valid or not."""
    text = ID_NUMBER_IN_TEXT.sub(lambda match: mask_id_number(match.group()), text)
    return MOBILE_IN_TEXT.sub(_masked_mobile, text)


def _masked_mobile(match: re.Match[str]) -> str:
    prefix, separator = match.group("prefix") or "", match.group("sep")
    return f"{prefix}{match.group('head')}{separator}****{separator}{match.group('tail')}"


def _mask_middle(value: str, *, keep_start: int, keep_end: int) -> str:
    """A value too short to leave anything hidden is masked completely."""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]


# --- helpers ------------------------------------------------------------------------------------------


def _all_in(text: str, alphabet: str) -> bool:
    return all(char in alphabet for char in text)


def _positions(positions: Sequence[int]) -> str:
    if len(positions) == 1:
        return f"position {positions[0]} is"
    return f"positions {', '.join(str(p) for p in positions)} are"

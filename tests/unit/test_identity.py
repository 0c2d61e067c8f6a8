from datetime import date

import pytest
from zerovisit.domain.identity import (
    CATEGORY_ENTERPRISE,
    MARKET_REGULATION,
    age_on,
    certificate_identifier,
    certificate_identifier_problems,
    credit_code_problems,
    holder_problems,
    id_number_problems,
    mask_address,
    mask_id_number,
    mask_personal_data,
    mask_phone,
    mod37_36_check_char,
    new_organisation_code,
    organisation_code,
    s10_problems,
    unified_credit_code,
)

TODAY = date(2026, 3, 1)


# --- unified social credit code ----------------------------------------------------------------------


VERIFIED_CREDIT_CODES = [
    "914403001922038216",
    "91440300708461136T",
    "91110108551385082Q",
    "91110000600037341L",
    "91310115MA1K3BTP2B",
    "92340602MA2PBMEM24",
    "91350100M000100Y43",
]


@pytest.mark.parametrize("code", VERIFIED_CREDIT_CODES)
def test_valid_credit_codes_have_no_problems(code: str) -> None:
    assert credit_code_problems(code) == []


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (
            "91350100M000100Y4Z",
            [
                "position 18 is outside the 31-symbol alphabet (0-9, A-Y except I, O, S, V)",
                "check character is 'Z', expected '3' (GB 32100-2015)",
            ],
        ),
        (
            "91110000800088421P",
            [
                "organisation code check character (position 17) is '1', expected '6'",
                "check character is 'P', expected 'W' (GB 32100-2015)",
            ],
        ),
        (
            "9133010057462616XH",
            [
                "organisation code check character (position 17) is 'X', expected '8'",
                "check character is 'H', expected '9' (GB 32100-2015)",
            ],
        ),
        ("914403001922038217", ["check character is '7', expected '6' (GB 32100-2015)"]),
    ],
)
def test_invalid_credit_codes_name_the_failed_check(code: str, expected: list[str]) -> None:
    assert credit_code_problems(code) == expected


def test_credit_code_reports_several_problems_at_once() -> None:
    problems = credit_code_problems("91A4O30019220382")

    assert problems == [
        "must be 18 characters, got 16",
        "position 5 is outside the 31-symbol alphabet (0-9, A-Y except I, O, S, V)",
        "positions 3-8 (administrative division code) must be digits",
    ]


@pytest.mark.parametrize("authority", ["A", "N", "Y"])
def test_authorities_a_n_y_may_use_letters_in_the_division_code(authority: str) -> None:
    problems = credit_code_problems(f"{authority}1ABCDEF1922038216")

    assert not any("division" in problem for problem in problems)


def test_lowercase_credit_code_is_rejected() -> None:
    assert "outside the 31-symbol alphabet" in credit_code_problems("91310115ma1k3btp2b")[0]


# --- resident identity number ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "11010519491231002X",
        "440524188001010014",
        "360426199101010071",
        "44011320141005001X",
        "11010519491231002x",
    ],
)
def test_valid_id_numbers_have_no_problems(number: str) -> None:
    assert id_number_problems(number, TODAY) == []


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("36042619910102009X", ["check character does not match (GB 11643, ISO 7064 MOD 11-2)"]),
        (
            "110105194902300025",
            [
                "birth date (characters 7-14) is not a real date",
                "check character does not match (GB 11643, ISO 7064 MOD 11-2)",
            ],
        ),
        (
            "110105202701010020",
            [
                "birth date (characters 7-14) is in the future",
                "check character does not match (GB 11643, ISO 7064 MOD 11-2)",
            ],
        ),
        ("11010519491231002", ["must be 18 characters, got 17"]),
        (
            "1101051949123100AZ",
            ["characters 1-17 must be digits", "check character (character 18) must be a digit or X"],
        ),
        ("11010519491231002Y", ["check character (character 18) must be a digit or X"]),
        ("1101051949A2", ["must be 18 characters, got 12", "characters 1-17 must be digits"]),
    ],
)
def test_invalid_id_numbers_name_every_problem(number: str, expected: list[str]) -> None:
    assert id_number_problems(number, TODAY) == expected


def test_birth_date_today_is_accepted_and_tomorrow_is_not() -> None:
    number = "44011320141005001X"

    assert id_number_problems(number, date(2014, 10, 5)) == []
    assert id_number_problems(number, date(2014, 10, 4)) == ["birth date (characters 7-14) is in the future"]


@pytest.mark.parametrize("number", ["36042619910102009X", "110105194902300025", "1101051949123100AZ"])
def test_id_number_problems_never_echo_the_number(number: str) -> None:
    for problem in id_number_problems(number, TODAY):
        assert number not in problem
        assert number[:6] not in problem
        assert number[6:14] not in problem


# --- EMS waybill (UPU S10) ---------------------------------------------------------------------------


def test_valid_s10_waybill() -> None:
    assert s10_problems("EA123456785CN") == []


@pytest.mark.parametrize(
    ("waybill", "expected"),
    [
        ("EA123456789CN", ["check digit is '9', expected '5'"]),
        ("RA123456785CN", ["service indicator of an EMS item starts with 'E'"]),
        ("1234567890123", ["service indicator (characters 1-2) must be two capital letters",
                           "check digit is '1', expected '9'",
                           "country code (characters 12-13) must be two capital letters"]),
        ("ea12345678cn", ["must be 13 characters, got 12",
                          "service indicator (characters 1-2) must be two capital letters",
                          "check digit (character 11) must be a digit",
                          "country code (characters 12-13) must be two capital letters"]),
        ("EA12345X785CN", ["serial number (characters 3-10) must be 8 digits"]),
    ],
)  # fmt: skip
def test_invalid_s10_waybills(waybill: str, expected: list[str]) -> None:
    assert s10_problems(waybill) == expected


# --- MOD 37,36 and certificate identifiers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "check"),
    [
        ("A12425GABC1234002", "M"),  # the published GRid example A1-2425G-ABC1234002-M
        ("00000000C36D002B", "K"),  # a published ISAN root
    ],
)
def test_mod37_36_matches_published_examples(payload: str, check: str) -> None:
    assert mod37_36_check_char(payload) == check


def test_mod37_36_rejects_characters_outside_0_9_a_z() -> None:
    with pytest.raises(ValueError, match="0-9 and A-Z"):
        mod37_36_check_char("12.3")


def test_certificate_identifier_is_built_and_checked_over_all_fields() -> None:
    identifier = certificate_identifier("91110000600037341L001", "91440300708461136T", "00000001", 1)

    payload = "1215630052" + "91110000600037341L001" + "91440300708461136T" + "00000001" + "001"
    assert identifier == (
        f"1.2.156.3005.2.91110000600037341L001.91440300708461136T.00000001.001.{mod37_36_check_char(payload)}"
    )
    assert certificate_identifier_problems(identifier) == []


def test_certificate_identifier_refuses_bad_fields_naming_each() -> None:
    with pytest.raises(ValueError, match="type code") as raised:
        certificate_identifier("91110000600037341L", "9144030070846113", "a.b", 1000)

    message = str(raised.value)
    assert "issuer code" in message
    assert "serial" in message
    assert "version must be 3 digits" in message


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ("1.2.156.3005.3.X", ["must start with '1.2.156.3005.2.'"]),
        (
            "1.2.156.3005.2.91110000600037341L001.91440300708461136T.00000001.001",
            ["must have 5 fields after the prefix, got 4"],
        ),
        (
            "1.2.156.3005.2.91110000600037341L001.91440300708461136T.00000001.1.S",
            ["version must be 3 digits"],
        ),
        (
            "1.2.156.3005.2.91110000600037341L001.91440300708461136T.00000001.001.s",
            ["check character must be one character from 0-9 and A-Z"],
        ),
    ],
)
def test_certificate_identifier_problems(identifier: str, expected: list[str]) -> None:
    assert certificate_identifier_problems(identifier) == expected


def test_certificate_identifier_with_a_changed_field_fails_the_check() -> None:
    identifier = certificate_identifier("91110000600037341L001", "91440300708461136T", "00000001", 1)
    tampered = identifier.replace(".00000001.", ".00000002.")

    problems = certificate_identifier_problems(tampered)

    assert len(problems) == 1
    assert problems[0].startswith("check character is ")


# --- masking -----------------------------------------------------------------------------------------


def test_mask_id_number_keeps_first_3_and_last_2() -> None:
    assert mask_id_number("11010519491231002X") == "110*************2X"


def test_mask_phone_keeps_first_3_and_last_4() -> None:
    assert mask_phone("13812345678") == "138****5678"


def test_mask_address_keeps_first_6_characters() -> None:
    assert mask_address("江苏省南京市玄武区北京东路41号") == "江苏省南京市***"


@pytest.mark.parametrize("value", ["", "12", "13245"])
def test_masking_a_short_value_hides_all_of_it(value: str) -> None:
    assert mask_id_number(value) == "*" * len(value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("身份证号11010519491231002x，请核对", "身份证号110*************2x，请核对"),
        ("id=440524188001010014;", "id=440*************14;"),
        ("电话13812345678。", "电话138****5678。"),
        ("call +86 138-1234-5678 now", "call +86 138-****-5678 now"),
        ("call 008613812345678", "call 0086138****5678"),
        ("申请人 11010519491231002X 手机 13912345678", "申请人 110*************2X 手机 139****5678"),
    ],
)
def test_mask_personal_data_in_free_text(text: str, expected: str) -> None:
    assert mask_personal_data(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "order 12345678901234",  # 14 digits: neither an id number nor a phone number
        "landline 02581234567 is not a mobile",  # starts with 0
        "number 12812345678 has no mainland mobile prefix",
        "code 91440300708461136T stays",
        "1234567890123456789 has 19 digits",
    ],
)
def test_mask_personal_data_leaves_other_numbers(text: str) -> None:
    assert mask_personal_data(text) == text


# --- assigning a unified social credit code ----------------------------------------------------------


@pytest.mark.parametrize("code", VERIFIED_CREDIT_CODES)
def test_assigning_the_parts_of_a_verified_code_gives_that_code(code: str) -> None:
    assigned = unified_credit_code(code[0], code[1], code[2:8], organisation_code(code[8:16]))

    assert assigned == code


def test_the_standards_worked_example_gets_check_character_3_not_z() -> None:
    assert unified_credit_code("9", "1", "350100", "M000100Y4") == "91350100M000100Y43"


def test_a_new_code_for_a_nanjing_enterprise_passes_the_check() -> None:
    code = unified_credit_code(MARKET_REGULATION, CATEGORY_ENTERPRISE, "320102", new_organisation_code(4242))

    assert code.startswith("91320102MA")
    assert len(code) == 18
    assert credit_code_problems(code) == []


def test_an_organisation_code_with_a_wrong_check_character_is_refused() -> None:
    with pytest.raises(ValueError, match=r"organisation code check character .* expected '2'"):
        unified_credit_code("9", "1", "310115", "MA1K3BTP3")


def test_every_bad_part_is_named_at_once() -> None:
    with pytest.raises(ValueError, match="registration authority") as raised:
        unified_credit_code("I", "", "3201", "MA1K3BTP")

    assert str(raised.value).split("; ") == [
        "registration authority must be one character of the credit-code alphabet",
        "category must be one character of the credit-code alphabet",
        "region code must be 6 digits",
        "organisation code must be 9 characters of the credit-code alphabet",
    ]


def test_new_organisation_codes_are_distinct_and_checked() -> None:
    codes = [new_organisation_code(serial) for serial in (0, 1, 30, 31, 31**6 - 1)]

    assert codes[:2] == ["MA0000007", "MA0000015"]
    assert len(set(codes)) == len(codes)
    assert all(organisation_code(code[:8]) == code for code in codes)
    assert all(char in "0123456789ABCDEFGHJKLMNPQRTUWXY" for code in codes for char in code)


@pytest.mark.parametrize("serial", [-1, 31**6])
def test_a_serial_out_of_range_is_refused(serial: int) -> None:
    with pytest.raises(ValueError, match="serial must be from 0 to 887503680"):
        new_organisation_code(serial)


# --- age from an identity number ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "day", "age"),
    [
        ("44011320141005001X", date(2026, 11, 27), 12),
        ("44011320141005001X", date(2032, 10, 4), 17),
        ("44011320141005001X", date(2032, 10, 5), 18),
        ("360426199101010071", date(2026, 2, 13), 35),
        ("1101051949", date(2026, 2, 13), None),
        ("110105194902300025", date(2026, 2, 13), None),
    ],
)
def test_age_on_a_day(number: str, day: date, age: int | None) -> None:
    assert age_on(number, day) == age


# --- a certificate holder -------------------------------------------------------------------------------


@pytest.mark.parametrize("holder", ["11010519491231002X", "914403001922038216", "91310115MA1K3BTP2B"])
def test_a_person_or_an_organisation_may_hold_certificates(holder: str) -> None:
    assert holder_problems(holder, TODAY) == []


@pytest.mark.parametrize(
    ("holder", "problems"),
    [
        (
            "110105194912310021",
            ["not a valid identity number: check character does not match (GB 11643, ISO 7064 MOD 11-2)"],
        ),
        (
            "91310115MA1K3BTP2C",
            ["not a valid unified social credit code: check character does not match (GB 32100-2015)"],
        ),
        (
            "1101051949",
            ["must be an 18-character identity number or unified social credit code, got 10 characters"],
        ),
    ],
)
def test_a_bad_holder_is_named_without_the_value_or_the_expected_character(
    holder: str, problems: list[str]
) -> None:
    found = holder_problems(holder, TODAY)

    assert found == problems
    assert holder not in str(found)
    assert "expected" not in str(found)

"""A certificate's rendering: a valid PNG whose QR code, read back module by module from the pixels,
is the code of the certificate's verification address, and which is the same every time it is drawn."""

from datetime import date

import pytest
import segno
from zerovisit.clock import clock
from zerovisit.domain.certificate import Certificate, verification_code
from zerovisit.png import BLACK, WHITE
from zerovisit.services.rendering import MARGIN, QR_BORDER, QR_SCALE, TITLE_SCALE, details, render

from tests.unit.test_png import colour, colour_type, pixels

ADDRESS = "https://api.example.gov.cn/dev/certificates/{}/verify"
IDENTIFIER = "1.2.156.3005.2.11100000MB0143028R001.11320100MB0C005112.4930583721940457.001.K"


def certificate(holder_id: str = "91320102MA1XYZ1234", valid_until: date | None = None) -> Certificate:
    return Certificate(
        identifier=IDENTIFIER,
        kind="BUSINESS_LICENCE",
        name="营业执照",
        holder_id=holder_id,
        holder_name="南京零跑科技有限公司",
        issuer_code="11320100MB0C005112",
        issuer_name="南京市市场监督管理局",
        case_id="T-0123456789ab",
        case_number="32010220260000001",
        issued_at=clock.now(),
        valid_until=valid_until,
        signing_key_id="key",
        signature="MEUCIQDexample",
    )


def qr_modules(png: bytes, size: int) -> list[list[bool]]:
    """``size`` by ``size`` modules as the pixels hold them (each module's centre, dark or light),
    quiet zone included, from where the rendering puts the symbol."""
    _, _, rows = pixels(png)
    top = MARGIN + 7 * TITLE_SCALE + MARGIN
    return [
        [
            colour(rows, MARGIN + column * QR_SCALE + QR_SCALE // 2, top + row * QR_SCALE + QR_SCALE // 2)
            == BLACK
            for column in range(size)
        ]
        for row in range(size)
    ]


def expected_modules(address: str) -> list[list[bool]]:
    symbol = segno.make_qr(address, error="m", boost_error=False)
    return [[bool(m) for m in row] for row in symbol.matrix_iter(scale=1, border=QR_BORDER)]


def test_the_qr_code_in_the_pixels_carries_the_verification_address() -> None:
    address = ADDRESS.format(IDENTIFIER)
    png = render(certificate(), address)

    wanted = expected_modules(address)
    found = qr_modules(png, len(wanted))
    # every module of the quiet zone is light, so the symbol is where a scanner looks for it
    quiet = [row[:QR_BORDER] + row[-QR_BORDER:] for row in found] + found[:QR_BORDER] + found[-QR_BORDER:]

    assert found == wanted
    assert not any(any(row) for row in quiet)
    assert found != expected_modules(ADDRESS.format(IDENTIFIER.replace("4930", "4931")))[: len(found)]
    assert IDENTIFIER in address


def test_the_symbol_holds_the_address_in_one_byte_segment_with_medium_correction() -> None:
    address = ADDRESS.format(IDENTIFIER)
    symbol = segno.make_qr(address, error="m", boost_error=False)

    assert symbol.error == "M"
    assert symbol.mode == "byte"
    assert symbol.is_micro is False


def test_drawing_twice_gives_the_same_bytes_and_another_address_other_bytes() -> None:
    first = render(certificate(), ADDRESS.format(IDENTIFIER))

    assert render(certificate(), ADDRESS.format(IDENTIFIER)) == first
    assert render(certificate(), "https://other.example/dev/certificates/x/verify") != first


def test_the_details_mask_a_persons_identity_number_but_not_a_credit_code() -> None:
    person = details(certificate(holder_id="32010219900307001X"))
    enterprise = details(certificate())

    assert "HOLDER 320*************1X" in person
    assert not any("32010219900307001X" in line for line in person)
    assert "HOLDER 91320102MA1XYZ1234" in enterprise
    assert f"CODE {verification_code('MEUCIQDexample')}" in enterprise
    assert "ISSUED 2026-02-13" in enterprise
    assert "VALID UNTIL NO END" in enterprise
    assert "KIND BUSINESS LICENCE" in enterprise


@pytest.mark.parametrize("valid_until", [date(2031, 2, 12), None])
def test_the_png_is_valid_and_wide_enough_for_its_text(valid_until: date | None) -> None:
    png = render(certificate(valid_until=valid_until), ADDRESS.format(IDENTIFIER))
    width, height, rows = pixels(png)

    assert colour_type(png) == 0  # greyscale: one byte a pixel to compress, not three
    assert width > MARGIN * 2 + 53 * QR_SCALE
    assert height > MARGIN * 2 + 53 * QR_SCALE
    assert colour(rows, 0, 0) == WHITE
    assert (f"VALID UNTIL {valid_until.isoformat()}" if valid_until else "VALID UNTIL NO END") in details(
        certificate(valid_until=valid_until)
    )

"""A certificate's rendering: a PNG the holder can keep, print or show, whose QR code carries the
address that verifies the certificate (``<public API>/certificates/<identifier>/verify``).

The rendering is drawn from the stored certificate alone, so drawing it again gives the same bytes:
a retried certificate step writes it again and nothing changes. The 5x7 font has Latin capitals,
digits and a few signs only: the Chinese names (certificate, holder, issuer) are in the signed
record, which the QR code's address shows; the rendering carries codes, dates and the identifier.
"""

import itertools
from typing import TYPE_CHECKING

from zerovisit.clock import CHINA
from zerovisit.domain.certificate import Certificate, verification_code
from zerovisit.domain.identity import ID_NUMBER_SHAPE, mask_id_number
from zerovisit.png import BLACK, Canvas, text_width
from zerovisit.services.ports import ports

if TYPE_CHECKING:
    import segno

MARGIN = 24
QR_SCALE = 4
QR_BORDER = 4  # the quiet zone, in modules, that scanners need
TITLE_SCALE = 3
TEXT_SCALE = 2
LINE = 22
GREY = (96, 96, 96)


def rendering_key(identifier: str) -> str:
    return f"certificates/{identifier}.png"


def qr_code(address: str) -> "segno.QRCode":
    """Error correction M (15 % of the code may be damaged), never raised to the smallest version's
    spare capacity: the same address always gives the same symbol."""
    import segno  # about 30 ms: only where certificates are drawn, not in every function that lists them

    return segno.make_qr(address, error="m", boost_error=False)


def details(certificate: Certificate) -> list[str]:
    """The text beside the QR code. A person's identity number is masked; a credit code is public."""
    holder = certificate.holder_id
    return [
        f"KIND {certificate.kind.replace('_', ' ')}",
        f"HOLDER {mask_id_number(holder) if ID_NUMBER_SHAPE.fullmatch(holder) else holder}",
        f"ISSUER {certificate.issuer_code}",
        f"ISSUED {certificate.issued_at.astimezone(CHINA).date().isoformat()}",
        f"VALID UNTIL {certificate.valid_until.isoformat() if certificate.valid_until else 'NO END'}",
        f"TRUST LEVEL {certificate.trust_level}",
        f"CODE {verification_code(certificate.signature)}",
    ]


def render(certificate: Certificate, address: str) -> bytes:
    """The certificate as a PNG: title, the QR code with the details beside it, the identifier below."""
    modules = list(qr_code(address).matrix_iter(scale=1, border=QR_BORDER))
    qr_size = len(modules) * QR_SCALE
    lines = details(certificate)
    text_left = MARGIN + qr_size + MARGIN
    identifier = f"ID {certificate.identifier}"
    width = max(
        text_left + max(text_width(line, TEXT_SCALE) for line in lines) + MARGIN,
        MARGIN * 2 + text_width(identifier),
    )
    qr_top = MARGIN + 7 * TITLE_SCALE + MARGIN
    bottom = qr_top + max(qr_size, LINE * len(lines))
    canvas = Canvas(width, bottom + 3 * LINE, grey=True)
    canvas.text(MARGIN, MARGIN, "ELECTRONIC CERTIFICATE", BLACK, TITLE_SCALE)
    for row, cells in enumerate(modules):
        column = 0
        for dark, run in itertools.groupby(cells, key=bool):
            width_in_modules = len(list(run))
            if dark:
                left, top = MARGIN + column * QR_SCALE, qr_top + row * QR_SCALE
                canvas.rectangle(left, top, left + width_in_modules * QR_SCALE - 1, top + QR_SCALE - 1, BLACK)
            column += width_in_modules
    for index, line in enumerate(lines):
        canvas.text(text_left, qr_top + QR_BORDER * QR_SCALE + index * LINE, line, BLACK, TEXT_SCALE)
    canvas.text(MARGIN, bottom + LINE // 2, identifier)
    canvas.text(MARGIN, bottom + LINE + LINE // 2, "SCAN THE CODE TO VERIFY", GREY)
    return canvas.png()


def store(certificate: Certificate) -> str:
    """Draw the certificate and write it where its holder's library points; returns the key."""
    gateway = ports().gateway
    key = rendering_key(certificate.identifier)
    gateway.store_rendering(key, render(certificate, gateway.verification_address(certificate.identifier)))
    return key

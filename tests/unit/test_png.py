"""The pure-Python PNG canvas and the 3550 chart drawn with it, read back pixel by pixel."""

import struct
import zlib
from typing import Any

import pytest
from zerovisit.png import _GLYPHS, BLACK, GLYPH_HEIGHT, GLYPH_WIDTH, WHITE, Canvas, text_width
from zerovisit.services.report_files import GREEN, RED, report_png


def pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the rows, as RGB, of an 8-bit RGB or greyscale PNG with filter 0 (what
    Canvas writes), checking every chunk's CRC on the way."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        data = png[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", png[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + data)
        chunks[kind] = data
        position += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour_type) in ((8, 2), (8, 0))
    channels = 3 if colour_type == 2 else 1
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = 1 + channels * width
    rows = [raw[y * stride + 1 : (y + 1) * stride] for y in range(height)]
    assert all(raw[y * stride] == 0 for y in range(height))
    if channels == 1:
        rows = [bytes(value for grey in r for value in (grey, grey, grey)) for r in rows]
    return width, height, rows


def colour_type(png: bytes) -> int:
    """2 for RGB, 0 for greyscale."""
    assert png[12:16] == b"IHDR"
    return png[25]


def colour(rows: list[bytes], x: int, y: int) -> tuple[int, ...]:
    return tuple(rows[y][3 * x : 3 * x + 3])


def test_a_rectangle_and_text_come_back_where_they_were_drawn() -> None:
    canvas = Canvas(40, 20)
    canvas.rectangle(2, 3, 5, 6, (10, 20, 30))
    canvas.text(10, 2, "1")

    width, height, rows = pixels(canvas.png())

    assert (width, height) == (40, 20)
    assert colour(rows, 2, 3) == colour(rows, 5, 6) == (10, 20, 30)
    assert colour(rows, 6, 6) == colour(rows, 1, 3) == WHITE
    assert colour(rows, 12, 2) == BLACK  # the top of the '1'
    assert text_width("12") == 11


def test_a_rectangle_over_the_edges_is_clipped_and_an_empty_one_draws_nothing() -> None:
    canvas = Canvas(6, 4)
    canvas.rectangle(-3, -2, 1, 0, BLACK)  # over the top-left corner
    canvas.rectangle(4, 2, 9, 9, (1, 2, 3))  # over the bottom-right corner
    canvas.rectangle(3, 1, 2, 3, BLACK)  # right of its right edge: empty

    _, _, rows = pixels(canvas.png())

    painted = {(x, y): colour(rows, x, y) for y in range(4) for x in range(6) if colour(rows, x, y) != WHITE}
    assert painted == {
        (0, 0): BLACK,
        (1, 0): BLACK,
        **{(x, y): (1, 2, 3) for x in (4, 5) for y in (2, 3)},
    }
    assert all(len(r) == 6 * 3 for r in rows)


@pytest.mark.parametrize("scale", [1, 3])
def test_every_glyph_paints_exactly_its_cells(scale: int) -> None:
    for char, cells in _GLYPHS.items():
        canvas = Canvas(GLYPH_WIDTH * scale + 2, GLYPH_HEIGHT * scale + 2, grey=True)
        canvas.text(1, 1, char, scale=scale)
        _, _, rows = pixels(canvas.png())
        painted = {
            (x, y) for y in range(len(rows)) for x in range(canvas.width) if colour(rows, x, y) == BLACK
        }
        wanted = {
            (1 + (i % GLYPH_WIDTH) * scale + dx, 1 + (i // GLYPH_WIDTH) * scale + dy)
            for i, cell in enumerate(cells)
            if cell == "#"
            for dx in range(scale)
            for dy in range(scale)
        }
        assert painted == wanted, char


def cell_by_cell(canvas: Canvas, x: int, y: int, text: str, scale: int) -> None:
    """The drawing as it was before runs: one rectangle per dark cell."""
    for index, char in enumerate(text.upper()):
        cells = _GLYPHS.get(char, _GLYPHS[" "]).ljust(GLYPH_WIDTH * GLYPH_HEIGHT, ".")
        origin = x + index * (GLYPH_WIDTH + 1) * scale
        for i, cell in enumerate(cells):
            if cell == "#":
                left, top = origin + (i % GLYPH_WIDTH) * scale, y + (i // GLYPH_WIDTH) * scale
                canvas.rectangle(left, top, left + scale - 1, top + scale - 1, BLACK)


@pytest.mark.parametrize(
    ("x", "y"), [(-7, -4), (20, 9), (-3, 12), (25, -2)], ids=["top-left", "bottom-right", "left", "right"]
)
@pytest.mark.parametrize("scale", [1, 2])
def test_text_over_the_edges_paints_the_pixels_cell_by_cell_drawing_would(x: int, y: int, scale: int) -> None:
    text = "ZV-2026.1/5: 90%*ß?中"  # signs, letters, digits and characters without a glyph
    runs, cells = Canvas(40, 16, grey=True), Canvas(40, 16, grey=True)

    runs.text(x, y, text, scale=scale)
    cell_by_cell(cells, x, y, text, scale)

    assert runs.pixels == cells.pixels
    assert any(0 in row for row in runs.pixels)  # something of the text is on the canvas


def test_a_grey_canvas_is_written_as_greyscale_and_draws_no_colour() -> None:
    canvas = Canvas(8, 5, grey=True)
    canvas.rectangle(1, 1, 3, 2, BLACK)
    canvas.dot(6, 4, (96, 96, 96))

    drawn = canvas.png()
    width, height, rows = pixels(drawn)

    assert colour_type(drawn) == 0
    assert (width, height) == (8, 5)
    painted = {(x, y): colour(rows, x, y) for y in range(5) for x in range(8) if colour(rows, x, y) != WHITE}
    assert painted == {**{(x, y): BLACK for x in (1, 2, 3) for y in (1, 2)}, (6, 4): (96, 96, 96)}
    with pytest.raises(ValueError, match=r"only greys, not \(200, 55, 45\)"):
        canvas.rectangle(0, 0, 1, 1, (200, 55, 45))


def row(region: str, target: int, mean: float | None) -> dict[str, Any]:
    return {
        "matter_code": "BUSINESS-STARTUP",
        "region_code": region,
        "target_working_days": target,
        "mean_working_days": mean,
        "completed": 0 if mean is None else 3,
    }


def test_the_chart_has_a_green_bar_within_the_target_and_a_red_one_above() -> None:
    report = {
        "region_code": "320000",
        "from": "2026-01-01",
        "to": "2026-12-31",
        "matters": [row("320000", 3, 2.5)],
        "regions": [row("320100", 3, 4.0), row("321000", 2, None)],
    }

    width, _, rows = pixels(report_png(report))

    found = {colour(rows, x, y) for y in range(len(rows)) for x in range(width)}
    assert GREEN in found
    assert RED in found

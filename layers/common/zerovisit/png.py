"""A tiny raster canvas written as PNG with zlib and struct only: rectangles, lines and a 5x7 text
font (digits, capital letters and a few signs), enough for a bar chart or a certificate's QR code
without a plotting library."""

import functools
import re
import struct
import zlib

RGB = tuple[int, int, int]
WHITE: RGB = (255, 255, 255)
BLACK: RGB = (0, 0, 0)

# 5x7 glyphs, one string of five '#'/'.' per row.
_GLYPHS = {
    "0": ".###.#...##..###.#.###..##...#.###.",
    "1": "..#...##....#....#....#....#...###.",
    "2": ".###.#...#....#...#...#...#...#####",
    "3": "#####...#...#.....#.....##...#.###.",
    "4": "...#...##..#.#.#..#.#####...#....#.",
    "5": "#####.....####.....#....##...#.###.",
    "6": "..##..#...#....####.#...##...#.###.",
    "7": "#####....#...#...#...#....#....#...",
    "8": ".###.#...##...#.###.#...##...#.###.",
    "9": ".###.#...##...#.####....#...#..##..",
    "A": ".###.#...##...#######...##...##...#",
    "B": "####.#...##...#####.#...##...#####.",
    "C": ".###.#...##....#....#....#...#.###.",
    "D": "###..#..#.#...##...##...##..#.###..",
    "E": "######....#....####.#....#....#####",
    "F": "######....#....####.#....#....#....",
    "G": ".###.#...##....#.####...##...#.####",
    "H": "#...##...##...#######...##...##...#",
    "I": ".###...#....#....#....#....#...###.",
    "J": "..###...#....#....#....##..#..##...",
    "K": "#...##..#.#.#..##...#.#..#..#.#...#",
    "L": "#....#....#....#....#....#....#####",
    "M": "#...###.###.#.##.#.##...##...##...#",
    "N": "#...##...###..##.#.##..###...##...#",
    "O": ".###.#...##...##...##...##...#.###.",
    "P": "####.#...##...#####.#....#....#....",
    "Q": ".###.#...##...##...##.#.##..#..##.#",
    "R": "####.#...##...#####.#.#..#..#.#...#",
    "S": ".#####....#.....###.....#....#####.",
    "T": "#####..#....#....#....#....#....#..",
    "U": "#...##...##...##...##...##...#.###.",
    "V": "#...##...##...##...##...#.#.#...#..",
    "W": "#...##...##...##.#.##.#.##.#..#.#..",
    "X": "#...##...#.#.#...#...#.#.#...##...#",
    "Y": "#...##...#.#.#...#....#....#....#..",
    "Z": "#####....#...#...#...#...#....#####",
    "-": "................###................",
    ".": "..............................##...",
    ":": "......##...##........##...##.......",
    "/": ".........#...#...#...#...#.........",
    "%": "##...##..#...#...#...#...#..##...##",
    "*": ".....#.#.#.###.#####.###.#.#.#.....",
    " ": "." * 35,
}
GLYPH_WIDTH, GLYPH_HEIGHT = 5, 7
# zlib's default level: on a certificate, level 9 took eight times as long for a fifth fewer bytes.
COMPRESSION = 6


class Canvas:
    """An RGB canvas; with ``grey``, one that draws only greys (R = G = B) and is written as an
    8-bit greyscale PNG, a third of the pixels to compress."""

    def __init__(self, width: int, height: int, background: RGB = WHITE, grey: bool = False) -> None:
        self.width, self.height, self.grey = width, height, grey
        self.channels = 1 if grey else 3
        self.pixels = [bytearray(self._pixel(background) * width) for _ in range(height)]

    def _pixel(self, colour: RGB) -> bytes:
        if not self.grey:
            return bytes(colour)
        if not colour[0] == colour[1] == colour[2]:
            raise ValueError(f"a grey canvas draws only greys, not {colour}")
        return bytes(colour[:1])

    def dot(self, x: int, y: int, colour: RGB) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            n = self.channels
            self.pixels[y][n * x : n * x + n] = self._pixel(colour)

    def rectangle(self, left: int, top: int, right: int, bottom: int, colour: RGB) -> None:
        """Filled, corners included."""
        left, right = max(left, 0), min(right, self.width - 1)
        if left > right:
            return
        n = self.channels
        span = self._pixel(colour) * (right - left + 1)
        for y in range(max(top, 0), min(bottom, self.height - 1) + 1):
            self.pixels[y][n * left : n * right + n] = span

    def horizontal(self, left: int, right: int, y: int, colour: RGB, dash: int = 0) -> None:
        """A line; with ``dash``, ``dash`` pixels drawn, ``dash`` left out."""
        for x in range(left, right + 1):
            if not dash or (x - left) // dash % 2 == 0:
                self.dot(x, y, colour)

    def text(self, x: int, y: int, text: str, colour: RGB = BLACK, scale: int = 1) -> None:
        """Upper-left corner at (x, y); characters without a glyph are drawn as '?'-less blanks."""
        for index, char in enumerate(text.upper()):
            origin = x + index * (GLYPH_WIDTH + 1) * scale
            for row, column, length in _strokes(_GLYPHS.get(char, _GLYPHS[" "])):
                left, top = origin + column * scale, y + row * scale
                self.rectangle(left, top, left + length * scale - 1, top + scale - 1, colour)

    def png(self) -> bytes:
        """The canvas as an 8-bit RGB PNG, or greyscale for a grey canvas (filter 0 on every row)."""
        raw = b"".join(b"\x00" + bytes(row) for row in self.pixels)
        colour_type = 0 if self.grey else 2
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, colour_type, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(raw, COMPRESSION))
            + _chunk(b"IEND", b"")
        )


@functools.cache
def _strokes(glyph: str) -> tuple[tuple[int, int, int], ...]:
    """The glyph's dark runs, one rectangle each: (row, first column, length)."""
    glyph = glyph.ljust(GLYPH_WIDTH * GLYPH_HEIGHT, ".")
    strokes: list[tuple[int, int, int]] = []
    for row in range(GLYPH_HEIGHT):
        line = glyph[row * GLYPH_WIDTH : (row + 1) * GLYPH_WIDTH]
        strokes.extend((row, run.start(), len(run.group())) for run in re.finditer("#+", line))
    return tuple(strokes)


def text_width(text: str, scale: int = 1) -> int:
    return len(text) * (GLYPH_WIDTH + 1) * scale - scale


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

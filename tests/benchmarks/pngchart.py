"""A tiny dependency-free PNG line-chart renderer for the benchmark (standard library only).

``make bench`` draws ``docs/benchmarks/time_vs_n.png`` with this module, so neither CI nor a
developer needs matplotlib or Pillow. It draws log-log panels with anti-aliased lines, markers,
grid, tick labels and a legend, and writes an 8-bit RGB PNG with ``zlib``.

The glyphs below are DejaVu Sans (Bitstream Vera license; DejaVu changes are public domain)
rendered once at 12 px and 15 px with Pillow, 4-bit alpha, packed two pixels a byte, zlib'd and
base64'd: ``FONTS[size]["widths"][i] = (cell width, advance)`` for ``chr(32 + i)``, each cell
``height`` pixels tall with the baseline at ``ascent``.
"""

from __future__ import annotations

import base64
import math
import struct
import zlib

__all__ = ["Canvas", "render_loglog_panels"]

# fmt: off
FONTS = {
    12: {
        "height": 15,
        "ascent": 12,
        "widths": (
            (4, 4), (5, 5), (6, 6), (10, 10), (8, 8), (11, 11), (9, 9), (3, 3), (5, 5), (5, 5), (6, 6),
            (10, 10), (4, 4), (4, 4), (4, 4), (5, 4), (8, 8), (8, 8), (8, 8), (8, 8), (8, 8), (8, 8), (8, 8),
            (8, 8), (8, 8), (8, 8), (4, 4), (4, 4), (10, 10), (10, 10), (10, 10), (6, 6), (12, 12), (9, 8),
            (8, 8), (8, 8), (9, 9), (8, 8), (7, 7), (9, 9), (9, 9), (4, 4), (4, 4), (9, 8), (7, 7), (10, 10),
            (9, 9), (9, 9), (7, 7), (9, 9), (8, 8), (8, 8), (8, 7), (9, 9), (9, 8), (12, 12), (8, 8), (8, 7),
            (8, 8), (5, 5), (5, 4), (5, 5), (10, 10), (7, 6), (6, 6), (7, 7), (8, 8), (7, 7), (8, 8), (7, 7),
            (5, 4), (8, 8), (8, 8), (3, 3), (3, 3), (7, 7), (3, 3), (12, 12), (8, 8), (7, 7), (8, 8), (8, 8),
            (5, 5), (6, 6), (5, 5), (8, 8), (7, 7), (10, 10), (7, 7), (7, 7), (6, 6), (8, 8), (4, 4), (8, 8),
            (10, 10),
        ),
        "data": (
            "eNq1WH1wVNUV/7232e+36xIxVmzWDf1wRkhYxnbaKTFd2v8g4OKMbZEFXzvMtAygy3SmVQLjIjM1Wm03tCqEtrNK1SCVLsVGtIrx"
            "IxCmTj6JyegUN9kETLLZmuwgtiF5/d3dLVmSfZtgp2ffufecc7/Ovffcc89dYD7wbRg+ySTLIMUoSLOzoPPJ7Het4Lg+Ciw1B3G/"
            "pmkePOekrGMFJHKXYAodB2wr2wt3sQeonFTRs3cf+knvehmQX+yk/FEc2vsKqqfC6TppzAOWEZcxLHfUSm9hfVHkFzB01K6gNHHz"
            "NxIumB7uqIX01qqiKJ5kHayAOeEprI4pGYScusmFChe5D4kvHMTTy3Cw9PYxvBRxPHvjBG5LHmrJsxaeTke+zn8Ot8sUQSMcPsRF"
            "0giypS4WTMM7MEbg9LDMEsZjImkkS9k7M7u7Gz+++2em91R+JMheEzyQm9i5TU0zZPMAa8SuOvKW3D8xV1t7yB66WiK3YwvsPlrn"
            "PbCp6MNqWILozNN20aiKgwsHMIAD8hi20ZQDIhd8Wr4oqeqO++d/MTmgj7/WPtNtG0j4pUMl46S6ASnFSdAkj9C0aftHXJCFrevB"
            "Cur8W+oG7ieK4rBqQR7C98k/Ku1jHhgN6i9WBQf4WxTGF6IovTWKp81RQ5M5auKuAeZoBnXgTS0mRkzjyYQfKKHeaBAo7SO9Xcj0"
            "jsC5OqxZuRmnSF9KhuWJxS3SRa7zIPHxxadhTYZ022piHSXO18Rjb+fclvFI1LCAUy7qo+2E9ae7hP2eKX6f+7kfh4vPolwLo6f4"
            "dHqPLxSfQXWyTr/tqB+9C+OGMTQQj5BOoDJRz5JX8NMb+1A5on/u61F/Va5X2oj2uczb8BjwzQ9/hO2N9B7phOwPRUE9Pie8qWmX"
            "Z1LXBId9TEre2MtU2tqTSUre+E22oCBsH5brylUoPHfC2GxpW+Wu2oPzGHd1kgZkaS771jFs4ELU4m3LaK1DilYvbrF/KfITPKDI"
            "0eqylgcpTzwRwtaMO393wWovsCF52jXTc/D6kidptTtpTo67xmhOSpC7sgtuTUsZY3QtJ4BN+voo2ohX8d/UpPgNnzCPKtoUeWO/"
            "4scg85SiTer7j0DyWdP5BevdrHGnKzOMyAUv5KJcf+S2qVNQ/Dd8gGYYUhzOEWwGTmQJIWGRqFOgB22CjXEF23jMruYv685a87IG"
            "BxMVFdbL4fR9AIytI37T+bJVC85np8oVbrtIwrGOkm5OuspvbE2oBZRm9xs5jLF9mtC0yRkSQeRtO/NXqNThv9PTM6uPZqxl2Vof"
            "mjf5oByltbfytlO20Ws2fzHCTpg0ozRcQP8Zi5W7kJq+J1PGoaSUXpSnlN14JKVs8HWmlO/9MZpS1o34ud1/gLCCbFLwDLW6jE3K"
            "xwjgdB+J9eEAmiu+Qgs+QEK+QMKaoDbupkJ9BKbqcN+6JU20VffmMToyGq/lZUEIiSqKsG2qroD1PqP4l4absUtkaS53Jf6ncQPa"
            "MdbcLc76mTymO+wSQyp+c1M61ybIV/kyvMRDi8d1HfHJXpdzx63qMtLuh+k5jg5xkCURYce3LV8SNbYOu/TvMO0inDSXQqgLA/SU"
            "rFCThzjF68/cxWjAfK7QwkH4MWM7bCG3j+HGAV5/aV8nnB5qarJuUPjDOaAGjii6q1Aak8ad3vXHje324FOPWMOWyNurFLWoL+a+"
            "xSNditBI0apahxkFeY2fztFnqV/qLuqzRvDiWhfcg4yCeKtvehXSoNtni5jaN7mE+vnhVc6jwleqmtp/CbzWz+AgOO+FvTcdWRjZ"
            "qMIPqTcTfdFwGFOhgl7oIU37d97NDF3nwThmJ1pOENMpQs7VYPDJCPQe8VKy+xiVylff920R7IQ5T8KC2XAHFTN0r/Gh2iu/i/8r"
            "XKdp49nXECf11Ofpou2yF9J2sRSmj7TvxHG2quwh36+G8ikez8EL58JIMCQcpBePoyqdC17IC4J89CxjvVAVt5TOq0qc/+KQEOZ9"
            "44X+i3LrayHHnnvZzh4KwJrOBW+gvPCAi0aDSl35d2PYQks6zo1V9pSoi2ZHlEsv8e31PGMt7/PCGKaTQlGf0GqH0MqW1cqW5jNa"
            "2VXTyvs88snptXR6c3D3MJx/KVedPkvI6TWHc3HWQF38HN7sN/3w9OKKkF+FO5QzTjybGc46v9aFC11wDtFH9cC5vAdxecal2ZXb"
            "D7udE5xPDFWOuJzHKrpuDjp9tqA54vTaVFOedH5meE2rMfMB4Niz9vYY9gdgPsSMnFe8CgpDIQPONfR8sHSkAb03fGaI4QSNeL/I"
            "Bc+3hnhn1eZgzgR3xRIep/gjgLuSTnT+1kjWVZVtvsMF0+s7IDV8v+zwF849k8ceHF6b9il3SlBMGKlvLOjBx6hPLvbzTdiy8GNU"
            "DjcUXqidsO7rQ1xR12CrNSSN98P+Or3yfB4CDO0/QFeF9A855vj6774asT34gy1B05++/JJXHpWSwBD+PmcXclwaMHWcgO09Dqqi"
            "9Pcua6Te2CF1z6HzHupsC25EgE+WgXFYRnjpqDD0iUe/NOmZfcswjj4FW5h3Z1EHKry8V3Qia0ObJ/2aFa5BYLkPFvH3B/MrMlFu"
            "+ChnFHMo/y+3Y/OwuGa9mQDLTrSJXv7pga0uwws5y9P15geGk3+9PmxeviExx5H+D4TtVoc="
        ),
    },
    15: {
        "height": 18,
        "ascent": 14,
        "widths": (
            (5, 5), (6, 6), (7, 7), (13, 13), (10, 10), (14, 14), (12, 12), (4, 4), (6, 6), (6, 6), (8, 8),
            (13, 13), (5, 5), (5, 5), (5, 5), (6, 5), (10, 10), (10, 10), (10, 10), (10, 10), (10, 10),
            (10, 10), (10, 10), (10, 10), (10, 10), (10, 10), (5, 5), (5, 5), (13, 13), (13, 13), (13, 13),
            (8, 8), (15, 15), (11, 10), (10, 10), (10, 10), (12, 12), (9, 9), (9, 9), (12, 12), (11, 11),
            (4, 4), (4, 4), (11, 10), (9, 8), (13, 13), (11, 11), (12, 12), (9, 9), (12, 12), (10, 10),
            (10, 10), (10, 9), (11, 11), (11, 10), (15, 15), (10, 10), (10, 9), (10, 10), (6, 6), (6, 5),
            (6, 6), (13, 13), (8, 8), (8, 8), (9, 9), (10, 10), (8, 8), (10, 10), (9, 9), (6, 5), (10, 10),
            (10, 10), (4, 4), (4, 4), (9, 9), (4, 4), (15, 15), (10, 10), (9, 9), (10, 10), (10, 10), (7, 6),
            (8, 8), (6, 6), (10, 10), (9, 9), (12, 12), (9, 9), (9, 9), (8, 8), (10, 10), (5, 5), (10, 10),
            (13, 13),
        ),
        "data": (
            "eNrNWV1wU9cR3nv1f/Xji2u7nSagS6adTtPEEg+ZzqSAlcfSGSye+oDBCk+ZFiKR5qmUWKRPSaispH0xM8aCpJ2kYFkZaEMbYsSk"
            "hUAcY9IScJNiATa2sbHxn2yDbfXbIwv8h3xleOiRtN5zzt49e/bu7tk9JlpR+3j+989EB+ZPLd3edISssbO5P4/SPjInAF3e9wGN"
            "KZePKIOWJrIH9vD8DSUM6FEvETl5Jkr0vqmNH/HVARruOP16lzqUAztn3iFz5+GXSImhazsNIA90a0Rl/51gkhqghzxe2453G1W5"
            "fubw3GfzN0PrITIlybn7BK32QuoqqmPhqwwXiQcdfkGyx3obiHx9+/eGiZTQG/RPoiriP9K/iQetURIkBTXbAAsaWfdzwL+LkYjG"
            "MIi1yTTaotpjzuiTp12BooD0zcuqK0rPpsk8vmrbPZV+NnBmYyI/e2ss+1lODEeAdhFdJsMwWVJkS5KSYAgcIwRj2SVoFjIn6Yaw"
            "vUqV3H5yhcgZZggcIwdI6qSll1a8tOnp52KG+FmVf4zz2GNq2wU0pRZ2gmyKS87kOitrxlGq9FqS9Je8RJm7hXM2D1NQW2oCzqRE"
            "4U0sN4y1C15IthjBrSpUeovoqzxM18+ESe75VjvZ2sDdGSWPvyhMRaGiELnCAhNjYlbQiSf0tK33INl7H8/GIR1AxgvRdDCW6/sD"
            "5DhWOk4WonoeOYifdAvAfh2gARHIOgakBv5nYcQFzqoOztbM9D5+O8yKanLAeIWoKMORw9DCYxXgT5U+5YWSL8gQv71P39srh+vQ"
            "SQDLJYDy5wA+M8HBLgJ4fACVEBIObGK6B2B5q+BQa77D2AMwAw2ZdpT1ii3wziu9AlO2YMwQ7w/oEtly9R9ER73PZyVROLo46waO"
            "kWuyOK66UuQO2JOwEgtjUm9xo0o/EgFs2ebAVlmJzfzeOF5bRng0ycpl0Q6yyLdEzOOF+axwh/SpuQoSmMaLW/ipSq+NgaG7+Dz7"
            "+2mydEFIRE13wMnA2lUc12gvdqSn7bwdIvNYSQ/h2RoV/lHpA6uagGWspCNEe6erWfIK1nM9mXZ/u5OkSJ9Xb8TwPbS7PPGy0WaB"
            "+/yGtf7LaSh008BvwWLgDzy8uVewNcZ7hNBlpy4L6h8k6fG2XNydb8KZzJ3HvM4vxOErx3vFdkpPXRGhpewC70faOQWwdfp1oqcH"
            "fs8S/LFg/obmXlXxbYxl7bM8SvLXKtlPE5934sfN48/+9PKsn/krpwGX15a2qGT7EPh+Ml40dpyInqE/yenSSVPSpe0he7SchpBh"
            "vGFo464S/TVmx0rvbtNAfPVEu0bKh7MZxVfa9z/i19o4c1ZHbHWyoxtFgD8SYa/bAQc0Dzmwy/MUVKnCL6URJTOZJPWwsVdDue28"
            "f1tK1watmZkzZE1JwYA1RY7ELJCCfvCcxARtiAGYh3NgQxIT7aquONjav4/iL5ac51hidsZyMcMTyGFiTMxSfEvJ+ewTesU+p7Hc"
            "m8ZYSIqrDCt4E+SKChh7gGfHmUbQi2f1tVrEcn6WWPcPED4X54+kssQTOhgmlmQ4SosZRnQnIs2338MGXzQ0aEKdmtDsbIiGvmsy"
            "AcYRZWMMmcYdAL1cE8Cz0wXEKoikJFm4o4tRaGUqH0HeF5pa6qOHRmnbGF3SILFm3AcecR9FpGYvWa99gddey8DK5zpFKmPMlGGE"
            "AEFbHePHqmM6VbHE+3oIUstvWJ/JwXkHQ9ZBL20ep8gHpDSErF0paRQdl39XUciaessRRscwMswdxzeEDk497uDxcbFmUaiAwFmb"
            "QCphxfl/hCInGb0xxqiSBJry+IFSPaNymlFbHxvwmnu8Tm1C9yKW1j6E3eYtZRPC44M+Z4Kd1I3IZm/zhDhgZfHseJaGPtlShrBm"
            "udDv1+2wt7yQtFWNkIE91x3KInKzWpvp867Qvx5N+IxI7sqFURknlglrxyGa3KRBPk9oFshxDb51AxOGr1nwSj+AnT3LOMr7+FzP"
            "FvYiQiidq7ZSEZ8lTj6NjIMnkGGU7L/H8yJZQtBEZIgWHZObvIb66Xf1MOZUYYRkzuoLAnraSeSgMaS0OOvyoHzc9VKNhkgn9a37"
            "yUXkGDOHda6QPSr51OzFh6q9QrU4VuU0KxapunlIBM1fsfs2HhSlYjh3MBdWK1rTZBxBNG6NwvLayb0XZ63SZrw2LI2jlnvT6a/0"
            "ymOOUB1EcL49YmpDBda4mTywL/NkgtphVJ5xUmbArMNLwURh69vbkLvLPVQepqD3E/TPgp88yFu5gN1bpqDPile6xaa91uvI/ZH4"
            "y906OKPKsCfXMFuxADU+AVZrmKlp4tEMwAPTGuc6hIuRBhioaRLIRrCXriKK2/mV1MD7jFy7l/OVTHWG05a8esgE7DFa5ptZWI6h"
            "YEfZjuIdJTwKeZTzKOq5tN/Ol2Zc7Iv7s0XuHCbHMl9rJl/xLnVwIJdagvgjfa5uDpF0jmhDiP6PGlR+/+7EdI2EpsgeeNzLWDNT"
            "4Clt55PgAP2wI5N0HFP3S2OwVOeh70zR+pkPlq+MRMk8B5zo+JSUu0/FVeUarQkhRXFEs0B0xQSTFNSqbofN48WvohS9X20wbk4X"
            "v0pV0zquaiq0OSAyFdQsXSWDmiuEEOf2UaXmYSC6YkKQFKrNqpm3Kbj7magrRhVPIdSNsa8FbnKg6lq1STOJA+/h7bUJwyiZ7lBT"
            "ZgRw8beAJjbYmdugZ8EGO7Mb5NtjCpLh9ZJePspC+l7uVbzcyVWNHOQrNIx5fEuBPLe/SVsyC+d+9NDYEk+G+xYlpUdyomURqUU9"
            "Iv9HVY4jaMYR55QWFKtHnvgSU8qXoLHdyCfY4s+K3Er5W8en26Z91LTvmf61ERWqCnqlUaxuGqIiP6SthnFw987i7qO486O/nYfk"
            "OfCwl7dsjrpwIK0dI3kUlb/H14Pz19xV0k6WjisrEFVflFhgf7qNX5d3V8wHDxV10Nv0DikpYWMsxoM/em9RbmmufaVhyEK23h1E"
            "Pz4V5kvM59d9t83UeitvoLEl+NuQmcgi97+W6yQ1T+hXuD2KTS4FlBgSJfNoSQfU0ldw0KtWqeKFbrK1wVW6+a5Eo3N2lg7ZiLsV"
            "BE3hFRpzpeYYoiuugLtLHrXHttWZU5ZU3TYlIY9ccpeHqH3I0aBRQ8IyDSFChrsrWWJ1jE6qG0MRjYJ8i96EE2U1EnflX91kHjGN"
            "GtJku1awNrzQRtLaJt0kt/81lY44o2RMI9lyTHG45ct6GBIngY7lZK4Q9a0dOdhBjSxAq/1kHBfXcJyULV/7rufb5ZMcMoWDCnA5"
            "e59KMv+HkkwjubE5JJ8xOKrmGMxpbk0aXhYsvImdic4uSZS+D26Kf4cw7bOshqOMdc8nSc/Kl2Ww0ib9rv8VY5JeWvvTgeMrYvA/"
            "6jbOAA=="
        ),
    },
}
# fmt: on

_GLYPHS: dict = {}


def _glyphs(size: int):
    """{char: (width, advance, alpha rows)} for one font size, decoded on first use."""
    if size not in _GLYPHS:
        font = FONTS[size]
        packed = zlib.decompress(base64.b64decode("".join(font["data"])))
        levels = []
        for byte in packed:
            levels.append(byte >> 4)
            levels.append(byte & 15)
        height = font["height"]
        table = {}
        offset = 0
        for index, (width, advance) in enumerate(font["widths"]):
            cell = levels[offset:offset + width * height]
            offset += width * height
            rows = [[level / 15.0 for level in cell[row * width:(row + 1) * width]] for row in range(height)]
            table[chr(32 + index)] = (width, advance, rows)
        _GLYPHS[size] = table
    return _GLYPHS[size]


def _rgb(color) -> tuple:
    if isinstance(color, str):
        color = color.lstrip("#")
        return tuple(int(color[i:i + 2], 16) for i in (0, 2, 4))
    return tuple(color)


class Canvas:
    """An RGB raster with alpha-blended drawing primitives."""

    def __init__(self, width: int, height: int, background="#ffffff"):
        self.width = width
        self.height = height
        self.pixels = bytearray(_rgb(background) * (width * height))

    # -- primitives ------------------------------------------------------
    def blend(self, x: int, y: int, color, alpha: float) -> None:
        if alpha <= 0 or not (0 <= x < self.width and 0 <= y < self.height):
            return
        alpha = min(alpha, 1.0)
        index = (y * self.width + x) * 3
        pixels = self.pixels
        for channel in range(3):
            pixels[index + channel] = int(round(pixels[index + channel] * (1 - alpha) + color[channel] * alpha))

    def fill_rect(self, x0: int, y0: int, x1: int, y1: int, color) -> None:
        color = _rgb(color)
        for y in range(max(0, y0), min(self.height, y1)):
            for x in range(max(0, x0), min(self.width, x1)):
                index = (y * self.width + x) * 3
                self.pixels[index:index + 3] = bytes(color)

    def hline(self, x0: int, x1: int, y: int, color, dash: int = 0) -> None:
        color = _rgb(color)
        for x in range(min(x0, x1), max(x0, x1) + 1):
            if not dash or (x // dash) % 2 == 0:
                self.blend(x, y, color, 1.0)

    def vline(self, x: int, y0: int, y1: int, color, dash: int = 0) -> None:
        color = _rgb(color)
        for y in range(min(y0, y1), max(y0, y1) + 1):
            if not dash or (y // dash) % 2 == 0:
                self.blend(x, y, color, 1.0)

    def line(self, x0: float, y0: float, x1: float, y1: float, color, width: float = 2.0) -> None:
        """Anti-aliased thick segment: coverage from each pixel centre's distance to the segment."""
        color = _rgb(color)
        radius = width / 2.0
        dx, dy = x1 - x0, y1 - y0
        length_sq = dx * dx + dy * dy or 1e-9
        pad = radius + 1.5
        for y in range(int(math.floor(min(y0, y1) - pad)), int(math.ceil(max(y0, y1) + pad)) + 1):
            # only the columns near the segment on this row
            if abs(dy) > 1e-9:
                t_row = (y - y0) / dy
                x_at = x0 + dx * min(1.0, max(0.0, t_row))
                span = pad * math.hypot(dx, dy) / abs(dy) + 1
                x_lo, x_hi = int(math.floor(x_at - span)), int(math.ceil(x_at + span))
            else:
                x_lo, x_hi = int(math.floor(min(x0, x1) - pad)), int(math.ceil(max(x0, x1) + pad))
            for x in range(x_lo, x_hi + 1):
                t = max(0.0, min(1.0, ((x - x0) * dx + (y - y0) * dy) / length_sq))
                distance = math.hypot(x - (x0 + t * dx), y - (y0 + t * dy))
                self.blend(x, y, color, radius + 0.5 - distance)

    def disc(self, cx: float, cy: float, radius: float, color) -> None:
        color = _rgb(color)
        for y in range(int(cy - radius - 2), int(cy + radius + 3)):
            for x in range(int(cx - radius - 2), int(cx + radius + 3)):
                self.blend(x, y, color, radius + 0.5 - math.hypot(x - cx, y - cy))

    def text_width(self, text: str, size: int = 12) -> int:
        glyphs = _glyphs(size)
        return sum(glyphs.get(char, glyphs["?"])[1] for char in text)

    def text(self, x: float, y: float, text: str, size: int = 12, color="#000000", align: str = "left",
             valign: str = "top", rotate: bool = False) -> None:
        """Draw ``text``; (x, y) is the anchor given by ``align``/``valign``. ``rotate``: 90 degrees ccw."""
        color = _rgb(color)
        glyphs = _glyphs(size)
        height = FONTS[size]["height"]
        width = self.text_width(text, size)
        along = {"left": 0, "center": width / 2.0, "right": width}[align]
        across = {"top": 0, "middle": height / 2.0, "bottom": height}[valign]
        # Snap the anchor once, so every glyph row and column lands on its own pixel.
        if rotate:
            base_x, base_y = int(math.floor(x - across + 0.5)), int(math.floor(y + along + 0.5))
        else:
            base_x, base_y = int(math.floor(x - along + 0.5)), int(math.floor(y - across + 0.5))
        pen = 0
        for char in text:
            advance, rows = glyphs.get(char, glyphs["?"])[1:]
            for row_index, row in enumerate(rows):
                for col_index, alpha in enumerate(row):
                    if not alpha:
                        continue
                    if rotate:
                        self.blend(base_x + row_index, base_y - pen - col_index, color, alpha)
                    else:
                        self.blend(base_x + pen + col_index, base_y + row_index, color, alpha)
            pen += advance

    # -- output ----------------------------------------------------------
    def png_bytes(self) -> bytes:
        stride = self.width * 3
        raw = b"".join(b"\x00" + bytes(self.pixels[row * stride:(row + 1) * stride]) for row in range(self.height))

        def chunk(kind: bytes, payload: bytes) -> bytes:
            return (struct.pack(">I", len(payload)) + kind + payload
                    + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
                + chunk(b"IEND", b""))

    def save(self, path) -> None:
        with open(path, "wb") as handle:
            handle.write(self.png_bytes())


def _format_seconds(value: float) -> str:
    if value >= 1:
        return "{0:g} s".format(value)
    return "{0:g} ms".format(value * 1000)


def _decades(low: float, high: float):
    return range(int(math.floor(math.log10(low))), int(math.ceil(math.log10(high))) + 1)


def render_loglog_panels(path, panels, styles, title: str, subtitle: str = "", columns: int = 3,
                         panel_size=(430, 330), x_label: str = "N (secrets)", y_label: str = "wall time") -> None:
    """Write a PNG of log-log panels.

    :param panels: ``[{"title": str, "series": {name: [(x, y), ...]}}]``; y in seconds.
    :param styles: ``{name: {"color": "#rrggbb", "label": str}}``, legend order.
    """
    columns = max(1, min(columns, len(panels)))
    rows = int(math.ceil(len(panels) / float(columns)))
    panel_w, panel_h = panel_size
    top, legend_h = 58 if subtitle else 40, 34
    width = columns * panel_w + 20
    height = top + rows * panel_h + legend_h + 10
    canvas = Canvas(width, height)
    canvas.text(width / 2.0, 10, title, size=15, align="center")
    if subtitle:
        canvas.text(width / 2.0, 32, subtitle, size=12, color="#444444", align="center")

    xs = [x for panel in panels for points in panel["series"].values() for x, _y in points if x > 0]
    ys = [y for panel in panels for points in panel["series"].values() for _x, y in points if y > 0]
    if not xs or not ys:
        xs, ys = [10, 1000], [0.1, 10]
    x_lo, x_hi = min(xs) / 1.5, max(xs) * 1.5
    y_lo, y_hi = 10 ** math.floor(math.log10(min(ys))), 10 ** math.ceil(math.log10(max(ys)))

    for index, panel in enumerate(panels):
        origin_x = 10 + (index % columns) * panel_w
        origin_y = top + (index // columns) * panel_h
        left, right = origin_x + 62, origin_x + panel_w - 14
        upper, lower = origin_y + 24, origin_y + panel_h - 44

        def px(value, left=left, right=right):
            return left + (math.log10(value) - math.log10(x_lo)) / (math.log10(x_hi) - math.log10(x_lo)) * (right - left)

        def py(value, upper=upper, lower=lower):
            return lower - (math.log10(value) - math.log10(y_lo)) / (math.log10(y_hi) - math.log10(y_lo)) * (lower - upper)

        canvas.text((left + right) / 2.0, origin_y + 4, panel["title"], size=12, align="center")
        for decade in _decades(y_lo, y_hi):
            for mantissa in (1, 2, 5):
                value = mantissa * 10 ** decade
                if not y_lo <= value <= y_hi:
                    continue
                y = int(round(py(value)))
                canvas.hline(left, right, y, "#d8d8d8" if mantissa == 1 else "#eeeeee", dash=0 if mantissa == 1 else 3)
                if mantissa == 1:
                    canvas.text(left - 6, y, _format_seconds(value), size=12, color="#333333", align="right",
                                valign="middle")
        for decade in _decades(x_lo, x_hi):
            value = 10 ** decade
            if not x_lo <= value <= x_hi:
                continue
            x = int(round(px(value)))
            canvas.vline(x, upper, lower, "#d8d8d8")
            canvas.text(x, lower + 6, "{0:g}".format(value), size=12, color="#333333", align="center")
        canvas.hline(left, right, lower, "#555555")
        canvas.vline(left, upper, lower, "#555555")
        canvas.text((left + right) / 2.0, lower + 24, x_label, size=12, color="#333333", align="center")
        canvas.text(origin_x + 4, (upper + lower) / 2.0, y_label, size=12, color="#333333", align="center",
                    rotate=True)
        for name, style in styles.items():
            points = sorted((x, y) for x, y in panel["series"].get(name, []) if x > 0 and y > 0)
            color = style["color"]
            for (xa, ya), (xb, yb) in zip(points, points[1:]):
                canvas.line(px(xa), py(ya), px(xb), py(yb), color, width=2.2)
            for x, y in points:
                canvas.disc(px(x), py(y), 3.6, color)

    # legend, centred under the panels
    entries = [(style["color"], style.get("label", name)) for name, style in styles.items()]
    total = sum(34 + canvas.text_width(label) + 24 for _color, label in entries)
    x = (width - total) / 2.0
    y = top + rows * panel_h + legend_h / 2.0
    for color, label in entries:
        canvas.line(x, y, x + 26, y, color, width=2.2)
        canvas.disc(x + 13, y, 3.6, color)
        canvas.text(x + 34, y, label, size=12, align="left", valign="middle")
        x += 34 + canvas.text_width(label) + 24
    canvas.save(path)

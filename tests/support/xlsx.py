"""Reading an XLSX the way a person's spreadsheet program lays it out: which cells hold values
and where each chart is anchored, per sheet."""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree

NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
}


@dataclass(frozen=True)
class Anchor:
    from_col: int
    from_row: int
    to_col: int
    to_row: int

    def covers(self, col: int, row: int) -> bool:
        return self.from_col <= col <= self.to_col and self.from_row <= row <= self.to_row


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _rels(book: zipfile.ZipFile, part: str) -> dict[str, str]:
    folder, name = posixpath.split(part)
    path = posixpath.join(folder, "_rels", name + ".rels")
    if path not in book.namelist():
        return {}
    root = ElementTree.fromstring(book.read(path))
    return {
        r.get("Id", ""): posixpath.normpath(posixpath.join(folder, r.get("Target", "")))
        for r in root.findall("rel:Relationship", NS)
    }


def sheets(body: bytes) -> dict[str, tuple[set[tuple[int, int]], list[Anchor], str]]:
    """Sheet name -> (cells with a value as (col, row), chart anchors, the sheet's XML)."""
    book = zipfile.ZipFile(io.BytesIO(body))
    workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
    targets = _rels(book, "xl/workbook.xml")
    out = {}
    for sheet in workbook.findall("m:sheets/m:sheet", NS):
        part = targets[sheet.get(f"{{{NS['r']}}}id", "")]
        xml = book.read(part).decode()
        root = ElementTree.fromstring(xml)
        cells = set()
        for c in root.iter(f"{{{NS['m']}}}c"):
            if c.find("m:v", NS) is None and c.find("m:is", NS) is None:
                continue
            m = re.fullmatch(r"([A-Z]+)(\d+)", c.get("r", ""))
            assert m
            cells.add((_col_index(m.group(1)), int(m.group(2)) - 1))
        anchors = []
        for target in _rels(book, part).values():
            if "/drawings/" not in target:
                continue
            drawing = ElementTree.fromstring(book.read(target))
            for a in drawing.findall("xdr:twoCellAnchor", NS):
                f, t = a.find("xdr:from", NS), a.find("xdr:to", NS)
                assert f is not None and t is not None
                anchors.append(
                    Anchor(
                        int(f.findtext("xdr:col", "0", NS)),
                        int(f.findtext("xdr:row", "0", NS)),
                        int(t.findtext("xdr:col", "0", NS)),
                        int(t.findtext("xdr:row", "0", NS)),
                    )
                )
        out[sheet.get("name", "")] = (cells, anchors, xml)
    return out


def charts_over_cells(body: bytes) -> list[tuple[str, Anchor, tuple[int, int]]]:
    """Every (sheet, chart anchor, cell) where a chart covers a cell holding a value."""
    found = []
    for name, (cells, anchors, _) in sheets(body).items():
        for anchor in anchors:
            found += [(name, anchor, cell) for cell in sorted(cells) if anchor.covers(*cell)]
    return found

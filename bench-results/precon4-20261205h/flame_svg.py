"""A flame graph (SVG) from py-spy's raw output (collapsed stacks, `frame;frame;... count`), for
the engine's profiles this folder's runs took in that format. Frames are merged by name without
their line numbers. python flame_svg.py STACKS.txt OUT.svg [TITLE]"""

from __future__ import annotations

import html
import re
import sys

WIDTH, ROW, MIN_PX = 1600.0, 16, 0.3


def main() -> None:
    src, dst = sys.argv[1], sys.argv[2]
    title = sys.argv[3] if len(sys.argv) > 3 else src
    tree: dict = {"n": 0, "kids": {}}
    for line in open(src):
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack:
            continue
        n = int(count)
        node = tree
        node["n"] += n
        for frame in stack.split(";"):
            name = re.sub(r":\d+\)", ")", frame)
            node = node["kids"].setdefault(name, {"n": 0, "kids": {}})
            node["n"] += n
    total = tree["n"]
    scale = WIDTH / total
    rects: list[str] = []
    depth_max = 0

    def walk(node: dict, x: float, depth: int) -> None:
        nonlocal depth_max
        for name, kid in sorted(node["kids"].items()):
            w = kid["n"] * scale
            if w >= MIN_PX:
                depth_max = max(depth_max, depth)
                y = depth * ROW
                hue = 20 + (hash(name.split(" (")[-1]) % 40)
                label = html.escape(name if w > 60 else "")
                pct = 100 * kid["n"] / total
                rects.append(
                    f'<g><title>{html.escape(name)} ({kid["n"]} samples, {pct:.1f} %)</title>'
                    f'<rect x="{x:.1f}" y="{{Y{y}}}" width="{w:.1f}" height="{ROW - 1}" '
                    f'fill="hsl({hue},80%,60%)"/>'
                    f'<text x="{x + 2:.1f}" y="{{T{y}}}" font-size="11" '
                    f'clip-path="inset(0 0 0 0)">{label[: int(w / 6.5)]}</text></g>'
                )
                walk(kid, x, depth + 1)
            x += w

    walk(tree, 0.0, 0)
    height = (depth_max + 3) * ROW
    body = "\n".join(rects)
    # Root at the bottom, as flame graphs are drawn.
    body = re.sub(r"\{Y(\d+)\}", lambda m: str(height - ROW - int(m.group(1))), body)
    body = re.sub(r"\{T(\d+)\}", lambda m: str(height - 4 - int(m.group(1))), body)
    with open(dst, "w") as out:
        out.write(
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH:.0f}" height="{height + 20}" '
            f'font-family="monospace"><text x="4" y="14" font-size="13">'
            f"{html.escape(title)} — {total} samples (hover a frame)</text>"
            f'<g transform="translate(0,20)">{body}</g></svg>\n'
        )


if __name__ == "__main__":
    main()

"""Making a chart fit inside a Teams message, which carries images inline and tops out near 28 KB."""

from __future__ import annotations

import io

from PIL import Image

MIN_WIDTH = 240


def fit_png(png: bytes, max_bytes: int) -> bytes | None:
    """The PNG, re-encoded with a small palette and shrunk until it is at most `max_bytes`; None
    if even a small version does not fit (the card's figures stand on their own)."""
    if max_bytes <= 0:
        return None
    if len(png) <= max_bytes:
        return png
    with Image.open(io.BytesIO(png)) as source:
        image = source.convert("RGB")
    while image.width >= MIN_WIDTH:
        # Charts are flat colours: 32 of them lose nothing a reader would notice.
        out = io.BytesIO()
        image.quantize(colors=32).save(out, format="PNG", optimize=True)
        if out.tell() <= max_bytes:
            return out.getvalue()
        image = image.resize((image.width * 3 // 4, image.height * 3 // 4), Image.Resampling.LANCZOS)
    return None

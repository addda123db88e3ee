import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
import numpy as np
import segno
import zxingcpp
from PIL import Image, ImageOps

from hallmark.art import ItemSpec, format_serial, fuhu_traits, image_sha256, render_item, render_preview
from hallmark.art.render import ART_BOX, CARD, QR_BOX

ADDRESS = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
BACKEND = Path(__file__).resolve().parents[2] / "backend"


def spec(serial=88, **kw):
    fields = dict(drop_name="Fuhu 2022", issuer="Demo Bank", edition_size=10000, serial=serial,
                  contract_address=ADDRESS, verify_url=f"https://verify.hallmark.example/v/{ADDRESS}/{serial}")
    fields.update(kw)
    return ItemSpec(**fields)


def open_png(png):
    img = Image.open(io.BytesIO(png))
    img.load()
    return img


def image_bytes(fmt, size=(300, 200)):
    img = Image.new("RGB", size, (220, 30, 30))
    img.paste((30, 30, 220), (size[0] // 2 - 20, size[1] // 2 - 20, size[0] // 2 + 20, size[1] // 2 + 20))
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def test_render_is_deterministic_within_and_across_processes():
    png = render_item(spec())
    assert render_item(spec()) == png
    # A fresh interpreter (cold caches, different hash seed) must produce the same bytes.
    code = ("import sys; from hallmark.art import ItemSpec, image_sha256, render_item; a = sys.argv[1:]; "
            "print(image_sha256(render_item(ItemSpec(a[0], a[1], int(a[2]), int(a[3]), a[4], a[5]))).hex())")
    s = spec()
    out = subprocess.run(
        [sys.executable, "-c", code, s.drop_name, s.issuer, str(s.edition_size), str(s.serial),
         s.contract_address, s.verify_url],
        env={**os.environ, "PYTHONPATH": str(BACKEND), "PYTHONHASHSEED": "12345"},
        capture_output=True, text=True, check=True,
    )
    assert out.stdout.strip() == image_sha256(png).hex()


def test_distinct_serials_and_seeds_give_distinct_images():
    pngs = {render_item(spec(n)) for n in (1, 2, 88, 500, 10000)}
    assert len(pngs) == 5
    assert render_item(spec(88, seed="a")) != render_item(spec(88, seed="b"))


def test_image_sha256():
    png = render_item(spec())
    assert image_sha256(png) == hashlib.sha256(png).digest()
    assert len(image_sha256(png)) == 32


def test_png_opens_at_expected_size_without_metadata():
    img = open_png(render_item(spec()))
    assert (img.format, img.size, img.mode) == ("PNG", (CARD, CARD), "RGB")
    assert img.info == {}
    preview = open_png(render_preview(spec(), size=200))
    assert preview.size == (200, 200)
    assert render_preview(spec()) == render_preview(spec())


def test_traits_are_deterministic_and_varied():
    assert fuhu_traits(88, "drop") == fuhu_traits(88, "drop")
    all_traits = [fuhu_traits(n, "drop") for n in range(1, 501)]
    names = set(all_traits[0])
    assert {"Background", "Pattern", "Stripes", "Eyes", "Accessory", "Rarity", "Fur"} <= names
    for name in names:
        assert all(set(t) == names for t in all_traits)
        assert len({t[name] for t in all_traits}) > 1, name
    assert [fuhu_traits(n, "a") for n in range(1, 50)] != [fuhu_traits(n, "b") for n in range(1, 50)]


@pytest.mark.parametrize("serial, edition, text", [
    (88, 10000, "No. 0088 / 10000"),
    (7, 50, "No. 0007 / 50"),
    (10000, 10000, "No. 10000 / 10000"),
    (42, 200000, "No. 000042 / 200000"),
])
def test_format_serial(serial, edition, text):
    assert format_serial(serial, edition) == text


@pytest.mark.parametrize("version", [2, 3])
def test_qr_region_encodes_verify_url(version):
    url = spec().verify_url
    card = open_png(render_item(spec(render_version=version)))
    assert [found.text for found in zxingcpp.read_barcodes(card)] == [url]  # what a phone reads
    x0, y0, x1, y1 = QR_BOX
    qr = card.crop((x0 + 6, y0 + 6, x1 - 6, y1 - 6)).convert("L")  # skip rounded corners
    lo, hi = qr.getextrema()
    assert lo < 60 and hi > 200  # both dark and light modules

    # Read the module grid back: the dark bounding box spans exactly n modules of the encoder's symbol.
    if version == 2:
        matrix = segno.make(url, error="m", micro=False).matrix
    else:
        symbol = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
        matrix = (np.asarray(symbol.to_image(scale=1, add_quiet_zones=False)) < 128).astype(int).tolist()
    n = len(matrix)
    x0, y0, x1, y1 = ImageOps.invert(qr.point(lambda v: 255 if v > 128 else 0)).getbbox()
    step = (x1 - x0) / n
    assert step >= 3  # large enough to scan from a screen or print
    grid = [[int(qr.getpixel((int(x0 + (c + 0.5) * step), int(y0 + (r + 0.5) * step))) < 128)
             for c in range(n)] for r in range(n)]
    assert grid == [list(row) for row in matrix]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_uploaded_base_image(fmt):
    s = spec(artwork="image", base_image=image_bytes(fmt))
    png = render_item(s)
    assert png == render_item(s)
    img = open_png(png)
    assert img.size == (CARD, CARD)
    cx, cy = (ART_BOX[0] + ART_BOX[2]) // 2, (ART_BOX[1] + ART_BOX[3]) // 2
    r, g, b = img.getpixel((cx, cy))
    assert b > 150 and r < 100  # centre of the uploaded art is its blue square
    r, g, b = img.getpixel((cx - 100, cy))
    assert r > 150 and b < 100
    assert render_item(spec(2, artwork="image", base_image=image_bytes(fmt))) != png


@pytest.mark.parametrize("data", [b"not an image", image_bytes("PNG")[:100], image_bytes("GIF")])
def test_invalid_base_image_raises_value_error(data):
    with pytest.raises(ValueError, match="base_image"):
        render_item(spec(artwork="image", base_image=data))


def test_missing_base_image_raises_value_error():
    with pytest.raises(ValueError, match="base_image"):
        render_item(spec(artwork="image"))


@pytest.mark.parametrize("bad", [
    dict(serial=0), dict(serial=10001), dict(contract_address="0x1234"), dict(artwork="svg"), dict(verify_url=""),
])
def test_invalid_spec_raises_value_error(bad):
    with pytest.raises(ValueError):
        render_item(spec(**bad))


@pytest.mark.parametrize("name", ["福虎 2022", "A very long drop name that will never fit on one line of the card"])
def test_awkward_drop_names_render(name):
    assert open_png(render_item(spec(drop_name=name, issuer="微众银行 WeBank"))).size == (CARD, CARD)

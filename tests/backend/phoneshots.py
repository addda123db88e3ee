"""Phone screenshots of a card, made from the app's own current render (backend and e2e photo-check tests)."""
import io

from PIL import Image, ImageDraw

STATUS_BAR = 72


def phone_screenshot(card_png: bytes, width: int = 900, quality: int = 85) -> bytes:
    """A 1080x1920 page as a phone screenshots it: status bar, app text above and below, the card at `width`."""
    page = Image.new("RGB", (1080, 1920), (246, 246, 248))
    d = ImageDraw.Draw(page)
    d.rectangle((0, 0, 1079, STATUS_BAR), fill=(18, 18, 20))
    d.text((40, 22), "9:41", fill=(255, 255, 255), font_size=30)
    d.text((860, 22), "5G  87%", fill=(255, 255, 255), font_size=30)
    d.text((90, 180), "My collectibles", fill=(20, 20, 20), font_size=48)
    d.text((90, 250), "Tap the card to share it", fill=(110, 110, 120), font_size=28)
    shown = Image.open(io.BytesIO(card_png)).convert("RGB").resize((width, width), Image.Resampling.LANCZOS)
    page.paste(shown, ((1080 - width) // 2, 360))
    d.rounded_rectangle((90, 1380, 990, 1480), radius=24, fill=(210, 40, 50))
    d.text((430, 1410), "Share", fill=(255, 255, 255), font_size=36)
    out = io.BytesIO()
    page.save(out, "JPEG", quality=quality)
    return out.getvalue()


def tampered(card_png: bytes) -> bytes:
    """The genuine card (its QR code untouched) with the serial line painted over and rewritten."""
    img = Image.open(io.BytesIO(card_png)).convert("RGB")
    d = ImageDraw.Draw(img)
    d.rectangle((28, 544, 330, 584), fill=img.getpixel((300, 590)))
    d.text((30, 546), "No. 0007 / 10", fill=(230, 190, 90), font_size=30)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()

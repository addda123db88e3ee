"""Artwork for Hallmark collectibles: deterministic PNG cards per item."""

from .fuhu import fuhu_traits
from .render import ItemSpec, format_serial, image_sha256, render_item, render_preview

__all__ = ["ItemSpec", "format_serial", "fuhu_traits", "image_sha256", "render_item", "render_preview"]

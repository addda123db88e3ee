"""Imported once by the render forkserver (hallmark.art.batch) and by nothing else: it draws every art layer and
opens the card font, so each render process forked from that server starts warm instead of spending seconds
drawing the same sprites as the others."""
from .cardfont import card_font
from .fuhu import warm_caches
from .render import ART_BOX

warm_caches((ART_BOX[2] - ART_BOX[0], ART_BOX[3] - ART_BOX[1]))
for size in (15, 18, 28, 30):  # the panel's line sizes (render version 2 and 3)
    card_font(size)

"""Imported once by the render forkserver (hallmark.art.batch) and by nothing else: it makes every art layer (the
tigers read from the layer cache when an earlier start stored them) and opens the card font, so each render process
forked from that server starts warm instead of spending seconds drawing the same sprites as the others. It also makes
one whole record (card, PNG, fingerprints, metadata): what is set up on a first record took each process 0.3 s, now
0.06."""
from .cardfont import card_font
from .content import DropContent
from .fuhu import warm_caches
from .render import ART_BOX

warm_caches((ART_BOX[2] - ART_BOX[0], ART_BOX[3] - ART_BOX[1]))
for size in (15, 18, 28, 30):  # the panel's line sizes (render version 2 and 3)
    card_font(size)
DropContent(name="福虎", description="", issuer="银行", edition_size=1, contract_address="0x" + "0" * 40,
            public_base_url="http://127.0.0.1").record(1)

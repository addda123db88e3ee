"""Drop fields printed on (or published with) the cards: refused when the card font cannot draw a character,
which would otherwise print as a box on every card and be committed on chain that way."""
from __future__ import annotations

from marshmallow import ValidationError, validate

from ..art.cardfont import glyph_error, missing_glyph


class CardGlyphs(validate.Validator):
    def __call__(self, value: str) -> str:
        if (ch := missing_glyph(value)) is not None:
            raise ValidationError(glyph_error(ch))
        return value

"""The pages people see, from frontend/: the customers' verify, claim, wallet and ownership-proof pages and the
staff console. Jinja renders each page's static text in the visitor's language (the `lang` cookie the language
switch sets beside localStorage; Chinese by default) so nothing flashes; ES modules in frontend/static/js then
call the API and can switch the language in place."""
from __future__ import annotations

import json
import re

from flask import Blueprint, make_response, redirect, render_template, request, send_from_directory
from markupsafe import Markup

from ..config import ROOT
from ..access.permissions import KEY_SCOPES, ROLES, public
from .chaincheck import browser_chain, rpc_origin

FRONTEND = ROOT / "frontend"
STATIC = FRONTEND / "static"
LANGS = ("zh", "en")
HTML_LANG = {"zh": "zh-CN", "en": "en"}
# pages run only our own scripts; no framing, so nobody can overlay the ownership proof or the console
CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")

bp = Blueprint("pages", __name__, template_folder=str(FRONTEND / "templates"))


def strings(lang: str) -> dict[str, str]:
    """The dictionary the browser also fetches when the language is switched (read per request: a few KB)."""
    return json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))


def page(template: str, *, connect_src: str | None = None, **context):
    """connect_src: one more origin the page's scripts may call (the verify page's public JSON-RPC endpoint)."""
    lang = request.cookies.get("lang")
    lang = lang if lang in LANGS else LANGS[0]
    words = strings(lang)
    html = render_template(template, lang=lang, html_lang=HTML_LANG[lang], strings=words,
                           t=lambda key: words.get(key, key), attr=_attr(words), **context)
    response = make_response(html)
    response.headers["Content-Security-Policy"] = CSP + (f"; connect-src 'self' {connect_src}" if connect_src else "")
    response.headers["Referrer-Policy"] = "no-referrer"  # e.g. an old claim link's ?code= never travels on
    return response


def _attr(words: dict[str, str]):
    """`{{ attr("placeholder", "key") }}` -> placeholder="..." data-i18n-placeholder="key" (switchable later)."""
    def render(name: str, key: str) -> Markup:
        return Markup('{0}="{1}" data-i18n-{0}="{2}"').format(name, words.get(key, key), key)
    return render


@bp.get("/")
@public
def home():
    return redirect("/verify")


@bp.get("/verify")
@public
def search():
    return page("search.html")


@bp.get("/v/<string:address>/<uint256:serial>")
@public
def verify(address, serial):
    """What an item's QR code opens."""
    if not re.fullmatch(r"0x[0-9a-fA-F]{40}", address):
        return page("search.html", bad_code=f"/v/{address}/{serial}"), 404
    chain = browser_chain()
    return page("verify.html", address=address, serial=serial, chain=chain, connect_src=rpc_origin(chain["rpc_url"]))


@bp.get("/claim")
@public
def claim():
    return page("claim.html")


@bp.get("/wallet")
@public
def wallet():
    return page("wallet.html")


@bp.get("/holdings")
@public
def holdings():
    """A custodial customer's items; the bank's app opens it with the customer assertion in the fragment."""
    return page("holdings.html")


@bp.get("/prove")
@public
def prove():
    return page("prove.html")


@bp.get("/console")
@public
def console():
    return page("console.html", roles=list(ROLES), key_scopes=KEY_SCOPES)  # the staff and key forms' choices


@bp.get("/static/<path:filename>")
@public
def static(filename):
    # revalidated on every load (ETag), so a deployment is picked up at once without versioned file names
    return send_from_directory(STATIC, filename, max_age=0)

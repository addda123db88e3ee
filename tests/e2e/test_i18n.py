"""The zh and en dictionaries match each other and the pages: every key a template or script uses exists in
both, with the same {placeholders}, and no key is left unused. (No browser needed.)"""
import json
import re

from hallmark.access.permissions import PERMISSIONS

from hallmark.api.pages import FRONTEND, STATIC
from hallmark.verify.vocabulary import REASONS, VERDICTS

LITERAL = re.compile(r"""["']([a-z_]+(?:\.[a-z_]+)+)["']""")
# a key a template or script completes from a value: t("audit.col_" ~ col) in Jinja, `role.${role}` in JS
PREFIX = re.compile(r"""["'`]([a-z_]+\.(?:[a-z_]+\.)*[a-z_]*)(?:["']\s*~|\$\{)""")
BLOCK_KEY = re.compile(r"\{% block \w+_key %\}([\w.]+)\{% endblock %\}")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# keys the scripts build from API values (`policy.${p.name}`, ...), and the verdict vocabulary the API says
BUILT = (
    [f"verdict.{v}" for v in VERDICTS] + [f"verdict.{v}.sub" for v in VERDICTS] + ["verdict.bank"]
    + [f"reason.{code}" for code in REASONS]
    + [f"policy.{p}" for p in ("transferable", "soulbound", "holding_period")]
    + [f"history.{kind}" for kind in ("mint", "transfer", "burn")]
    + [f"status.{s}" for s in ("rendering", "deploying", "live", "failed", "paused")]
    + [f"build.{s}" for s in ("rendering", "deploying", "live", "failed")]
    + [f"source.{s}" for s in ("airdrop", "claim", "single")]
)


def dictionary(lang):
    return json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))


def used_keys(namespaces, dictionary_keys):
    """Keys the pages use, including every key under a prefix a template or script completes from a value;
    permission names (`permissions.may("audit.read")`) are not strings to translate."""
    keys, prefixes = set(BUILT), set()
    for path in [*FRONTEND.joinpath("templates").glob("*.html"), *STATIC.joinpath("js").rglob("*.js")]:
        text = path.read_text(encoding="utf-8")
        prefixes |= {p for p in PREFIX.findall(text) if p.split(".")[0] in namespaces}
        keys |= {k for k in LITERAL.findall(text) if k.split(".")[0] in namespaces and k not in PERMISSIONS}
        keys |= set(BLOCK_KEY.findall(text))
    keys -= prefixes  # "audit.col_" itself is no key
    return keys | {k for k in dictionary_keys if k.startswith(tuple(prefixes))}


def test_dictionaries_cover_the_pages_and_each_other():
    zh, en = dictionary("zh"), dictionary("en")
    assert zh.keys() == en.keys(), set(zh) ^ set(en)
    for key in zh:
        assert set(PLACEHOLDER.findall(zh[key])) == set(PLACEHOLDER.findall(en[key])), key
    used = used_keys({k.split(".")[0] for k in zh}, zh.keys())
    assert not used - zh.keys(), f"missing translations: {sorted(used - zh.keys())}"
    assert not zh.keys() - used, f"unused translations: {sorted(zh.keys() - used)}"

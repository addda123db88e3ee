"""`hallmark demo seed`: what `make run` runs after the demo drop is created, and the table it prints."""
from __future__ import annotations

from pathlib import Path

import click

from .. import config
from ..security.files import open_private

# (verdict code, item key in the seed's record or None, Chinese, English): one row per thing to open
ROWS = (
    ("genuine", "genuine", "真品，持有在钱包中", "genuine, held in a wallet"),
    ("genuine", "custodial", "真品，由银行代管", "genuine, held in custody for a customer"),
    ("genuine", "redeemed", "真品，权益已兑换", "genuine, its perk redeemed"),
    ("genuine", "locked", "真品，持有期内不可转让", "genuine, locked in its holding period"),
    ("burned", "burned", "真品，但已销毁", "genuine but burned"),
    ("not_issued", None, "尚未发行", "not issued yet"),
    ("lookalike", None, "仿冒合约（模仿官方藏品）", "a lookalike imitating the official drop"),
    ("no_contract", None, "该地址没有合约", "no contract at this address"),
)


def verify_links(seed: dict, base: str) -> list[tuple[str, str, str, str]]:
    """(verdict code, zh, en, verify URL) for every row of the table."""
    serials = {**seed["items"], "not_issued": seed["not_issued"]}
    contracts = {"locked": seed["locked_contract"], "lookalike": seed["lookalike"], "no_contract": seed["no_contract"]}
    links = []
    for code, item, zh, en in ROWS:
        key = item or code
        serial = 1 if key in ("lookalike", "no_contract") else serials[key]
        links.append((code, zh, en, f"{base}/v/{contracts.get(key, seed['contract'])}/{serial}"))
    return links


def table(seed: dict, base: str, customer_token: str) -> str:
    lines = [f"演示数据 / demo data: {seed['name']} ({seed['drop']})", "",
             "验证结论 / verdicts — 打开链接 / open the link:"]
    lines += [f"{code:<12} {url}\n{'':13}{zh} / {en}" for code, zh, en, url in verify_links(seed, base)]
    lines += [
        "", "钱包页面 / a demo wallet:",
        f"  {base}/wallet?address={seed['wallets'][0]}",
        "", f"代管客户的藏品 / the custodial customer's items ({seed['customer']}; 链接 10 分钟内有效 / valid 10 minutes):",
        f"  {base}/holdings#customer={customer_token}",
        f"  新链接 / a new one: {base}/holdings#customer=$(hallmark customer-token --minutes 10 {seed['customer']})",
        "", "领取页面 / the claim page:",
        f"  {base}/claim",
        f"  未使用的领取码 / unused claim codes: {seed['codes_file']}",
    ]
    return "\n".join(lines) + "\n"


@click.group()
def demo():
    """The demo data of `make run`."""


@demo.command("seed")
@click.option("--drop", "slug", default="fuhu-demo", show_default=True, help="the demo drop (its slug)")
@click.option("--out", "out", metavar="FILE", help="also write the table here (default: <data>/demo.txt)")
def seed_command(slug, out):
    """Mint, redeem, burn and imitate on the local chain until every verdict can be seen, then print where.

    Runs once per data folder: later runs only print the table again (with a fresh customer link)."""
    from ..cli.backend import Backend
    from ..security import assertions
    from . import seed

    with Backend() as backend:
        done = seed.finished(backend.db)
        if done is None:
            click.echo(f"seeding the demo on drop '{slug}' (about a minute)")
            done = seed.Seeder(backend, slug).run()
        settings = backend.app.config
        key = assertions.load_key(settings["CUSTOMER_ASSERTION_KEY"], settings["DATA_DIR"])
        token = assertions.sign(done["customer"], key, lifetime=assertions.MAX_LIFETIME)
        text = table(done, settings["PUBLIC_BASE_URL"], token)
    path = Path(out) if out else config.data_dir() / "demo.txt"
    with open_private(path, "w") as fh:
        fh.write(text)
    click.echo(text + f"(also in {path})")


def register(group: click.Group) -> None:
    group.add_command(demo)

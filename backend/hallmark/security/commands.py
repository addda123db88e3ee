"""`hallmark customer-token`: the demo's stand-in for the bank's own signer of customer assertions."""
from __future__ import annotations

from urllib.parse import quote

import click

from .. import config
from . import assertions


@click.command("customer-token")
@click.argument("customer_id")
@click.option("--minutes", default=5, show_default=True, type=click.IntRange(1, assertions.MAX_LIFETIME // 60),
              help="how long the token is valid")
@click.option("--code", metavar="CODE", help="also print the claim link a bank's app would open for this code")
def customer_token(customer_id, minutes, code):
    """Sign a customer assertion for CUSTOMER_ID, as the bank's systems do once they have authenticated the
    customer (with HALLMARK_CUSTOMER_ASSERTION_KEY, else the data folder's keys/customer-assertion.key).

    A claim to a custodial address is accepted only with such a token; with --code this prints the claim link
    (the code and the token in the URL fragment, which browsers never send to a server)."""
    settings = config.Config()
    try:
        key = assertions.load_key(settings.CUSTOMER_ASSERTION_KEY, settings.DATA_DIR)
        token = assertions.sign(customer_id, key, lifetime=minutes * 60)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if code:
        click.echo(f"{settings.PUBLIC_BASE_URL}/claim#code={quote(code.strip())}&customer={token}")
    else:
        click.echo(token)


def register(group: click.Group) -> None:
    group.add_command(customer_token)

"""A node's JSON-RPC as the senders (the issuer's Sender, custodial withdrawals) use it, and what its answers mean:
receipts, the outcome of a transaction, its refusals, and the errors that say the node did not answer (which decide
nothing)."""
from __future__ import annotations

from dataclasses import dataclass

from requests.exceptions import ConnectionError as RequestsConnectionError, Timeout
from web3 import Web3

TRANSIENT = (RequestsConnectionError, Timeout, ConnectionError, TimeoutError)


class NodeUnavailable(Exception):
    """The node did not answer: nothing about any transaction can be decided from that."""


@dataclass(frozen=True)
class Receipt:
    """The parts of a receipt callers use, read from the raw JSON: web3's formatting of a 500-log receipt costs
    ten times the RPC call itself."""

    tx_hash: str
    status: int
    block_number: int
    block_hash: str
    gas_used: int
    logs: list[dict]  # raw: hex strings, topics as 0x-prefixed hex

    @classmethod
    def from_json(cls, raw: dict) -> "Receipt":
        return cls(raw["transactionHash"], int(raw["status"], 16), int(raw["blockNumber"], 16), raw["blockHash"],
                   int(raw["gasUsed"], 16), raw["logs"])


@dataclass(frozen=True)
class Settled:
    """A transaction whose fate the chain has decided: mined (receipt.status 1), reverted, or replaced (receipt
    None: its nonce was taken by a transaction that is none of its attempts)."""

    tx_id: int
    purpose: str
    receipt: Receipt | None


def classify(message: str) -> str:
    """What a node's refusal of eth_sendRawTransaction means (Geth, Ganache, Anvil and others word them apart)."""
    text = message.lower()
    if "already known" in text or "known transaction" in text or "already imported" in text:
        return "known"
    if "nonce" in text and ("too low" in text or "correct nonce" in text):
        return "nonce_used"  # mined already (its receipt will show), or taken by another transaction
    if "replacement" in text and "underpriced" in text:
        return "replacement_underpriced"  # an attempt of this nonce with a higher fee is in the pool
    if "underpriced" in text or "base fee" in text or "fee cap" in text or "feecap" in text:
        return "underpriced"
    return "refused"


class Node:
    """Raw JSON-RPC calls to one node (web3's formatting of a receipt costs more than the call); a node that does not
    answer, or answers with an error, raises NodeUnavailable."""

    def __init__(self, w3: Web3):
        self.w3 = w3

    def call(self, method: str, params: list):
        try:
            reply = self.w3.provider.make_request(method, params)
        except TRANSIENT as exc:
            raise NodeUnavailable(f"node unreachable ({method}): {type(exc).__name__}") from None
        if reply.get("error"):
            raise NodeUnavailable(f"{method}: {reply['error'].get('message')}")
        return reply.get("result")

    def quantity(self, method: str, params: list) -> int:
        """A number the node answers in hex (a nonce count, a block number, a balance, the chain id)."""
        return int(self.call(method, params), 16)

    def receipt(self, tx_hash: str) -> Receipt | None:
        """The receipt the node has for `tx_hash`, or None."""
        result = self.call("eth_getTransactionReceipt", [tx_hash])
        return Receipt.from_json(result) if result else None

    def knows(self, tx_hash: str) -> bool:
        """Whether the node has the transaction (in its pool or mined)."""
        return self.call("eth_getTransactionByHash", [tx_hash]) is not None

    def send_raw(self, raw: bytes) -> tuple[str, str | None]:
        """(outcome, the node's message): "sent", or what its refusal means (`classify`)."""
        try:
            reply = self.w3.provider.make_request("eth_sendRawTransaction", [Web3.to_hex(raw)])
        except TRANSIENT as exc:
            raise NodeUnavailable(f"node unreachable: {type(exc).__name__}") from None
        error = reply.get("error")
        if not error:
            return "sent", None
        message = str(error.get("message", error))
        return classify(message), message

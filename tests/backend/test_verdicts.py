"""Each verdict of the vocabulary and its reasons, in Chinese and English, on the real chain and index: genuine,
burned, not issued (and its art not public, staff previews still served), invalid serial, a lookalike one Cyrillic
letter away from an official drop's name, an unofficial contract, no contract, and a node that does not answer."""
import copy
import json
import time

from eth_account import Account
from web3 import Web3

from hallmark import devchain
from hallmark.api.pages import STATIC
from hallmark.testing import deploy_lookalike
from hallmark.verify.lookalike import fold
from hallmark.verify.vocabulary import REASONS, VERDICTS

from conftest import CI_PORT
from test_input_bounds import W3, collection, indexed
from test_verify import mint

DICTIONARY = {lang: json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8")) for lang in ("zh", "en")}


def verdict(client, address, serial):
    reply = client.get(f"/api/verify/{address}/{serial}")
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()


def said(answer, zh_title, en_title):
    """The headline in both languages, and each reason's words are its dictionary entry filled in."""
    assert answer["verdict_text"]["zh"]["title"] == zh_title and answer["verdict_text"]["en"]["title"] == en_title
    for reason in answer["reasons"]:
        for lang in ("zh", "en"):
            words = DICTIONARY[lang][f"reason.{reason['code']}"]
            for name, value in reason["params"].items():
                words = words.replace("{" + name + "}", str(value))
            assert reason["text"][lang] == words and "{" not in words, reason
    return {r["code"] for r in answer["reasons"]}


def test_the_vocabulary_is_in_both_dictionaries():
    for code in VERDICTS:
        for lang in ("zh", "en"):
            assert DICTIONARY[lang][f"verdict.{code}"] and DICTIONARY[lang][f"verdict.{code}.sub"]
    for code in REASONS:
        assert DICTIONARY["zh"][f"reason.{code}"] != DICTIONARY["en"][f"reason.{code}"]


def test_confusable_names_fold_together():
    assert fold("Fuhu Tеst") == fold("FUHU-TEST") == fold("fuhu test") == fold("Fuhu\u200bTest")  # Cyrillic е
    assert fold("福虎 迎春") == fold("福虎迎春") != fold("福虎")
    assert fold("Fuhu 2O22") == fold("Fuhu 2022") and fold("...") == ""


def test_genuine_burned_not_issued_and_invalid_serial(app, client, staff, signed_in, make_drop, stack):
    drop = make_drop(edition_size=10, name="福虎 Tiger", issuer_name="微众银行")
    address = drop["contract_address"]
    holder = Account.create()
    devchain.fund(stack["chain"].url, holder.address, 1)
    kept, burned = mint(client, staff, drop, holder.address), mint(client, staff, drop, holder.address)
    indexed(app, address, burned)

    genuine = verdict(client, address, kept)
    assert genuine["verdict"] == "genuine" and genuine["owner"] == holder.address and genuine["burned"] is False
    assert said(genuine, "正品", "Authentic") == {"registry.ok", "token.ok", "content.ok"}
    assert genuine["verdict_text"]["zh"]["sub"] == "由 微众银行 发行的官方数字藏品"

    tx = collection(address).functions.burn(burned).build_transaction(
        {"from": holder.address, "nonce": W3.eth.get_transaction_count(holder.address)})
    assert W3.eth.wait_for_transaction_receipt(
        W3.eth.send_raw_transaction(holder.sign_transaction(tx).raw_transaction)).status == 1
    indexed(app, address, burned, burned=True)
    gone = verdict(client, address, burned)
    assert gone["verdict"] == "burned" and gone["owner"] is None and gone["burned"] is True
    assert said(gone, "已销毁", "Burned") >= {"registry.ok", "token.burned"}
    assert "counterfeit" not in json.dumps(gone).lower() and "仿冒" not in json.dumps(gone, ensure_ascii=False)
    assert client.get(f"/art/{address}/{burned}.png").status_code == 200  # its page still shows the card

    unminted = verdict(client, address, 7)
    assert unminted["verdict"] == "not_issued" and "owner" not in unminted and "image_url" not in unminted
    assert said(unminted, "尚未发行", "Not issued yet") == {"registry.ok", "token.not_issued"}
    assert "销毁" not in json.dumps(unminted, ensure_ascii=False) and "burn" not in json.dumps(unminted)
    for url in (f"/art/{address}/7.png", f"/meta/{address}/7"):
        reply = client.get(url)
        assert reply.status_code == 404 and reply.get_json()["errors"]["path"]["serial"] == ["Not issued yet."]
    preview = client.get(f"/api/drops/{drop['id']}/art/7.png", headers=staff)
    assert preview.status_code == 200 and preview.data.startswith(b"\x89PNG")
    viewer, _ = signed_in("viewer")
    assert viewer.get(f"/api/drops/{drop['id']}/art/7.png").status_code == 200
    assert client.get(f"/api/drops/{drop['id']}/art/7.png").status_code == 401
    assert client.get(f"/api/drops/{drop['id']}/art/11.png", headers=staff).status_code == 404

    outside = verdict(client, address, 11)
    assert outside["verdict"] == "invalid_serial"
    assert said(outside, "无此编号", "No such number") == {"registry.ok", "token.outside"}


def test_lookalike_one_cyrillic_letter_away_is_named(client, make_drop, app):
    name = f"Fuhu Lookalike {time.time_ns() % 10**6}"
    drop = make_drop(edition_size=10, name=name, symbol="FHLK")
    fake_name = name.replace("a", "\u0430", 1)  # CYRILLIC SMALL LETTER A
    assert fake_name != name
    fake = deploy_lookalike(f"http://127.0.0.1:{CI_PORT}", {**drop, "name": fake_name, "symbol": "NOPE"})
    answer = verdict(client, fake, 1)
    assert answer["verdict"] == "lookalike" and answer["collection"] == {
        "address": fake, "official": False, "contract": True, "name": fake_name, "symbol": "NOPE"}
    assert answer["imitates"] == {"address": drop["contract_address"], "name": name, "symbol": "FHLK",
                                  "slug": drop["slug"], "matched_by": "name"}
    assert said(answer, f"仿冒「{name}」", f"Imitation of “{name}”") == {"registry.not_official", "lookalike.imitates"}
    assert name in answer["verdict_text"]["zh"]["sub"] and name in answer["verdict_text"]["en"]["sub"]

    other = deploy_lookalike(f"http://127.0.0.1:{CI_PORT}", {**drop, "name": "Something Else 42", "symbol": "SE42"})
    plain = verdict(client, other, 1)
    assert plain["verdict"] == "unofficial" and "imitates" not in plain
    assert said(plain, "非官方藏品", "Not an official collectible") == {"registry.not_official"}


def test_no_contract_is_consistent_and_a_dead_node_decides_nothing(client, app, monkeypatch):
    empty = Account.create().address
    answer = verdict(client, empty, 1)
    assert answer["verdict"] == "no_contract"
    assert answer["collection"] == {"address": empty, "official": False, "contract": False}
    assert said(answer, "此地址没有合约", "No contract at this address") == {"registry.no_contract"}

    verifier = app.extensions["hallmark.services"].verifier
    dead = copy.copy(verifier.handles)
    dead.w3 = Web3(Web3.HTTPProvider("http://127.0.0.1:9", request_kwargs={"timeout": 2}))
    monkeypatch.setattr(verifier, "handles", dead)
    reply = client.get(f"/api/verify/{Account.create().address}/1")
    assert reply.status_code == 503 and "not available" in reply.get_json()["message"]

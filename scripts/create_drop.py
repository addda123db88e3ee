"""Create a drop: render and commit to its artwork, then create its collection through the registry.

    brownie run scripts/create_drop.py main drops/fuhu-demo.yaml --network hallmark-local

Idempotent: the collection address follows from the drop's slug, so running it twice creates one collection.
"""
from pathlib import Path

import yaml
from brownie import HallmarkRegistry
from tqdm import tqdm

from hallmark import config
from hallmark.art.cardfont import LANGUAGES, glyph_error, missing_glyph
from hallmark.art.content import DropContent, build_commitment, collection_salt, policy_index

from scripts.common import fail, issuer, require_record, record_path

REQUIRED = ("slug", "name", "symbol", "edition_size")


def load_spec(path: str) -> dict:
    file = Path(path)
    if not file.exists():
        fail(f"drop spec {path} does not exist")
    try:
        spec = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        fail(f"drop spec {path} is not valid YAML ({str(exc).splitlines()[0]})")
    for field in REQUIRED:
        if not spec.get(field):
            fail(f"drop spec {path}: field '{field}' is required")
    try:
        spec["edition_size"] = int(spec["edition_size"])
        spec["holding_period"] = int(float(spec.get("holding_period_days", 0)) * 86400)
        spec["royalty_bps"] = int(spec.get("royalty_bps", 0))
    except (TypeError, ValueError):
        fail(f"drop spec {path}: edition_size, holding_period_days and royalty_bps must be numbers")
    if not 1 <= spec["edition_size"] <= 1_000_000:
        fail(f"drop spec {path}: field 'edition_size' must be between 1 and 1000000")
    if not 0 <= spec["royalty_bps"] <= 10_000:
        fail(f"drop spec {path}: field 'royalty_bps' must be between 0 and 10000")
    try:
        policy_index(spec.get("transfer_policy", "transferable"))
    except ValueError as exc:
        fail(f"drop spec {path}: field 'transfer_policy': {exc}")
    spec["language"] = spec.get("language", "zh")
    if spec["language"] not in LANGUAGES:
        fail(f"drop spec {path}: field 'language' must be one of {', '.join(LANGUAGES)}")
    for field in ("name", "issuer_name", "description"):
        if (ch := missing_glyph(str(spec.get(field, "")))) is not None:
            fail(f"drop spec {path}: field '{field}': {glyph_error(ch)}")
    return spec


def main(spec_path: str = "drops/fuhu-demo.yaml"):
    spec = load_spec(spec_path)
    record = require_record()
    if spec["slug"] in record.drops:
        print(f"Drop '{spec['slug']}' already exists: {record.drops[spec['slug']]['address']}")
        return record.drops[spec["slug"]]["address"]
    account = issuer()
    registry = HallmarkRegistry.at(record.registry)
    salt = collection_salt(spec["slug"])
    address = registry.predictCollectionAddress(salt)
    content = DropContent(
        name=spec["name"], description=spec.get("description", ""), issuer=spec.get("issuer_name", "Hallmark"),
        edition_size=spec["edition_size"], contract_address=address, public_base_url=config.Config().PUBLIC_BASE_URL,
        transfer_policy=spec.get("transfer_policy", "transferable"), holding_period=spec["holding_period"],
        artwork=spec.get("artwork", "fuhu"), seed=spec.get("seed", spec["slug"]), language=spec["language"],
    )
    if not registry.isOfficial(address):
        with tqdm(total=content.edition_size, desc="Rendering artwork", unit="item", mininterval=1) as bar:
            tree, _ = build_commitment(content, bar.update)
        cfg = (
            content.name, spec["symbol"], "", content.edition_size,
            policy_index(content.transfer_policy), content.holding_period, account.address,
            spec["royalty_bps"], tree.root, account.address, account.address,
        )
        registry.createCollection(cfg, salt, {"from": account})
    # everything the backend needs to serve this drop's artwork and metadata (it adopts drops from the record)
    record.drops[spec["slug"]] = {
        "address": address, "name": content.name, "symbol": spec["symbol"], "description": content.description,
        "issuer_name": content.issuer, "edition_size": content.edition_size,
        "transfer_policy": content.transfer_policy, "holding_period": content.holding_period,
        "royalty_bps": spec["royalty_bps"], "artwork": content.artwork, "seed": content.seed,
        "public_base_url": content.public_base_url, "language": content.language,
        "render_version": content.render_version,
    }
    record.save(record_path())
    print(f"Drop '{spec['slug']}' is collection {address}")
    return address

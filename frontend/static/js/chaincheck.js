// The verify page's own check, run by the visitor's browser straight against the chain's public JSON-RPC endpoint
// (not through this server): the registry's isOfficial, the token's ownerOf and the collection's content
// commitment, with the card image and metadata hashed here. It then says whether the chain agrees with the
// server's answer, names what disagrees, or says it could not run (which decides nothing).
import { el, icon, shortHex } from "./ui.js";

const ETHERS = "/vendor/ethers/ethers.min.js"; // loaded only when needed: the page works without it
const TIMEOUT_MS = 10_000;
const REGISTRY_ABI = ["function isOfficial(address collection) view returns (bool)"];
const COLLECTION_ABI = [
  "function ownerOf(uint256 tokenId) view returns (address)",
  "function contentRoot() view returns (bytes32)",
  "function verifyContent(uint256 serial, bytes32 imageSha256, bytes32 metadataSha256, bytes32[] proof) view returns (bool)",
];

let latest = 0; // a newer answer supersedes a check still running

/** Check `answer` (the server's verify answer) against the chain and show the outcome in `box`. */
export async function chainCheck(box, answer) {
  const run = ++latest;
  show(box, "pending", el("p", { class: "chaincheck-title", i18n: "chaincheck.pending" }));
  let outcome;
  try {
    outcome = await compare(box.dataset, answer);
  } catch (error) {
    console.warn("browser chain check could not run", error);
    outcome = { unavailable: "chaincheck.unavailable.rpc" };
  }
  if (run === latest) render(box, outcome);
}

async function compare({ rpcUrl, registry, chainId }, answer) {
  if (!rpcUrl || !registry) return { unavailable: "chaincheck.unavailable.config" };
  const { ethers } = await import(ETHERS);
  const request = new ethers.FetchRequest(rpcUrl);
  request.timeout = TIMEOUT_MS;
  // the chain id is given, so ethers does not probe (and retry) by itself; it is checked once below
  const provider = new ethers.JsonRpcProvider(request, Number(chainId), { staticNetwork: true });
  if (BigInt(await provider.send("eth_chainId", [])) !== BigInt(chainId)) {
    return { unavailable: "chaincheck.unavailable.chain" };
  }
  const address = answer.collection.address;
  // the id as the page's URL has it: JSON numbers past 2^53 lose digits
  const tokenId = BigInt(document.getElementById("verify")?.dataset.serial ?? answer.token_id);
  const agreed = [];
  const differs = [];
  const skipped = [];

  const official = await new ethers.Contract(registry, REGISTRY_ABI, provider).isOfficial(address);
  if (official !== Boolean(answer.collection.official)) {
    differs.push({ key: official ? "chaincheck.diff.official_yes" : "chaincheck.diff.official_no" });
    return { agreed, differs, skipped, provider: rpcUrl, registry };
  }
  agreed.push("chaincheck.ok.official");
  if (!official) return { agreed, differs, skipped, provider: rpcUrl, registry }; // nothing more is claimed

  const collection = new ethers.Contract(address, COLLECTION_ABI, provider);
  const [holder, root] = await Promise.all([ownerOf(ethers, collection, tokenId), collection.contentRoot()]);
  const said = answer.owner || null;
  if ((holder || "").toLowerCase() === (said || "").toLowerCase()) agreed.push("chaincheck.ok.holder");
  else differs.push({ key: "chaincheck.diff.holder", params: { chain: holder || "—", server: said || "—" } });

  const given = answer.collection.content_root;
  if (given && given.toLowerCase() !== root.toLowerCase()) differs.push({ key: "chaincheck.diff.root" });
  const content = answer.content;
  const files = content?.proof && answer.image_url && answer.metadata_url
    ? await Promise.all([sha256(answer.image_url), sha256(answer.metadata_url)]) : [null, null];
  if (files.includes(null)) {
    skipped.push("chaincheck.skip.content");
  } else {
    const matches = await collection.verifyContent(tokenId, files[0], files[1], content.proof);
    const serverSaid = answer.reasons.some((r) => r.check === "content" && r.ok === true);
    if (matches === serverSaid) agreed.push(matches ? "chaincheck.ok.content" : "chaincheck.ok.content_altered");
    else differs.push({ key: matches ? "chaincheck.diff.content_good" : "chaincheck.diff.content_bad" });
  }
  return { agreed, differs, skipped, provider: rpcUrl, registry };
}

/** The holder, or null when the token does not exist (ownerOf reverts: never minted, or burned). */
async function ownerOf(ethers, collection, tokenId) {
  try {
    return await collection.ownerOf(tokenId);
  } catch (error) {
    if (ethers.isError(error, "CALL_EXCEPTION")) return null;
    throw error; // the endpoint failed: nothing is decided
  }
}

/** SHA-256 of the bytes this server serves at `url` (same path on this origin, as the page shows them); null when
 * it serves none. */
async function sha256(url) {
  const reply = await fetch(new URL(url, location.href).pathname, { cache: "no-store" });
  if (!reply.ok) return null;
  const digest = await crypto.subtle.digest("SHA-256", await reply.arrayBuffer());
  return `0x${[...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function render(box, outcome) {
  if (outcome.unavailable) {
    show(box, "unavailable", el("p", { class: "chaincheck-title", i18n: "chaincheck.unavailable" }),
      el("p", { class: "chaincheck-sub", i18n: outcome.unavailable }));
    return;
  }
  const bad = outcome.differs.length > 0;
  const lines = [
    ...outcome.differs.map(({ key, params }) => line("bad", key, params)),
    ...outcome.agreed.map((key) => line("ok", key)),
    ...outcome.skipped.map((key) => line("unknown", key)),
  ];
  show(box, bad ? "mismatch" : "match",
    el("p", { class: "chaincheck-title" }, icon(bad ? "bad" : "ok"),
      el("span", { i18n: bad ? "chaincheck.mismatch" : "chaincheck.match" })),
    bad ? el("p", { class: "chaincheck-sub", i18n: "chaincheck.mismatch.sub" }) : null,
    el("ul", { class: "chaincheck-list" }, ...lines),
    el("p", { class: "chaincheck-source", i18n: "chaincheck.source",
      params: { rpc: outcome.provider, registry: shortHex(outcome.registry, 10, 6) } }));
}

const line = (kind, key, params) => el("li", { class: `check check--${kind}`, "data-key": key },
  icon(kind), el("span", { i18n: key, params }));

function show(box, state, ...children) {
  box.className = `chaincheck chaincheck--${state}`;
  box.dataset.state = state;
  box.replaceChildren(...children.filter(Boolean));
  box.hidden = false;
}

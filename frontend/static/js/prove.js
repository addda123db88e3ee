// Ownership proof at a branch: the customer signs a one-time Sign-In with Ethereum message with the wallet
// that holds the item; the result is shown big enough for the employee across the desk to read.
import { api } from "./api.js";
import { connectWallet, hasWallet, signMessage, walletErrorKey } from "./eth.js";
import { setDate, setText } from "./i18n.js";
import { $, busy, copyable, el, icon, verifyPath } from "./ui.js";

const params = new URLSearchParams(location.search);
const collection = params.get("collection");
const tokenId = Number(params.get("token"));
const button = document.getElementById("prove-button");
const step = document.getElementById("prove-step");
const proof = document.getElementById("proof");

// the API's refusals in plain words; anything else is shown as the API said it
const REASONS = [
  [/does not hold/, "prove.reason.not_holder"],
  [/custody/, "prove.reason.custodial"],
  [/signature/, "prove.reason.signature"],
  [/expired|already used/, "prove.reason.stale"],
  [/not an official collection/, "prove.reason.not_official"],
  [/does not exist/, "prove.reason.no_item"],
];

async function showItem() {
  const answer = await api(`/api/verify/${collection}/${tokenId}`);
  if (!answer.drop) return;
  $("prove-art").src = new URL(answer.image_url).pathname;
  $("prove-serial").textContent = answer.serial_label;
  $("prove-name").textContent = answer.drop.name;
  $("prove-back").href = verifyPath(collection, tokenId);
  $("prove-item").hidden = false;
}

function result(ok, content) {
  proof.className = `proof proof--${ok ? "ok" : "bad"}`;
  proof.replaceChildren(icon(ok ? "ok" : "bad"),
    el("p", { class: "proof-title", i18n: ok ? "prove.verified" : "prove.not_proven" }), ...content);
  proof.hidden = false;
  proof.focus();
  setText(button, "prove.again");
}

function refused(key, text) {
  result(false, [el("p", { class: "proof-reason", ...(key ? { i18n: key } : { text }) })]);
}

async function prove() {
  proof.hidden = true;
  try {
    setText(step, "prove.step.connect");
    const address = await connectWallet();
    setText(step, "prove.step.sign");
    const challenge = await api("/api/ownership/challenge", {
      method: "POST", json: { address, collection, token_id: tokenId } });
    const signature = await signMessage(address, challenge.message);
    setText(step, "prove.step.check");
    const verdict = await api("/api/ownership/verify", {
      method: "POST", json: { message: challenge.message, signature } });
    result(true, [
      el("p", { class: "proof-detail" }, el("span", { i18n: "prove.holder" }), " ", copyable(verdict.holder)),
      el("p", { class: "proof-detail" }, el("span", { i18n: "prove.checked_at" }), " ",
        setDate(el("time", { datetime: verdict.checked_at }), verdict.checked_at))]);
  } catch (error) {
    if (error.status === undefined) return refused(walletErrorKey(error));
    if (error.status === 0) return refused("error.network");
    const known = REASONS.find(([pattern]) => pattern.test(error.message));
    refused(known?.[1], error.message);
  } finally {
    step.textContent = "";
    delete step.dataset.i18n;
  }
}

if (!collection || !/^0x[0-9a-fA-F]{40}$/.test(collection) || !(tokenId > 0)) {
  $("no-item").hidden = false;
  button.hidden = true;
} else {
  showItem().catch(() => {}); // the summary is a courtesy: proving works without it
  if (!hasWallet()) {
    $("no-wallet").hidden = false;
    button.disabled = true;
  }
  button.addEventListener("click", () => busy(button, prove));
}

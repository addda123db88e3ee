// The verify page an item's QR code opens: verdict first, then the item, the checks and its history.
import { api } from "./api.js";
import { chainCheck } from "./chaincheck.js";
import { onLangChange, setDate } from "./i18n.js";
import { $, copyable, el } from "./ui.js";
import { reasonItem, renderVerdict, renderVerdictError } from "./verdict.js";

const root = document.getElementById("verify");
const { address, serial } = root.dataset;
const banner = document.getElementById("verdict");
const RETRIES = 10; // a claim redirects here the moment its item is minted; the index may be a second behind
let shown; // the answer on the page, said again in the other language on a switch

async function load(attempt = 0) {
  let answer;
  try {
    answer = await api(`/api/verify/${address}/${serial}`);
  } catch (error) {
    if (error.status === 0) renderVerdictError(banner, "error.network");
    else renderVerdictError(banner, "verdict.error", error.message);
    return;
  }
  render(answer);
  const notYet = answer.verdict === "not_issued";
  if (notYet && attempt < RETRIES) setTimeout(() => load(attempt + 1), 1000);
  else chainCheck(document.getElementById("chaincheck"), answer); // the server's final word, checked by the browser
}

function render(answer) {
  shown = answer;
  renderVerdict(banner, answer);
  const hasItem = Boolean(answer.drop);
  $("item").hidden = !hasItem;
  if (hasItem) renderItem(answer);
  // the banner already lists what failed; here what was checked and what did check out
  const passed = answer.reasons.filter((r) => r.ok === true);
  $("checked").replaceChildren(el("span", { i18n: "item.checked" }), copyable(answer.collection.address),
    el("span", { i18n: "item.checked_id", params: { id: answer.token_id } }));
  $("checklist").replaceChildren(...passed.map((r) => reasonItem(r, answer.token_id)));
  $("checks").hidden = false;
  const history = answer.history || [];
  $("timeline").replaceChildren(...history.map(historyEntry));
  $("history").hidden = !history.length;
}

function renderItem(answer) {
  const { drop, collection } = answer;
  // the card's frame says the verdict (green genuine, grey burned); an item not issued has no card at all
  $("item").dataset.verdict = answer.verdict;
  const art = $("art");
  art.closest("figure").hidden = !answer.image_url;
  if (answer.image_url) art.src = new URL(answer.image_url).pathname;
  art.alt = `${drop.name} ${answer.serial_label || ""}`;
  $("serial").textContent = answer.serial_label || `#${answer.token_id}`;
  $("item-name").textContent = drop.name;
  $("issuer").textContent = drop.issuer;
  $("owner").replaceChildren(answer.owner ? copyable(answer.owner)
    : answer.burned ? el("span", { i18n: "item.no_owner" }) : "—");
  $("minted").replaceChildren(answer.minted ? setDate(el("time", { datetime: answer.minted.at }), answer.minted.at)
    : el("span", { i18n: "item.not_minted" }));
  $("mint-tx").replaceChildren(answer.minted ? copyable(answer.minted.tx, { head: 10, tail: 6 }) : "—");
  $("redemption").replaceChildren(...redemption(answer));
  $("policy").replaceChildren(...policy(answer.policy));
  const prove = $("prove-link");
  prove.hidden = answer.verdict !== "genuine" || !answer.owner;
  prove.href = `/prove?collection=${collection.address}&token=${answer.token_id}`;
}

function redemption(answer) {
  if (answer.redeemed) {
    return [el("span", { i18n: "item.redeemed_on" }), " ", setDate(el("time"), answer.redeemed_at)];
  }
  return answer.minted ? [el("span", { i18n: "item.not_redeemed" })] : ["—"];
}

function policy(p) {
  if (!p) return ["—"];
  if (p.name !== "holding_period") return [el("span", { i18n: `policy.${p.name}` })];
  return [el("span", { i18n: p.locked ? "policy.holding_locked" : "policy.holding_unlocked" }), " ",
    setDate(el("time", { datetime: p.unlocks_at }), p.unlocks_at)];
}

function historyEntry(event) {
  const who = event.kind === "mint" ? [el("span", { i18n: "history.to" }), " ", copyable(event.to)]
    : event.kind === "burn" ? [el("span", { i18n: "history.by" }), " ", copyable(event.from)]
      : [copyable(event.from), el("span", { class: "arrow", "aria-hidden": "true" }, "→"),
        el("span", { class: "sr-only", i18n: "history.to" }), copyable(event.to)];
  return el("li", { class: `event event--${event.kind}` },
    el("p", { class: "event-head" }, el("strong", { i18n: `history.${event.kind}` }), " ",
      setDate(el("time", { datetime: event.at }), event.at)),
    el("p", { class: "event-who" }, ...who),
    el("p", { class: "event-tx" }, el("span", { i18n: "history.tx" }), " ", copyable(event.tx, { head: 10, tail: 6 })));
}

onLangChange(() => shown && render(shown));
load();

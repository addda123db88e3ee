// What the bank holds for a custodial customer, and withdrawing an item to their own wallet.
// - `#customer=` is the customer assertion the bank's app signed when it opened this page. It stays in memory
//   only (taken out of the address bar at once) and travels as the X-Customer-Assertion header, never in a URL.
//   It is short-lived: when it expires, the customer opens the page from the app again.
// - Each transferable item offers "withdraw to my wallet": an address typed or pasted, or taken from a browser
//   wallet; the page then follows the withdrawal until the chain has moved the item and links its verify page.
import { api } from "./api.js";
import { connectWallet, hasWallet, walletErrorKey } from "./eth.js";
import { formatDate, setText, t } from "./i18n.js";
import { $, busy, clearErrors, el, fieldError, requireFields, showErrors, sleep, verifyPath } from "./ui.js";

const assertion = new URLSearchParams(location.hash.slice(1)).get("customer") || "";
if (location.hash) history.replaceState(null, "", location.pathname);
const headers = { "X-Customer-Assertion": assertion };
const STEPS = ["queued", "funding", "sending", "done"];

async function load() {
  const box = $("holdings-error");
  if (!assertion) {
    setText(box, "holdings.from_app");
    box.hidden = false;
    return;
  }
  try {
    const { items } = await api("/api/custody/holdings", { headers });
    setText($("holdings-count"), items.length ? "holdings.count" : "holdings.empty", { n: items.length });
    $("holdings-list").replaceChildren(...items.map(card));
  } catch (error) {
    box.textContent = error.status === 403 ? t("holdings.expired") : error.message;
    box.hidden = false;
  }
}

function card(item) {
  const status = el("div", { class: "withdraw-status", role: "status", "aria-live": "polite" });
  const body = el("span", { class: "card-body" },
    el("strong", { class: "card-title" }, item.drop_name),
    el("span", { class: "card-serial" }, item.serial_label),
    el("span", { class: "badges" }, ...badges(item)));
  const node = el("li", { class: "card", "data-token": `${item.collection}/${item.token_id}` },
    el("a", { href: verifyPath(item.collection, item.token_id) },
      el("img", { src: item.image_url, alt: "", loading: "lazy", width: 320, height: 320 }), body),
    status);
  const active = item.withdrawal && !["done", "failed"].includes(item.withdrawal.status);
  if (active) follow(item.withdrawal, status);
  else if (item.transferable) node.append(withdrawForm(item, status));
  return node;
}

function badges(item) {
  if (item.transfer_policy === "soulbound") return [el("span", { class: "badge", i18n: "holdings.soulbound" })];
  if (!item.transferable && item.unlocks_at) {
    return [el("span", { class: "badge", i18n: "holdings.unlocks", params: { at: formatDate(item.unlocks_at) } })];
  }
  if (!item.transferable) return [el("span", { class: "badge", i18n: "wallet.locked" })];
  return [];
}

function withdrawForm(item, status) {
  const form = $("withdraw-form").content.firstElementChild.cloneNode(true);
  const id = `to-${item.collection}-${item.token_id}`;
  form.to.id = id;
  form.querySelector("label").htmlFor = id;
  const connect = form.querySelector("[data-connect]");
  connect.hidden = !hasWallet();
  connect.addEventListener("click", () => busy(connect, async () => {
    clearErrors(form);
    try {
      form.to.value = await connectWallet();
    } catch (error) {
      showErrors(form, fieldError({ to: t(walletErrorKey(error)) }));
    }
  }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(form.querySelector("button[type=submit]"), async () => {
      clearErrors(form);
      const body = { collection: item.collection, token_id: item.token_id, to: form.to.value.trim() };
      try {
        requireFields({ to: body.to });
        const withdrawal = await api("/api/custody/withdrawals", {
          method: "POST", json: body, headers, idempotent: `withdraw-${item.collection}-${item.token_id}` });
        form.remove();
        await follow(withdrawal, status);
      } catch (error) {
        showErrors(form, error);
      }
    });
  });
  return form;
}

/** Poll a withdrawal until the chain moved the item (or refused), showing each step. */
async function follow(withdrawal, status) {
  for (;;) {
    show(withdrawal, status);
    if (["done", "failed"].includes(withdrawal.status)) return;
    await sleep(500);
    try {
      withdrawal = await api(`/api/custody/withdrawals/${withdrawal.id}`, { headers });
    } catch (error) {
      if (error.status !== 0) {
        status.replaceChildren(el("p", { class: "error", text: error.message }));
        return;
      }
      await sleep(1000); // offline for a moment: keep trying
    }
  }
}

function show(withdrawal, status) {
  if (withdrawal.status === "done") {
    status.replaceChildren(el("p", { class: "result-title", i18n: "holdings.done" }),
      el("p", {}, el("span", { i18n: "holdings.holder" }), " ", el("code", { class: "hex" }, withdrawal.holder)),
      el("a", { class: "button", href: verifyPath(withdrawal.collection, withdrawal.token_id), i18n: "claim.view" }));
  } else if (withdrawal.status === "failed") {
    status.replaceChildren(el("p", { class: "error", i18n: "holdings.failed" }), el("p", { text: withdrawal.error }));
  } else {
    const reached = STEPS.indexOf(withdrawal.status);
    status.replaceChildren(el("ol", { class: "steps" }, ...STEPS.map((step, index) => el("li", {
      class: index < reached ? "done" : index === reached ? "current" : "", i18n: `holdings.step.${step}` }))));
  }
}

load();

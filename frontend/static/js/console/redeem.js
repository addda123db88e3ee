// Perk redemption at a branch (#/redeem): paste (or type with a QR scanner that acts as a keyboard) the verify URL
// from the customer's item, check the card (image, drop, serial, holder, already redeemed?), press Redeem; the
// server waits for the chain and answers redeemed, failed with the contract's reason, or still on its way.
import { api } from "../api.js";
import { t } from "../i18n.js";
import { $, busy, clearErrors, el, requireFields, showErrors } from "../ui.js";

const lookupForm = $("redeem-lookup");
const redeemForm = $("redeem-form");
let current = null; // the item on the card

function facts(pairs) {
  return el("dl", { class: "facts" }, ...pairs.flatMap(([key, value]) => [el("dt", { i18n: key }), el("dd", {}, value)]));
}

function card(item) {
  const redeemed = item.redeemed
    ? el("span", { class: "status status--failed", i18n: "redeem.already" })
    : el("span", { class: "status status--live", i18n: "redeem.available" });
  const pending = item.last_redemption && ["queued", "sending"].includes(item.last_redemption.status);
  return el("article", { class: "approval-summary redeem-card" },
    el("img", { src: item.image_url, alt: t("redeem.image_alt"), width: 160, height: 160 }),
    facts([["redeem.drop", item.drop.name], ["redeem.serial", item.serial_label],
      ["redeem.holder", item.holder ?? t("redeem.burned")], ["redeem.state", redeemed],
      ...(item.redeemed_at ? [["redeem.redeemed_at", new Date(item.redeemed_at).toLocaleString()]] : []),
      ...(pending ? [["redeem.pending", `#${item.last_redemption.id}`]] : []),
      ...(item.drop.paused ? [["redeem.state", t("status.paused")]] : [])]));
}

function show(item) {
  current = item;
  $("redeem-item").replaceChildren(card(item));
  redeemForm.hidden = item.redeemed || item.burned || item.drop.paused;
}

function outcome(redemption) {
  const key = { redeemed: "redeem.done", failed: "redeem.failed" }[redemption.status] || "redeem.waiting";
  $("redeem-outcome").replaceChildren(el("span", { i18n: key }),
    redemption.error ? ` ${redemption.error}` : null, redemption.tx_hash ? el("code", {}, ` ${redemption.tx_hash}`) : null);
}

async function poll(id) {
  for (let i = 0; i < 60; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const redemption = await api(`/api/redemptions/${id}`, { staff: true });
    outcome(redemption);
    if (!["queued", "sending"].includes(redemption.status)) return;
  }
}

lookupForm.addEventListener("submit", (event) => {
  event.preventDefault();
  busy(lookupForm.querySelector("button[type=submit]"), async () => {
    clearErrors(lookupForm);
    $("redeem-outcome").replaceChildren();
    const url = lookupForm.url.value.trim();
    try {
      requireFields({ url });
      show(await api(`/api/items/lookup?url=${encodeURIComponent(url)}`, { staff: true }));
    } catch (error) {
      current = null;
      redeemForm.hidden = true;
      $("redeem-item").replaceChildren();
      showErrors(lookupForm, error);
    }
  });
});

redeemForm.addEventListener("submit", (event) => {
  event.preventDefault();
  if (!current) return;
  busy(redeemForm.querySelector("button[type=submit]"), async () => {
    clearErrors(redeemForm);
    const body = { contract: current.contract, token_id: current.token_id, note: redeemForm.note.value.trim() };
    try {
      const redemption = await api("/api/redemptions", { method: "POST", json: body, staff: true, idempotent: "redeem" });
      outcome(redemption);
      redeemForm.hidden = true;
      if (["queued", "sending"].includes(redemption.status)) await poll(redemption.id);
      show(await api(`/api/items/lookup?contract=${current.contract}&token_id=${current.token_id}`, { staff: true }));
    } catch (error) {
      // a refusal names the item (url or token_id), which this form has no field for: show it once, at the top
      const { note } = error.fields || {};
      showErrors(redeemForm, { status: error.status, message: error.message, fields: note ? { note } : {} });
    }
  });
});

export function showRedeem() {
  $("view-redeem").hidden = false;
  $("redeem-title").focus();
}

export function hideRedeem() {
  $("view-redeem").hidden = true;
}

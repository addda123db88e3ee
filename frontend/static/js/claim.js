// Claim an item with a one-time code, to the customer's wallet or kept by the bank (custodial), then follow
// the mint until the item exists and open its verify page.
// - `#code=` prefills the code: claim links carry it in the fragment, which browsers never send to a server (no
//   access log sees it). `?code=` (older printed links) still works; either way the code is taken out of the
//   address bar and history at once, so a reload or a shared URL does not carry it on.
// - `#customer=` is the customer assertion the bank's app signed when it opened this page: only with it can the
//   bank keep the item (the page never asks who the customer is).
// - `?claim=` resumes following a claim (it is put in the URL, so a reload keeps it).
import { api } from "./api.js";
import { connectWallet, hasWallet, walletErrorKey } from "./eth.js";
import { setText, t } from "./i18n.js";
import { busy, clearErrors, el, fieldError, icon, requireFields, showErrors, sleep, verifyPath } from "./ui.js";

const form = document.getElementById("claim-form");
const progress = document.getElementById("progress");
const result = document.getElementById("claim-result");
const connect = document.getElementById("connect");
const params = new URLSearchParams(location.search);
const fragment = new URLSearchParams(location.hash.slice(1));
const STEPS = ["queued", "sending", "minted"];
const REDIRECT_MS = 2500;

form.code.value = fragment.get("code") || params.get("code") || "";
const customerAssertion = fragment.get("customer") || "";
if (params.has("code") || location.hash) {
  params.delete("code");
  const rest = params.toString();
  history.replaceState(null, "", `/claim${rest ? `?${rest}` : ""}`);
}

const custodialChoice = form.querySelector("input[name=recipient][value=custodial]");
custodialChoice.disabled = !customerAssertion;
if (!customerAssertion) form.querySelector("input[name=recipient][value=wallet]").checked = true;
setText(document.getElementById("custodial-status"),
  customerAssertion ? "claim.custodial_signed_in" : "claim.custodial_from_app");

function showRecipient() {
  const custodial = form.recipient.value === "custodial";
  // without the bank's assertion, say where the custodial choice comes from whichever is chosen
  document.getElementById("custodial-fields").hidden = !custodial && Boolean(customerAssertion);
  document.getElementById("wallet-fields").hidden = custodial;
}
form.addEventListener("change", showRecipient);
showRecipient();

connect.hidden = !hasWallet();
connect.addEventListener("click", () => busy(connect, async () => {
  clearErrors(form);
  try {
    form.wallet.value = await connectWallet();
  } catch (error) {
    showErrors(form, fieldError({ wallet: t(walletErrorKey(error)) }));
  }
}));

form.addEventListener("submit", (event) => {
  event.preventDefault();
  busy(form.querySelector("button[type=submit]"), async () => {
    clearErrors(form);
    const custodial = form.recipient.value === "custodial";
    const body = { code: form.code.value.trim() };
    if (custodial) body.customer_assertion = customerAssertion;
    else body.wallet = form.wallet.value.trim();
    try {
      requireFields(body);
      const claim = await api("/api/claims", { method: "POST", json: body, idempotent: "claim" });
      history.replaceState(null, "", `/claim?claim=${encodeURIComponent(claim.claim_id)}`);
      await follow(claim);
    } catch (error) {
      showErrors(form, error);
    }
  });
});

/** Poll the claim until its item is minted (or the mint failed), showing each step. */
async function follow(claim) {
  form.hidden = true;
  progress.hidden = false;
  document.getElementById("progress-title").focus();
  for (;;) {
    showStep(claim.status);
    if (claim.status === "minted") return done(claim);
    if (claim.status === "failed") return failed(claim);
    await sleep(400);
    try {
      claim = await api(`/api/claims/${encodeURIComponent(claim.claim_id)}`);
    } catch (error) {
      if (error.status !== 0) return failed({ error: error.message });
      await sleep(1000); // offline for a moment: keep trying
    }
  }
}

function showStep(status) {
  const reached = STEPS.indexOf(status);
  for (const item of progress.querySelectorAll("[data-step]")) {
    const index = STEPS.indexOf(item.dataset.step);
    item.classList.toggle("done", index < reached || status === "minted");
    item.classList.toggle("current", index === reached && status !== "minted");
    if (index === reached) item.setAttribute("aria-current", "step");
    else item.removeAttribute("aria-current");
  }
}

function done(claim) {
  const path = verifyPath(claim.contract_address, claim.token_id);
  // custodial: the holdings page (opened with the same assertion, in its fragment) is where they see and withdraw
  const holdings = claim.custodial && customerAssertion
    ? el("a", { class: "button button--secondary", href: `/holdings#customer=${encodeURIComponent(customerAssertion)}`,
      i18n: "claim.holdings_link" }) : null;
  result.replaceChildren(el("div", { class: "result result--authentic" }, icon("ok"), el("div", {},
    el("p", { class: "result-title", i18n: "claim.done", params: { id: claim.token_id } }),
    el("p", { i18n: claim.custodial ? "claim.done_custodial" : "claim.done_wallet" }),
    el("a", { class: "button", href: path, i18n: "claim.view" }), holdings)));
  if (!claim.custodial) setTimeout(() => location.assign(path), REDIRECT_MS);
}

function failed(claim) {
  result.replaceChildren(el("div", { class: "result result--counterfeit" }, icon("bad"), el("div", {},
    el("p", { class: "result-title", i18n: "claim.failed" }), el("p", { text: claim.error || "" }))));
}

if (params.get("claim")) {
  api(`/api/claims/${encodeURIComponent(params.get("claim"))}`).then(follow, (error) => showErrors(form, error));
}

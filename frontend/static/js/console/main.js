// The marketing console: API-key sign-in (kept in sessionStorage for this tab only), the list of drops and
// the hash routes #/new (create a drop), #/drops/<id> (its dashboard, airdrops and claim codes) and #/approvals.
import { api, staffKey } from "../api.js";
import { $, busy, clearErrors, el, fieldError, requireFields, showErrors } from "../ui.js";
import { hideCreate, showCreate } from "./create.js";
import { hideDrop, showDrop } from "./drop.js";
import { hideRedeem, showRedeem } from "./redeem.js";
import "./ledger.js";
import { hideApprovals, showApprovals } from "./approvals.js";
import { hideAudit, showAudit } from "./audit.js";
import { hideWebhooks, showWebhooks } from "./webhooks.js";

const signinForm = $("signin-form");

async function loadDrops() {
  const drops = await api("/api/drops", { staff: true });
  const selected = location.hash.match(/^#\/drops\/(\d+)/)?.[1];
  $("drop-list").replaceChildren(...drops.map((drop) => el("li", {},
    el("a", { href: `#/drops/${drop.id}`, "aria-current": String(drop.id) === selected ? "page" : null },
      el("span", { class: "drop-list-name" }, drop.name),
      el("span", { class: "drop-list-meta" }, `${drop.minted} / ${drop.edition_size} · `,
        el("span", { i18n: drop.paused ? "status.paused" : `status.${drop.status}` }))))));
  if (!drops.length) $("drop-list").replaceChildren(el("li", { class: "hint", i18n: "console.no_drops" }));
  return drops;
}

function route() {
  const drop = location.hash.match(/^#\/drops\/(\d+)/);
  const creating = location.hash === "#/new";
  const redeeming = location.hash === "#/redeem";
  const approving = location.hash === "#/approvals";
  const auditing = location.hash === "#/audit";
  const hooking = location.hash === "#/webhooks";
  $("view-empty").hidden = Boolean(drop || creating || approving || redeeming || auditing || hooking);
  if (hooking) showWebhooks();
  else hideWebhooks();
  if (auditing) showAudit();
  else hideAudit();
  if (approving) showApprovals();
  else hideApprovals();
  if (redeeming) showRedeem();
  else hideRedeem();
  if (creating) showCreate();
  else hideCreate();
  if (drop) showDrop(Number(drop[1]));
  else hideDrop();
  loadDrops().catch(() => {}); // a failed refresh keeps the last list; a 401 signs out through the event
}

function signedIn() {
  $("signin").hidden = true;
  $("app").hidden = false;
  route();
}

function signedOut(error) {
  staffKey.clear();
  hideDrop();
  $("app").hidden = true;
  $("signin").hidden = false;
  if (error) showErrors(signinForm, fieldError({ key: error.message }));
  signinForm.key.focus();
}

signinForm.addEventListener("submit", (event) => {
  event.preventDefault();
  busy(signinForm.querySelector("button[type=submit]"), async () => {
    clearErrors(signinForm);
    const key = signinForm.key.value.trim();
    try {
      requireFields({ key });
      staffKey.set(key);
      await loadDrops();
      signinForm.reset();
      signedIn();
    } catch (error) {
      staffKey.clear();
      showErrors(signinForm, error.status === 401 ? fieldError({ key: error.message }) : error);
    }
  });
});

$("signout").addEventListener("click", () => signedOut());
document.addEventListener("signedout", (event) => signedOut(event.detail));
document.addEventListener("dropschanged", () => loadDrops().catch(() => {}));
window.addEventListener("hashchange", route);

if (staffKey.get()) signedIn();
else signedOut();

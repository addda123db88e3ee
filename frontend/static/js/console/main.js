// The console: staff sign-in (a session cookie; the CSRF token in memory), the list of drops and
// the hash routes #/new (create a drop), #/drops/<id> (its dashboard, airdrops and claim codes), #/approvals, and
// #/account, #/staff and #/keys (one's own password and authenticator; staff accounts; partner API keys).
import { api, csrf, permissions } from "../api.js";
import { $, busy, clearErrors, el, requireFields, showErrors } from "../ui.js";
import { hideCreate, showCreate } from "./create.js";
import { hideDrop, showDrop } from "./drop.js";
import { hideRedeem, showRedeem } from "./redeem.js";
import "./ledger.js";
import { hideApprovals, showApprovals } from "./approvals.js";
import { hideAudit, showAudit } from "./audit.js";
import { hideWebhooks, showWebhooks } from "./webhooks.js";
import { hideAccount, showAccount } from "./account.js";
import { hideStaff, showStaff } from "./staff.js";
import { hideKeys, showKeys } from "./keys.js";

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
  const pages = { "#/account": [showAccount, hideAccount], "#/staff": [showStaff, hideStaff],
    "#/keys": [showKeys, hideKeys] };
  $("view-empty").hidden = Boolean(drop || creating || approving || redeeming || auditing || hooking
    || pages[location.hash]);
  for (const [hash, [show, hide]] of Object.entries(pages)) {
    if (hash === location.hash) show();
    else hide();
  }
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

// the sidebar's entries and the permission each needs (GET /api/session lists the user's)
const NAV = { "#/new": "drops.create", "#/approvals": "drops.read", "#/audit": "audit.read", "#/redeem": "perks.redeem",
  "#/webhooks": "webhooks.manage", "#/staff": "staff.manage", "#/keys": "keys.manage" };

function signedIn(me) {
  csrf.set(me.csrf);
  permissions.set(me.permissions);
  for (const node of document.querySelectorAll("[data-needs]")) node.hidden = !me.permissions.includes(node.dataset.needs);
  for (const link of document.querySelectorAll(".sidebar a[href^='#/']")) {
    const needs = NAV[link.getAttribute("href")];
    link.hidden = Boolean(needs) && !me.permissions.includes(needs);
  }
  $("signin").hidden = true;
  $("app").hidden = false;
  route();
}

function signedOut(error) {
  csrf.clear();
  permissions.set([]);
  hideDrop();
  $("app").hidden = true;
  $("signin").hidden = false;
  if (error) showErrors(signinForm, error);
  signinForm.username.focus();
}

signinForm.addEventListener("submit", (event) => {
  event.preventDefault();
  busy(signinForm.querySelector("button[type=submit]"), async () => {
    clearErrors(signinForm);
    const username = signinForm.username.value.trim();
    const password = signinForm.password.value;
    const totp = signinForm.totp.value.trim();
    try {
      requireFields({ username, password });
      const me = await api("/api/session", { method: "POST", json: { username, password, totp: totp || null } });
      signinForm.reset();
      $("totp-field").hidden = true;
      signedIn(me);
    } catch (error) {
      // a 401 naming the totp field: the password was right, the account asks for its code
      if (error.fields?.totp) $("totp-field").hidden = false;
      showErrors(signinForm, error);
      if (error.fields?.totp) signinForm.totp.focus();
    }
  });
});

$("signout").addEventListener("click", () => {
  api("/api/session", { method: "DELETE", staff: true }).catch(() => {}).finally(() => signedOut());
});
document.addEventListener("signedout", (event) => signedOut(event.detail));
document.addEventListener("dropschanged", () => loadDrops().catch(() => {}));
window.addEventListener("hashchange", route);

// a session that is still open (a reload) goes straight to the console; otherwise the sign-in form
api("/api/session").then(signedIn, () => signedOut());

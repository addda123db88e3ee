// Maker-checker (#/approvals): requests waiting for a second person, with what the checker must see before
// deciding (a drop's settings and preview card; an airdrop's counts, digest and gas), approve / reject with a
// reason; and the signed-in person's own requests with their outcome. The server refuses deciding one's own.
import { api, permissions } from "../api.js";
import { t } from "../i18n.js";
import { $, busy, el } from "../ui.js";

const KIND_KEYS = { drop: "approvals.kind_drop", airdrop: "approvals.kind_airdrop", mint: "approvals.kind_mint",
  pause: "approvals.kind_pause", resume: "approvals.kind_resume" };

function facts(pairs) {
  return el("dl", { class: "facts" }, ...pairs.filter(([, value]) => value !== undefined && value !== null)
    .flatMap(([key, value]) => [el("dt", { i18n: key }), el("dd", {}, String(value))]));
}

function summary(approval) {
  const s = approval.summary;
  if (approval.kind === "drop") {
    const d = s.settings;
    return el("div", { class: "approval-summary" },
      el("img", { src: approval.preview_url, alt: t("approvals.preview_alt"), width: 160, height: 160,
        loading: "lazy" }),
      facts([["create.name", d.name], ["create.slug", d.slug], ["create.symbol", d.symbol],
        ["create.edition", d.edition_size], ["create.policy", d.transfer_policy],
        ["create.holding_days", d.holding_period ? d.holding_period / 86400 : null],
        ["create.royalty", `${(d.royalty_bps / 100).toFixed(2)} %`],
        ["approvals.claim_window", d.claim_start || d.claim_end ? `${d.claim_start || "…"} – ${d.claim_end || "…"}` : null],
        ["create.per_wallet", d.per_wallet_limit]]));
  }
  const drop = s.drop ? `${s.drop.name} (#${s.drop.id})` : null;
  if (approval.kind === "airdrop") {
    return el("div", { class: "approval-summary" },
      facts([["approvals.drop", drop], ["approvals.recipients", s.recipients], ["approvals.duplicates", s.duplicates],
        ["approvals.invalid", s.invalid], ["approvals.room", `${s.room_left} → ${s.room_after}`],
        ["approvals.gas", `≈ ${s.gas.estimate.toLocaleString()} (${s.gas.transactions} tx)`],
        ["approvals.digest", s.sha256]]),
      s.invalid_rows.length ? el("ul", { class: "hint" }, ...s.invalid_rows.slice(0, 20).map((row) =>
        el("li", {}, `#${row.row} ${row.value}: ${row.reason}`))) : null);
  }
  if (approval.kind === "mint") return facts([["approvals.drop", drop], ["approvals.to", s.to]]);
  return facts([["approvals.drop", drop], ["approvals.paused_now", t(s.paused_now ? "approvals.yes" : "approvals.no")]]);
}

function outcome(approval) {
  const status = el("span", { class: `status status--${approval.status}`, i18n: `approvals.status_${approval.status}` });
  return el("p", {}, status,
    approval.checker_name ? ` · ${approval.checker_name}` : null,
    approval.reason ? el("span", { class: "approval-reason" }, ` · ${t("approvals.reason")}: ${approval.reason}`) : null,
    approval.error ? el("span", { class: "error" }, ` · ${approval.error}`) : null,
    approval.result?.drop_id ? el("a", { href: `#/drops/${approval.result.drop_id}` }, ` · ${t("approvals.open_drop")}`) : null);
}

function card(approval, decide) {
  const head = el("h3", {}, el("span", { i18n: KIND_KEYS[approval.kind] }), ` #${approval.id} · ${approval.maker.name}`);
  const item = el("li", { class: "approval", id: `approval-${approval.id}` }, head, summary(approval), outcome(approval));
  if (decide) item.append(decision(approval));
  return item;
}

function decision(approval) {
  const reason = el("textarea", { name: "reason", rows: 2, maxlength: 500, "aria-label": t("approvals.reason") });
  const refuse = (error) => { $("approvals-error").textContent = error.message; $("approvals-error").hidden = false; };
  const act = (action, json) => api(`/api/approvals/${approval.id}/${action}`,
    { method: "POST", staff: true, json, idempotent: `${action}-approval-${approval.id}` }).then(load, refuse);
  const approve = el("button", { type: "button", class: "button", i18n: "approvals.approve",
    onclick: (event) => busy(event.currentTarget, () => act("approve")) });
  const reject = el("button", { type: "button", class: "button button--ghost", i18n: "approvals.reject",
    onclick: (event) => busy(event.currentTarget, () => (reason.value.trim()
      ? act("reject", { reason: reason.value.trim() }) : refuse({ message: t("approvals.reason_needed") }))) });
  return el("div", { class: "approval-actions" }, reason, approve, reject);
}

async function load() {
  $("approvals-error").hidden = true;
  const [pending, mine] = await Promise.all([api("/api/approvals?status=pending", { staff: true }),
    api("/api/approvals?mine=true", { staff: true })]);
  const mineIds = new Set(mine.map((a) => a.id));
  const others = pending.filter((a) => !mineIds.has(a.id));
  $("approvals-pending").replaceChildren(...others.map((a) => card(a, permissions.may("approvals.decide"))));
  if (!others.length) $("approvals-pending").replaceChildren(el("li", { class: "hint", i18n: "approvals.none" }));
  $("approvals-mine").replaceChildren(...mine.map((a) => card(a, false)));
  if (!mine.length) $("approvals-mine").replaceChildren(el("li", { class: "hint", i18n: "approvals.none" }));
  document.dispatchEvent(new CustomEvent("dropschanged"));
}

export function showApprovals() {
  $("view-approvals").hidden = false;
  $("approvals-title").focus();
  load().catch((error) => { $("approvals-error").textContent = error.message; $("approvals-error").hidden = false; });
}

export function hideApprovals() {
  $("view-approvals").hidden = true;
}

/** After a write that answered {approval}: say, next to `anchor`, that it waits for a second person. */
export function sentForApproval(anchor, approval) {
  let notice = anchor.parentElement.querySelector(":scope > .approval-notice");
  if (!notice) {
    notice = el("p", { class: "notice approval-notice", role: "status" });
    anchor.after(notice);
  }
  notice.replaceChildren(el("span", { i18n: "approvals.sent" }), " ",
    el("a", { href: "#/approvals", i18n: "approvals.sent_link", params: { id: approval.id } }));
}

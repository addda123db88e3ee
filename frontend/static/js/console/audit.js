// The audit trail (#/audit, for approvers and admins): filters, the entries newest first a page at a time, a
// check of the whole hash chain with a plain intact/broken banner, and the same filters as a CSV download.
import { api } from "../api.js";
import { setDate, t } from "../i18n.js";
import { $, busy, clearErrors, copyable, el, showErrors } from "../ui.js";

const form = $("audit-filters");
let next = null;

function filters() {
  const query = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (!value) continue;
    // datetime-local has no zone: the browser's own is meant
    query.set(name, name === "since" || name === "until" ? new Date(value).toISOString() : value.trim());
  }
  return query;
}

function change(entry) {
  const text = [entry.before && `${t("audit.before")} ${JSON.stringify(entry.before)}`,
    entry.after && `${t("audit.after")} ${JSON.stringify(entry.after)}`].filter(Boolean).join(" → ");
  return el("td", { class: "audit-change" }, text);
}

function row(entry) {
  return el("tr", {},
    el("td", {}, String(entry.seq)),
    el("td", {}, setDate(el("time", { datetime: entry.at }), entry.at)),
    el("td", {}, `${entry.actor_name} (${entry.role})`),
    el("td", {}, el("code", {}, entry.action)),
    el("td", {}, entry.object_type ? `${entry.object_type} ${entry.object_id}` : ""),
    change(entry),
    el("td", {}, copyable(entry.entry_hash)));
}

async function load(more = false) {
  const query = filters();
  $("audit-csv").href = `/api/audit.csv?${query}`;
  if (more && next) query.set("before", next);
  const page = await api(`/api/audit?${query}`, { staff: true });
  const rows = page.entries.map(row);
  if (more) $("audit-rows").append(...rows);
  else $("audit-rows").replaceChildren(...(rows.length ? rows
    : [el("tr", {}, el("td", { colspan: 7, class: "hint", i18n: "audit.none" }))]));
  next = page.next;
  $("audit-more").hidden = !next;
}

function search(more) {
  clearErrors(form);
  return load(more).catch((error) => showErrors(form, error));
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  busy(form.querySelector("button[type=submit]"), () => search(false));
});
$("audit-more").addEventListener("click", () => busy($("audit-more"), () => search(true)));
$("audit-verify").addEventListener("click", () => busy($("audit-verify"), async () => {
  const banner = $("audit-verdict");
  try {
    const verdict = await api("/api/audit/verify", { staff: true });
    banner.className = `alert ${verdict.ok ? "alert--ok" : "alert--bad"}`;
    banner.textContent = verdict.ok ? t("audit.intact", { entries: verdict.entries, head: verdict.head })
      : t("audit.broken", { problem: verdict.problem });
  } catch (error) {
    banner.className = "alert alert--bad";
    banner.textContent = error.message;
  }
  banner.hidden = false;
}));

export function showAudit() {
  $("view-audit").hidden = false;
  $("audit-title").focus();
  search(false);
}

export function hideAudit() {
  $("view-audit").hidden = true;
}

// Webhooks (#/webhooks, for admins): the endpoints, a form to register one (its signing secret shown once), and
// each endpoint's delivery log with every attempt and a redeliver button.
import { api } from "../api.js";
import { setDate, t } from "../i18n.js";
import { $, busy, clearErrors, el, showErrors } from "../ui.js";

const form = $("webhook-form");
let shownLog = null;

async function loadTypes() {
  if ($("webhook-events").childElementCount) return;
  const types = await api("/api/webhooks/event-types", { staff: true });
  $("webhook-events").replaceChildren(...types.map((type) => el("label", { class: "check" },
    el("input", { type: "checkbox", name: "events", value: type.type }), ` ${type.type} — ${type.description}`)));
}

function actions(endpoint) {
  const ping = el("button", { class: "button button--ghost", type: "button", i18n: "webhooks.ping" });
  ping.addEventListener("click", () => busy(ping, async () => {
    await api(`/api/webhooks/${endpoint.id}/ping`, { method: "POST", staff: true });
    await showLog(endpoint);
  }));
  const log = el("button", { class: "button button--ghost", type: "button", i18n: "webhooks.log" });
  log.addEventListener("click", () => busy(log, () => showLog(endpoint)));
  const rotate = el("button", { class: "button button--ghost", type: "button", i18n: "webhooks.rotate" });
  rotate.addEventListener("click", () => busy(rotate, async () => {
    showSecret((await api(`/api/webhooks/${endpoint.id}/rotate`, { method: "POST", staff: true })).secret);
  }));
  const disable = el("button", { class: "button button--ghost", type: "button", i18n: "webhooks.disable" });
  disable.addEventListener("click", () => busy(disable, async () => {
    if (!window.confirm(t("webhooks.confirm_disable", { name: endpoint.name }))) return;
    await api(`/api/webhooks/${endpoint.id}/disable`, { method: "POST", staff: true });
    await load();
  }));
  return endpoint.disabled_at ? [log, el("span", { class: "hint", i18n: "webhooks.disabled" })]
    : [log, ping, rotate, disable];
}

function row(endpoint) {
  return el("tr", {},
    el("td", {}, endpoint.name),
    el("td", {}, el("code", {}, endpoint.url)),
    el("td", {}, endpoint.events.join(" ") + (endpoint.drop_ids ? ` (#${endpoint.drop_ids.join(", #")})` : "")),
    el("td", {}, t("webhooks.counts", endpoint)),
    el("td", {}, ...actions(endpoint)));
}

function attempt(a) {
  const outcome = a.status_code ? `HTTP ${a.status_code}` : a.error;
  return el("li", {}, setDate(el("time", { datetime: a.at }), a.at), ` ${outcome} · ${a.duration_ms} ms`);
}

function logRow(endpoint, delivery) {
  const again = el("button", { class: "button button--ghost", type: "button", i18n: "webhooks.redeliver" });
  again.addEventListener("click", () => busy(again, async () => {
    await api(`/api/webhooks/deliveries/${delivery.id}/redeliver`, { method: "POST", staff: true });
    await showLog(endpoint);
  }));
  return el("tr", {},
    el("td", {}, el("code", {}, delivery.type), " ", el("code", {}, delivery.event_id)),
    el("td", {}, t(`webhooks.status_${delivery.status}`)),
    el("td", {}, el("ol", {}, ...delivery.log.map(attempt))),
    el("td", {}, endpoint.disabled_at ? "" : again));
}

async function showLog(endpoint) {
  shownLog = endpoint;
  const deliveries = await api(`/api/webhooks/${endpoint.id}/deliveries`, { staff: true });
  $("webhook-log-title").textContent = t("webhooks.log_title", { name: endpoint.name });
  $("webhook-log-title").hidden = $("webhook-log").hidden = false;
  $("webhook-log-rows").replaceChildren(...(deliveries.length ? deliveries.map((d) => logRow(endpoint, d))
    : [el("tr", {}, el("td", { colspan: 4, class: "hint", i18n: "webhooks.no_deliveries" }))]));
}

function showSecret(secret) {
  const box = $("webhook-secret");
  box.replaceChildren(t("webhooks.secret_once"), " ", el("code", {}, secret));
  box.hidden = false;
}

async function load() {
  const endpoints = await api("/api/webhooks", { staff: true });
  $("webhook-rows").replaceChildren(...(endpoints.length ? endpoints.map(row)
    : [el("tr", {}, el("td", { colspan: 5, class: "hint", i18n: "webhooks.none" }))]));
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  clearErrors(form);
  const data = new FormData(form);
  const drops = String(data.get("drop_ids") || "").split(/[\s,]+/).filter(Boolean).map(Number);
  const body = { name: data.get("name").trim(), url: data.get("url").trim(), events: data.getAll("events"),
    ...(drops.length ? { drop_ids: drops } : {}) };
  busy(form.querySelector("button[type=submit]"), async () => {
    try {
      showSecret((await api("/api/webhooks", { method: "POST", json: body, staff: true })).secret);
      form.reset();
      await load();
    } catch (error) {
      showErrors(form, error);
    }
  });
});

export function showWebhooks() {
  $("view-webhooks").hidden = false;
  $("webhooks-title").focus();
  Promise.all([loadTypes(), load(), shownLog ? showLog(shownLog) : null]).catch((error) => showErrors(form, error));
}

export function hideWebhooks() {
  $("view-webhooks").hidden = true;
  $("webhook-secret").hidden = true;
}

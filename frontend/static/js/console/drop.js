// One drop's dashboard: status, minted / edition size, holders, claims, redemption rate, mints over time
// (Chart.js, served from node_modules) and pause / resume. Refreshed every few seconds while open.
import { api, permissions } from "../api.js";
import { formatNumber, lang, onLangChange, setText, t } from "../i18n.js";
import { $, busy, copyable, el } from "../ui.js";
import { resetAirdrop } from "./airdrop.js";
import { resetCodes } from "./codes.js";
import { sentForApproval } from "./approvals.js";
import { showBuild } from "./build.js";

const REFRESH_MS = 3000;
const BUILDING_REFRESH_MS = 1000; // while its cards are rendered: a bar that moves
const SOURCES = [
  { key: "airdrop", colour: "#1d4ed8" },
  { key: "claim", colour: "#c2410c" },
  { key: "single", colour: "#0f766e" },
];
let current = null; // {id, drop, activity}
let timer;
let chart;

async function refresh() {
  const id = current.id;
  const [drop, activity] = await Promise.all([
    api(`/api/drops/${id}`, { staff: true }), api(`/api/drops/${id}/activity`, { staff: true })]);
  if (current?.id !== id) return; // another drop was opened meanwhile
  Object.assign(current, { drop, activity });
  render();
}

function render() {
  const { drop, activity } = current;
  $("drop-title").textContent = drop.name;
  $("drop-meta").replaceChildren(el("span", {}, drop.slug), " · ",
    el("span", { i18n: `policy.${drop.transfer_policy}` }), " · ", copyable(drop.contract_address));
  const status = drop.paused ? "paused" : drop.status;
  setText($("drop-status"), `status.${status}`);
  $("drop-status").className = `chip chip--${status}`;
  $("drop-build").hidden = !building(drop);
  if (building(drop)) {
    showBuild(drop, { progress: $("drop-build-progress"), status: $("drop-build-status"), eta: $("drop-build-eta") },
      current.pace);
  }
  const toggle = $("pause-toggle");
  setText(toggle, drop.paused ? "dash.resume" : "dash.pause");
  toggle.hidden = drop.status !== "live" || !permissions.may("drops.pause");
  $("stat-minted").textContent = `${formatNumber(drop.minted)} / ${formatNumber(drop.edition_size)}`;
  $("stat-minted-bar").max = drop.edition_size;
  $("stat-minted-bar").value = drop.minted;
  $("stat-holders").textContent = formatNumber(drop.holders);
  $("stat-claims").textContent = formatNumber(activity.totals.claim);
  $("stat-redemption").textContent = formatNumber(activity.redemption_rate,
    { style: "percent", maximumFractionDigits: 1 });
  renderChart(activity);
}

function building(drop) {
  return drop.status === "rendering" || drop.status === "deploying";
}

function bucketLabel(iso, seconds) {
  const options = seconds >= 86400 ? { dateStyle: "short" } : { hour: "2-digit", minute: "2-digit" };
  return new Intl.DateTimeFormat(lang() === "zh" ? "zh-CN" : "en-GB", options).format(new Date(iso));
}

function renderChart(activity) {
  const labels = activity.series.map((point) => bucketLabel(point.t, activity.bucket_seconds));
  const datasets = [
    ...SOURCES.map(({ key, colour }) => ({
      type: "bar", label: t(`source.${key}`), data: activity.series.map((p) => p[key]), backgroundColor: colour,
      stack: "minted", maxBarThickness: 56 })),
    { type: "line", label: t("dash.redeemed"), data: activity.series.map((p) => p.redeemed), borderColor: "#be123c",
      backgroundColor: "#be123c", pointRadius: 3, tension: 0.2 },
  ];
  const { totals } = activity;
  const summary = t("dash.summary", { ...totals, minutes: Math.round(activity.bucket_seconds / 60) });
  $("activity-chart").setAttribute("aria-label", summary);
  $("activity-summary").textContent = summary;
  if (!window.Chart) return; // the chart library failed to load: the summary above still says it all
  if (chart) {
    chart.data.labels = labels;
    chart.data.datasets = datasets;
    chart.update("none");
    return;
  }
  chart = new window.Chart($("activity-chart"), {
    data: { labels, datasets },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false,
      scales: {
        x: { stacked: true, ticks: { maxTicksLimit: 10 } },
        y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
      },
      plugins: { legend: { position: "bottom" } },
    },
  });
}

async function togglePause() {
  const action = current.drop.paused ? "resume" : "pause";
  try {
    const reply = await api(`/api/drops/${current.id}/${action}`,
      { method: "POST", staff: true, idempotent: `${action}-${current.id}` });
    $("drop-error").hidden = true;
    if (reply.approval) return sentForApproval($("pause-toggle"), reply.approval); // done once approved
    current.drop = reply;
    render();
    document.dispatchEvent(new CustomEvent("dropschanged"));
  } catch (error) {
    $("drop-error").textContent = error.status === 0 ? t("error.network") : error.message;
    $("drop-error").hidden = false;
  }
}

$("pause-toggle").addEventListener("click", (event) => busy(event.currentTarget, togglePause));
onLangChange(() => current?.drop && render());
document.addEventListener("dropschanged", () => current?.drop && refresh().catch(() => {}));

function schedule() {
  clearTimeout(timer);
  const wait = current?.drop && building(current.drop) ? BUILDING_REFRESH_MS : REFRESH_MS;
  timer = setTimeout(() => refresh().catch(() => {}).finally(() => current && schedule()), wait);
}

export async function showDrop(id) {
  const switching = current?.id !== id;
  $("view-drop").hidden = false;
  if (switching) {
    current = { id, pace: {} };
    chart?.destroy();
    chart = null;
    $("drop-error").hidden = true;
    resetAirdrop(id);
    resetCodes(id);
  }
  try {
    await refresh();
    if (switching) $("drop-title").focus();
  } catch (error) {
    $("drop-error").textContent = error.status === 0 ? t("error.network") : error.message;
    $("drop-error").hidden = false;
  }
  schedule();
}

export function hideDrop() {
  current = null;
  clearTimeout(timer);
  $("view-drop").hidden = true;
}

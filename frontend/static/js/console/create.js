// Create a drop: a live preview of its cards while the form is filled in, then creation and the rendering /
// deployment progress until the drop is live.
import { api } from "../api.js";
import { setText } from "../i18n.js";
import { $, busy, clearErrors, el, requireFields, showErrors, sleep } from "../ui.js";
import { sentForApproval } from "./approvals.js";
import { showBuild } from "./build.js";

const form = $("create-form");
const PREVIEW_DELAY_MS = 400;
const NUMBERS = ["edition_size", "per_wallet_limit", "royalty_bps", "holding_period_days"];
let previewTimer;
let previewSeq = 0;
let imageCache = { file: null, data: null };

function readImage(file) {
  if (imageCache.file === file) return imageCache.data;
  imageCache = { file, data: new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  }) };
  return imageCache.data;
}

/** The form as the API's DropCreateSchema: numbers as numbers, times as UTC ISO, empty optionals left out. */
async function body() {
  const data = {};
  for (const name of ["name", "slug", "symbol", "issuer_name", "description", "transfer_policy", "artwork", "language", "seed"]) {
    const value = form.elements[name].value.trim();
    if (value) data[name] = value;
  }
  for (const name of NUMBERS) {
    if (form.elements[name].value !== "") data[name] = Number(form.elements[name].value);
  }
  if (data.transfer_policy !== "holding_period") delete data.holding_period_days;
  for (const name of ["claim_start", "claim_end"]) {
    if (form.elements[name].value) data[name] = new Date(form.elements[name].value).toISOString();
  }
  const file = form.base_image.files[0];
  if (data.artwork === "image" && file) data.base_image = await readImage(file);
  return data;
}

function showConditionalFields() {
  $("holding_period_days-field").hidden = form.transfer_policy.value !== "holding_period";
  $("base_image-field").hidden = form.artwork.value !== "image";
}

const previewSerials = (edition) => [...new Set([1, 2, 3, edition])].filter((n) => n >= 1 && n <= edition);

async function preview() {
  const seq = ++previewSeq;
  const data = await body();
  const status = $("preview-status");
  if (!data.name || !(data.edition_size >= 1)) {
    setText(status, "create.preview_hint");
    $("preview-grid").replaceChildren();
    return;
  }
  setText(status, "create.preview_loading");
  try {
    const { items } = await api("/api/drops/preview", {
      method: "POST", staff: true, json: { ...data, serials: previewSerials(data.edition_size) } });
    if (seq !== previewSeq) return; // a newer preview is on its way
    $("preview-grid").replaceChildren(...items.map((item) => el("li", {},
      el("figure", {},
        el("img", { src: item.image, alt: `${data.name} ${item.serial_label}`, width: 320, height: 320 }),
        el("figcaption", {}, item.serial_label)))));
    setText(status, "create.preview_ready");
  } catch (error) {
    if (seq !== previewSeq) return;
    const details = Object.entries(error.fields).map(([field, message]) => `${field}: ${message}`);
    setText(status, "create.preview_failed", { reason: details.join("; ") || error.message });
  }
}

function schedulePreview() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(preview, PREVIEW_DELAY_MS);
}

/** Follow a new drop through rendering and deployment; open its dashboard once it is live. */
async function follow(drop) {
  const build = $("build");
  build.hidden = false;
  $("build-error").hidden = true;
  $("build-title").focus();
  const shown = { progress: $("build-progress"), status: $("build-status"), eta: $("build-eta") };
  const pace = {};
  for (;;) {
    showBuild(drop, shown, pace);
    if (drop.status === "live") {
      form.reset(); // the next new drop starts blank
      $("preview-grid").replaceChildren();
      document.dispatchEvent(new CustomEvent("dropschanged"));
      location.hash = `#/drops/${drop.id}`;
      return;
    }
    if (drop.status === "failed") {
      $("build-error").textContent = drop.error;
      $("build-error").hidden = false;
      return;
    }
    await sleep(500);
    drop = await api(`/api/drops/${drop.id}`, { staff: true });
  }
}

form.addEventListener("input", schedulePreview);
form.addEventListener("change", () => {
  showConditionalFields();
  schedulePreview();
});
form.addEventListener("submit", (event) => {
  event.preventDefault();
  busy(form.querySelector("button[type=submit]"), async () => {
    clearErrors(form);
    try {
      const data = await body();
      requireFields({ name: data.name, slug: data.slug, symbol: data.symbol, edition_size: data.edition_size });
      const drop = await api("/api/drops", { method: "POST", staff: true, json: data, idempotent: "create-drop" });
      if (drop.approval) return sentForApproval(form, drop.approval); // made once a second person approves
      document.dispatchEvent(new CustomEvent("dropschanged"));
      await follow(drop);
    } catch (error) {
      showErrors(form, error);
    }
  });
});

export function showCreate() {
  $("view-new").hidden = false;
  $("build").hidden = true;
  showConditionalFields();
  schedulePreview();
  $("new-title").focus();
}

export function hideCreate() {
  $("view-new").hidden = true;
}

// Small DOM helpers shared by the pages: element building, addresses, copy buttons, form errors, busy buttons.
import { ApiError } from "./api.js";
import { setText, t } from "./i18n.js";

/** el("a", {href: "/x", class: "button", i18n: "key", params: {...}}, child, "text") */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false || name === "params") continue;
    if (name === "i18n") setText(node, value, attrs.params);
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export const shortHex = (value, head = 6, tail = 4) =>
  value && value.length > head + tail + 1 ? `${value.slice(0, head)}…${value.slice(-tail)}` : value || "";

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
  // plain-http pages have no Clipboard API
  const area = el("textarea", { class: "offscreen", readonly: true });
  area.value = text;
  document.body.append(area);
  area.select();
  document.execCommand("copy");
  area.remove();
}

/** A shortened address or hash, the whole value in its title, and a button that copies it. */
export function copyable(value, { head = 6, tail = 4 } = {}) {
  const label = el("code", { class: "hex", title: value }, shortHex(value, head, tail));
  const status = el("span", { class: "copy-status", role: "status" });
  const button = el("button", {
    type: "button", class: "copy", "data-i18n-aria-label": "copy.label", "aria-label": t("copy.label"),
    onclick: async () => {
      try {
        await copyText(value);
        setText(status, "copy.done");
      } catch {
        setText(status, "copy.failed");
      }
      setTimeout(() => { status.textContent = ""; delete status.dataset.i18n; }, 2000);
    },
  }, icon("copy"));
  return el("span", { class: "copyable" }, label, button, status);
}

const ICONS = {
  ok: '<path d="M20 6 9 17l-5-5"/>',
  bad: '<path d="M18 6 6 18M6 6l12 12"/>',
  unknown: '<path d="M9.1 9a3 3 0 0 1 5.8 1c0 2-3 3-3 3"/><path d="M12 17h.01"/>',
  copy: '<rect x="9" y="9" width="12" height="12" rx="2"/>'
    + '<path d="M5 15H4a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1h10a1 1 0 0 1 1 1v1"/>',
};

/** An inline SVG icon (decorative: the words next to it say the same). */
export function icon(name) {
  const span = el("span", { class: `icon icon--${name}`, "aria-hidden": "true" });
  span.innerHTML = `<svg viewBox="0 0 24 24" width="24" height="24" fill="none" stroke="currentColor"
    stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round">${ICONS[name]}</svg>`;
  return span;
}

/** Show an ApiError: each field's message under that field, anything else at the top of the form. */
export function showErrors(form, error) {
  clearErrors(form);
  const unplaced = [];
  let first;
  for (const [field, message] of Object.entries(error.fields || {})) {
    const slot = form.querySelector(`[data-error-for="${field}"]`);
    const input = form.elements[field];
    if (!slot || !input) {
      unplaced.push(`${field}: ${message}`);
      continue;
    }
    slot.textContent = message;
    slot.hidden = false;
    const target = input instanceof RadioNodeList ? input[0] : input;
    target.setAttribute("aria-invalid", "true");
    first ??= target;
  }
  const general = form.querySelector(".form-error");
  if (general && (!first || unplaced.length)) {
    if (error.status === 0) setText(general, "error.network");
    else general.textContent = [error.message, ...unplaced].join(" — ");
    general.hidden = false;
  }
  (first || general)?.focus();
}

/** An error to show under form fields before anything is sent: {field: message}. */
export function fieldError(fields) {
  const error = new ApiError(422, {});
  error.fields = fields;
  return error;
}

/** Refuse a submission with an empty required field: "required" under each one, as the API would. */
export function requireFields(values) {
  const missing = Object.keys(values).filter((name) => !values[name]);
  if (missing.length) throw fieldError(Object.fromEntries(missing.map((name) => [name, t("error.required")])));
}

export function clearErrors(form) {
  for (const slot of form.querySelectorAll("[data-error-for], .form-error")) {
    delete slot.dataset.i18n;
    slot.textContent = "";
    slot.hidden = true;
  }
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

/** Disable a button while `work` runs (no double submissions) and say so to screen readers. */
export async function busy(button, work) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

export const $ = (id) => document.getElementById(id);

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The verify page's path for an item (same origin, whatever PUBLIC_BASE_URL the API was told). */
export const verifyPath = (collection, tokenId) => `/v/${collection}/${tokenId}`;

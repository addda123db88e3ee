// Chinese / English. The server renders the page in the language of the `lang` cookie (Chinese by default);
// this module keeps localStorage and that cookie in step and re-translates the page in place when switched.
// Anything made later carries data-i18n (+ data-i18n-params) or data-date, so a switch re-translates it too.

const STORE = "hallmark.lang";
const HTML_LANG = { zh: "zh-CN", en: "en" };
const ATTRS = ["placeholder", "aria-label", "title", "alt"];

let strings = JSON.parse(document.getElementById("i18n-strings").textContent);
let current = document.documentElement.lang.startsWith("zh") ? "zh" : "en";

export const lang = () => current;

export function t(key, params = {}) {
  const text = strings[key];
  if (text === undefined) {
    console.warn("missing translation", key);
    return key;
  }
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

const locale = () => HTML_LANG[current];

export function formatDate(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}

export function formatNumber(n, options = {}) {
  return new Intl.NumberFormat(locale(), options).format(n);
}

/** Set an element's text to a translation that follows later language switches. */
export function setText(node, key, params) {
  node.dataset.i18n = key;
  if (params) node.dataset.i18nParams = JSON.stringify(params);
  else delete node.dataset.i18nParams;
  node.textContent = t(key, params);
  return node;
}

/** Set an element's text to a date that is re-formatted on a language switch. */
export function setDate(node, iso) {
  node.dataset.date = iso;
  node.textContent = formatDate(iso);
  return node;
}

export function translate(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) {
    node.textContent = t(node.dataset.i18n, node.dataset.i18nParams ? JSON.parse(node.dataset.i18nParams) : {});
  }
  for (const attr of ATTRS) {
    for (const node of root.querySelectorAll(`[data-i18n-${attr}]`)) {
      node.setAttribute(attr, t(node.getAttribute(`data-i18n-${attr}`)));
    }
  }
  for (const node of root.querySelectorAll("[data-date]")) node.textContent = formatDate(node.dataset.date);
}

export async function setLang(next) {
  if (next === current) return;
  const reply = await fetch(`/static/i18n/${next}.json`);
  if (!reply.ok) throw new Error(`no ${next} strings`);
  strings = await reply.json();
  current = next;
  document.documentElement.lang = HTML_LANG[next];
  localStorage.setItem(STORE, next);
  document.cookie = `lang=${next}; path=/; max-age=31536000; samesite=lax`;
  const other = document.querySelector("[data-lang-switch] [lang]");
  if (other) other.lang = next === "zh" ? "en" : "zh-CN";
  translate();
  document.dispatchEvent(new CustomEvent("langchange", { detail: next }));
}

/** Re-run `render` whenever the language changes (for text that is not a plain translation). */
export const onLangChange = (render) => document.addEventListener("langchange", render);

document.querySelector("[data-lang-switch]")?.addEventListener("click", () =>
  setLang(current === "zh" ? "en" : "zh"));

// the cookie may be gone (cleared, another host) while localStorage remembers the choice
const saved = localStorage.getItem(STORE);
if (saved && saved !== current && saved in HTML_LANG) setLang(saved);

// Find an item to verify: by its link or contract and id, by drop and serial, or by a picture of it.
import { api } from "./api.js";
import { t } from "./i18n.js";
import { busy, clearErrors, el, fieldError, icon, requireFields, showErrors, verifyPath } from "./ui.js";

const ITEM_LINK = /(0x[0-9a-fA-F]{40})(?:[/#:](\d+))?/;

function handle(form, find) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    busy(button, async () => {
      clearErrors(form);
      try {
        await find(form);
      } catch (error) {
        showErrors(form, error);
      }
    });
  });
}

handle(document.getElementById("by-contract"), async (form) => {
  const code = form.code.value.trim();
  const token = form.token.value.trim();
  const match = code.match(ITEM_LINK);
  requireFields({ code });
  if (!match) throw fieldError({ code: t("search.not_code") });
  requireFields({ token: match[2] || token });
  if (match[2] && /\/v\//.test(code)) {  // a verify link: the server also checks whose host it points to
    const answer = await api(`/api/verify?code=${encodeURIComponent(code)}`);
    const result = document.getElementById("code-result");
    result.replaceChildren(...phishingWarnings(answer.warnings));
    if (answer.warnings?.length) return;  // the warning stays on screen instead of a genuine-looking page
  }
  try {
    const answer = await api(`/api/verify/${match[1]}/${match[2] || token}`);
    location.assign(verifyPath(answer.collection.address, answer.token_id));
  } catch (error) {
    if (error.fields.address) error.fields = { code: error.fields.address };
    if (error.fields.token_id) error.fields = { token: error.fields.token_id };
    throw error;
  }
});

handle(document.getElementById("by-drop"), async (form) => {
  const slug = form.slug.value.trim().toLowerCase();
  const serial = form.serial.value.trim();
  requireFields({ slug, serial: /^\d+$/.test(serial) ? serial : "" });
  const answer = await api(`/api/verify/drop/${encodeURIComponent(slug)}/${serial}`);
  location.assign(verifyPath(answer.collection.address, answer.token_id));
});

handle(document.getElementById("by-image"), async (form) => {
  const file = form.file.files[0];
  requireFields({ file });
  const body = new FormData();
  body.append("file", file);
  const result = await api("/api/verify/image", { method: "POST", form: body });
  document.getElementById("image-result").replaceChildren(imageResult(result));
});

function phishingWarnings(warnings = [], key = "verify.phishing") {
  return warnings.filter((w) => w.warning === "foreign_host").map((w) =>
    el("div", { class: "result result--counterfeit", role: "alert" }, icon("bad"),
      el("p", { i18n: key, params: { host: w.host } })));
}

function imageResult(result) {
  if (result.match === "none") {
    return el("div", { class: "result result--counterfeit" }, icon("bad"), el("p", { i18n: "image.none" }));
  }
  const item = result.item || {};
  const label = `${item.drop?.name || item.collection?.name || ""} ${item.serial_label || `#${result.token_id}`}`;
  let good, key;
  if (result.match === "qr") {  // named by the card's QR code, the picture compared with the genuine card
    good = result.picture === "matches" && item.verdict === "genuine" && !result.warnings?.length;
    key = { matches: "image.qr_matches", differs: "image.qr_differs" }[result.picture] || "image.qr_foreign_item";
  } else {
    good = result.match === "exact" && item.verdict === "genuine";
    key = good ? "image.exact" : "image.near";
  }
  const answer = el("div", { class: `result result--${good ? "authentic" : result.picture === "differs" ? "counterfeit" : "unknown"}`,
    "data-match": result.match, "data-picture": result.picture || "" },
    icon(good ? "ok" : result.picture === "differs" ? "bad" : "unknown"),
    el("div", {},
      // the item's own verdict in the vocabulary of the verify page (burned, lookalike, ...), then the picture's
      item.verdict ? el("p", { class: "result-title", i18n: `verdict.${item.verdict}`,
        params: { name: item.imitates?.name || "" } }) : null,
      el("p", { i18n: key, params: { item: label.trim() } }),
      el("a", { class: "button button--secondary", href: verifyPath(result.collection, result.token_id),
        i18n: "image.open" })));
  const out = document.createElement("div");
  out.append(...phishingWarnings(result.warnings, "image.phishing"), answer);
  return out;
}

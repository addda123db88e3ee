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

function imageResult(result) {
  if (result.match === "none") {
    return el("div", { class: "result result--counterfeit" }, icon("bad"), el("p", { i18n: "image.none" }));
  }
  const item = result.item || {};
  const label = `${item.drop?.name || item.collection?.name || ""} ${item.serial_label || `#${result.token_id}`}`;
  const exact = result.match === "exact" && item.verdict === "authentic";
  return el("div", { class: `result result--${exact ? "authentic" : "unknown"}` },
    icon(exact ? "ok" : "unknown"),
    el("div", {},
      el("p", { i18n: exact ? "image.exact" : "image.near", params: { item: label.trim() } }),
      el("a", { class: "button button--secondary", href: verifyPath(result.collection, result.token_id),
        i18n: "image.open" })));
}

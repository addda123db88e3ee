// Partner API keys (#/keys, keys.manage): every key (never its secret), a form to make one with chosen scopes,
// optionally for some drops and for some days (the key shown once), and revoking after a confirmation.
import { api } from "../api.js";
import { setDate, setText, t } from "../i18n.js";
import { $, busy, clearErrors, copyable, el, fieldError, requireFields, showErrors } from "../ui.js";

const form = $("key-form");
const DAY_MS = 86_400_000;

function refuse(error) {
  $("keys-error").textContent = error.message;
  $("keys-error").hidden = false;
}

const when = (iso) => (iso ? setDate(el("time", { datetime: iso }), iso) : "—");

function revokeButton(key) {
  const b = el("button", { type: "button", class: "button button--ghost", i18n: "keys.revoke" });
  b.addEventListener("click", () => busy(b, async () => {
    if (!window.confirm(t("keys.confirm_revoke", { name: key.name, prefix: key.prefix }))) return;
    await api(`/api/keys/${key.id}`, { method: "DELETE", staff: true }).then(load, refuse);
  }));
  return b;
}

function row(key) {
  return el("tr", { id: `key-${key.id}` },
    el("td", {}, key.name),
    el("td", {}, el("code", {}, `${key.prefix}…`)),
    el("td", {}, ...key.scopes.map((scope) => el("code", { class: "scope" }, scope))),
    el("td", key.drop_ids ? {} : { i18n: "keys.all_drops" }, key.drop_ids ? key.drop_ids.map((id) => `#${id}`).join(" ") : null),
    el("td", {}, when(key.created_at)),
    el("td", {}, when(key.expires_at)),
    el("td", {}, when(key.last_used_at)),
    el("td", {}, key.revoked_at ? when(key.revoked_at) : revokeButton(key)));
}

async function load() {
  $("keys-error").hidden = true;
  const keys = await api("/api/keys", { staff: true });
  $("key-rows").replaceChildren(...(keys.length ? keys.map(row)
    : [el("tr", {}, el("td", { colspan: 8, class: "hint", i18n: "keys.none" }))]));
}

/** The form as the API's body; a drop-id list or day count that is not a number is refused here. */
function body() {
  const name = form.elements.name.value.trim();
  const scopes = [...form.querySelectorAll("input[name=scopes]:checked")].map((box) => box.value);
  const ids = form.drop_ids.value.split(/[\s,，]+/).filter(Boolean);
  const days = form.expires_days.value.trim();
  requireFields({ name, scopes: scopes.length });
  if (ids.some((id) => !/^\d+$/.test(id))) throw fieldError({ drop_ids: t("keys.bad_ids") });
  if (days && !(/^\d+$/.test(days) && Number(days) > 0)) throw fieldError({ expires_days: t("keys.bad_days") });
  return { name, scopes, drop_ids: ids.length ? ids.map(Number) : null,
    expires_at: days ? new Date(Date.now() + Number(days) * DAY_MS).toISOString() : null };
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  busy(form.querySelector("button[type=submit]"), async () => {
    clearErrors(form);
    $("key-shown").hidden = true;
    try {
      const made = await api("/api/keys", { method: "POST", staff: true, json: body(), idempotent: "create-key" });
      form.reset();
      // the key exists only in this answer
      $("key-shown").replaceChildren(setText(el("span"), "keys.key_once", { name: made.name }), " ",
        copyable(made.key, { head: made.key.length }));
      $("key-shown").hidden = false;
      await load();
    } catch (error) {
      if (error.fields?.expires_at) error.fields.expires_days = error.fields.expires_at;
      delete error.fields?.expires_at;
      showErrors(form, error);
    }
  });
});

export function showKeys() {
  $("view-keys").hidden = false;
  $("keys-title").focus();
  load().catch(refuse);
}

export function hideKeys() {
  $("view-keys").hidden = true;
  $("key-shown").replaceChildren(); // the key does not outlive the view
  $("key-shown").hidden = true;
}

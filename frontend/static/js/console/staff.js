// Staff accounts (#/staff, staff.manage): the list, a form to create one (its initial password shown once, to hand
// over), and per account: role, disable / enable, unlock after failed sign-ins, reset a lost authenticator.
import { api } from "../api.js";
import { setDate, setText, t } from "../i18n.js";
import { $, busy, clearErrors, copyable, el, requireFields, showErrors } from "../ui.js";

const form = $("staff-form");
const ROLES = [...$("staff-role").options].map((option) => option.value);

function refuse(error) {
  $("staff-error").textContent = error.message;
  $("staff-error").hidden = false;
}

const change = (user, json) => api(`/api/staff/${user.id}`, { method: "PATCH", staff: true, json })
  .then(load, refuse);

function button(key, onclick) {
  const b = el("button", { type: "button", class: "button button--ghost", i18n: key });
  b.addEventListener("click", () => busy(b, onclick));
  return b;
}

function roleSelect(user) {
  const select = el("select", { "aria-label": t("staff.role_of", { name: user.username }) },
    ...ROLES.map((role) => el("option", { value: role, selected: role === user.role, i18n: `role.${role}` })));
  select.addEventListener("change", () => change(user, { role: select.value }));
  return select;
}

function state(user) {
  const words = [user.disabled ? "staff.disabled" : "staff.active", user.locked_until ? "staff.locked" : null];
  return words.filter(Boolean).map((key) => el("span", { class: "chip", i18n: key }));
}

function row(user) {
  return el("tr", { id: `staff-${user.username}` },
    el("td", {}, el("code", {}, user.username)),
    el("td", {}, user.display_name),
    el("td", {}, roleSelect(user)),
    el("td", { i18n: user.totp ? "staff.yes" : "staff.no" }),
    el("td", {}, ...state(user)),
    el("td", {}, user.last_login_at ? setDate(el("time", { datetime: user.last_login_at }), user.last_login_at) : "—"),
    el("td", {},
      button(user.disabled ? "staff.enable" : "staff.disable", () => change(user, { disabled: !user.disabled })),
      user.locked_until ? button("staff.unlock", () => change(user, { unlock: true })) : null,
      user.totp ? button("staff.reset_totp", () => (window.confirm(t("staff.confirm_reset", { name: user.username }))
        ? change(user, { reset_totp: true }) : null)) : null));
}

async function load() {
  $("staff-error").hidden = true;
  const users = await api("/api/staff", { staff: true });
  $("staff-rows").replaceChildren(...users.map(row));
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  busy(form.querySelector("button[type=submit]"), async () => {
    clearErrors(form);
    $("staff-password").hidden = true;
    const json = { username: form.username.value.trim(), display_name: form.display_name.value.trim(),
      role: form.role.value };
    try {
      requireFields({ username: json.username });
      const made = await api("/api/staff", { method: "POST", staff: true, json, idempotent: "create-staff" });
      form.reset();
      // the initial password exists only in this answer: show it with a copy button, once
      $("staff-password").replaceChildren(setText(el("span"), "staff.password_once", { name: made.username }), " ",
        copyable(made.password, { head: made.password.length }));
      $("staff-password").hidden = false;
      await load();
    } catch (error) {
      showErrors(form, error);
    }
  });
});

export function showStaff() {
  $("view-staff").hidden = false;
  $("staff-title").focus();
  load().catch(refuse);
}

export function hideStaff() {
  $("view-staff").hidden = true;
  $("staff-password").replaceChildren(); // the one-time password does not outlive the view
  $("staff-password").hidden = true;
}

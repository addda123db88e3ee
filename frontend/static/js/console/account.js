// The signed-in person's account (#/account): change the password (the server ends their other sessions) and
// enrol an authenticator app. The secret and QR code are shown once, while enrolling; an admin needs the factor
// before any admin route answers, and confirming it upgrades the current session.
import { api } from "../api.js";
import { setText, t } from "../i18n.js";
import { $, busy, clearErrors, fieldError, requireFields, showErrors } from "../ui.js";

const passwordForm = $("password-form");
const totpForm = $("totp-form");

function showEnrolment(me) {
  setText($("account-who"), "account.who", { name: me.display_name || me.username,
    role: t(`role.${me.role}`) });
  setText($("totp-state"), me.totp ? "account.totp_on" : "account.totp_off");
  $("totp-start").hidden = me.totp || !totpForm.hidden;
  if (me.totp) totpForm.hidden = true;
}

passwordForm.addEventListener("submit", (event) => {
  event.preventDefault();
  busy(passwordForm.querySelector("button[type=submit]"), async () => {
    clearErrors(passwordForm);
    $("password-done").hidden = true;
    const values = Object.fromEntries(["current_password", "new_password", "confirm_password"]
      .map((name) => [name, passwordForm.elements[name].value]));
    try {
      requireFields(values);
      if (values.new_password !== values.confirm_password) {
        throw fieldError({ confirm_password: t("account.mismatch") });
      }
      await api("/api/account/password", { method: "POST", staff: true, raw: true, // 204: no body
        json: { current_password: values.current_password, new_password: values.new_password } });
      passwordForm.reset();
      $("password-done").hidden = false;
    } catch (error) {
      // the server's length / username rules name `password`: that is the new one here
      if (error.fields?.password) error.fields.new_password = error.fields.password;
      delete error.fields?.password;
      showErrors(passwordForm, error);
    }
  });
});

$("totp-start").addEventListener("click", (event) => busy(event.currentTarget, async () => {
  const started = await api("/api/account/totp", { method: "POST", staff: true });
  $("totp-qr").innerHTML = started.qr_svg; // segno's SVG from our own server
  $("totp-qr").querySelector("svg")?.setAttribute("aria-label", started.uri);
  $("totp-secret").textContent = started.secret;
  totpForm.hidden = false;
  $("totp-start").hidden = true;
  totpForm.code.focus();
}));

totpForm.addEventListener("submit", (event) => {
  event.preventDefault();
  busy(totpForm.querySelector("button[type=submit]"), async () => {
    clearErrors(totpForm);
    const code = totpForm.code.value.trim();
    try {
      requireFields({ code });
      const me = await api("/api/account/totp/confirm", { method: "POST", staff: true, json: { code } });
      // the secret is not kept on the page once enrolled
      totpForm.reset();
      $("totp-qr").replaceChildren();
      $("totp-secret").textContent = "";
      showEnrolment(me);
    } catch (error) {
      showErrors(totpForm, error);
    }
  });
});

export function showAccount() {
  $("view-account").hidden = false;
  $("account-title").focus();
  api("/api/session", { staff: true }).then(showEnrolment, () => {});
}

export function hideAccount() {
  $("view-account").hidden = true;
}

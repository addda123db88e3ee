// The verdict banner and the reasons behind it, in plain words. The API explains each check in English
// (`reasons: [{check, ok, detail}]`); known checks are said in the reader's language, others as given.
import { setText } from "./i18n.js";
import { el, icon } from "./ui.js";

const STATE = { true: "ok", false: "fail", null: "unknown" };
const ICON = { authentic: "ok", counterfeit: "bad", unknown: "unknown" };

export function reasonText(reason, tokenId) {
  const state = STATE[reason.ok];
  if (reason.check === "token" && reason.ok === false) {
    const key = /burn/.test(reason.detail) ? "reason.token.burned" : "reason.token.outside";
    return { key, params: { id: tokenId } };
  }
  if (reason.check === "lookalike") {
    return { key: "reason.lookalike.fail", params: { name: (reason.detail.match(/'([^']+)'/) || [])[1] || "?" } };
  }
  if (["registry", "token", "content"].includes(reason.check)) {
    return { key: `reason.${reason.check}.${state}`, params: { id: tokenId } };
  }
  return { text: reason.detail };
}

export function reasonItem(reason, tokenId) {
  const { key, params, text } = reasonText(reason, tokenId);
  const words = key ? el("span", { i18n: key, params }) : el("span", { text });
  const mark = { ok: "ok", fail: "bad", unknown: "unknown" }[STATE[reason.ok]];
  return el("li", { class: `check check--${STATE[reason.ok]}` }, icon(mark), words);
}

/** Fill the banner: colour, icon and words for the verdict, and for a doubtful item what went wrong. */
export function renderVerdict(banner, answer) {
  banner.className = `verdict verdict--${answer.verdict}`;
  banner.querySelector(".verdict-icon").replaceChildren(icon(ICON[answer.verdict]));
  setText(banner.querySelector(".verdict-title"), `verdict.${answer.verdict}`);
  const sub = banner.querySelector(".verdict-sub");
  const issuer = answer.drop?.issuer;
  if (answer.verdict === "authentic" && issuer) setText(sub, "verdict.authentic.sub", { issuer });
  else setText(sub, `verdict.${answer.verdict}.sub`);
  const list = banner.querySelector(".verdict-reasons");
  const doubts = answer.reasons.filter((r) => r.ok !== true);
  list.replaceChildren(...doubts.map((r) => reasonItem(r, answer.token_id)));
  list.hidden = answer.verdict === "authentic" || !doubts.length;
}

/** The banner when there is no verdict at all (bad link, server unreachable). */
export function renderVerdictError(banner, key, message) {
  banner.className = "verdict verdict--unknown";
  banner.querySelector(".verdict-icon").replaceChildren(icon("unknown"));
  setText(banner.querySelector(".verdict-title"), key);
  const sub = banner.querySelector(".verdict-sub");
  delete sub.dataset.i18n;
  sub.textContent = message || "";
  banner.querySelector(".verdict-reasons").hidden = true;
}

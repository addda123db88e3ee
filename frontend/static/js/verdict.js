// The verdict banner and the reasons behind it, in plain words. The API says each verdict and reason in Chinese
// and English (`verdict_text`, `reasons[].text`, from the same dictionaries as this page): the banner shows them in
// the reader's language; a page re-renders its answer on a language switch.
import { lang, setText } from "./i18n.js";
import { el, icon } from "./ui.js";

const STATE = { true: "ok", false: "fail", null: "unknown" };
// how each verdict looks: genuine green, burned grey, not issued neutral, unknown amber, the rest red
const TONE = { genuine: "ok", burned: "gone", not_issued: "neutral", unknown: "warn" };
const ICON = { ok: "ok", gone: "bad", neutral: "unknown", warn: "unknown", bad: "bad" };

export const tone = (verdict) => TONE[verdict] || "bad";

const words = (text, fallback) => (text && text[lang()]) || fallback;

export function reasonItem(reason) {
  const mark = { ok: "ok", fail: "bad", unknown: "unknown" }[STATE[reason.ok]];
  return el("li", { class: `check check--${STATE[reason.ok]}` }, icon(mark),
    el("span", { text: words(reason.text, reason.detail) }));
}

/** Fill the banner: colour, icon and words for the verdict, and unless genuine what speaks against the item. */
export function renderVerdict(banner, answer) {
  const look = tone(answer.verdict);
  banner.className = `verdict verdict--${look}`;
  banner.dataset.verdict = answer.verdict;
  banner.querySelector(".verdict-icon").replaceChildren(icon(ICON[look]));
  const said = words(answer.verdict_text, { title: answer.verdict, sub: "" });
  for (const [part, text] of [["title", said.title], ["sub", said.sub]]) {
    const node = banner.querySelector(`.verdict-${part}`);
    delete node.dataset.i18n; // the server's words, not a dictionary key the switch would re-translate
    node.textContent = text;
  }
  const list = banner.querySelector(".verdict-reasons");
  const doubts = answer.reasons.filter((r) => r.ok !== true);
  list.replaceChildren(...doubts.map((r) => reasonItem(r)));
  list.hidden = answer.verdict === "genuine" || !doubts.length;
}

/** The banner when there is no verdict at all (bad link, server unreachable). */
export function renderVerdictError(banner, key, message) {
  banner.className = "verdict verdict--warn";
  delete banner.dataset.verdict;
  banner.querySelector(".verdict-icon").replaceChildren(icon("unknown"));
  setText(banner.querySelector(".verdict-title"), key);
  const sub = banner.querySelector(".verdict-sub");
  delete sub.dataset.i18n;
  sub.textContent = message || "";
  banner.querySelector(".verdict-reasons").hidden = true;
}

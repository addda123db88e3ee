// Claim codes: generated as a CSV (code, claim_url) that downloads at once. The server keeps only their
// hashes, so this answer is the only copy: the codes stay listed here, with the download link, until the
// page is left.
import { api } from "../api.js";
import { $, busy, clearErrors, el, showErrors } from "../ui.js";

const form = $("codes-form");
let dropId;
let download; // the blob URL of the last CSV

function save(csv, filename) {
  if (download) URL.revokeObjectURL(download);
  download = URL.createObjectURL(new Blob([csv], { type: "text/csv" }));
  return el("a", { class: "button button--secondary", href: download, download: filename, i18n: "codes.download" });
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  busy(form.querySelector("button[type=submit]"), async () => {
    clearErrors(form);
    try {
      const reply = await api(`/api/drops/${dropId}/claim-codes?format=csv`, {
        method: "POST", staff: true, json: { count: Number(form.count.value) }, idempotent: "codes", raw: true });
      const csv = await reply.text();
      const filename = reply.headers.get("Content-Disposition")?.match(/filename="([^"]+)"/)?.[1] || "claim-codes.csv";
      const codes = csv.trim().split("\n").slice(1).map((line) => line.split(",")[0]);
      const link = save(csv, filename);
      $("codes-result").replaceChildren(
        el("p", { class: "alert alert--ok", i18n: "codes.ready", params: { n: codes.length } }),
        link,
        el("ol", { class: "codes", "aria-label": filename },
          ...codes.map((code) => el("li", {}, el("code", {}, code)))));
      link.click();
    } catch (error) {
      showErrors(form, error);
    }
  });
});

export function resetCodes(id) {
  dropId = id;
  form.reset();
  clearErrors(form);
  $("codes-result").replaceChildren();
}

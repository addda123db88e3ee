// Airdrop from a CSV: every row is checked first (a dry run lists the bad rows, nothing is sent), then the
// job is started and followed until every row is minted or failed.
import { api } from "../api.js";
import { formatNumber, setText } from "../i18n.js";
import { $, busy, clearErrors, el, requireFields, showErrors, sleep } from "../ui.js";
import { sentForApproval } from "./approvals.js";

const form = $("airdrop-form");
const send = $("airdrop-send");
const POLL_MS = 500;
const ROW_REASONS = { "not an Ethereum address": "row.not_address", "the zero address cannot hold tokens": "row.zero" };
let dropId;
let checked = null; // {file, valid}

const fileId = (file) => `${file.name}:${file.size}:${file.lastModified}`;

function upload(file, dryRun) {
  const body = new FormData();
  body.append("file", file);
  return api(`/api/drops/${dropId}/airdrops${dryRun ? "?dry_run=true" : ""}`, {
    method: "POST", staff: true, form: body, same: fileId(file),
    idempotent: dryRun ? "airdrop-check" : "airdrop-send" });
}

function rowTable(rows, addressKey) {
  const head = ["airdrop.row", "airdrop.value", "airdrop.reason"].map((key) => el("th", { scope: "col", i18n: key }));
  const line = (row) => el("tr", {}, el("td", {}, String(row.row)), el("td", {}, el("code", {}, row[addressKey])),
    el("td", ROW_REASONS[row.reason] ? { i18n: ROW_REASONS[row.reason] } : { text: row.reason }));
  return el("table", { class: "rows" }, el("thead", {}, el("tr", {}, ...head)), el("tbody", {}, ...rows.map(line)));
}

async function check() {
  clearErrors(form);
  checked = null;
  send.disabled = true;
  setText(send, "airdrop.send_none");
  const file = form.file.files[0];
  $("airdrop-check").replaceChildren();
  if (!file) return;
  try {
    const report = await upload(file, true);
    checked = { file, valid: report.valid };
    const bad = report.invalid.length;
    $("airdrop-check").replaceChildren(
      el("p", { class: `alert ${bad ? "alert--warn" : "alert--ok"}`,
        i18n: bad ? "airdrop.checked_bad" : "airdrop.checked_ok", params: { valid: report.valid, bad } }),
      bad ? rowTable(report.invalid, "value") : "");
    send.disabled = report.valid === 0;
    setText(send, report.valid ? "airdrop.send" : "airdrop.send_none", { n: report.valid });
  } catch (error) {
    showErrors(form, error);
  }
}

/** Poll the job until every row is minted or failed. */
async function follow(job) {
  $("airdrop-job").hidden = false;
  for (;;) {
    const processed = job.done + job.failed;
    $("job-progress").max = job.total;
    $("job-progress").value = processed;
    setText($("job-label"), "airdrop.progress", { processed, total: job.total,
      percent: formatNumber(job.total ? processed / job.total : 1, { style: "percent" }) });
    setText($("job-status"), job.status === "finished" ? "airdrop.finished" : "airdrop.running",
      { done: job.done, failed: job.failed, rate: job.tokens_per_second });
    $("job-failures").replaceChildren(job.failures.length ? rowTable(job.failures, "address") : "");
    if (job.status === "finished") {
      document.dispatchEvent(new CustomEvent("dropschanged"));
      return;
    }
    await sleep(POLL_MS);
    try {
      job = await api(`/api/jobs/${job.id}`, { staff: true });
    } catch (error) {
      if (error.status !== 0) throw error;
      await sleep(POLL_MS); // offline for a moment: the job goes on, keep asking
    }
  }
}

form.file.addEventListener("change", check);
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  await busy(send, async () => {
    clearErrors(form);
    try {
      requireFields({ file: checked?.file });
      const job = await upload(checked.file, false);
      form.reset();
      $("airdrop-check").replaceChildren();
      checked = null;
      setText(send, "airdrop.send_none");
      if (job.approval) sentForApproval(form, job.approval); // queued once a second person approves
      else await follow(job);
    } catch (error) {
      showErrors(form, error);
    }
  });
  send.disabled = !checked; // after a send, the next file is checked first; after a failure, retry as it was
});

export function resetAirdrop(id) {
  dropId = id;
  form.reset();
  checked = null;
  clearErrors(form);
  $("airdrop-check").replaceChildren();
  $("airdrop-job").hidden = true;
  send.disabled = true;
  setText(send, "airdrop.send_none");
}

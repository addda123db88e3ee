// The drop view's "Ledger CSV" button. The export needs the staff credentials, which a plain link cannot send,
// so it is fetched and handed to the browser as a file named by the server (ledger-<slug>.csv).
import { api } from "../api.js";
import { $, busy } from "../ui.js";

async function download() {
  const id = location.hash.match(/^#\/drops\/(\d+)/)?.[1];
  if (!id) return;
  const error = $("drop-error");
  try {
    const reply = await api(`/api/drops/${id}/ledger.csv`, { staff: true, raw: true });
    const name = reply.headers.get("Content-Disposition")?.match(/filename="([^"]+)"/)?.[1] || `ledger-${id}.csv`;
    const url = URL.createObjectURL(await reply.blob());
    Object.assign(document.createElement("a"), { href: url, download: name }).click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    error.hidden = true;
  } catch (failure) {
    error.textContent = failure.message;
    error.hidden = false;
  }
}

$("ledger-download").addEventListener("click", (event) => busy(event.currentTarget, download));

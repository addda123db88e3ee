// A drop's build, shown while its cards are rendered and its collection is created: a progress bar, the status,
// and the pace with the time left (measured between polls, so it reflects this machine and this drop).
import { formatNumber, setText, t } from "../i18n.js";

export function showBuild(drop, { progress, status, eta }, pace) {
  progress.max = drop.edition_size;
  progress.value = drop.status === "rendering" ? drop.rendered : drop.edition_size;
  setText(status, `build.${drop.status}`,
    { rendered: formatNumber(drop.rendered), total: formatNumber(drop.edition_size) });
  const now = Date.now();
  if (drop.status !== "rendering" || !pace.since || drop.rendered < pace.rendered) {
    Object.assign(pace, { since: now, rendered: drop.rendered });
    eta.textContent = "";
    return;
  }
  const rate = (drop.rendered - pace.rendered) / ((now - pace.since) / 1000);
  eta.textContent = rate > 0 ? t("build.eta", {
    rate: formatNumber(Math.round(rate)),
    seconds: formatNumber(Math.ceil((drop.edition_size - drop.rendered) / rate)),
  }) : "";
}

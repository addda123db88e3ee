// A wallet's collectibles from this bank, paged, each linking to its verify page. `?address=` (and `&page=`)
// are kept in the URL so the gallery can be bookmarked or shared.
import { api } from "./api.js";
import { connectWallet, hasWallet, walletErrorKey } from "./eth.js";
import { setText, t } from "./i18n.js";
import { $, busy, clearErrors, el, fieldError, requireFields, showErrors, verifyPath } from "./ui.js";

const PER_PAGE = 12;
const form = document.getElementById("wallet-form");
const section = document.getElementById("holdings");
const connect = document.getElementById("connect");

async function show(address, page = 1) {
  clearErrors(form);
  try {
    requireFields({ address });
    const holdings = await api(`/api/wallets/${encodeURIComponent(address)}?page=${page}&per_page=${PER_PAGE}`);
    history.replaceState(null, "", `/wallet?address=${holdings.address}${page > 1 ? `&page=${page}` : ""}`);
    form.address.value = holdings.address;
    render(holdings);
  } catch (error) {
    showErrors(form, error);
  }
}

function render({ address, total, page, items }) {
  section.hidden = false;
  setText($("holdings-title"), total ? "wallet.count" : "wallet.empty", { n: total });
  $("gallery").replaceChildren(...items.map(card));
  const pages = Math.max(1, Math.ceil(total / PER_PAGE));
  $("pager").hidden = pages <= 1;
  setText($("page-status"), "wallet.page", { page, pages });
  $("prev").disabled = page <= 1;
  $("next").disabled = page >= pages;
  $("prev").onclick = () => show(address, page - 1);
  $("next").onclick = () => show(address, page + 1);
}

function card(item) {
  const image = item.image_url ? new URL(item.image_url).pathname : null;
  const badges = [item.locked && el("span", { class: "badge", i18n: "wallet.locked" }),
    item.redeemed && el("span", { class: "badge badge--muted", i18n: "wallet.redeemed" })];
  return el("li", { class: "card" }, el("a", { href: verifyPath(item.collection, item.token_id) },
    image ? el("img", { src: image, alt: "", loading: "lazy", width: 320, height: 320 }) : null,
    el("span", { class: "card-body" },
      el("strong", { class: "card-title" }, item.drop),
      el("span", { class: "card-serial" }, item.serial_label),
      el("span", { class: "badges" }, ...badges))));
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  busy(form.querySelector("button[type=submit]"), () => show(form.address.value.trim()));
});

connect.hidden = !hasWallet();
connect.addEventListener("click", () => busy(connect, async () => {
  try {
    await show(await connectWallet());
  } catch (error) {
    showErrors(form, fieldError({ address: t(walletErrorKey(error)) }));
  }
}));

const params = new URLSearchParams(location.search);
if (params.get("address")) show(params.get("address"), Number(params.get("page")) || 1);

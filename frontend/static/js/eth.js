// A browser wallet through EIP-1193 (`window.ethereum`: MetaMask, wallet apps' built-in browsers, ...).
// Customers without one never need it: every page that offers it also works with a typed address.

export const hasWallet = () => Boolean(window.ethereum?.request);

/** The wallet's error as a translation key: the user said no, or something else went wrong. */
export const walletErrorKey = (error) => (error?.code === 4001 ? "wallet.rejected" : "wallet.failed");

export async function connectWallet() {
  const [address] = await window.ethereum.request({ method: "eth_requestAccounts" });
  if (!address) throw new Error("the wallet gave no account");
  return address;
}

/** personal_sign (EIP-191) of a text message, sent hex-encoded as wallets expect. */
export async function signMessage(address, message) {
  const hex = [...new TextEncoder().encode(message)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return window.ethereum.request({ method: "personal_sign", params: [`0x${hex}`, address] });
}

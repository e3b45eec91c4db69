// «Платежи»: while the bank is still deciding, ask our own page every few seconds and show the outcome once it
// changes. Without this file the page has an «Обновить» link that does the same.
const box = document.querySelector("[data-payment-status][data-poll]");
if (box) {
  const seen = box.dataset.paymentStatus;
  let tries = 0;
  const ask = async () => {
    tries += 1;
    try {
      const resp = await fetch(location.pathname + "?ref=poll", { credentials: "same-origin", cache: "no-store" });
      const html = new DOMParser().parseFromString(await resp.text(), "text/html");
      const now = html.querySelector("[data-payment-status]");
      if (now && now.dataset.paymentStatus !== seen) { location.replace(location.pathname); return; }
    } catch (e) { /* the network blinked: ask again */ }
    if (tries < 40) setTimeout(ask, 3000);
  };
  setTimeout(ask, 3000);
}

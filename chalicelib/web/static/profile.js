// The profile while the registry checks are pending: fetch the page again every few seconds and replace the
// identity part (tier, checks, channels) until no check is pending. Without this file the "Обновить" link does it.
const PERIOD = 3000;
const LIMIT = 100; // about five minutes, then the link is the way

async function refresh(live, left) {
  if (document.visibilityState === "visible") {
    try {
      const resp = await fetch(location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (resp.ok && !resp.redirected) {
        const fresh = new DOMParser().parseFromString(await resp.text(), "text/html").querySelector("[data-live]");
        if (fresh) {
          live.replaceChildren(...Array.from(fresh.childNodes, (node) => document.importNode(node, true)));
          if (!fresh.hasAttribute("data-pending")) {
            live.removeAttribute("data-pending");
            return;
          }
        }
      }
    } catch {
      // offline for a moment: try again on the next tick
    }
  }
  if (left > 0) setTimeout(() => refresh(live, left - 1), PERIOD);
}

const live = document.querySelector("[data-live][data-pending]");
if (live) setTimeout(() => refresh(live, LIMIT), PERIOD);

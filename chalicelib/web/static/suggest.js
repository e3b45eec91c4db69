// Suggestions while typing in the catalog search (SV-1): GET /services/suggest?q= (public JSON), shown as a
// listbox under the input (ARIA combobox pattern). Without this file the search is a plain GET form.
const input = document.querySelector("[data-suggest]");
const list = input && document.getElementById(input.dataset.suggestList);
const status = document.getElementById("suggest-status");
if (input && list) {
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", list.id);
  let timer = 0;
  let asked = 0;
  let active = -1;
  const options = () => Array.from(list.querySelectorAll("[role=option]"));
  const close = () => {
    list.hidden = true;
    list.replaceChildren();
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  };
  const highlight = (index) => {
    const all = options();
    all.forEach((o, i) => o.setAttribute("aria-selected", String(i === index)));
    active = index;
    if (index >= 0) input.setAttribute("aria-activedescendant", all[index].id);
    else input.removeAttribute("aria-activedescendant");
  };
  const show = (items) => {
    list.replaceChildren();
    items.forEach((item, i) => {
      const li = document.createElement("li");
      li.id = `suggest-${i}`;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.dataset.href = `/catalog/${encodeURIComponent(item.id)}`;
      li.textContent = item.title;
      li.addEventListener("click", () => window.location.assign(li.dataset.href));
      list.append(li);
    });
    list.hidden = items.length === 0;
    input.setAttribute("aria-expanded", String(items.length > 0));
    if (status) status.textContent = items.length ? `Подсказок: ${items.length}` : "";
  };
  const ask = async () => {
    const q = input.value.trim();
    if (q.length < 2) return close();
    const mine = ++asked;
    try {
      const resp = await fetch(`/services/suggest?q=${encodeURIComponent(q)}`, {headers: {Accept: "application/json"}});
      if (!resp.ok || mine !== asked) return;
      show((await resp.json()).items || []);
    } catch {
      close();  // suggestions are a convenience: the form still searches
    }
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(ask, 200);
  });
  input.addEventListener("keydown", (event) => {
    const all = options();
    if (event.key === "ArrowDown" && all.length) {
      event.preventDefault();
      highlight((active + 1) % all.length);
    } else if (event.key === "ArrowUp" && all.length) {
      event.preventDefault();
      highlight(active <= 0 ? all.length - 1 : active - 1);
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      window.location.assign(all[active].dataset.href);
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 200));
}

// Draft autosave (SV-4) on the application form: after a pause in typing, the form is posted to its own page
// route with action=autosave (the CSRF token is the form's own hidden field; the session is the same-origin
// HttpOnly cookie, never visible here). The answer redirects to ?draft=<id>: that id goes into the form, so the
// next save updates the same draft. Without this file the "Сохранить черновик" button does the same.
const form = document.querySelector("form[data-autosave]");
const status = form && form.querySelector("[data-autosave-status]");
if (form) {
  const DELAY = 3000;
  let timer = 0;
  let changed = false;
  const save = async () => {
    if (!changed) return;
    changed = false;
    const data = new URLSearchParams(new FormData(form));
    data.set("action", "autosave");
    try {
      const resp = await fetch(form.getAttribute("action"), {  // form.action is the buttons named "action"
        method: "POST", body: data, credentials: "same-origin",
        headers: {"Content-Type": "application/x-www-form-urlencoded"}});
      const draft = new URL(resp.url).searchParams.get("draft");
      if (resp.ok && draft) {
        form.elements.draft_id.value = draft;
        if (status) status.textContent = "Черновик сохранён";
        form.dataset.saved = draft;
      }
    } catch {
      changed = true;  // try again at the next change
    }
  };
  const later = () => {
    changed = true;
    clearTimeout(timer);
    timer = setTimeout(save, DELAY);
  };
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  form.addEventListener("submit", () => clearTimeout(timer));
}

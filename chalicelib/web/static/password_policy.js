// The password policy as the person types (ID-4): the server checks with the one rule it applies on submit and
// answers a small HTML fragment; nothing of the rule is repeated here. Without JavaScript the list above stays.
const form = document.querySelector("form[data-policy-check]");
const live = document.getElementById("policy-live");
const input = form && form.querySelector("input[name=password]");
if (form && live && input) {
  let timer = 0;
  let asked = 0;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const mine = ++asked;
      const body = new URLSearchParams({ csrf: form.querySelector("input[name=csrf]").value, password: input.value });
      try {
        const answer = await fetch(form.dataset.policyCheck, { method: "POST", body, credentials: "same-origin" });
        if (!answer.ok || mine !== asked) return;
        const fragment = new DOMParser().parseFromString(await answer.text(), "text/html");
        live.replaceChildren(...fragment.body.childNodes);
        live.hidden = false;
      } catch (_) { /* offline: the server checks again on submit */ }
    }, 400);
  });
}

// Passkeys (AU-4): the one page feature that needs JavaScript, because only a script can reach the authenticator.
// A form marked data-passkey="create" or "get" carries the server's WebAuthn options (JSON, base64url fields).
// On submit the script asks the authenticator, writes its answer (JSON, base64url) into the form's hidden
// "credential" field and posts the form as usual: the page route verifies it and sets the session cookie in
// its own response, so no token ever reaches this script. Without JavaScript the same form posts without a
// credential and the page says a passkey needs JavaScript.

const toBuffer = (text) => {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const bytes = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(bytes, (c) => c.charCodeAt(0)).buffer;
};

const toText = (buffer) => {
  if (!buffer) return undefined;
  let bytes = "";
  new Uint8Array(buffer).forEach((b) => { bytes += String.fromCharCode(b); });
  return btoa(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
};

const descriptors = (list) => (list || []).map((c) => ({ ...c, id: toBuffer(c.id) }));

function creationOptions(options) {
  return { ...options, challenge: toBuffer(options.challenge), user: { ...options.user, id: toBuffer(options.user.id) },
           excludeCredentials: descriptors(options.excludeCredentials) };
}

function requestOptions(options) {
  return { ...options, challenge: toBuffer(options.challenge), allowCredentials: descriptors(options.allowCredentials) };
}

function asJSON(credential) {
  const r = credential.response;
  const response = { clientDataJSON: toText(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = toText(r.attestationObject);
    if (r.getTransports) response.transports = r.getTransports();
  } else {
    response.authenticatorData = toText(r.authenticatorData);
    response.signature = toText(r.signature);
    if (r.userHandle) response.userHandle = toText(r.userHandle);
  }
  const out = { id: credential.id, rawId: toText(credential.rawId), type: credential.type, response };
  if (credential.authenticatorAttachment) out.authenticatorAttachment = credential.authenticatorAttachment;
  return out;
}

function say(form, text) {
  const box = form.querySelector("[data-passkey-status]");
  if (box) { box.textContent = text; box.hidden = false; }
}

async function ceremony(form) {
  const options = JSON.parse(form.dataset.options);
  const credential = form.dataset.passkey === "create"
    ? await navigator.credentials.create({ publicKey: creationOptions(options) })
    : await navigator.credentials.get({ publicKey: requestOptions(options) });
  form.querySelector("input[name=credential]").value = JSON.stringify(asJSON(credential));
  form.submit();
}

if (window.PublicKeyCredential) {
  document.querySelectorAll("[data-passkey-nojs]").forEach((el) => { el.hidden = true; });
  document.querySelectorAll("form[data-passkey]").forEach((form) => {
    form.hidden = false;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (form.dataset.passkey === "create" && !form.checkValidity()) { form.reportValidity(); return; }
      ceremony(form).catch(() => say(form, form.dataset.failed));
    });
  });
}

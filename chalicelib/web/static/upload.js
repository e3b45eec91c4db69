// Upload straight to S3 with a progress bar. Without this file both steps are plain forms: the declaration
// (our page) answers with S3's presigned form, and S3 sends the browser back with success_action_redirect.
// With it, one page: the chosen file fills the declaration, the declaration is sent in the background, and
// the file goes to S3 with XMLHttpRequest (upload.onprogress) from the presigned form the page answered.

const SCRIPT_MARK = "via=script"; // the return address then answers the script instead of redirecting it

function ui(form) {
  const box = form.querySelector("[data-upload-progress]");
  const bar = box.querySelector("progress");
  const status = form.querySelector("[data-upload-status]");
  return {
    start() { box.hidden = false; bar.value = 0; status.textContent = form.dataset.textSending; },
    progress(loaded, total) { if (total) bar.value = Math.round((loaded / total) * 100); },
    done() { bar.value = bar.max; status.textContent = form.dataset.textDone; },
    failed() { status.textContent = form.dataset.textFailed; },
  };
}

// Post the presigned form and the file to S3; resolves when S3 accepted it.
function sendToS3(s3form, file, view) {
  const data = new FormData();
  for (const input of s3form.querySelectorAll("input[type=hidden]")) {
    let value = input.value;
    if (input.name === "success_action_redirect") value += (value.includes("?") ? "&" : "?") + SCRIPT_MARK;
    data.append(input.name, value);
  }
  data.append("file", file); // S3 reads no field after the file
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", s3form.action);
    xhr.upload.onprogress = (e) => view.progress(e.loaded, e.total);
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new Error(String(xhr.status))));
    xhr.onerror = () => reject(new Error("network"));
    xhr.send(data);
  });
}

function finish(view, where) {
  view.done();
  setTimeout(() => { window.location.assign(where); }, 800); // long enough to read "Загружено"
}

// Step 2 alone (the page S3's form is on): the same form, sent with progress.
const s3form = document.querySelector("form[data-upload]");
if (s3form) {
  const view = ui(s3form);
  s3form.addEventListener("submit", (event) => {
    const file = s3form.querySelector("input[type=file]").files[0];
    if (!file) return;
    event.preventDefault();
    view.start();
    sendToS3(s3form, file, view).then(() => finish(view, s3form.dataset.done), () => view.failed());
  });
}

// Both steps from the declaration page.
const start = document.querySelector("form[data-upload-start]");
if (start) {
  const view = ui(start);
  const pick = start.querySelector("[data-upload-pick]");
  const input = start.querySelector("[data-upload-file]");
  const size = start.querySelector("[data-upload-size]");
  const kind = start.querySelector("select[name=content_type]");
  pick.hidden = false;
  input.addEventListener("change", () => {
    const file = input.files[0];
    if (!file) return;
    start.querySelector("input[name=filename]").value = file.name;
    size.value = String(file.size);
    if ([...kind.options].some((o) => o.value === file.type)) kind.value = file.type;
  });
  start.addEventListener("submit", async (event) => {
    const file = input.files[0];
    if (!file) return; // the plain two-step way
    event.preventDefault();
    view.start();
    try {
      const answer = await fetch(start.action, {
        method: "POST", body: new URLSearchParams(new FormData(start)), credentials: "same-origin",
      });
      const page = new DOMParser().parseFromString(await answer.text(), "text/html");
      const presigned = page.querySelector("form[data-upload]");
      if (!answer.ok || !presigned) {
        start.submit(); // the page shows the errors of the declaration
        return;
      }
      await sendToS3(presigned, file, view);
      finish(view, presigned.dataset.done);
    } catch {
      view.failed();
    }
  });
}

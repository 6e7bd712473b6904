// Kho Lưu: upload a SIP in chunks (resumable), then start its ingest (docs/web.md, "Upload protocol").
"use strict";
(function () {
  const form = document.getElementById("upload");
  if (!form) return;
  const bar = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const headers = { "X-CSRFToken": csrf };

  function say(text) { status.textContent = text; }

  async function answer(response) {
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!response.ok) {
      const error = new Error(body && body.error ? body.error.message : response.statusText);
      error.status = response.status;
      error.body = body;
      throw error;
    }
    return body;
  }

  async function resumeOrStart(file, key) {
    const known = window.localStorage.getItem(key);
    if (known) {
      const r = await fetch(form.dataset.api + "/" + known, { headers: headers, credentials: "same-origin" });
      if (r.ok) { say(form.dataset.textResuming); return r.json(); }
      window.localStorage.removeItem(key);
    }
    const r = await fetch(form.dataset.api, {
      method: "POST", credentials: "same-origin",
      headers: Object.assign({ "Content-Type": "application/json" }, headers),
      body: JSON.stringify({ name: file.name, size: file.size }),
    });
    const upload = await answer(r);
    window.localStorage.setItem(key, upload.upload_id);
    return upload;
  }

  async function send(file, upload) {
    let offset = upload.offset;
    let failures = 0;
    while (offset < upload.size) {
      const end = Math.min(offset + upload.chunk_bytes, upload.size);
      bar.value = Math.floor((100 * offset) / upload.size);
      say(form.dataset.textSending + " " + bar.value + "%");
      try {
        const r = await fetch(form.dataset.api + "/" + upload.upload_id, {
          method: "PATCH", credentials: "same-origin",
          headers: Object.assign({ "Content-Type": "application/octet-stream",
            "Content-Range": "bytes " + offset + "-" + (end - 1) + "/" + upload.size }, headers),
          body: file.slice(offset, end),
        });
        if (r.status === 409) {  // the server holds a different amount: go on from there
          const body = await r.json();
          offset = body.error.params.offset;
          continue;
        }
        offset = (await answer(r)).offset;
        failures = 0;
      } catch (error) {
        if (error.status && error.status !== 409 && error.status < 500) throw error;
        failures += 1;
        if (failures > 5) throw error;
        await new Promise(function (resolve) { setTimeout(resolve, 1000 * failures); });
        const r = await fetch(form.dataset.api + "/" + upload.upload_id, { headers: headers, credentials: "same-origin" });
        offset = (await answer(r)).offset;
      }
    }
    bar.value = 100;
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const file = document.getElementById("sip").files[0];
    if (!file) return;
    const key = "kholuu-upload:" + file.name + ":" + file.size + ":" + file.lastModified;
    bar.hidden = false;
    try {
      const upload = await resumeOrStart(file, key);
      await send(file, upload);
      say(form.dataset.textStarting);
      const r = await fetch(form.dataset.ingests, {
        method: "POST", credentials: "same-origin",
        headers: Object.assign({ "Content-Type": "application/json" }, headers),
        body: JSON.stringify({ upload_id: upload.upload_id,
          agency: document.getElementById("agency").value.trim(),
          allow_duplicate: document.getElementById("allow_duplicate").checked }),
      });
      const started = await answer(r);
      window.localStorage.removeItem(key);
      window.location.assign(form.dataset.jobPage.replace("JOB", started.job_id));
    } catch (error) {
      say(form.dataset.textFailed + " " + error.message);
      status.classList.add("error-message");
    }
  });
})();

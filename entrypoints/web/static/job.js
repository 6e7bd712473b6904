// Kho Lưu: a running job's page follows the job (GET /api/v1/jobs/<id> every second).
"use strict";
(function () {
  const box = document.getElementById("job");
  if (!box) return;
  const status = document.getElementById("job-status");
  const progress = document.getElementById("job-progress");
  const bar = document.getElementById("job-bar");
  const steps = document.getElementById("job-steps");

  function show(job) {
    box.dataset.status = job.status;
    status.textContent = box.dataset["text" + job.status.charAt(0).toUpperCase() + job.status.slice(1)] || job.status;
    const p = job.progress;
    if (p && job.progress_text) {
      progress.textContent = " — " + job.progress_text;
      bar.max = Math.max(p.total, 1);
      bar.value = p.done;
    }
    steps.replaceChildren();
    for (const s of job.steps) {
      const li = document.createElement("li");
      li.dataset.step = s.name;
      li.dataset.stepStatus = s.status;
      li.textContent = s.name_text + ": " + s.status_text;
      steps.appendChild(li);
    }
  }

  async function poll() {
    try {
      const r = await fetch(box.dataset.poll, { credentials: "same-origin" });
      if (r.ok) {
        const job = await r.json();
        show(job);
        if (job.status !== "queued" && job.status !== "running") {
          window.location.reload();  // the finished page: the AIP's link, the errors
          return;
        }
      }
    } catch (e) { /* the server may be busy: try again */ }
    setTimeout(poll, 1000);
  }
  setTimeout(poll, 1000);
})();

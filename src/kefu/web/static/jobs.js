// The import/export page follows a background job (kefu.jobs): the progress bar is refreshed
// from GET /api/jobs/{id} twice a second; when the job has ended, the page is loaded again and
// the server shows the outcome (the bad rows, the confirmation button, the download).
(() => {
  const box = document.getElementById("job");
  if (!box) return;
  const bar = document.getElementById("job-bar");
  const state = document.getElementById("job-state");
  const number = (n) => n.toLocaleString("zh-CN");

  async function poll() {
    let job;
    try {
      const answer = await fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" } });
      if (!answer.ok) throw new Error(String(answer.status));
      job = await answer.json();
    } catch (error) {
      state.textContent = "暂时无法获取任务进度,正在重试……";
      setTimeout(poll, 2000);
      return;
    }
    box.dataset.status = job.status;
    if (job.status === "done" || job.status === "failed") {
      window.location.reload();
      return;
    }
    if (job.percent === null) bar.removeAttribute("value");
    else bar.value = job.percent;
    const counts = job.total ? ` ${number(job.done)} / ${number(job.total)}` : "";
    state.textContent = `${job.status_label}${job.phase ? ":" + job.phase : ""}${counts}`;
    setTimeout(poll, 500);
  }
  setTimeout(poll, 300);
})();

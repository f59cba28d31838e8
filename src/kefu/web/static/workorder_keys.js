// Ctrl+F3: the work-order search, from any page (workorder_keys.html, included by base.html).
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey && event.key === "F3") {
    event.preventDefault();
    const box = document.querySelector("#workorder-search");
    if (box) { box.focus(); box.select(); } else { window.location.href = "/workorders?scope=all#search"; }
  }
});
window.addEventListener("DOMContentLoaded", () => {
  if (window.location.hash === "#search") { const box = document.querySelector("#workorder-search"); if (box) box.focus(); }
});

// Behaviour every page shares (loaded from base.html). Pages carry no inline script or on…=
// attributes: the Content-Security-Policy (kefu.web.headers) runs scripts from /static only.

// "/" jumps to the search box of the page, as in most consoles.
document.addEventListener("keydown", (event) => {
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
  if (event.key === "/" && !typing) {
    const box = document.querySelector("input[type=search]");
    if (box) { event.preventDefault(); box.focus(); }
  }
});

// <form data-ctrl-enter>: Ctrl+Enter (⌘+Enter) saves from any field of the form.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
  const form = event.target.closest && event.target.closest("form[data-ctrl-enter]");
  if (form) { event.preventDefault(); form.requestSubmit(); }
});

// <form data-confirm="question">: asks before sending.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

// <select data-autosubmit>: choosing sends the form (filters).
document.addEventListener("change", (event) => {
  if (event.target.matches && event.target.matches("select[data-autosubmit]")) event.target.form.submit();
});

// Review page. 1 / 2: confirm / overturn the finding that has the focus (not while typing a note).
document.addEventListener("keydown", (event) => {
  if (!["1", "2"].includes(event.key) || event.ctrlKey || event.altKey || event.metaKey) return;
  const active = document.activeElement;
  if (["INPUT", "TEXTAREA", "SELECT"].includes(active.tagName)) return;
  const card = active.closest(".finding");
  const button = card && card.querySelector(`button[data-key="${event.key}"]`);
  if (button) { event.preventDefault(); button.click(); }
});
// After a verdict the page comes back to the finding: put the focus there for the next Tab.
if (location.hash.startsWith("#finding-")) {
  const card = document.querySelector(location.hash);
  if (card) card.focus();
}

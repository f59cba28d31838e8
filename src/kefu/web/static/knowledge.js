// Knowledge base list: ↓ from the search box to the first result, ↑/↓ between results, Esc back to the box.
document.addEventListener("keydown", (event) => {
  const box = document.querySelector("input[type=search]");
  const links = [...document.querySelectorAll("#hits .hit-title, #articles a")];
  if (!links.length || !["ArrowDown", "ArrowUp", "Escape"].includes(event.key)) return;
  const at = links.indexOf(document.activeElement);
  if (event.key === "Escape" && at >= 0) { box.focus(); event.preventDefault(); return; }
  if (document.activeElement === box && event.key === "ArrowDown") { links[0].focus(); event.preventDefault(); return; }
  if (at < 0) return;
  const next = event.key === "ArrowDown" ? at + 1 : at - 1;
  if (next < 0) box.focus(); else if (next < links.length) links[next].focus();
  event.preventDefault();
});

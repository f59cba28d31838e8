// Rulebook draft editor (Ctrl+Enter saving comes from kefu.js: the form has data-ctrl-enter).
(() => {
  const area = document.getElementById("overlay");
  area.addEventListener("keydown", (event) => {
    if (event.key === "Tab" && !event.shiftKey && !event.ctrlKey && !event.altKey) {
      event.preventDefault(); area.setRangeText("  ", area.selectionStart, area.selectionEnd, "end");
    }
  });
  // An error's line number takes the caret to that line.
  document.querySelectorAll(".rb-errors button[data-line]").forEach((button) => {
    button.addEventListener("click", () => {
      const line = parseInt(button.dataset.line, 10);
      if (!line) return;
      const lines = area.value.split("\n");
      const start = lines.slice(0, line - 1).reduce((n, text) => n + text.length + 1, 0);
      area.focus();
      area.setSelectionRange(start, start + (lines[line - 1] || "").length);
      area.scrollTop = Math.max(0, (line - 3) * parseFloat(getComputedStyle(area).lineHeight));
    });
  });
})();

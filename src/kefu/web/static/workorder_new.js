// New work order: the type's template decides which fields are required (and which must stay
// empty). The templates come as JSON in <script type="application/json" id="workorder-templates">.
(() => {
  const TEMPLATES = JSON.parse(document.getElementById("workorder-templates").textContent);
  const typeBox = document.querySelector("#type");
  function markRequired() {
    const template = TEMPLATES[typeBox.value] || {create: [], forbidden: []};
    document.querySelectorAll("#workorder-form [data-field]").forEach((label) => {
      const name = label.dataset.field, input = label.querySelector("input, textarea");
      const needed = template.create.includes(name), forbidden = template.forbidden.includes(name);
      label.classList.toggle("req", needed);
      label.hidden = forbidden;
      if (input.tagName === "TEXTAREA") input.required = needed;
    });
  }
  typeBox.addEventListener("change", markRequired);
  markRequired();
})();

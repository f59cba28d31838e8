// 通话助手 (/assist): checks the reply box for 服务禁语 as the agent types, puts in the recommended
// wording on request, keeps the call-stage checklist, and swaps the scripts column when another
// stage or scenario is chosen (the server renders it; only that column is replaced, so the text
// typed and the ticks stay). Plain JS, no framework.
(() => {
  "use strict";
  const root = document.getElementById("assist");
  if (!root) return;
  const csrf = root.dataset.csrf;
  const DEBOUNCE_MS = 150;
  const GREETING_REFRESH_MS = 60 * 1000;

  const box = document.getElementById("reply");
  const warnings = document.getElementById("warnings");
  const list = document.getElementById("warning-list");
  const state = document.getElementById("check-state");
  const count = document.getElementById("reply-count");
  const adoptAll = document.getElementById("adopt-all");
  const stageOf = () => (document.getElementById("stage") || {}).value || "";

  // ------------------------------------------------------------ checking as the agent types

  let timer = null;
  let sent = 0; // number of the latest request: answers to older ones are dropped
  let checked = null; // {text, hits, corrected} of what the warnings show

  // The API counts characters (code points); JS strings count UTF-16 units.
  const chars = (text) => Array.from(text);

  function say(message, kind) {
    state.textContent = message;
    state.className = kind ? `check-${kind}` : "";
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function show(result) {
    checked = result;
    warnings.dataset.checked = result.text; // what the warnings below are about
    list.replaceChildren();
    result.hits.forEach((hit, index) => {
      const item = element("li", "warning");
      item.dataset.set = hit.set;
      const head = element("div");
      head.append(element("span", "phrase", `「${hit.evidence}」`), element("span", "badge warn", hit.label));
      item.append(head);
      if (hit.suggestion) {
        const advice = element("div", "suggest", "建议改为:");
        advice.append(element("strong", "", hit.suggestion));
        item.append(advice);
      } else {
        item.append(element("div", "suggest", "没有推荐用语,请换一种说法。"));
      }
      if (hit.source) item.append(element("div", "small muted", `来源:${hit.source}`));
      if (hit.suggestion) {
        const button = element("button", "adopt", "采用建议");
        button.type = "button";
        button.addEventListener("click", () => adopt(index));
        item.append(button);
      }
      list.append(item);
    });
    const fixable = result.hits.filter((hit) => hit.suggestion).length;
    adoptAll.hidden = fixable < 2;
    if (!result.text.trim()) say("", "");
    else if (result.hits.length) say(`发现 ${result.hits.length} 处不规范用语`, "error");
    else say("未发现服务禁语", "ok");
  }

  async function check() {
    clearTimeout(timer);
    const text = box.value;
    const mine = ++sent;
    if (!text.trim()) {
      show({ text, hits: [], corrected: text });
      return;
    }
    let answer;
    let data = {};
    try {
      answer = await fetch("/api/assist/check", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        credentials: "same-origin",
        body: JSON.stringify({ text }),
      });
      data = await answer.json().catch(() => ({}));
    } catch (error) {
      if (mine === sent) say("网络异常,暂时无法检查", "error");
      return;
    }
    if (mine !== sent) return;
    if (!answer.ok) {
      if (answer.status === 401) say("登录已过期,请刷新页面重新登录", "error");
      else say(data.detail || `检查失败(${answer.status})`, "error");
      return;
    }
    show({ text, hits: data.hits, corrected: data.corrected });
  }

  function schedule() {
    count.textContent = chars(box.value).length;
    clearTimeout(timer);
    timer = setTimeout(check, DEBOUNCE_MS);
  }

  function replaceText(text, caret) {
    box.value = text;
    box.focus();
    box.setSelectionRange(caret, caret);
    count.textContent = chars(text).length;
    check();
  }

  function adopt(index) {
    if (!checked || checked.text !== box.value) {
      check(); // typed on since the check: check again rather than replace the wrong words
      return;
    }
    const hit = checked.hits[index];
    const all = chars(box.value);
    const before = all.slice(0, hit.start).join("");
    replaceText(before + hit.suggestion + all.slice(hit.end).join(""), before.length + hit.suggestion.length);
  }

  adoptAll.addEventListener("click", () => {
    if (!checked || checked.text !== box.value) {
      check();
      return;
    }
    replaceText(checked.corrected, checked.corrected.length);
  });
  box.addEventListener("input", schedule);
  if (box.value) schedule();

  // ------------------------------------------------------------ greeting and closing

  async function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return;
    }
    const scratch = element("textarea");
    scratch.value = text;
    scratch.style.position = "fixed";
    scratch.style.opacity = "0";
    document.body.append(scratch);
    scratch.select();
    document.execCommand("copy");
    scratch.remove();
  }

  document.querySelectorAll("button.copy").forEach((button) => {
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      let note = button.nextElementSibling;
      if (!note || !note.classList.contains("copied")) {
        note = element("span", "copied");
        note.setAttribute("role", "status");
        button.after(note);
      }
      try {
        await copy(source.textContent.trim());
        note.textContent = "已复制";
      } catch (error) {
        note.textContent = "复制失败,请手动选择文字";
      }
    });
  });

  // The page may stay open for hours: the greeting follows the clock (早上好 → 您好 …).
  async function refreshGreeting() {
    try {
      const answer = await fetch("/api/assist/context?stage=" + encodeURIComponent(stageOf()), {
        credentials: "same-origin",
      });
      if (!answer.ok) return;
      const data = await answer.json();
      document.getElementById("assist-opening").textContent = data.opening;
      document.getElementById("assist-closing").textContent = data.closing;
      const when = data.moment.slice(0, 16).replace("T", " ");
      document.getElementById("assist-moment").textContent = data.holiday ? `${when} · ${data.holiday}` : when;
    } catch (error) {
      // offline for a moment: keep what is shown
    }
  }
  setInterval(refreshGreeting, GREETING_REFRESH_MS);

  // ------------------------------------------------------------ call-stage checklist

  const stages = Array.from(document.querySelectorAll("#checklist li"));
  const progress = document.getElementById("checklist-progress");

  function tally() {
    let done = 0;
    let current = null;
    stages.forEach((item) => {
      const ticked = item.querySelector("input").checked;
      item.classList.toggle("done", ticked);
      item.classList.remove("current");
      if (ticked) done += 1;
      else if (!current) current = item;
    });
    if (current) current.classList.add("current");
    progress.textContent = `${done} / ${stages.length}`;
  }
  stages.forEach((item) => item.querySelector("input").addEventListener("change", tally));
  tally();

  document.getElementById("new-call").addEventListener("click", () => {
    stages.forEach((item) => {
      item.querySelector("input").checked = false;
    });
    tally();
    box.value = "";
    count.textContent = "0";
    check();
    box.focus();
  });

  // ------------------------------------------------------------ scripts of a stage and scenario

  const scripts = document.getElementById("assist-scripts");

  async function showScripts(stage, scenario) {
    const params = new URLSearchParams({ stage, scenario });
    const call = new URLSearchParams(window.location.search).get("call");
    if (call) params.set("call", call);
    const url = `/assist?${params}`;
    const focused = document.activeElement && scripts.contains(document.activeElement) ? document.activeElement.id : "";
    scripts.setAttribute("aria-busy", "true");
    try {
      const answer = await fetch(url, { credentials: "same-origin" });
      if (!answer.ok) throw new Error(String(answer.status));
      const page = new DOMParser().parseFromString(await answer.text(), "text/html");
      const fresh = page.getElementById("assist-scripts");
      if (!fresh) throw new Error("no scripts"); // e.g. the login page after the session ended
      scripts.replaceChildren(...fresh.childNodes);
      wireScripts();
      history.replaceState(null, "", url);
      if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
    } catch (error) {
      window.location.href = url; // let the server say what is wrong
    } finally {
      scripts.removeAttribute("aria-busy");
    }
  }

  function wireScripts() {
    const form = document.getElementById("script-filter");
    const stage = document.getElementById("stage");
    const scenario = document.getElementById("scenario");
    document.getElementById("show-scripts").hidden = true; // choosing is enough
    stage.addEventListener("change", () => showScripts(stage.value, ""));
    scenario.addEventListener("change", () => showScripts(stage.value, scenario.value));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      showScripts(stage.value, scenario.value);
    });
  }
  wireScripts();

  document.querySelectorAll("#checklist a[data-stage]").forEach((link) => {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      showScripts(link.dataset.stage, "");
    });
  });
})();

// The theory exam: every answer is saved the moment it is given (PUT /api/training/exams/<id>/answers),
// the countdown follows the server's deadline (each save returns the seconds left), and at zero the
// paper is handed in by itself. Answers the server refuses (time up) are said so, never silently lost.
(function () {
  const root = document.getElementById("exam");
  if (!root) return;
  const sitting = root.dataset.sitting;
  const csrf = root.dataset.csrf;
  const timer = document.getElementById("timer");
  const saved = document.getElementById("saved");
  const form = document.getElementById("submit-form");
  let deadline = Date.now() + Number(root.dataset.left) * 1000;
  let handedIn = false;
  const pending = new Map();  // short answers being typed: saved a moment after the last key

  function show() {
    const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    const minutes = Math.floor(left / 60), seconds = left % 60;
    timer.textContent = "剩余 " + minutes + " 分 " + String(seconds).padStart(2, "0") + " 秒";
    if (left === 0 && !handedIn) {
      handedIn = true;
      timer.textContent = "时间到,正在交卷…";
      // the answers still being typed are saved first (the server accepts them for a few seconds)
      const waiting = Array.from(pending.entries()).map(([fieldset, timeout]) => {
        clearTimeout(timeout);
        return save(fieldset);
      });
      pending.clear();
      Promise.all([...waiting, ...inFlight]).finally(() => form.submit());
    }
  }

  function answerOf(fieldset) {
    const type = fieldset.dataset.type;
    if (type === "short") return fieldset.querySelector("textarea").value;
    const checked = Array.from(fieldset.querySelectorAll("input:checked")).map((i) => i.value);
    if (type === "true_false") return checked.length ? checked[0] === "true" : null;
    return checked.map(Number);
  }

  const inFlight = new Set();
  function save(fieldset) {
    const done = send(fieldset);
    inFlight.add(done);
    done.finally(() => inFlight.delete(done));
    return done;
  }

  async function send(fieldset) {
    const body = { question_id: Number(fieldset.dataset.question), answer: answerOf(fieldset) };
    saved.textContent = "正在保存…";
    try {
      const answer = await fetch("/api/training/exams/" + sitting + "/answers", {
        method: "PUT",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify(body),
      });
      const data = await answer.json();
      if (!answer.ok) {
        saved.textContent = "未保存:" + (data.detail || answer.status);
        return;
      }
      deadline = Date.now() + data.seconds_left * 1000;
      saved.textContent = "第 " + fieldset.querySelector("legend").textContent.split(".")[0] + " 题已保存";
      fieldset.dataset.saved = "true";
    } catch (error) {
      saved.textContent = "网络中断,答案未保存;恢复后请再点一次该题";
    }
  }

  root.querySelectorAll("fieldset.question").forEach((fieldset) => {
    fieldset.addEventListener("change", () => save(fieldset));
    const text = fieldset.querySelector("textarea");
    if (text) {
      text.addEventListener("input", () => {  // typing: saved a moment after the last key
        clearTimeout(pending.get(fieldset));
        pending.set(fieldset, setTimeout(() => save(fieldset), 800));
      });
    }
  });
  form.addEventListener("submit", (event) => {  // a click; the timer's hand-in does not ask
    if (!confirm("确定交卷吗?交卷后不能再修改。")) {
      event.preventDefault();
      return;
    }
    handedIn = true;
  });
  show();
  setInterval(show, 1000);
})();

// The questionnaire without a page reload: conditional items, the counter, and autosave; the
// focus kept in sight and, after a refusal, on the problems.
// Everything here is a convenience; the form works and is checked on the server without it.
(function () {
  "use strict";
  const form = document.querySelector("form.questionnaire");
  if (!form) return;
  const items = Array.from(form.querySelectorAll("fieldset.item"));
  const byNumber = new Map(items.map((f) => [f.dataset.number, f]));
  const counter = form.querySelector("[data-counter]");
  const status = form.querySelector("[data-autosave-status]");
  const revision = form.querySelector("input[name=revision]");

  function chosen(fieldset) {
    const checked = fieldset && fieldset.querySelector("input[type=radio]:checked");
    return checked ? checked.value : null;
  }

  function asked(fieldset) {
    const parent = fieldset.dataset.conditionItem;
    if (!parent) return true;
    const parentSet = byNumber.get(parent);
    // A delegate's page holds only the categories handed to them: an item whose condition is
    // answered elsewhere stays shown, and the server keeps its answer only if it is asked.
    if (!parentSet) return true;
    const allowed = (fieldset.dataset.conditionOptions || "").split(",");
    return asked(parentSet) && allowed.includes(chosen(parentSet));
  }

  // A category, or a heading's run of items, with every item hidden is hidden with them.
  const groups = Array.from(form.querySelectorAll("section.category")).map((section) => ({
    element: section,
    members: Array.from(section.querySelectorAll("fieldset.item")),
  }));
  for (const heading of form.querySelectorAll("h3.item-heading")) {
    const members = [];
    let next = heading.nextElementSibling;
    while (next && !next.matches("h3.item-heading")) {
      if (next.matches("fieldset.item")) members.push(next);
      next = next.nextElementSibling;
    }
    groups.push({ element: heading, members });
  }

  function refresh() {
    let left = 0;
    for (const fieldset of items) {
      const show = asked(fieldset);
      fieldset.hidden = !show;
      if (show && chosen(fieldset) === null) left += 1;
    }
    for (const group of groups) {
      group.element.hidden = group.members.length > 0 && group.members.every((f) => f.hidden);
    }
    if (counter) counter.textContent = form.dataset.counterText.replace("{n}", left);
    // A delegate's note beside the button that ends their part: its categories' items left.
    for (const note of document.querySelectorAll("[data-unanswered]")) {
      const codes = note.dataset.unanswered.split(",");
      let open = 0;
      for (const group of groups) {
        if (!codes.includes(group.element.dataset.category)) continue;
        open += group.members.filter((f) => !f.hidden && chosen(f) === null).length;
      }
      note.hidden = open === 0;
      note.firstElementChild.textContent = note.dataset.unansweredText.replace("{n}", open);
    }
  }

  let timer = null;
  let stopped = false;
  // The save under way. A save or submit sent before its reply would carry the revision that
  // reply replaces, and the server would refuse it as if someone else had changed the answers.
  let pending = null;
  let held = false;
  function save() {
    if (stopped || !form.dataset.autosave) return;
    if (pending) {
      later(300);
      return;
    }
    const data = new FormData(form);
    for (const key of Array.from(data.keys())) {
      if (key.startsWith("evidence_")) data.delete(key);
    }
    pending = fetch(form.dataset.autosave, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    })
      .then((response) => response.json().then((body) => ({ response, body })))
      .then(({ response, body }) => {
        if (response.ok && body.ok) {
          revision.value = body.revision;
          const time = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
          const saved = form.dataset.savedText.replace("{time}", time);
          status.textContent = body.dropped ? `${saved} ${body.dropped}` : saved;
        } else {
          // A conflict or a refusal: stop, keep the input, let the user save by hand.
          stopped = body.conflict === true;
          status.textContent = body.message || form.dataset.errorText;
        }
      })
      .catch(() => { status.textContent = form.dataset.errorText; })
      .finally(() => { pending = null; });
  }

  function later(delay) {
    clearTimeout(timer);
    timer = setTimeout(save, delay);
  }

  form.addEventListener("change", (event) => {
    refresh();
    if (event.target.type !== "file") later(300);
  });
  form.addEventListener("input", (event) => {
    if (event.target.tagName === "TEXTAREA") later(1500);
  });
  form.addEventListener("submit", (event) => {
    clearTimeout(timer);
    if (!pending) return;
    event.preventDefault();  // sent again, with the new revision, once the save has replied
    if (held) return;
    held = true;
    const submitter = event.submitter;
    pending.then(() => {
      held = false;
      form.requestSubmit(submitter);
    });
  });
  refresh();

  const bar = form.querySelector(".form-actions.sticky");
  if (bar) {
    new ResizeObserver(() => {
      document.documentElement.style.setProperty("--save-bar", `${bar.offsetHeight}px`);
    }).observe(bar);
    // The browser leaves a control the bar covers only in part where it is: bring it clear.
    form.addEventListener("focusin", (event) => {
      if (bar.contains(event.target)) return;
      requestAnimationFrame(() => {
        const below = event.target.getBoundingClientRect().bottom;
        const covered = below - bar.getBoundingClientRect().top;
        if (covered > 0) window.scrollBy(0, covered + 8);
      });
    });
  }
  // After a refused submission, the focus starts on the list of what to fix: a keyboard or
  // screen reader user would otherwise begin at the top of a long page that says nothing.
  const problems = document.getElementById("problems");
  if (problems) problems.focus();
})();

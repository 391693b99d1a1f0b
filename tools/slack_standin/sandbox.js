(() => {
  const q = new URLSearchParams(location.search);
  const channel = document.body.dataset.channel, user = document.body.dataset.user;
  const pane = document.getElementById("pane"), modal = document.getElementById("modal-root");
  const status = document.getElementById("status-line");
  async function post(path, body) {
    const r = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify(body)});
    const data = await r.json().catch(() => ({}));
    status.textContent = r.ok && data.ok !== false ? "" : "Refused: " + (data.error || r.status);
    return data;
  }
  async function refresh() {
    const args = "?" + new URLSearchParams({c: channel, as: user});
    const [p, m] = await Promise.all([fetch("/sandbox/pane" + args), fetch("/sandbox/modal" + args)]);
    const html = await p.text(), over = await m.text();
    if (html !== pane.dataset.html) { pane.innerHTML = html; pane.dataset.html = html; }
    if (over !== modal.dataset.html) { modal.innerHTML = over; modal.dataset.html = over; }
  }
  document.getElementById("acting-as").addEventListener("change", (e) => {
    q.set("as", e.target.value); q.set("c", channel); location.search = q.toString();
  });
  document.addEventListener("click", async (e) => {
    const el = e.target.closest("button.act");
    if (el) {
      await post("/_stub/click", {user, channel, ts: el.dataset.ts, action_id: el.dataset.action,
        value: el.dataset.value || null});
      await refresh();
    }
    const view = document.querySelector(".modal");
    if (e.target.id === "modal-submit" && view) {
      // Slack's client does not send a form with an empty required field; it says so itself.
      const empty = [...view.querySelectorAll(".modal-input[required]")].filter((f) => !f.value);
      if (empty.length) {
        status.textContent = "Please complete this required field.";
        return;
      }
      const values = {};
      for (const f of view.querySelectorAll(".modal-input")) {
        (values[f.dataset.block] = values[f.dataset.block] || {})[f.dataset.action] = f.value;
      }
      await post("/_stub/submit", {user, view_id: view.dataset.view, values});
      await refresh();
    }
    if (e.target.id === "modal-close" && view) {
      await post("/_stub/close_view", {user, view_id: view.dataset.view});
      await refresh();
    }
  });
  document.addEventListener("change", async (e) => {
    const el = e.target.closest("select.act");
    if (!el || !el.value) return;
    const body = {user, channel, ts: el.dataset.ts, action_id: el.dataset.action};
    if (el.dataset.kind === "user") body.selected_user = el.value;
    else body.selected_option = el.value;
    await post("/_stub/click", body);
    await refresh();
  });
  pane.dataset.html = pane.innerHTML;
  modal.dataset.html = modal.innerHTML;
  setInterval(() => refresh().catch(() => {}), 1500);
})();

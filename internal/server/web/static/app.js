// wharf console: a little progressive enhancement; every page works without it.
document.addEventListener("DOMContentLoaded", () => {
  // Filter as you type (debounced); the form submits to the server, which
  // filters, sorts and paginates.
  const filter = document.getElementById("filter");
  if (filter) {
    let timer;
    const q = filter.querySelector("input[name=q]");
    q.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => filter.submit(), 350);
    });
    filter.querySelector("select").addEventListener("change", () => filter.submit());
    if (q.value) { q.focus(); q.setSelectionRange(q.value.length, q.value.length); }
  }
  // Ask before cancelling.
  for (const f of document.querySelectorAll("form[data-confirm]")) {
    f.addEventListener("submit", (e) => { if (!confirm(f.dataset.confirm)) e.preventDefault(); });
  }
  // Refresh a page that shows a run in progress.
  const live = document.querySelector("[data-refresh]");
  if (live) setTimeout(() => location.reload(), 1000 * Number(live.dataset.refresh));
});

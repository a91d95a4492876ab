// reformsim page: follow a run's progress until it ends, then show its results.
(function () {
  const box = document.getElementById("progress");
  if (!box) return;
  const url = box.dataset.status;
  function poll() {
    fetch(url, {cache: "no-store"}).then(r => r.json()).then(s => {
      document.getElementById("state").textContent = s.state;
      document.getElementById("steps").textContent = s.progress.length
        ? s.progress.length + " simulations: " + s.progress[s.progress.length - 1] : "starting";
      document.getElementById("elapsed").textContent = s.elapsed_s.toFixed(0) + " s";
      if (s.state === "queued" || s.state === "running") {
        setTimeout(poll, 1000);
      } else {
        window.location.reload();
      }
    }).catch(() => setTimeout(poll, 2000));
  }
  poll();
})();

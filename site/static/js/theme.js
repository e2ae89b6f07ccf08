// Light and dark themes: follows the system until the learner picks one, then remembers it.
(() => {
  const root = document.documentElement;
  const saved = localStorage.getItem("celerylab-theme");
  if (saved) root.dataset.theme = saved;
  const button = document.getElementById("theme-toggle");
  if (!button) return;
  button.addEventListener("click", () => {
    const dark = root.dataset.theme === "dark" ||
      (root.dataset.theme === "auto" && matchMedia("(prefers-color-scheme: dark)").matches);
    root.dataset.theme = dark ? "light" : "dark";
    localStorage.setItem("celerylab-theme", root.dataset.theme);
  });
})();

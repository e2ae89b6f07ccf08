// Display preferences: light or dark theme (follows the system until the learner picks one)
// and large type for projectors. The one classic script: it runs in <head>, before the body is
// drawn, so the page never flashes the wrong theme (a module would run only after parsing).
// It marks the outcome on <html data-dark="yes|no">, which other scripts read and observe.
(() => {
  "use strict";
  const root = document.documentElement;
  const THEME = "celerylab-theme";
  const SIZE = "celerylab-size";
  const stored = (key) => { try { return localStorage.getItem(key); } catch (_) { return null; } };
  const store = (key, value) => { try { localStorage.setItem(key, value); } catch (_) { /* private mode */ } };
  const systemDark = matchMedia("(prefers-color-scheme: dark)");

  if (stored(THEME) === "light" || stored(THEME) === "dark") root.dataset.theme = stored(THEME);
  if (stored(SIZE) === "large") root.dataset.size = "large";

  const isDark = () => root.dataset.theme === "dark" || (root.dataset.theme === "auto" && systemDark.matches);
  const markDark = () => {
    const dark = isDark() ? "yes" : "no";
    if (root.dataset.dark !== dark) root.dataset.dark = dark;
  };
  markDark();
  // Whoever sets the theme (the button, a test), data-dark follows it.
  new MutationObserver(markDark).observe(root, {attributes: true, attributeFilter: ["data-theme"]});

  function label(themeButton, sizeButton) {
    markDark();
    if (themeButton) {
      const dark = isDark();
      themeButton.setAttribute("aria-pressed", String(dark));
      themeButton.title = dark ? themeButton.dataset.titleDark : themeButton.dataset.titleLight;
    }
    if (sizeButton) sizeButton.setAttribute("aria-pressed", String(root.dataset.size === "large"));
  }

  document.addEventListener("DOMContentLoaded", () => {
    const themeButton = document.getElementById("theme-toggle");
    const sizeButton = document.getElementById("size-toggle");
    label(themeButton, sizeButton);
    if (themeButton) {
      themeButton.addEventListener("click", () => {
        root.dataset.theme = isDark() ? "light" : "dark";
        store(THEME, root.dataset.theme);
        label(themeButton, sizeButton);
      });
    }
    if (sizeButton) {
      sizeButton.addEventListener("click", () => {
        if (root.dataset.size === "large") delete root.dataset.size; else root.dataset.size = "large";
        store(SIZE, root.dataset.size || "normal");
        label(themeButton, sizeButton);
      });
    }
    systemDark.addEventListener("change", () => label(themeButton, sizeButton));
    new MutationObserver(() => label(themeButton, sizeButton))
      .observe(root, {attributes: true, attributeFilter: ["data-theme", "data-size"]});
  });
})();

// The phone menu (Bootstrap's collapse) closes with Escape, and the focus goes back to the
// button that opened it, as keyboard users expect of a menu.
document.addEventListener(
  "keydown",
  (event) => {
    if (event.key !== "Escape") {
      return;
    }
    const menu = document.getElementById("main-nav");
    const toggle = document.querySelector('[data-bs-target="#main-nav"]');
    // At desktop width the toggle is hidden and the menu is the bar itself: nothing to close.
    if (!menu || !toggle || !menu.classList.contains("show") || toggle.offsetParent === null) {
      return;
    }
    // An open dropdown inside the menu (Account, Staff) takes this Escape: Bootstrap closes it.
    if (menu.querySelector(".dropdown-menu.show")) {
      return;
    }
    bootstrap.Collapse.getOrCreateInstance(menu, { toggle: false }).hide();
    toggle.focus();
  },
  // Before Bootstrap's own handler, which would close an open dropdown first.
  true,
);

// The phone menu is a <details> and works without this file. With it, Escape closes the
// open menu and puts focus back on its button, and leaving the menu with Tab (or a click
// elsewhere) closes it, as people expect of a menu that covers the page.
(function () {
  "use strict";
  var menu = document.querySelector("details.site-menu");
  if (!menu) return;
  var button = menu.querySelector("summary");

  function isFolded() {
    // Wide screens show the links without the button: nothing to close there.
    return button && button.offsetParent !== null;
  }

  menu.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && menu.open && isFolded()) {
      menu.open = false;
      button.focus();
    }
  });
  document.addEventListener("focusin", function (event) {
    if (menu.open && isFolded() && !menu.contains(event.target)) menu.open = false;
  });
  document.addEventListener("click", function (event) {
    if (menu.open && isFolded() && !menu.contains(event.target)) menu.open = false;
  });
})();

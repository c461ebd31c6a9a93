// The register's "Mark everyone not yet marked present", done in the page: it only checks the
// "Present" button of each trainee left blank, and "Undo" clears those again. Nothing is
// saved until "Save register". Without this script the same buttons post the form and the
// server shows it again, filled or undone (training.views.manage.RegisterView).
(function () {
  "use strict";
  var form = document.querySelector("form[data-register-fill]");
  if (!form) {
    return;
  }
  var fillButton = form.querySelector('button[name="fill_present"]');
  var status = document.getElementById("register-fill-status");
  if (!fillButton || !status) {
    return;
  }
  var filled = [];

  function say(text, withUndo) {
    status.textContent = "";
    var message = document.createElement("span");
    message.textContent = text;
    status.appendChild(message);
    if (withUndo) {
      var undo = document.createElement("button");
      undo.type = "button";
      undo.className = "btn btn-sm btn-outline-secondary";
      undo.textContent = form.dataset.undoLabel;
      undo.addEventListener("click", undoFill);
      status.appendChild(undo);
    }
  }

  function undoFill() {
    filled.forEach(function (input) {
      // A mark changed since the fill is the user's own choice, and stays.
      if (input.checked) {
        input.checked = false;
      }
    });
    filled = [];
    say(form.dataset.undone, false);
    fillButton.focus();
  }

  fillButton.addEventListener("click", function (event) {
    event.preventDefault();
    filled = [];
    form.querySelectorAll("fieldset[data-register-row]").forEach(function (row) {
      var present = row.querySelector('input[type="radio"][value="present"]');
      if (present && !row.querySelector('input[type="radio"]:checked')) {
        present.checked = true;
        filled.push(present);
      }
    });
    // A fill sent back by the server (without this script) is replaced by this one.
    var served = form.querySelector('input[name="filled"]');
    if (served) {
      served.remove();
    }
    if (filled.length === 0) {
      say(form.dataset.filledNone, false);
    } else if (filled.length === 1) {
      say(form.dataset.filledOne, true);
    } else {
      say(form.dataset.filledMany.replace("%(count)s", String(filled.length)), true);
    }
  });
})();

// Rapport's one script: small enhancements only. Every page works without it.
"use strict";
(function () {
  function typing(target) {
    return target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }
  // Keyboard: "/" focuses search, "n" opens a new record on a list, "e" edits a record.
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      return;
    }
    if (event.key === "/") {
      var box = document.getElementById("global-search");
      if (box) {
        event.preventDefault();
        box.focus();
        box.select();
      }
      return;
    }
    var shortcut = document.querySelector('[data-key="' + event.key + '"]');
    if (shortcut) {
      event.preventDefault();
      shortcut.click();
    }
  });

  // Lookups: as the user types a name, a page of matching records to pick from. Picking
  // one fills the hidden id the server keeps; typing on without picking leaves the server
  // to resolve the name on save.
  document.querySelectorAll("input[data-lookup]").forEach(function (input) {
    var form = input.form;
    var name = input.name.slice(2);
    var hiddenId = form.querySelector('input[name="id_' + name + '"]');
    var hiddenWas = form.querySelector('input[name="was_' + name + '"]');
    var list = document.createElement("ul");
    list.className = "lookup-list";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    input.parentNode.insertBefore(list, input.nextSibling);
    var timer = null;
    var asked = 0;
    function close() {
      list.hidden = true;
      list.textContent = "";
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var typed = input.value.trim();
      if (typed.length < 2) {
        close();
        return;
      }
      timer = setTimeout(function () {
        var ticket = ++asked;
        var url = "/lookup?field=" + encodeURIComponent(input.getAttribute("data-lookup")) +
          "&q=" + encodeURIComponent(typed);
        fetch(url, { credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.json() : []; })
          .then(function (records) {
            if (ticket !== asked) {
              return;
            }
            list.textContent = "";
            records.forEach(function (record) {
              var item = document.createElement("li");
              var button = document.createElement("button");
              button.type = "button";
              button.className = "link";
              button.textContent = record.name;
              button.addEventListener("click", function () {
                input.value = record.name;
                hiddenId.value = record.id;
                hiddenWas.value = record.name;
                close();
                input.focus();
              });
              item.appendChild(button);
              list.appendChild(item);
            });
            list.hidden = records.length === 0;
          })
          .catch(close);
      }, 200);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        close();
      }
    });
  });

  // The board: drag a card to another stage's column. Pointer events (not HTML5 drag and
  // drop), so mouse, pen and touch behave alike. The move is submitted as the same form the
  // record's path uses, so the server's answer (or its error) is what the user sees.
  var board = document.querySelector("[data-board]");
  if (!board) {
    return;
  }
  var dragged = null;
  var over = null;
  function columnAt(x, y) {
    var element = document.elementFromPoint(x, y);
    return element ? element.closest("[data-stage]") : null;
  }
  function mark(column) {
    if (over === column) {
      return;
    }
    if (over) {
      over.classList.remove("drop-target");
    }
    over = column;
    if (over) {
      over.classList.add("drop-target");
    }
  }
  function move(card, stage) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = "/r/" + encodeURIComponent(card.getAttribute("data-card")) + "/set";
    var fields = {
      csrf: board.getAttribute("data-csrf"),
      field: "StageName",
      value: stage,
      back: board.getAttribute("data-back")
    };
    Object.keys(fields).forEach(function (name) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = fields[name];
      form.appendChild(input);
    });
    document.body.appendChild(form);
    form.submit();
  }
  board.addEventListener("pointerdown", function (event) {
    var card = event.target.closest("[data-card]");
    if (!card || event.button !== 0) {
      return;
    }
    dragged = card;
    card.classList.add("dragging");
    event.preventDefault();
  });
  document.addEventListener("pointermove", function (event) {
    if (dragged) {
      mark(columnAt(event.clientX, event.clientY));
    }
  });
  document.addEventListener("pointerup", function (event) {
    if (!dragged) {
      return;
    }
    var card = dragged;
    dragged = null;
    card.classList.remove("dragging");
    mark(null);
    var column = columnAt(event.clientX, event.clientY);
    if (column && !column.contains(card)) {
      move(card, column.getAttribute("data-stage"));
    } else if (event.target.closest("a") && card.contains(event.target)) {
      // A press and release on the card's link without moving: follow it.
      window.location.href = event.target.closest("a").href;
    }
  });
})();

/* Small helpers for the court pages (no framework beyond htmx and Bootstrap). */
(function () {
  "use strict";

  // Party rows on the new-case form: "add row" clones the formset's empty form; the server reads
  // every row up to TOTAL_FORMS and skips blank ones, so removing a row just removes it.
  document.addEventListener("click", function (event) {
    var add = event.target.closest(".add-row");
    if (add) {
      var group = add.closest(".party-group");
      var prefix = group.dataset.prefix;
      var total = group.querySelector("input[name='" + prefix + "-TOTAL_FORMS']");
      var html = group.querySelector("template").innerHTML.replace(/__prefix__/g, total.value);
      group.querySelector("tbody").insertAdjacentHTML("beforeend", html);
      total.value = parseInt(total.value, 10) + 1;
      var rows = group.querySelectorAll("tbody tr");
      var first = rows[rows.length - 1].querySelector("input[type=text]");
      if (first) { first.focus(); }
      return;
    }
    var remove = event.target.closest(".remove-row");
    if (remove) {
      var body = remove.closest("tbody");
      if (body.querySelectorAll("tr").length > 1) {
        remove.closest("tr").remove();
      } else {
        remove.closest("tr").querySelectorAll("input").forEach(function (input) { input.value = ""; });
      }
    }
  });

  // Clue form: the kind select offers only the kinds of the chosen category (options carry
  // data-category; the service checks the pair again).
  function filterKinds(category) {
    var form = category.form;
    var kind = form && form.querySelector("select[name='" + category.dataset.kindFilter + "']");
    if (!kind) { return; }
    var firstVisible = null;
    Array.prototype.forEach.call(kind.options, function (option) {
      var match = !option.dataset.category || option.dataset.category === category.value;
      option.hidden = !match;
      option.disabled = !match;
      if (match && firstVisible === null) { firstVisible = option; }
    });
    var selected = kind.options[kind.selectedIndex];
    if ((!selected || selected.disabled) && firstVisible) { kind.value = firstVisible.value; }
  }
  document.querySelectorAll("select[data-kind-filter]").forEach(filterKinds);
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[data-kind-filter]")) {
      filterKinds(event.target);
    }
  });

  // Notice form: the platform checkboxes offer only the platforms whose connector takes the chosen
  // kind (inputs carry data-capabilities), and none while "全部平台" is ticked (the service checks).
  function filterPlatforms(kind) {
    var form = kind.form;
    if (!form) { return; }
    var all = form.querySelector("input[name='all_platforms']");
    form.querySelectorAll("input[name='" + kind.dataset.platformFilter + "']").forEach(function (box) {
      var capable = (box.dataset.capabilities || "").split(" ").indexOf(kind.value) >= 0;
      box.disabled = !capable || (all && all.checked);
      if (!capable) { box.checked = false; }
      box.closest(".form-check").classList.toggle("text-muted", !capable);
    });
  }
  document.querySelectorAll("select[data-platform-filter]").forEach(filterPlatforms);
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!target.matches) { return; }
    if (target.matches("select[data-platform-filter]")) {
      filterPlatforms(target);
    } else if (target.matches("input[name='all_platforms']")) {
      var kind = target.form && target.form.querySelector("select[data-platform-filter]");
      if (kind) { filterPlatforms(kind); }
    }
  });

  // Confirm buttons that change a case's status.
  document.addEventListener("submit", function (event) {
    var message = event.target.dataset.confirm;
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
})();

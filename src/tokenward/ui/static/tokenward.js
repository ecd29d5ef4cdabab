// tokenward's few behaviours in the browser. Loaded as a file: the pages'
// Content-Security-Policy forbids inline script.
(function () {
  "use strict";

  // <button data-copy="element-id">: copies the element's text to the clipboard.
  function copy(button) {
    var source = document.getElementById(button.dataset.copy);
    if (!source) { return; }
    var text = source.value !== undefined ? source.value : source.textContent;
    var done = function () {
      var before = button.textContent;
      button.textContent = "Copied";
      button.setAttribute("aria-live", "polite");
      window.setTimeout(function () { button.textContent = before; }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { select(source); });
    } else {
      select(source);
      if (document.execCommand("copy")) { done(); }
    }
  }

  function select(element) {
    if (element.select) { element.select(); return; }
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (button) { event.preventDefault(); copy(button); }
  });

  // <form data-confirm="question">: asks before sending.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.dataset ? form.dataset.confirm : null;
    var submitter = event.submitter;
    if (submitter && submitter.dataset.confirm) { question = submitter.dataset.confirm; }
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });

  // <input type="checkbox" data-select-all="name">: ticks every box of that name.
  document.addEventListener("change", function (event) {
    var all = event.target.closest("[data-select-all]");
    if (!all) { return; }
    var boxes = document.querySelectorAll(
      'input[type="checkbox"][name="' + all.dataset.selectAll + '"]');
    boxes.forEach(function (box) { box.checked = all.checked; });
  });
})();

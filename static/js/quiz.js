// Quiz forms: send the answer with fetch, show the server's verdict in place.
// Without JavaScript the same forms post normally and the server renders a result page.
(function () {
  "use strict";

  function showError(box, message) {
    box.textContent = "";
    var p = document.createElement("p");
    p.className = "error";
    p.setAttribute("role", "alert");
    p.textContent = message;
    box.appendChild(p);
  }

  // What to say for an answer the server refused without the quiz's JSON. Only a network
  // failure is worth retrying as it is; the others need a reload (or patience).
  function failureMessage(form, status) {
    var text;
    if (status === 403) {
      text = form.dataset.errorForbidden;  // the session changed in another tab
    } else if (status === 404) {
      text = form.dataset.errorGone;  // the course was updated
    } else if (status === 429 || status === 502 || status === 503 || status === 504) {
      text = form.dataset.errorBusy;
    } else {
      text = form.dataset.errorOther;
    }
    return (text || "Error {status}").replace("{status}", String(status));
  }

  function onSubmit(event) {
    var form = event.currentTarget;
    event.preventDefault();
    if (form.dataset.busy === "1") {
      return; // a double click sends nothing twice (the server would not count it anyway)
    }
    var button = form.querySelector("button[type=submit]");
    var box = form.querySelector(".quiz-result");
    form.dataset.busy = "1";
    button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) {
        // Not the quiz's own answer: a CSRF refusal, a page that moved, a proxy's error page.
        showError(box, failureMessage(form, response.status));
        return;
      }
      return response.json().then(function (data) {
        if (!response.ok || data.error) {
          showError(box, data.error || failureMessage(form, response.status));
          return;
        }
        // The fragment is rendered and escaped by the server's templates.
        box.innerHTML = data.html;
        form.classList.toggle("is-right", data.correct);
        form.classList.toggle("is-wrong", !data.correct);
        // A new answer to the same question is a new submission.
        form.querySelector("input[name=submission_id]").value = data.next_submission_id;
      });
    }).catch(function () {
      showError(box, form.dataset.networkError || "Network error");
    }).finally(function () {
      form.dataset.busy = "0";
      button.disabled = false;
    });
  }

  document.querySelectorAll("form.quiz-question").forEach(function (form) {
    form.addEventListener("submit", onSubmit);
  });
})();

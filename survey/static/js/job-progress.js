// An export job's page (templates/jobs/show.html): while the job is under way, fetch the page
// again every few seconds and put its status section in place of this one, so the progress
// moves and the download link appears without a reload (or a lost scroll position).
(function () {
  "use strict";
  var INTERVAL = 2000;

  function poll() {
    var current = document.getElementById("job-status");
    if (!current || !current.hasAttribute("data-job-pending")) {
      return;
    }
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("job-status");
        if (fresh) {
          current.replaceWith(document.importNode(fresh, true));
        }
        window.setTimeout(poll, INTERVAL);
      })
      .catch(function () {
        // The server away for a moment: try again later; the reload link is still there.
        window.setTimeout(poll, INTERVAL * 3);
      });
  }

  window.setTimeout(poll, INTERVAL);
})();

// manifest-runtime studio: the page only sends answers and shows the HTML the server
// computed (questions, options, refusals, results). No setup logic lives here.
"use strict";
(function () {
  var version = null, traceAfter = 0, workflow = null, pending = 0, searchTimer = null;
  var $ = function (id) { return document.getElementById(id); };

  function busy(delta) {
    pending += delta;
    document.body.setAttribute("data-busy", pending > 0 ? "1" : "0");
  }

  function call(method, url, body) {
    busy(1);
    var init = {method: method, headers: {"Content-Type": "application/json"}};
    if (body !== undefined) { init.body = JSON.stringify(body); }
    return fetch(url, init).then(function (r) { return r.json(); })
      .finally(function () { busy(-1); });
  }

  // -- overview, graph, edit-reload -------------------------------------------------------
  function drawGraph() {
    var graph = $("graph");
    if (!graph || typeof mermaid === "undefined") { return; }
    mermaid.initialize({startOnLoad: false, securityLevel: "strict"});
    mermaid.run({nodes: [graph]}).then(function () {
      document.body.setAttribute("data-graph", "yes");
    }, function (err) {
      document.body.setAttribute("data-graph", "error");
      graph.insertAdjacentHTML("afterend", '<p class="note">graph: ' + String(err) + "</p>");
    });
  }

  function showOverview(data) {
    $("overview").innerHTML = data.html;
    document.body.setAttribute("data-valid", data.valid ? "yes" : "no");
    $("status").textContent = (data.valid ? "valid" : "invalid") + " · version " + data.version;
    var select = $("run-workflow");
    select.innerHTML = "";
    document.querySelectorAll("#overview button.setup").forEach(function (b) {
      b.addEventListener("click", function () { startSetup(b.getAttribute("data-workflow")); });
      var o = document.createElement("option");
      o.value = o.textContent = b.getAttribute("data-workflow");
      select.appendChild(o);
    });
    if (workflow) { select.value = workflow; }
    var zoom = $("graph-zoom");
    if (zoom) {
      zoom.addEventListener("click", function () {
        var large = $("graph").classList.toggle("large");
        zoom.classList.toggle("open", large);
        zoom.textContent = large ? "close" : "enlarge";
      });
    }
    drawGraph();
  }

  function pollManifest() {
    var url = "/api/manifest" + (version === null ? "" : "?known=" + version);
    fetch(url).then(function (r) { return r.json(); }).then(function (data) {
      var changed = version !== null && data.version !== version;
      if (data.html !== undefined) { showOverview(data); }
      version = data.version;
      if (changed) {
        if (!data.valid) {  // the diagnostics in place of the form
          $("setup").innerHTML = data.html;
          document.body.setAttribute("data-setup", "invalid");
        } else if (workflow) {
          startSetup(workflow);  // the form again, from the changed manifest
        }
      }
      document.body.setAttribute("data-version", String(version));
    }).catch(function () { $("status").textContent = "the studio server is not answering"; })
      .finally(function () { setTimeout(pollManifest, 1000); });
  }

  // -- setup ----------------------------------------------------------------------------------
  function showSetup(data) {
    if (data.kind === "options") {
      var options = document.querySelector("#setup .options");
      if (options) { options.outerHTML = data.html; }
    } else {
      $("setup").innerHTML = data.html;
      wireSetup();
    }
    var q = document.querySelector("#setup .question");
    document.body.setAttribute("data-setup", q ? q.getAttribute("data-kind") : data.kind);
    refreshTrace();
  }

  function startSetup(name) {
    workflow = name;
    $("setup-workflow").textContent = name;
    $("run-workflow").value = name;
    return call("POST", "/api/setup/start", {workflow: name}).then(showSetup);
  }

  function answer(kind, value, label) {
    return call("POST", "/api/setup/answer", {kind: kind, value: value, label: label})
      .then(showSetup);
  }

  function collect(form) {
    var kind = form.getAttribute("data-kind"), out = {};
    if (kind === "credentials") {
      form.querySelectorAll("input").forEach(function (i) { out[i.name] = i.value; });
      return out;
    }
    if (kind === "field") {
      var type = form.getAttribute("data-type");
      var opts = form.querySelector(".options");
      if (!opts) {
        return {value: form.querySelector("[name=value]").value};
      }
      var picks = [];
      if (type === "multiselect") {
        opts.querySelectorAll("input[name=pick]:checked").forEach(function (c) {
          picks.push(c.value);
        });
      } else {
        var s = opts.querySelector("select");
        if (s && s.value !== "") { picks.push(s.value); }
      }
      return {pick: picks, search: opts.getAttribute("data-search") || ""};
    }
    if (kind === "mapping") {
      form.querySelectorAll("select, input, textarea").forEach(function (i) {
        if (i.value !== "") { out[i.name] = i.value; }
      });
      return out;
    }
    if (kind === "schedule") {
      var r = form.querySelector("input[name=import_option]:checked");
      return r ? {import_option: r.value} : {};
    }
    return out;
  }

  function wireSetup() {
    var form = document.querySelector("#setup form.answer");
    if (form) {
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var kind = form.getAttribute("data-kind");
        answer(kind === "field" ? "field" : kind, collect(form),
               kind === "field" ? "field " + form.getAttribute("data-field") : kind);
      });
    }
    document.querySelectorAll("#setup input.search").forEach(function (input) {
      input.addEventListener("input", function () {
        clearTimeout(searchTimer);
        searchTimer = setTimeout(function () {
          call("POST", "/api/setup/search", {text: input.value}).then(showSetup);
        }, 250);
      });
    });
    document.querySelectorAll("#setup select.tags").forEach(function (select) {
      select.addEventListener("change", function () {
        var area = $(select.getAttribute("data-for"));
        var at = area.selectionStart || area.value.length;
        area.value = area.value.slice(0, at) + select.value + area.value.slice(at);
        select.value = "";
        area.focus();
      });
    });
    document.querySelectorAll("#setup button.action").forEach(function (b) {
      b.addEventListener("click", function () {
        answer("action", b.getAttribute("data-action"), "after a failure: " + b.textContent);
      });
    });
    document.querySelectorAll("#setup button.restart").forEach(function (b) {
      b.addEventListener("click", function () { startSetup(workflow); });
    });
  }

  // -- run panel, sandbox ---------------------------------------------------------------------
  function refreshSandbox() {
    var name = $("run-workflow").value;
    return call("GET", "/api/sandbox?workflow=" + encodeURIComponent(name)).then(function (d) {
      $("sandbox").innerHTML = d.html;
    });
  }

  function run() {
    var body = {workflow: $("run-workflow").value, text: $("payloads").value,
                restart: $("restart").checked};
    return call("POST", "/api/run", body).then(function (d) {
      $("run-output").innerHTML = d.html;
      document.body.setAttribute("data-ran", String(Date.now()));
      refreshTrace();
      return refreshSandbox();
    });
  }

  // -- trace ---------------------------------------------------------------------------------
  function refreshTrace() {
    return fetch("/api/trace?after=" + traceAfter).then(function (r) { return r.json(); })
      .then(function (d) {
        if (d.html) {
          $("trace").insertAdjacentHTML("beforeend", d.html);
          $("trace").scrollTop = $("trace").scrollHeight;
        }
        traceAfter = d.last;
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.body.setAttribute("data-busy", "0");
    $("run").addEventListener("click", run);
    $("refresh-sandbox").addEventListener("click", refreshSandbox);
    $("trace-clear").addEventListener("click", function () { $("trace").innerHTML = ""; });
    $("upload").addEventListener("change", function () {
      var file = $("upload").files[0];
      if (!file) { return; }
      busy(1);
      var reader = new FileReader();
      reader.onload = function () { $("payloads").value = reader.result; busy(-1); };
      reader.onerror = function () { busy(-1); };
      reader.readAsText(file);
    });
    pollManifest();
    setInterval(refreshTrace, 2000);
  });
}());

"use strict";
// The reference enrollment page: POST /settings/MfaSecret, scan, confirm, recovery codes, manage.
// The access token lives in this script's memory only: handed over through sessionStorage by the
// bank's front end on the same origin (removed from storage at once), or pasted by hand.

(function () {
  var TOKEN_KEY = "mfa-service.accessToken";
  var API = "/settings/MfaSecret";
  var PROBLEM = "urn:mfa-service:problem:";

  var token = null;
  var enrollment = null;
  var countdownTimer = null;
  var recoveryCodes = [];

  function $(id) {
    return document.getElementById(id);
  }

  // One step at a time; the list of authenticators stays out of the way while one is being added.
  function show(sectionId) {
    ["step-token", "step-start", "step-scan", "step-recovery"].forEach(function (id) {
      $(id).hidden = id !== sectionId;
    });
    if (sectionId === "step-scan" || sectionId === "step-recovery") $("step-manage").hidden = true;
  }

  function say(text) {
    $("alert").textContent = "";
    $("status").textContent = text;
  }

  function warn(text) {
    $("status").textContent = "";
    $("alert").textContent = text;
  }

  function ApiError(status, problem, retryAfter) {
    this.status = status;
    this.problem = problem || {};
    this.retryAfter = retryAfter;
    this.kind = (this.problem.type || "").replace(PROBLEM, "");
  }

  function request(method, path, body, extraHeaders) {
    var headers = { Authorization: "Bearer " + token, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    Object.keys(extraHeaders || {}).forEach(function (name) {
      headers[name] = extraHeaders[name];
    });
    return fetch(path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    }).then(
      function (response) {
        if (response.status === 204) return null;
        return response.json().then(
          function (data) {
            if (response.ok) return data;
            throw new ApiError(response.status, data, response.headers.get("Retry-After"));
          },
          function () {
            throw new ApiError(response.status, {}, response.headers.get("Retry-After"));
          }
        );
      },
      function () {
        throw new ApiError(0, {}, null);
      }
    );
  }

  // A request that may need a recent second factor: on step-up-required, ask for a current code
  // and send it once in X-MFA-Code.
  function withStepUp(send) {
    return send({}).catch(function (error) {
      if (!(error instanceof ApiError) || error.kind !== "step-up-required") throw error;
      return askForCurrentCode().then(function (code) {
        if (code === null) throw new ApiError(-1, {}, null);
        return send({ "X-MFA-Code": code });
      });
    });
  }

  function askForCurrentCode() {
    var dialog = $("step-up");
    var input = $("step-up-code");
    input.value = "";
    return new Promise(function (resolve) {
      function finish(value) {
        $("step-up-form").removeEventListener("submit", onSubmit);
        $("step-up-cancel").removeEventListener("click", onCancel);
        dialog.removeEventListener("cancel", onCancel);
        if (dialog.open) dialog.close();
        resolve(value);
      }
      function onSubmit(event) {
        event.preventDefault();
        var code = input.value.replace(/\s+/g, "");
        if (!/^[0-9]{6,8}$/.test(code)) {
          input.setAttribute("aria-invalid", "true");
          return;
        }
        input.removeAttribute("aria-invalid");
        finish(code);
      }
      function onCancel(event) {
        event.preventDefault();
        finish(null);
      }
      $("step-up-form").addEventListener("submit", onSubmit);
      $("step-up-cancel").addEventListener("click", onCancel);
      dialog.addEventListener("cancel", onCancel);
      dialog.showModal();
      input.focus();
    });
  }

  function minutesAndSeconds(seconds) {
    var s = Math.max(0, Math.round(seconds));
    var minutes = Math.floor(s / 60);
    var rest = s % 60;
    if (minutes === 0) return rest + (rest === 1 ? " second" : " seconds");
    return minutes + (minutes === 1 ? " minute" : " minutes") + (rest ? " " + rest + " s" : "");
  }

  function plural(count, word) {
    return count + " " + word + (count === 1 ? "" : "s");
  }

  // Every error answer as a sentence for a person.
  function describe(error) {
    var p = error.problem;
    var wait = error.retryAfter ? minutesAndSeconds(Number(error.retryAfter)) : "a moment";
    var left = typeof p.attemptsRemaining === "number" ? p.attemptsRemaining : null;
    var leftText = left === null ? "" : " You have " + plural(left, "attempt") + " left.";
    switch (error.kind) {
      case "invalid-code":
        return (
          "That code is not the one your app shows now. Check the digits, or wait for the next " +
          "code if you just used this one." + leftText
        );
      case "device-clock-skew": {
        var skew = Number(p.estimatedSkewSeconds || 0);
        return (
          "Your phone's clock seems to be about " + minutesAndSeconds(Math.abs(skew)) + " " +
          (skew > 0 ? "ahead" : "behind") + ". Set the date and time to update automatically, " +
          "then type the new code." + leftText
        );
      }
      case "authenticator-parameters-ignored":
        return (
          "Your app made a standard code and ignored the settings this bank uses. Remove the " +
          "account from the app and add it again with one of the apps listed." + leftText
        );
      case "too-many-attempts":
        return "Too many wrong codes. For your safety, try again in " + wait + ".";
      case "enrollment-expired":
        return "This setup expired before it was confirmed. Start again to get a new QR code.";
      case "too-many-enrollments":
        return "You started setup too many times in the last hour. Try again in " + wait + ".";
      case "too-many-authenticators":
        return "You already have the most authenticators allowed. Remove one before adding another.";
      case "already-active":
        return "This authenticator is already set up.";
      case "not-found":
      case "enrollment-not-found":
        return "This setup was replaced or cancelled. Start again.";
      case "unauthenticated":
      case "invalid-token":
        return "Your session has ended. Sign in again.";
      case "insufficient-scope":
        return "Your sign-in does not allow changing two-step verification.";
      case "service-unavailable":
        return "The service is not available at the moment. Nothing was changed. Try again in " + wait + ".";
      case "invalid-request": {
        var fields = (p.errors || []).map(function (e) {
          return e.field;
        });
        return "Please check " + (fields.length ? fields.join(", ") : "what you entered") + ".";
      }
      default:
        if (error.status === 0) return "No connection to the service. Check your network and try again.";
        if (error.status === -1) return "Cancelled. Nothing was changed.";
        if (p.detail) return p.detail;
        return "Something went wrong (" + error.status + "). Try again later.";
    }
  }

  function fail(error) {
    if (!(error instanceof ApiError)) throw error;
    warn(describe(error));
    if (error.kind === "unauthenticated" || error.kind === "invalid-token") {
      token = null;
      show("step-token");
      $("step-manage").hidden = true;
      $("token").focus();
    }
    if (error.kind === "enrollment-expired" || error.kind === "enrollment-not-found") {
      stopCountdown();
      $("confirm-form").querySelector("button").disabled = true;
      $("restart").focus();
    }
    if (error.kind === "too-many-attempts") {
      var button = $("confirm-form").querySelector("button");
      button.disabled = true;
      setTimeout(function () {
        button.disabled = false;
      }, Number(error.retryAfter || 60) * 1000);
    }
  }

  function stopCountdown() {
    if (countdownTimer !== null) clearInterval(countdownTimer);
    countdownTimer = null;
  }

  function startCountdown(expiresAt) {
    stopCountdown();
    var end = Date.parse(expiresAt);
    function tick() {
      var seconds = (end - Date.now()) / 1000;
      if (seconds <= 0) {
        stopCountdown();
        $("countdown").textContent = "0 seconds";
        warn("This setup expired before it was confirmed. Start again to get a new QR code.");
        $("confirm-form").querySelector("button").disabled = true;
        return;
      }
      var s = Math.ceil(seconds);
      $("countdown").textContent = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
    }
    tick();
    countdownTimer = setInterval(tick, 1000);
  }

  function startEnrollment() {
    var deviceName = $("device-name").value.trim();
    var body = { mfaMethod: "totp", qrFormat: "svg" };
    if (deviceName) body.deviceName = deviceName;
    say("Creating your key…");
    return withStepUp(function (headers) {
      return request("POST", API, body, headers);
    }).then(function (answer) {
      enrollment = answer;
      $("qr").src = answer.qrCodeUrl;
      $("secret").textContent = answer.secretGroups;
      $("apps").textContent = answer.supportedApps.join(", ");
      $("code").value = "";
      $("code").maxLength = answer.digits;
      $("code-hint").textContent = "Type the " + answer.digits + " digits without spaces.";
      $("confirm-form").querySelector("button").disabled = false;
      show("step-scan");
      startCountdown(answer.expiresAt);
      say("Scan the QR code with your authenticator app, then type the code it shows.");
      $("scan-title").setAttribute("tabindex", "-1");
      $("scan-title").focus();
    }, fail);
  }

  function confirmEnrollment() {
    var code = $("code").value.replace(/\s+/g, "");
    if (!new RegExp("^[0-9]{" + enrollment.digits + "}$").test(code)) {
      $("code").setAttribute("aria-invalid", "true");
      warn("Type the " + enrollment.digits + " digits your app shows, without spaces.");
      $("code").focus();
      return Promise.resolve();
    }
    $("code").removeAttribute("aria-invalid");
    say("Checking the code…");
    var path = API + "/" + encodeURIComponent(enrollment.enrollmentId) + "/verification";
    return request("POST", path, { code: code }).then(
      function (answer) {
        stopCountdown();
        enrollment = null;
        $("qr").removeAttribute("src");
        $("secret").textContent = "";
        recoveryCodes = answer.recoveryCodes || [];
        if (recoveryCodes.length) {
          var list = $("recovery-codes");
          list.textContent = "";
          recoveryCodes.forEach(function (c) {
            var item = document.createElement("li");
            item.textContent = c;
            list.appendChild(item);
          });
          show("step-recovery");
          say("Your authenticator app is set up.");
          $("recovery-title").focus();
        } else {
          say("Your authenticator app is set up. Your recovery codes stay the same.");
          show(null);
          loadAuthenticators(true);
        }
      },
      function (error) {
        fail(error);
        $("code").select();
      }
    );
  }

  function describeAuthenticator(a) {
    var when = new Date(a.activatedAt || a.createdAt).toLocaleDateString();
    return (
      (a.status === "active" ? "Active since " : "Waiting for confirmation, started ") + when +
      (a.lastUsedAt ? " · last used " + new Date(a.lastUsedAt).toLocaleDateString() : "")
    );
  }

  function renderAuthenticators(list) {
    var ul = $("authenticators");
    ul.textContent = "";
    $("no-authenticators").hidden = list.length > 0;
    list.forEach(function (a, index) {
      var name = a.deviceName || "Authenticator " + (index + 1);
      var item = document.createElement("li");
      var title = document.createElement("p");
      title.className = "name";
      title.textContent = name;
      var meta = document.createElement("p");
      meta.className = "meta";
      meta.textContent = describeAuthenticator(a);
      var rename = document.createElement("button");
      rename.type = "button";
      rename.className = "secondary";
      rename.textContent = "Rename";
      rename.setAttribute("aria-label", "Rename " + name);
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "secondary";
      remove.textContent = a.status === "active" ? "Remove" : "Cancel setup";
      remove.setAttribute("aria-label", remove.textContent + " " + name);
      rename.addEventListener("click", function () {
        showRenameForm(item, a, name, rename);
      });
      remove.addEventListener("click", function () {
        removeAuthenticator(a, name);
      });
      item.append(title, meta, rename, remove);
      ul.appendChild(item);
    });
  }

  function showRenameForm(item, a, name, opener) {
    if (item.querySelector("form")) return;
    var form = document.createElement("form");
    var id = "rename-" + a.id;
    var label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = "New name for " + name;
    var input = document.createElement("input");
    input.id = id;
    input.maxLength = 64;
    input.required = true;
    input.value = a.deviceName || "";
    var save = document.createElement("button");
    save.type = "submit";
    save.textContent = "Save name";
    form.append(label, input, save);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var deviceName = input.value.trim();
      if (!deviceName) return;
      request("PATCH", API + "/" + encodeURIComponent(a.id), { deviceName: deviceName }).then(
        function () {
          say("Renamed to " + deviceName + ".");
          loadAuthenticators(false);
        },
        fail
      );
    });
    item.insertBefore(form, opener);
    input.focus();
  }

  function removeAuthenticator(a, name) {
    var question =
      a.status === "active"
        ? "Remove " + name + "? Its codes will stop working."
        : "Cancel the setup of " + name + "?";
    if (!window.confirm(question)) return;
    withStepUp(function (headers) {
      return request("DELETE", API + "/" + encodeURIComponent(a.id), undefined, headers);
    }).then(function () {
      say(name + " was removed.");
      loadAuthenticators(true);
    }, fail);
  }

  function loadAuthenticators(focus) {
    return request("GET", API).then(function (list) {
      renderAuthenticators(list);
      $("step-manage").hidden = false;
      if (list.length === 0) show("step-start");
      if (focus) $("manage-title").focus();
    }, fail);
  }

  function begin() {
    show(null);
    $("step-manage").hidden = true;
    loadAuthenticators(false);
  }

  function downloadRecoveryCodes() {
    var text =
      "Recovery codes for two-step verification. Each works once.\n\n" +
      recoveryCodes.join("\n") + "\n";
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
    link.download = "recovery-codes.txt";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () {
      URL.revokeObjectURL(link.href);
    }, 1000);
    say("Recovery codes downloaded.");
  }

  function copyKey() {
    var key = enrollment ? enrollment.secret : "";
    if (!navigator.clipboard) {
      say("Select the key and copy it.");
      return;
    }
    navigator.clipboard.writeText(key).then(
      function () {
        say("Key copied. Paste it into your authenticator app.");
      },
      function () {
        say("Copying is not allowed here. Select the key and copy it.");
      }
    );
  }

  function wire() {
    $("token-form").addEventListener("submit", function (event) {
      event.preventDefault();
      token = $("token").value.trim();
      $("token").value = "";
      if (token) begin();
    });
    $("start-form").addEventListener("submit", function (event) {
      event.preventDefault();
      startEnrollment();
    });
    $("confirm-form").addEventListener("submit", function (event) {
      event.preventDefault();
      confirmEnrollment();
    });
    $("restart").addEventListener("click", function () {
      stopCountdown();
      startEnrollment();
    });
    $("copy").addEventListener("click", copyKey);
    $("download").addEventListener("click", downloadRecoveryCodes);
    $("print").addEventListener("click", function () {
      window.print();
    });
    $("saved").addEventListener("click", function () {
      recoveryCodes = [];
      $("recovery-codes").textContent = "";
      show(null);
      loadAuthenticators(true);
    });
    $("add-another").addEventListener("click", function () {
      show("step-start");
      $("device-name").focus();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    wire();
    var handed = null;
    try {
      handed = window.sessionStorage.getItem(TOKEN_KEY);
      window.sessionStorage.removeItem(TOKEN_KEY);
    } catch (ignored) {
      handed = null;
    }
    if (handed) {
      token = handed;
      begin();
    } else {
      show("step-token");
    }
  });
})();

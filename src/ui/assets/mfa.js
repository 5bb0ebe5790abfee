// roomguard's WebAuthn glue: asks roomguard for options, lets the browser talk to the authenticator
// (through the locally served @simplewebauthn/browser), sends the result back, follows the answer.
(function () {
  'use strict';
  var lib = window.SimpleWebAuthnBrowser;
  var errorBox = document.getElementById('mfa-error');

  function showError(text) {
    if (!errorBox) return;
    errorBox.textContent = text;
    errorBox.hidden = false;
    errorBox.focus && errorBox.setAttribute('tabindex', '-1');
  }

  function post(url, csrf, body) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-roomguard-csrf': csrf },
      body: JSON.stringify(body),
    }).then(function (res) {
      return res.json().then(function (json) {
        if (!res.ok) throw Object.assign(new Error(json.error || 'failed'), { code: json.error });
        return json;
      });
    });
  }

  function wire(id, kind) {
    var button = document.getElementById(id);
    if (!button || !lib) return;
    button.addEventListener('click', function () {
      var d = button.dataset;
      var base = '/_roomguard/mfa/webauthn/' + kind;
      var nameInput = document.getElementById('name');
      button.disabled = true;
      post(base + '/options', d.csrf, { returnTo: d.returnTo, room: d.room })
        .then(function (options) {
          return kind === 'register' ? lib.startRegistration({ optionsJSON: options }) : lib.startAuthentication({ optionsJSON: options });
        })
        .then(function (response) {
          return post(base, d.csrf, { response: response, returnTo: d.returnTo, room: d.room, name: nameInput ? nameInput.value : '' });
        })
        .then(function (answer) {
          window.location.assign(answer.redirect);
        })
        .catch(function (err) {
          button.disabled = false;
          showError(err && err.code === 'counter' ? d.counter : d.failed);
        });
    });
  }

  wire('webauthn-authenticate', 'authenticate');
  wire('webauthn-register', 'register');
})();

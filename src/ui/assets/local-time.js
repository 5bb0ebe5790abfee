// Shows times the server wrote in a room's own time zone (<time data-local datetime="…">) in the reader's
// time zone and language instead, with the zone named; without script the server's text stays.
(function () {
  'use strict';
  var lang = document.documentElement.lang || 'en';
  var times = document.querySelectorAll('time[data-local]');
  for (var i = 0; i < times.length; i++) {
    var at = new Date(times[i].getAttribute('datetime'));
    if (isNaN(at.getTime())) continue;
    times[i].textContent = new Intl.DateTimeFormat(lang, { dateStyle: 'full', timeStyle: 'short' }).format(at) +
      ' (' + Intl.DateTimeFormat().resolvedOptions().timeZone + ')';
  }
})();

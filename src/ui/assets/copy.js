// Copy buttons: a button with data-copy="<input id>" copies that input's value and says so in its status
// element (data-status). Without JavaScript the buttons stay hidden and the read-only field can be selected.
'use strict';
for (const button of document.querySelectorAll('button[data-copy]')) {
  const field = document.getElementById(button.dataset.copy);
  const status = document.getElementById(button.dataset.status);
  if (!field) continue;
  button.hidden = false;
  button.addEventListener('click', async () => {
    let copied = false;
    try {
      await navigator.clipboard.writeText(field.value);
      copied = true;
    } catch {
      field.focus();
      field.select();
      copied = document.execCommand('copy');
    }
    if (status) status.textContent = copied ? button.dataset.copied : button.dataset.failed;
  });
}

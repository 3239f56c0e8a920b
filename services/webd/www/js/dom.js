// DOM helpers. Every page builds its elements with h() and sets text with
// textContent: nothing from the server is ever parsed as HTML.

// h('td', {class: 'v', 'data-addr': 3, onclick: fn}, 'text', child...)
export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
  }
  for (const c of kids.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// Set text only when it changed: a 512-module dashboard updates every
// second, and untouched nodes cost the browser nothing.
export function setText(el, s) {
  if (el.textContent !== s) el.textContent = s;
}

export function setClass(el, cls, on) {
  if (el.classList.contains(cls) !== !!on) el.classList.toggle(cls, !!on);
}

// A message line (role=alert so a screen reader announces a refusal).
export function msgBox() {
  const el = h('p', {class: 'msg', role: 'alert', hidden: true});
  el.show = (text, kind = 'error') => {
    el.className = 'msg msg-' + kind;
    el.textContent = text;
    el.hidden = !text;
  };
  el.clear = () => el.show('');
  return el;
}

// The app's one <dialog>: resolves true on OK, false on Cancel / Escape.
export function confirmDialog(title, text, okLabel = 'OK') {
  const dlg = document.getElementById('confirm');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-ok').textContent = okLabel;
  dlg.returnValue = '';
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), {once: true});
    dlg.showModal();
    // Cancel has the focus: Enter on a dialog that acknowledges every alarm
    // must not be the default.
    document.getElementById('confirm-cancel').focus();
  });
}

export function field(label, input, hint) {
  const id = input.id || ('f-' + Math.random().toString(36).slice(2));
  input.id = id;
  return h('div', {class: 'form-field'}, h('label', {for: id}, label), input,
           hint ? h('span', {class: 'hint'}, hint) : null);
}

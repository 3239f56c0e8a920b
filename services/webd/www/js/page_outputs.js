// #/outputs: the GX_R_AUX outputs of the selected gateway. Operating one
// takes two steps: Arm asks webd for a single-use token (30 s, bound to this
// session), Confirm spends it. Between the two, the row says exactly what
// will happen and counts down; nothing is switched by one click.
import {h, msgBox} from './dom.js';
import {get, post, qs} from './api.js';
import {S, gateway} from './store.js';

const isOn = (s) => s === true || s === 1 || s === 'on' || s === 'ON';

export async function page(main) {
  const msg = msgBox();
  msg.id = 'out-msg';
  const tbody = h('tbody', {id: 'out-body'});
  const armBox = h('section', {class: 'card arm-box', id: 'out-arm', hidden: true, 'aria-live': 'assertive'});
  main.append(h('div', {class: 'page-head'}, h('h1', {}, 'Outputs'), h('span', {class: 'muted', id: 'out-gw'})),
    msg, armBox,
    h('section', {class: 'card'}, h('h2', {}, 'GX_R_AUX outputs'),
      h('div', {class: 'table-scroll'}, h('table', {class: 'list', id: 'out-table'},
        h('thead', {}, h('tr', {}, ...['No.', 'Name', 'Output', 'Input of the same number', ''].map((t) => h('th', {scope: 'col'}, t)))), tbody)),
      h('p', {class: 'hint'}, 'Switching an output takes two steps and the breaker role: Arm, then Confirm within 30 s.')));

  let armed = null; // {token, output, state, until, timer}
  let outs = [];

  function disarm(text, kind) {
    if (armed) clearInterval(armed.timer);
    armed = null;
    armBox.hidden = true;
    armBox.replaceChildren();
    if (text) msg.show(text, kind);
    render();
  }

  async function load() {
    try {
      outs = (await get('/api/outputs?' + qs({gw: S.gw}))).outputs || [];
      render();
    } catch (e) {
      msg.show(e.describe());
    }
  }

  function render() {
    const g = gateway(S.gw);
    document.getElementById('out-gw').textContent = g ? `${g.name || g.id} (${g.id})` : '';
    tbody.replaceChildren(...outs.map((o) => {
      const on = isOn(o.state);
      const want = on ? 0 : 1;
      return h('tr', {'data-output': o.n},
        h('td', {class: 'num'}, String(o.n)),
        h('td', {}, o.name || `Output ${o.n}`),
        o.state === null || o.state === undefined
          ? h('td', {}, h('span', {class: 'out-state out-unknown'}, 'unknown'))
          : h('td', {}, h('span', {class: 'out-state ' + (on ? 'out-on' : 'out-off')}, on ? 'ON' : 'OFF')),
        h('td', {}, o.input === null || o.input === undefined ? '—'
          : h('span', {class: o.input === 'alarm' ? 'sev sev-alarm' : 'muted'}, o.input)),
        h('td', {}, h('button', {type: 'button', class: 'btn btn-small out-arm', 'data-output': o.n,
          disabled: !!armed, onclick: () => arm(o, want)}, on ? 'Switch off…' : 'Switch on…')));
    }));
  }

  async function arm(o, state) {
    msg.clear();
    try {
      const r = await post('/api/outputs/arm', {gw: S.gw, output: o.n, state});
      const secs = r.expires_in_s || 30;
      armed = {token: r.token, output: o.n, state, until: Date.now() + secs * 1000};
      const count = h('span', {class: 'countdown', id: 'out-countdown'}, String(secs));
      const confirm = h('button', {type: 'button', class: 'btn btn-danger', id: 'out-confirm'},
        `Confirm: switch ${state ? 'ON' : 'OFF'}`);
      const cancel = h('button', {type: 'button', class: 'btn', id: 'out-cancel'}, 'Cancel');
      armBox.replaceChildren(
        h('h2', {}, 'Armed'),
        h('p', {}, `Output ${o.n} “${o.name || 'Output ' + o.n}” of ${S.gw} will be switched `,
          h('strong', {}, state ? 'ON' : 'OFF'), '. Confirm within ', count, ' s or the arming lapses.'),
        h('div', {class: 'form-actions'}, cancel, confirm));
      armBox.hidden = false;
      armed.timer = setInterval(() => {
        const left = Math.ceil((armed.until - Date.now()) / 1000);
        if (left <= 0) disarm('The arming lapsed: nothing was switched.', 'info');
        else count.textContent = String(left);
      }, 250);
      cancel.addEventListener('click', () => disarm('Cancelled: nothing was switched.', 'info'));
      confirm.addEventListener('click', async () => {
        confirm.disabled = true;
        const tok = armed.token;
        try {
          await post('/api/outputs/confirm', {token: tok});
          disarm(`Output ${o.n} switched ${state ? 'ON' : 'OFF'}.`, 'ok');
        } catch (e) {
          disarm(e.describe());
        }
        load();
      });
      render();
      confirm.focus();
    } catch (e) {
      msg.show(e.describe());
    }
  }

  await load();
  const poll = setInterval(load, 5000); // outputs are not in the event stream
  return {
    update(kind) { if (kind === 'select') { disarm(); load(); } },
    destroy() { clearInterval(poll); if (armed) clearInterval(armed.timer); },
  };
}

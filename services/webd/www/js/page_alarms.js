// #/alarms: the active alarms of every gateway with Acknowledge (one) and
// Acknowledge all (after a confirmation in the app's <dialog>), then the
// alarm history from PostgreSQL with filters. The buttons are there for
// every user: the server decides who may acknowledge, and its refusal is
// shown as it gave it.
import {h, msgBox, confirmDialog, field} from './dom.js';
import {get, post, qs} from './api.js';
import {S, gateway} from './store.js';
import {alarmWords, usTime, now} from './fmt.js';

const SEV_RANK = {alarm: 0, warning: 1, info: 2};
const SEV_NAME = {0: 'info', 1: 'warning', 2: 'alarm'};

function where(a) {
  const p = [];
  if (a.string) p.push(`string ${a.string}`);
  if (a.module) p.push(a.code === 104 ? `input ${a.module}` : `block ${a.module}`);
  return p.join(', ') || 'gateway';
}

export async function page(main) {
  const msg = msgBox();
  msg.id = 'alarms-msg';
  const ackAll = h('button', {type: 'button', class: 'btn btn-primary', id: 'ack-all'}, 'Acknowledge all');
  const onlyGw = h('input', {type: 'checkbox', id: 'alarms-only-gw'});
  const tbody = h('tbody', {id: 'alarms-body'});
  const empty = h('p', {class: 'empty', id: 'alarms-empty'}, 'No active alarm.');
  main.append(
    h('div', {class: 'page-head'}, h('h1', {}, 'Alarms'),
      h('div', {class: 'page-tools'}, h('label', {class: 'check'}, onlyGw, ' Only the selected gateway'), ackAll)),
    msg,
    h('section', {class: 'card'}, h('h2', {}, 'Active'),
      h('div', {class: 'table-scroll'}, h('table', {class: 'list', id: 'alarms-table'},
        h('thead', {}, h('tr', {}, ...['Since', 'Gateway', 'Code', 'Alarm', 'Severity', 'Where', 'Value', 'State', '']
          .map((t) => h('th', {scope: 'col'}, t)))), tbody)), empty));

  function list() {
    let out = [];
    for (const [gw, l] of S.alarms) if (!onlyGw.checked || gw === S.gw) out.push(...l.map((a) => ({...a, gw: a.gw || gw})));
    out.sort((a, b) => (SEV_RANK[a.severity] ?? 3) - (SEV_RANK[b.severity] ?? 3) || (b.since_us || 0) - (a.since_us || 0));
    return out;
  }

  async function ack(body, label) {
    msg.clear();
    try {
      await post('/api/ack', body);
      msg.show(label, 'ok');
    } catch (e) {
      msg.show(e.describe());
    }
  }

  function render() {
    const l = list();
    empty.hidden = l.length > 0;
    ackAll.disabled = !l.some((a) => !a.acked);
    tbody.replaceChildren(...l.map((a) => {
      const g = gateway(a.gw);
      const btn = a.acked ? h('span', {class: 'muted'}, '—') : h('button', {
        type: 'button', class: 'btn btn-small ack-one', 'data-code': a.code,
        onclick: () => ack(a.id ? {gw: a.gw, id: a.id} : {gw: a.gw, code: a.code, string: a.string || 0, module: a.module || 0},
                           `Acknowledged: ${alarmWords(a.name)} (${where(a)}).`),
      }, 'Acknowledge');
      return h('tr', {class: `row-${a.severity}${a.acked ? ' acked' : ''}`, 'data-gw': a.gw, 'data-code': a.code,
                      'data-string': a.string || 0, 'data-module': a.module || 0},
        h('td', {class: 'nowrap'}, a.since_us ? usTime(a.since_us) : '—'),
        h('td', {}, g ? g.name || g.id : a.gw),
        h('td', {class: 'num'}, String(a.code)),
        h('td', {title: a.name}, alarmWords(a.name), a.text ? h('span', {class: 'alarm-text'}, a.text) : null),
        h('td', {}, h('span', {class: `sev sev-${a.severity}`}, a.severity)),
        h('td', {}, where(a)),
        h('td', {class: 'num'}, a.value === null || a.value === undefined ? '' : String(a.value)),
        h('td', {}, h('span', {class: a.acked ? 'state-muted' : 'state-sounding'}, a.acked ? 'acknowledged' : 'sounding')),
        h('td', {}, btn));
    }));
  }

  ackAll.addEventListener('click', async () => {
    const l = list().filter((a) => !a.acked);
    const gws = [...new Set(l.map((a) => a.gw))];
    const ok = await confirmDialog('Acknowledge all alarms?',
      `${l.length} unacknowledged alarm${l.length === 1 ? '' : 's'} on ${gws.map((id) => (gateway(id) || {}).name || id).join(', ')} will be muted. ` +
      'They stay active until their cause is gone.', 'Acknowledge all');
    if (!ok) return;
    msg.clear();
    try {
      for (const gw of gws) await post('/api/ack', {gw, all: true});
      msg.show(`Acknowledged ${l.length} alarm${l.length === 1 ? '' : 's'}.`, 'ok');
    } catch (e) {
      msg.show(e.describe());
    }
  });
  onlyGw.addEventListener('change', render);
  render();
  main.append(historySection());
  return {update(kind) { if (kind === 'alarms' || kind === 'select') render(); }};
}

// The alarm history (hist's endpoint; PostgreSQL): the last day by default.
function historySection() {
  const toLocal = (ms) => {
    const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
    return d.toISOString().slice(0, 16);
  };
  const from = h('input', {type: 'datetime-local', id: 'ah-from', value: toLocal(now() - 86400e3)});
  const to = h('input', {type: 'datetime-local', id: 'ah-to', value: toLocal(now() + 60e3)});
  // The history has severities as alarmd's numbers (proto: info 0, warning 1, alarm 2).
  const sev = h('select', {id: 'ah-sev'}, h('option', {value: ''}, 'any'), h('option', {value: '2'}, 'alarm'),
    h('option', {value: '1'}, 'warning'), h('option', {value: '0'}, 'info'));
  const code = h('input', {type: 'number', id: 'ah-code', min: 1, max: 999, inputmode: 'numeric'});
  const msg = msgBox();
  const tbody = h('tbody');
  const form = h('form', {class: 'filters'}, field("From (this computer's time)", from), field('To', to), field('Severity', sev),
    field('Code', code), h('button', {type: 'submit', class: 'btn'}, 'Show'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    msg.clear();
    try {
      const r = await get('/api/alarms/history?' + qs({gw: S.gw, from_us: Date.parse(from.value) * 1000,
        to_us: Date.parse(to.value) * 1000, severity: sev.value, code: code.value}));
      const ev = r.events || [];
      tbody.replaceChildren(...ev.map((a) => ({...a, severity: SEV_NAME[a.severity] ?? a.severity})).map((a) => h('tr', {class: `row-${a.severity}`},
        h('td', {class: 'nowrap'}, a.ts_us ? usTime(a.ts_us) : '—'),
        h('td', {}, a.action || ''), h('td', {class: 'num'}, String(a.code ?? '')),
        h('td', {}, alarmWords(a.name || '')), h('td', {}, h('span', {class: `sev sev-${a.severity}`}, String(a.severity ?? ''))), h('td', {}, where(a)),
        h('td', {}, a.text || ''))));
      if (!ev.length) msg.show('No alarm event in this range.', 'info');
    } catch (err) {
      msg.show(err.describe());
    }
  });
  setTimeout(() => form.requestSubmit(), 0); // the last day at once
  return h('section', {class: 'card'}, h('h2', {}, 'History'), form, msg,
    h('div', {class: 'table-scroll'}, h('table', {class: 'list'},
      h('thead', {}, h('tr', {}, ...['Time', 'Event', 'Code', 'Alarm', 'Severity', 'Where', 'Text'].map((t) => h('th', {scope: 'col'}, t)))),
      tbody)));
}

// #/dash/GW: the webmanager's module dashboard. Per string the guide's table
// (No., Volt, Temp, Ri, Equalize, Status) with the string's sums, then the
// info panel. Built once from the site's structure, then only the text of
// cells that changed is touched on each "gw" event: a 512-module gateway
// updates at the poll rate without re-layout.
import {h, setText, setClass} from './dom.js';
import {get} from './api.js';
import {S, gateway} from './store.js';
import {volt, temp, ohm, num, flagWords, alarmWords, flagColumn, dateTime, usTime, now} from './fmt.js';

const COMPACT_AT = 40; // modules per string above which the compact grid is the default

export async function page(main) {
  const gw = S.gw;
  const g = gateway(gw);
  if (!g) { main.append(h('p', {class: 'msg msg-error'}, 'No such gateway.')); return {}; }

  const biggest = Math.max(0, ...g.strings.map((s) => s.modules.length));
  let compact = (localStorage.getItem('ow.compact') ?? String(biggest > COMPACT_AT)) === 'true';
  const tableBtn = h('button', {type: 'button', class: 'btn btn-seg', id: 'view-table', 'aria-pressed': String(!compact)}, 'Table');
  const gridBtn = h('button', {type: 'button', class: 'btn btn-seg', id: 'view-grid', 'aria-pressed': String(compact)}, 'Compact');
  const banner = h('p', {class: 'msg msg-warn', role: 'status', hidden: true, id: 'dash-stale'});
  const strings = h('div', {class: 'strings'});
  const info = h('section', {class: 'info-panel', 'aria-label': 'Information'});
  const updated = h('span', {class: 'muted', id: 'dash-updated'});
  main.append(
    h('div', {class: 'page-head'},
      h('h1', {}, g.name || g.id, h('span', {class: 'muted h1-sub'}, ` ${g.id} · ${g.nmodules} blocks`)),
      h('div', {class: 'page-tools'}, updated,
        h('div', {class: 'seg', role: 'group', 'aria-label': 'Layout'}, tableBtn, gridBtn))),
    banner, strings, info);

  const cells = new Map();   // addr -> {row, v, t, ri, eq, st, key}
  const sums = new Map();    // string n -> {el...}
  let th = null;             // thresholds by key, for the level info

  function build() {
    strings.replaceChildren();
    cells.clear();
    sums.clear();
    strings.classList.toggle('compact', compact);
    for (const s of g.strings) {
      const sumEl = {};
      const stat = (key, label, unit) => {
        sumEl[key] = h('span', {class: 'sv-val'}, '—');
        return h('div', {class: 'sv', 'data-k': key}, h('span', {class: 'sv-label'}, label), h('span', {class: 'sv-num'}, sumEl[key], unit ? h('span', {class: 'sv-unit'}, unit) : null));
      };
      sumEl.flags = h('div', {class: 'str-flags'});
      const head = h('div', {class: 'string-sum'},
        stat('sum_v', 'Σ Voltage', 'V'), stat('target_v', 'Target voltage', 'V'),
        stat('current_a', 'DC current', 'A'), stat('ac_a', 'AC current', 'A'),
        stat('power_kw', 'Real power', 'kW'), stat('ripple_v', 'Ripple', 'V'));
      let body;
      if (compact) {
        body = h('div', {class: 'grid', role: 'list', 'aria-label': `Blocks of string ${s.name || s.n}`});
        s.modules.forEach((addr, i) => {
          const c = {v: h('span', {class: 'v'}), t: h('span', {class: 't'}), ri: h('span', {class: 'ri'}),
                     eq: h('span', {class: 'eq'}), st: h('span', {class: 'st'})};
          c.row = h('div', {class: 'tile', role: 'listitem', 'data-addr': addr, 'data-gw': gw,
                            title: `No. ${i + 1}, address ${addr}`},
            h('span', {class: 'no'}, String(i + 1)), c.v, c.t, c.ri, c.eq, c.st);
          cells.set(addr, c);
          body.append(c.row);
        });
      } else {
        const tb = h('tbody');
        s.modules.forEach((addr, i) => {
          const c = {v: h('td', {class: 'v num'}), t: h('td', {class: 't num'}), ri: h('td', {class: 'ri num'}),
                     eq: h('td', {class: 'eq num'}), st: h('td', {class: 'st'})};
          c.row = h('tr', {'data-addr': addr, 'data-gw': gw},
            h('th', {scope: 'row', class: 'no num', title: `address ${addr}`}, String(i + 1)), c.v, c.t, c.ri, c.eq, c.st);
          cells.set(addr, c);
          tb.append(c.row);
        });
        body = h('div', {class: 'table-scroll'}, h('table', {class: 'modules'},
          h('thead', {}, h('tr', {},
            h('th', {scope: 'col'}, 'No.'), h('th', {scope: 'col'}, 'Volt. [V]'), h('th', {scope: 'col'}, 'Temp. [°C]'),
            h('th', {scope: 'col'}, 'Ri [mΩ]'), h('th', {scope: 'col'}, 'Equalize [%]'), h('th', {scope: 'col'}, 'Status'))),
          tb));
      }
      sums.set(s.n, sumEl);
      strings.append(h('section', {class: 'card string-card', 'data-string': s.n},
        h('div', {class: 'card-head'}, h('h2', {}, `String ${s.name || s.n}`), sumEl.flags), head, body));
    }
    for (const c of cells.values()) c.key = '';
    render();
  }

  // The active warnings and alarms naming a module (the model's flag words
  // carry the alarms; warnings are only in the alarm list).
  function moduleAlarms() {
    const by = new Map();
    for (const a of S.alarms.get(gw) || []) {
      if (a.module === undefined || a.module === null || a.module === 0) continue;
      if (a.severity !== 'warning' && a.severity !== 'alarm') continue;
      if (!by.has(a.module)) by.set(a.module, []);
      by.get(a.module).push(a);
    }
    return by;
  }

  function stale() {
    const seen = S.seen.get(gw);
    const lim = Math.max(3 * (g.poll_ms || 1000), 3000) + 1000;
    return !S.live || seen === undefined || Date.now() - seen > lim;
  }

  function render() {
    const m = S.models.get(gw);
    const old = stale();
    const dead = !m || m.answering === false || old;
    banner.hidden = !dead;
    if (dead) {
      banner.textContent = !m ? 'Waiting for the first reading of this gateway…'
        : m.answering === false ? 'busd of this gateway is not heard: no values are shown.'
        : `No update since ${dateTime(S.seen.get(gw) + (now() - Date.now()))}: the values are hidden until the link is back.`;
    }
    setText(updated, m && m.t_us ? 'Reading of ' + usTime(m.t_us) : '');
    updated.dataset.tUs = m && !dead ? String(m.t_us) : ''; // which reading the cells show (tests compare it)
    const warn = moduleAlarms();
    const mods = new Map(((m && m.modules) || []).map((x) => [x.addr, x]));
    for (const [addr, c] of cells) {
      const x = mods.get(addr);
      const answering = !dead && x && x.answering !== false;
      const names = (x && x.flag_names) || [];
      const ws = (warn.get(addr) || []).filter((a) => a.severity === 'warning');
      let cls, st;
      if (!answering) { cls = 'st-lost'; st = dead ? 'no data' : 'no answer'; }
      else if (x.flags) {
        cls = 'st-alarm';
        const words = names.filter((n) => !/GENERAL_ALARM/.test(n)).map(flagWords);
        st = words.join(', ') || 'Alarm';
      } else if (ws.length) { cls = 'st-warn'; st = ws.map((a) => alarmWords(a.name)).join(', '); }
      else { cls = 'st-ok'; st = 'OK'; }
      const vals = answering ? [volt(x.v), temp(x.t), ohm(x.ri), num(x.eq, 0)] : ['—', '—', '—', '—'];
      const key = cls + st + vals.join('|');
      if (key === c.key) continue;
      c.key = key;
      setText(c.v, vals[0]); setText(c.t, vals[1]); setText(c.ri, vals[2]); setText(c.eq, vals[3]);
      setText(c.st, st);
      c.row.className = (compact ? 'tile ' : '') + cls;
      const bad = new Set(names.map(flagColumn).filter(Boolean));
      for (const col of ['v', 't', 'ri']) setClass(c[col], 'cell-bad', answering && bad.has(col));
      setClass(c.eq, 'eq-on', answering && x.eq);
      c.row.setAttribute('aria-label', `Block ${addr}: ${answering ? `${vals[0]} V, ${vals[1]} °C, ${vals[2]} mΩ, ` : ''}${st}`);
    }
    const strs = new Map(((m && m.strings) || []).map((x) => [x.n, x]));
    for (const [n, el] of sums) {
      const x = dead ? null : strs.get(n);
      setText(el.sum_v, x ? num(x.sum_v, 2) : '—');
      setText(el.target_v, x ? num(x.target_v, 2) : '—');
      setText(el.current_a, x ? num(x.current_a, 1) : '—');
      setText(el.ac_a, x ? num(x.ac_a, 1) : '—');
      setText(el.power_kw, x ? num(x.power_kw, 2) : '—');
      setText(el.ripple_v, x ? num(x.ripple_v, 1) : '—');
      const fl = x ? (x.flag_names || []).map(flagWords) : [];
      const fkey = fl.join('|') + (x ? x.state : '');
      if (el.flags.dataset.k !== fkey) {
        el.flags.dataset.k = fkey;
        const chips = fl.map((t) => h('span', {class: 'chip chip-bad'}, t));
        if (x && x.state) chips.unshift(h('span', {class: 'chip'}, String(x.state)));
        el.flags.replaceChildren(...chips);
      }
    }
    renderInfo(m, dead);
  }

  function kv(label, value) {
    return [h('dt', {}, label), h('dd', {}, value === undefined || value === null || value === '' ? '—' : String(value))];
  }
  function pair(a, b, unit) {
    const f = (k) => th && th[k] !== undefined ? th[k].value : undefined;
    const x = f(a), y = f(b);
    return x === undefined && y === undefined ? '—' : `${x ?? '—'} ${unit} / ${y ?? '—'} ${unit}`;
  }
  function renderInfo(m, dead) {
    const bat = g.battery || S.site.battery || {};
    const contact = Object.fromEntries(Object.entries(g.contact || S.site.contact || {}).filter(([, v]) => v));
    const st = (m && m.state) || {};
    const ripple = ((m && m.strings) || []).map((s) => s.ripple_v).filter((v) => v !== null && v !== undefined);
    const col = (title, ...rows) => h('div', {class: 'info-col'}, h('h3', {}, title), h('dl', {}, ...rows.flat()));
    const items = [
      col('Module info', kv('Module type', g.module_type || S.site.module_type), kv('Number of blocks', g.nmodules),
          kv('Number of strings', g.strings.length), kv('Poll interval', g.poll_ms ? g.poll_ms + ' ms' : '')),
      col('Battery info', kv('Manufacturer', bat.manufacturer), kv('Type', bat.type),
          kv('Capacity (C10)', bat.capacity_ah ? bat.capacity_ah + ' Ah' : ''), kv('Installation date', bat.installed),
          kv('Location', bat.location)),
      col('Contact info', ...(Object.keys(contact).length
        ? Object.entries(contact).map(([k, v]) => kv(flagWords(k), v)) : [kv('Contact person', '')])),
      col('Level info', kv('Voltage low/high', pair('voltage_v.low_alarm', 'voltage_v.high_alarm', 'V')),
          kv('Temperature low/high', pair('temp_c.low_alarm', 'temp_c.high_alarm', '°C')),
          kv('Resistance min/max', pair('impedance_mohm.low_alarm', 'impedance_mohm.high_alarm', 'mΩ')),
          kv('Equalizing range min/max', pair('equalizing_min_v', 'equalizing_max_v', 'V'))),
      col('Miscellaneous', kv('Discharge counter', dead ? null : st.discharges),
          kv('Ripple voltage', dead || !ripple.length ? null : ripple.map((v) => num(v, 1) + ' V').join(' / ')),
          kv('Equalizing paused', dead || st.eq_paused === undefined ? null : st.eq_paused ? 'yes' : 'no'),
          kv('Module alarms / warnings', dead ? null : `${st.module_alarms ?? 0} / ${st.module_warnings ?? 0}`)),
    ];
    const key = JSON.stringify(items.map((x) => x.textContent));
    if (info.dataset.k !== key) { info.dataset.k = key; info.replaceChildren(...items); }
  }

  function setCompact(on) {
    compact = on;
    localStorage.setItem('ow.compact', String(on));
    tableBtn.setAttribute('aria-pressed', String(!on));
    gridBtn.setAttribute('aria-pressed', String(on));
    build();
  }
  tableBtn.addEventListener('click', () => setCompact(false));
  gridBtn.addEventListener('click', () => setCompact(true));

  build();
  get('/api/thresholds?gw=' + encodeURIComponent(gw)).then((r) => {
    th = Object.fromEntries((r.thresholds || []).map((x) => [x.key.replace(/^thresholds\./, ""), x]));
    render();
  }).catch(() => {});

  let wasStale = false;
  return {
    update(kind, id) { if (id === gw || kind === 'alarms') render(); },
    tick() { const s = stale(); if (s !== wasStale) { wasStale = s; render(); } },
  };
}

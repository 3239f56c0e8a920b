// #/history: per block voltage / temperature / impedance over a chosen range
// (the PostgreSQL rollups), a discharge's curves (every block, the weakest
// highlighted), the impedance trend with its baseline and projected date,
// and the capacity test results. uPlot draws hundreds of series fast, which
// a 512-block discharge needs.
import {h, msgBox, field} from './dom.js';
import {get, qs} from './api.js';
import {S, gateway} from './store.js';
import {usTime, now, num, zone} from './fmt.js';
import {chart, destroy, toSeconds, COLORS, grey} from './chart.js';

const WHAT = {v: ['Voltage', 'V'], t: ['Temperature', '°C'], ri: ['Impedance', 'mΩ']};
const RANGES = [['3600', 'Last hour'], ['86400', 'Last 24 hours'], ['604800', 'Last 7 days'],
                ['2592000', 'Last 30 days'], ['31536000', 'Last year'], ['custom', 'Custom…']];

function moduleSelect(id) {
  const g = gateway(S.gw);
  const sel = h('select', {id});
  for (const s of g.strings) {
    const og = h('optgroup', {label: `String ${s.name || s.n}`});
    s.modules.forEach((addr, i) => og.append(h('option', {value: addr}, `No. ${i + 1} (address ${addr})`)));
    sel.append(og);
  }
  return sel;
}

export async function page(main) {
  const charts = [];
  const keep = (u) => { if (u) charts.push(u); return u; };
  const g = gateway(S.gw) || {};
  main.append(h('div', {class: 'page-head'}, h('h1', {}, 'History'),
    h('span', {class: 'muted'}, `${g.name || S.gw} (${S.gw}) · times in ${zone()}`)));
  main.append(blockSection(keep), dischargeSection(keep), impedanceSection(keep), capSection());
  return {
    destroy() { charts.forEach(destroy); },
    update(kind) { if (kind === 'select') location.hash = '#/history'; },
  };
}

function blockSection(keep) {
  const mod = moduleSelect('hb-module');
  const what = h('select', {id: 'hb-what'}, ...Object.entries(WHAT).map(([k, [l]]) => h('option', {value: k}, l)));
  const range = h('select', {id: 'hb-range'}, ...RANGES.map(([v, l]) => h('option', {value: v, selected: v === '86400'}, l)));
  const from = h('input', {type: 'datetime-local', id: 'hb-from'});
  const to = h('input', {type: 'datetime-local', id: 'hb-to'});
  const custom = h('div', {class: 'custom', hidden: true}, field('From', from), field('To', to));
  const msg = msgBox();
  const el = h('div', {class: 'chart', id: 'chart-block'});
  let u = null;
  const form = h('form', {class: 'filters'}, field('Block', mod), field('Quantity', what), field('Range', range), custom,
    h('button', {type: 'submit', class: 'btn btn-primary'}, 'Show'));
  range.addEventListener('change', () => { custom.hidden = range.value !== 'custom'; });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    msg.clear();
    let f, t;
    if (range.value === 'custom') { f = Date.parse(from.value); t = Date.parse(to.value); }
    // A simulator's readings run ahead of the clock: a preset asks up to a
    // day ahead too (the chart scales to the data, so nothing shows for a
    // real gateway).
    else { f = now() - Number(range.value) * 1000; t = now() + 86400e3; }
    if (!isFinite(f) || !isFinite(t) || f >= t) { msg.show('Choose a range: From before To.'); return; }
    try {
      const r = await get('/api/history/blocks?' + qs({gw: S.gw, module: mod.value, what: what.value,
        from_us: Math.round(f * 1000), to_us: Math.round(t * 1000)}));
      const [ts, vals] = r.series || [[], []];
      if (!ts.length) msg.show('No reading of this block in the range.', 'info');
      destroy(u);
      const [label, unit] = WHAT[what.value];
      const fmtv = (_, v) => v === null || v === undefined ? '—' : `${num(v, what.value === 'v' ? 3 : 2)} ${unit}`;
      // The rollup's average, with its bucket's lowest and highest as a band
      // when the historian gives them (a spike inside an hour stays visible).
      const band = r.min && r.max && r.min.length === ts.length;
      u = keep(chart(el, {data: band ? [toSeconds(ts), vals, r.min, r.max] : [toSeconds(ts), vals],
        yLabel: `${label} [${unit}]`,
        bands: band ? [{series: [3, 2], fill: 'rgba(11, 92, 173, 0.12)'}] : undefined,
        series: [{label: `Block ${mod.value} ${label.toLowerCase()}`, stroke: COLORS[0], width: 1.5, value: fmtv},
                 ...(band ? [{label: 'lowest', stroke: 'rgba(11, 92, 173, 0.35)', width: 1, value: fmtv},
                             {label: 'highest', stroke: 'rgba(11, 92, 173, 0.35)', width: 1, value: fmtv}] : [])]}));
      if (r.bucket_s) el.dataset.bucketS = String(r.bucket_s);
    } catch (err) {
      msg.show(err.describe());
    }
  });
  setTimeout(() => form.requestSubmit(), 0); // the last 24 h of the first block at once
  return h('section', {class: 'card'}, h('h2', {}, 'Block readings'), form, msg, el);
}

function dischargeSection(keep) {
  const msg = msgBox();
  const tbody = h('tbody', {id: 'dis-body'});
  const el = h('div', {class: 'chart', id: 'chart-discharge'});
  const summary = h('p', {class: 'chart-summary', id: 'dis-summary'});
  let u = null;
  async function show(d, btn) {
    msg.clear();
    for (const b of tbody.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b === btn));
    try {
      const r = await get('/api/discharges/curves?' + qs({gw: S.gw, id: d.id}));
      const blocks = r.blocks || [];
      // The weakest block drawn last, on top, thick and red; every other
      // block a thin grey line: 500 colours would tell nobody anything.
      const order = blocks.filter((b) => b.addr !== r.weakest).concat(blocks.filter((b) => b.addr === r.weakest));
      const data = [toSeconds(r.t || []), ...order.map((b) => b.v)];
      const series = order.map((b) => b.addr === r.weakest
        ? {label: `Block ${b.addr} (weakest)`, stroke: '#dc2626', width: 2.5}
        : {label: `Block ${b.addr}`, stroke: grey, width: 1});
      destroy(u);
      u = keep(chart(el, {data, series, yLabel: 'Block voltage [V]', legend: blocks.length <= 24, height: 360}));
      el.dataset.weakest = String(r.weakest ?? '');
      const w = blocks.find((b) => b.addr === r.weakest);
      const wmin = w ? Math.min(...w.v.filter((v) => v !== null)) : null;
      summary.textContent = `Discharge of string ${d.string} from ${usTime(d.start_us)}: ${blocks.length} blocks, ${(r.t || []).length} samples each. ` +
        (w ? `Weakest: block ${r.weakest}, lowest ${num(wmin, 3)} V (red).` : '');
    } catch (err) {
      msg.show(err.describe());
    }
  }
  (async () => {
    try {
      // A simulator runs ahead of the wall clock (its readings are stamped
      // in simulated time): look a day ahead as well as a year back.
      const r = await get('/api/discharges?' + qs({gw: S.gw, from_us: Math.round((now() - 365 * 86400e3) * 1000),
                                                   to_us: Math.round((now() + 86400e3) * 1000)}));
      const list = r.discharges || [];
      if (!list.length) msg.show('No discharge recorded for this gateway yet.', 'info');
      tbody.replaceChildren(...list.map((d) => {
        const btn = h('button', {type: 'button', class: 'btn btn-small dis-show', 'data-id': d.id, 'aria-pressed': 'false'}, 'Curves');
        btn.addEventListener('click', () => show(d, btn));
        const secs = d.duration_s ?? (d.end_us && d.start_us ? (d.end_us - d.start_us) / 1e6 : null);
        const dur = secs === null ? 'running' : Math.round(secs / 60) + ' min';
        return h('tr', {'data-id': d.id}, h('td', {class: 'nowrap'}, usTime(d.start_us)), h('td', {}, dur),
          h('td', {class: 'num'}, String(d.string ?? '')),
          h('td', {class: 'num'}, d.ah_removed !== undefined && d.ah_removed !== null ? num(d.ah_removed, 1) : ''),
          h('td', {}, btn));
      }));
      if (list.length) show(list[0], tbody.querySelector('button'));
    } catch (err) {
      msg.show(err.describe());
    }
  })();
  return h('section', {class: 'card'}, h('h2', {}, 'Discharges'), msg,
    h('div', {class: 'table-scroll'}, h('table', {class: 'list', id: 'dis-table'},
      h('thead', {}, h('tr', {}, ...['Start', 'Duration', 'String', 'Ah removed', ''].map((t) => h('th', {scope: 'col'}, t)))), tbody)),
    summary, el);
}

function impedanceSection(keep) {
  const mod = moduleSelect('ri-module');
  const msg = msgBox();
  const el = h('div', {class: 'chart', id: 'chart-impedance'});
  const summary = h('p', {class: 'chart-summary'});
  let u = null;
  const form = h('form', {class: 'filters'}, field('Block', mod), h('button', {type: 'submit', class: 'btn btn-primary'}, 'Show'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    msg.clear();
    try {
      const r = await get('/api/impedance?' + qs({gw: S.gw, module: mod.value}));
      const ts = toSeconds(r.t || []);
      const base = r.baseline === null || r.baseline === undefined ? null : r.baseline;
      const data = [ts, r.ri || [], ts.map(() => base)];
      destroy(u);
      u = keep(chart(el, {data, yLabel: 'Impedance [mΩ]', series: [
        {label: `Block ${mod.value}`, stroke: COLORS[0], width: 1.5, points: {show: true, size: 4}},
        {label: 'Baseline', stroke: COLORS[2], width: 1.5, dash: [6, 4]}]}));
      summary.textContent = (base !== null ? `Baseline ${num(base, 2)} mΩ. ` : 'No baseline yet. ') +
        (r.slope_pct_per_year !== undefined && r.slope_pct_per_year !== null ? `Trend ${num(r.slope_pct_per_year, 1)} % a year. ` : '') +
        (r.projected_us ? `At this trend it reaches the alarm level around ${usTime(r.projected_us)}.` : 'No rising trend projected.');
      if (!ts.length) msg.show('No impedance measurement of this block yet.', 'info');
    } catch (err) {
      msg.show(err.describe());
    }
  });
  return h('section', {class: 'card'}, h('h2', {}, 'Impedance trend'), form, msg, summary, el);
}

function capSection() {
  const msg = msgBox();
  const tbody = h('tbody');
  (async () => {
    try {
      const tests = (await get('/api/captests?' + qs({gw: S.gw}))).tests || [];
      if (!tests.length) msg.show('No capacity test recorded.', 'info');
      tbody.replaceChildren(...tests.map((t) => h('tr', {},
        h('td', {class: 'nowrap'}, t.start_us ? usTime(t.start_us) : '—'), h('td', {class: 'num'}, String(t.string ?? '')),
        h('td', {}, t.method || ''), h('td', {class: 'num'}, t.capacity_pct !== undefined ? num(t.capacity_pct, 1) + ' %' : ''),
        h('td', {class: 'num'}, t.ah_removed !== undefined ? num(t.ah_removed, 1) : ''),
        h('td', {class: 'num'}, t.rated_h !== undefined ? `${t.rated_h} h to ${num(t.end_v_per_cell, 3)} V/cell` : ''),
        h('td', {class: 'num'}, t.temp_c !== undefined && t.temp_c !== null ? num(t.temp_c, 1) + ' °C' : ''))));
    } catch (err) {
      msg.show(err.describe());
    }
  })();
  return h('section', {class: 'card'}, h('h2', {}, 'Capacity tests'), msg,
    h('div', {class: 'table-scroll'}, h('table', {class: 'list'}, h('thead', {}, h('tr', {},
      ...['Start', 'String', 'Method', 'Capacity', 'Ah removed', 'Rating', 'Temperature'].map((x) => h('th', {scope: 'col'}, x)))), tbody)));
}

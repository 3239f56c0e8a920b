// #/audit (admin): alarmd's audit records, newest first: who changed what
// (docs/audit.md). "webd/alice" is a change alice made in these pages.
import {h, msgBox} from './dom.js';
import {get} from './api.js';
import {usTime} from './fmt.js';

export async function page(main) {
  const msg = msgBox();
  const filter = h('input', {type: 'search', id: 'audit-filter', placeholder: 'user, key or value'});
  const tbody = h('tbody', {id: 'audit-body'});
  main.append(h('div', {class: 'page-head'}, h('h1', {}, 'Audit log'),
    h('div', {class: 'page-tools'}, h('label', {for: 'audit-filter'}, 'Filter '), filter)), msg,
    h('section', {class: 'card'}, h('div', {class: 'table-scroll'}, h('table', {class: 'list', id: 'audit-table'},
      h('thead', {}, h('tr', {}, ...['Time', 'Gateway', 'Who', 'What', 'Old', 'New', 'Source'].map((t) => h('th', {scope: 'col'}, t)))),
      tbody))));
  let recs = [];
  function render() {
    const q = filter.value.trim().toLowerCase();
    const rows = recs.filter((r) => !q || JSON.stringify(r).toLowerCase().includes(q));
    tbody.replaceChildren(...rows.map((r) => h('tr', {},
      h('td', {class: 'nowrap'}, r.ts_us ? usTime(r.ts_us) : '—'), h('td', {}, r.gw || r.gateway || ''),
      h('td', {}, r.who || ''), h('td', {}, h('code', {}, r.key || '')), h('td', {}, String(r.old ?? '')),
      h('td', {}, String(r.new ?? '')), h('td', {class: 'muted'}, r.source || ''))));
    if (!rows.length) msg.show(recs.length ? 'No record matches.' : 'No change recorded.', 'info'); else msg.clear();
  }
  filter.addEventListener('input', render);
  try {
    const r = await get('/api/audit');
    recs = (r.records || r.audit || r.changes || (Array.isArray(r) ? r : [])).slice().sort((a, b) => (b.ts_us || 0) - (a.ts_us || 0));
    render();
  } catch (e) {
    msg.show(e.describe());
  }
  return {};
}

// #/thresholds: the guide's Devices > BACS > Alarm Thresholds, with its
// caution. Each value is validated by alarmd (not here: alarmd knows the
// other values it must stay consistent with), and a refusal is shown beside
// its field in alarmd's words.
import {h, msgBox} from './dom.js';
import {get, post, qs} from './api.js';
import {S} from './store.js';
import {flagWords} from './fmt.js';

// The webmanager's grid: one row per measured quantity, one column per level.
const LEVELS = [['low_alarm', 'Low alarm'], ['low_warn', 'Low warning'], ['high_warn', 'High warning'],
                ['high_alarm', 'High alarm'], ['hysteresis', 'Hysteresis'], ['delay_s', 'Delay [s]']];
const GROUPS = {
  voltage_v: 'Block voltage [V]', temp_c: 'Block temperature [°C]', impedance_mohm: 'Block impedance [mΩ]',
  string_voltage_v: 'String voltage [V]', string_current_a: 'String current [A]',
};
const bare = (k) => k.replace(/^thresholds\./, '');
// "thermal_runaway.float_current_a" -> "Thermal runaway float current": the
// unit is in its own column.
const keyWords = (k) => flagWords(k.split('.').map((p) => p.replace(/_(pct_lel|v_per_cell|pct|mohm|min|polls|c|v|a|s|x)$/, '')).join(' '));
const fid = (k) => 'th-' + bare(k).replace(/[^A-Za-z0-9_]/g, '_');

export async function page(main) {
  const msg = msgBox();
  msg.id = 'th-msg';
  const apply = h('button', {type: 'submit', class: 'btn btn-primary', id: 'th-apply'}, 'Apply');
  const reset = h('button', {type: 'button', class: 'btn', id: 'th-reset'}, 'Discard changes');
  const form = h('form', {class: 'th-form', id: 'th-form', novalidate: true});
  main.append(
    h('div', {class: 'page-head'}, h('h1', {}, 'Alarm thresholds')),
    h('aside', {class: 'caution', role: 'note', 'aria-labelledby': 'caution-title'},
      h('div', {class: 'caution-icon', 'aria-hidden': 'true'}, '⚠'),
      h('div', {},
        h('p', {class: 'caution-kind', id: 'caution-title'}, 'CAUTION'),
        h('p', {class: 'caution-head'}, 'INCORRECT ALARM SETTINGS'),
        h('p', {}, 'Do not change the alarm or warning thresholds unless the battery setup changes. The alarm thresholds are set during the design and configuration for each specific battery setup.'),
        h('p', {class: 'caution-strong'}, 'Failure to follow these instructions can result in injury or equipment damage.'))),
    msg, form);

  let list;
  try {
    list = (await get('/api/thresholds?' + qs({gw: S.gw}))).thresholds || [];
  } catch (e) {
    msg.show(e.describe());
    return {};
  }
  const fields = new Map(); // key -> {input, box, t}

  // The value as the field holds it: an enum's choice by name, else the number.
  const shown = (t) => t.type === 'enum' ? String(t.text ?? t.value ?? '') : String(t.value ?? '');
  function input(t, label) {
    const title = `${t.doc || ''}${t.min !== undefined && t.min !== null ? ` (${t.min} … ${t.max}${t.unit ? ' ' + t.unit : ''})` : ''}`;
    const inp = t.type === 'enum' && t.choices
      ? h('select', {id: fid(t.key), name: t.key, 'data-key': t.key, title},
          ...t.choices.map((c) => h('option', {value: c, selected: c === shown(t)}, c)))
      : h('input', {type: 'number', step: 'any', id: fid(t.key), name: t.key, 'data-key': t.key,
          value: shown(t), min: t.min, max: t.max, inputmode: 'decimal', title});
    const lab = h('label', {for: inp.id, class: 'sr-only'}, label);
    const box = h('div', {class: 'field', 'data-key': t.key}, lab, inp);
    inp.addEventListener(inp.tagName === 'SELECT' ? 'change' : 'input', () => {
      box.classList.toggle('dirty', inp.value !== shown(t));
      clearNote(box);
    });
    fields.set(t.key, {input: inp, box, t});
    return box;
  }

  const byGroup = new Map();
  const rest = [];
  for (const t of list) {
    const k = bare(t.key);
    const dot = k.lastIndexOf('.');
    const grp = dot > 0 ? k.slice(0, dot) : null;
    const lvl = dot > 0 ? k.slice(dot + 1) : null;
    if (grp && GROUPS[grp] && LEVELS.some(([l]) => l === lvl)) {
      if (!byGroup.has(grp)) byGroup.set(grp, {});
      byGroup.get(grp)[lvl] = t;
    } else rest.push(t);
  }
  if (byGroup.size) {
    form.append(h('section', {class: 'card'}, h('h2', {}, 'Blocks and strings'),
      h('div', {class: 'table-scroll'}, h('table', {class: 'th-grid'},
        h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, ''), ...LEVELS.map(([, l]) => h('th', {scope: 'col'}, l)))),
        h('tbody', {}, ...[...byGroup].map(([grp, row]) => h('tr', {},
          h('th', {scope: 'row'}, GROUPS[grp]),
          ...LEVELS.map(([lvl, l]) => h('td', {}, row[lvl] ? input(row[lvl], `${GROUPS[grp]} ${l}`) : null)))))))));
  }
  if (rest.length) {
    form.append(h('section', {class: 'card'}, h('h2', {}, 'Other settings'),
      h('table', {class: 'th-list'}, h('tbody', {}, ...rest.map((t) => h('tr', {},
        h('th', {scope: 'row'}, h('span', {class: 'th-name'}, keyWords(bare(t.key))),
          h('code', {class: 'th-key'}, bare(t.key))),
        h('td', {}, input(t, bare(t.key))),
        h('td', {class: 'muted'}, t.unit || ''),
        h('td', {class: 'th-doc'}, t.doc || '')))))));
  }
  form.append(h('div', {class: 'form-actions'}, reset, apply));

  function clearNote(box) {
    for (const n of box.querySelectorAll('.field-error, .field-ok')) n.remove();
    box.classList.remove('has-error');
    box.querySelector('input, select').removeAttribute('aria-invalid');
  }
  function note(box, cls, text) {
    clearNote(box);
    const inp = box.querySelector('input, select');
    const n = h('span', {class: cls, id: inp.id + '-note', role: cls === 'field-error' ? 'alert' : 'status'}, text);
    box.append(n);
    inp.setAttribute('aria-describedby', n.id);
    if (cls === 'field-error') { box.classList.add('has-error'); inp.setAttribute('aria-invalid', 'true'); }
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    msg.clear();
    const dirty = [...fields.values()].filter((f) => f.input.value !== shown(f.t));
    if (!dirty.length) { msg.show('Nothing changed.', 'info'); return; }
    apply.disabled = true;
    let ok = 0, bad = 0;
    // One at a time, in order: alarmd checks each against the ones in force.
    for (const f of dirty) {
      const isEnum = f.input.tagName === 'SELECT';
      const v = isEnum ? f.input.value : Number(f.input.value);
      if (!isEnum && (f.input.value.trim() === '' || !isFinite(v))) { note(f.box, 'field-error', 'Not a number.'); bad++; continue; }
      try {
        const r = await post('/api/thresholds', {gw: S.gw, key: f.t.key, value: v});
        f.t.value = r.value ?? v;
        if (isEnum) f.t.text = v;
        f.input.value = shown(f.t);
        f.box.classList.remove('dirty');
        note(f.box, 'field-ok', 'applied');
        ok++;
      } catch (err) {
        bad++;
        if (err.status === 422) note(f.box, 'field-error', err.message);
        else { msg.show(err.describe()); break; }
      }
    }
    apply.disabled = false;
    if (ok && !bad) msg.show(`${ok} value${ok === 1 ? '' : 's'} applied.`, 'ok');
    else if (bad && !msg.textContent) msg.show(`${bad} value${bad === 1 ? ' was' : 's were'} not accepted: see beside the field.`);
  });
  reset.addEventListener('click', () => {
    for (const f of fields.values()) { f.input.value = shown(f.t); f.box.classList.remove('dirty'); clearNote(f.box); }
    msg.clear();
  });
  return {};
}

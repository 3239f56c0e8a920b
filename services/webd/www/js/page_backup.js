// #/backup (admin): the configuration (site file + alarmd's runtime
// settings) as one archive, the same as `ohmwatch backup`; a restore is
// checked whole first (a dry run, its findings shown), and applied only
// after that and a confirmation.
import {h, msgBox, field, confirmDialog} from './dom.js';
import {post, qs} from './api.js';

export async function page(main) {
  const msg = msgBox();
  msg.id = 'backup-msg';
  const file = h('input', {type: 'file', id: 'restore-file', accept: '.tar.gz,application/gzip'});
  const other = h('input', {type: 'checkbox', id: 'restore-other'});
  const check = h('button', {type: 'button', class: 'btn', id: 'restore-check'}, 'Check');
  const apply = h('button', {type: 'button', class: 'btn btn-danger', id: 'restore-apply', disabled: true}, 'Restore');
  const lines = h('ul', {class: 'restore-lines', id: 'restore-lines', hidden: true});
  // restore's findings: {warning, text} each, a warning marked as one.
  const show = (list) => {
    lines.replaceChildren(...(list || []).map((l) => typeof l === 'string' ? h('li', {}, l)
      : h('li', {class: l.warning ? 'line-warn' : ''}, l.warning ? h('strong', {}, 'warning: ') : null, l.text)));
    lines.hidden = !lines.children.length;
  };
  main.append(h('div', {class: 'page-head'}, h('h1', {}, 'Backup and restore')), msg,
    h('section', {class: 'card'}, h('h2', {}, 'Save the configuration'),
      h('p', {}, 'One archive with the site file and the runtime settings (thresholds changed here, baselines): what ',
        h('code', {}, 'ohmwatch backup'), ' makes. Keep its name: ', h('code', {}, 'backup-…tar.gz'), '.'),
      h('a', {class: 'btn btn-primary', href: '/api/backup', download: '', id: 'backup-download'}, 'Download backup')),
    h('section', {class: 'card'}, h('h2', {}, 'Restore'),
      h('p', {}, 'Every check runs first; nothing changes unless the whole archive is good. Check, read the findings, then Restore.'),
      h('div', {class: 'filters'}, field('Backup file', file),
        h('label', {class: 'check'}, other, ' from another site (names differ)'), check, apply),
      lines));

  async function send(dry) {
    const f = file.files[0];
    if (!f) { msg.show('Choose a backup file first.'); return null; }
    msg.clear();
    try {
      const r = await post('/api/restore?' + qs({name: f.name, dry_run: dry ? 1 : '', other_site: other.checked ? 1 : ''}), f);
      show(r.lines);
      return r;
    } catch (e) {
      show(e.body && e.body.lines);
      msg.show(e.describe());
      return null;
    }
  }
  file.addEventListener('change', () => { apply.disabled = true; lines.hidden = true; msg.clear(); });
  check.addEventListener('click', async () => {
    const r = await send(true);
    if (r) { msg.show('The archive passed every check: Restore applies it.', 'ok'); apply.disabled = false; }
  });
  apply.addEventListener('click', async () => {
    if (!await confirmDialog('Restore this backup?', `The site file and runtime settings are replaced by those of ${file.files[0].name}. The daemons reload it.`, 'Restore')) return;
    const r = await send(false);
    if (r) { msg.show('Restored.', 'ok'); apply.disabled = true; }
  });
  return {};
}

// #/users (admin): the web users and their roles. A new user, or a password
// reset, gets an initial password that must be changed at the first login.
// (Routes: GET /api/users, POST /api/users, POST /api/users/delete; see
// WEBD.md.)
import {h, msgBox, field, confirmDialog} from './dom.js';
import {get, post} from './api.js';
import {S} from './store.js';

const ROLES = [['viewer', 'every page, read only'], ['operator', 'acknowledge, tag a capacity test'],
               ['engineer', 'thresholds, baselines'], ['breaker', 'GX_R_AUX outputs'],
               ['admin', 'users, audit log, backup']];

export async function page(main) {
  const msg = msgBox();
  msg.id = 'users-msg';
  const tbody = h('tbody', {id: 'users-body'});
  main.append(h('div', {class: 'page-head'}, h('h1', {}, 'Users')), msg,
    h('section', {class: 'card'}, h('h2', {}, 'Users'),
      h('div', {class: 'table-scroll'}, h('table', {class: 'list', id: 'users-table'},
        h('thead', {}, h('tr', {}, ...['User', ...ROLES.map(([r]) => r), 'Password', ''].map((t) => h('th', {scope: 'col'}, t)))),
        tbody))),
    newUserForm());

  async function load() {
    try {
      const list = (await get('/api/users')).users || [];
      tbody.replaceChildren(...list.map(row));
    } catch (e) {
      msg.show(e.describe());
    }
  }

  function row(u) {
    const name = u.user || u.name;
    const boxes = ROLES.map(([r]) => h('input', {type: 'checkbox', 'aria-label': `${name}: ${r}`,
      checked: (u.roles || []).includes(r), disabled: r === 'viewer'}));
    const save = h('button', {type: 'button', class: 'btn btn-small'}, 'Save roles');
    const del = h('button', {type: 'button', class: 'btn btn-small btn-danger-quiet', disabled: name === S.me.user}, 'Delete');
    save.addEventListener('click', async () => {
      msg.clear();
      const roles = ROLES.filter((_, i) => boxes[i].checked).map(([r]) => r);
      try { await post('/api/users', {user: name, roles}); msg.show(`Roles of ${name} saved.`, 'ok'); load(); }
      catch (e) { msg.show(e.describe()); }
    });
    del.addEventListener('click', async () => {
      if (!await confirmDialog(`Delete user ${name}?`, `${name} can no longer log in; their sessions end.`, 'Delete')) return;
      msg.clear();
      try { await post('/api/users/delete', {user: name}); msg.show(`User ${name} deleted.`, 'ok'); load(); }
      catch (e) { msg.show(e.describe()); }
    });
    return h('tr', {'data-user': name}, h('th', {scope: 'row'}, name),
      ...boxes.map((b) => h('td', {class: 'center'}, b)),
      h('td', {}, u.must_change ? 'initial (must change)' : 'set'), h('td', {class: 'nowrap'}, save, ' ', del));
  }

  function newUserForm() {
    const name = h('input', {id: 'nu-user', autocomplete: 'off', pattern: '[A-Za-z0-9_.-]{1,31}', required: true});
    const pw = h('input', {id: 'nu-password', type: 'password', autocomplete: 'new-password', minlength: 10, required: true});
    const boxes = ROLES.map(([r, what]) => h('label', {class: 'check'},
      h('input', {type: 'checkbox', value: r, checked: r === 'viewer', disabled: r === 'viewer'}), ` ${r} `, h('span', {class: 'muted'}, `(${what})`)));
    const form = h('form', {class: 'form form-wide', novalidate: true},
      field('User name', name, '1–31 of A–Z a–z 0–9 _ . -'), field('Initial password', pw, 'At least 10 characters; the user must change it at the first login.'),
      h('fieldset', {class: 'roles'}, h('legend', {}, 'Roles'), ...boxes),
      h('button', {type: 'submit', class: 'btn btn-primary'}, 'Add user / reset password'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      msg.clear();
      if (!/^[A-Za-z0-9_.-]{1,31}$/.test(name.value)) { msg.show('User name: 1–31 of A–Z a–z 0–9 _ . -'); return; }
      if (pw.value.length < 10) { msg.show('The initial password needs at least 10 characters.'); return; }
      const roles = boxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
      try {
        await post('/api/users', {user: name.value, roles, password: pw.value});
        msg.show(`User ${name.value} saved; the password must be changed at the first login.`, 'ok');
        pw.value = '';
        load();
      } catch (err) {
        msg.show(err.describe());
      }
    });
    return h('section', {class: 'card'}, h('h2', {}, 'Add a user or reset a password'), form);
  }

  await load();
  return {};
}

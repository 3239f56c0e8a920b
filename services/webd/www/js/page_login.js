// #/login and #/password (the forced change after a first login with the
// initial password, as the webmanager does it).
import {h, field, msgBox} from './dom.js';
import {get, post, setCsrf} from './api.js';
import {S} from './store.js';

function card(title, ...kids) {
  return h('section', {class: 'login-card'},
    h('div', {class: 'login-brand'}, h('span', {class: 'logo', 'aria-hidden': 'true'}),
      h('span', {class: 'product'}, 'ohmwatch')),
    h('h1', {}, title), ...kids);
}

export function loginPage(main, ctx) {
  const user = h('input', {id: 'login-user', name: 'user', autocomplete: 'username', required: true,
                           autocapitalize: 'none', spellcheck: 'false'});
  const pass = h('input', {id: 'login-password', name: 'password', type: 'password',
                           autocomplete: 'current-password', required: true});
  const msg = msgBox();
  const btn = h('button', {type: 'submit', id: 'login-submit', class: 'btn btn-primary'}, 'Log in');
  const form = h('form', {class: 'form', id: 'login-form', novalidate: true},
    field('User', user), field('Password', pass), msg, btn);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    msg.clear();
    if (!user.value || !pass.value) { msg.show('Enter user and password.'); return; }
    btn.disabled = true;
    try {
      const me = await post('/api/login', {user: user.value, password: pass.value}, {quiet401: true});
      pass.value = '';
      await ctx.start(me);
    } catch (err) {
      if (err.status === 429) {
        const s = err.body.retry_after_s;
        msg.show(`Too many failed logins: try again in ${s !== undefined ? s + ' s' : 'a while'}.`);
      } else if (err.status === 401) {
        msg.show('User or password wrong.');
      } else {
        msg.show(err.describe ? err.describe() : String(err));
      }
      pass.select();
    } finally {
      btn.disabled = false;
    }
  });
  main.append(h('div', {class: 'login-wrap'}, card('Log in', form)));
  user.focus();
}

export function passwordPage(main, ctx) {
  const old = h('input', {id: 'pw-old', type: 'password', autocomplete: 'current-password', required: true});
  const nw = h('input', {id: 'pw-new', type: 'password', autocomplete: 'new-password', required: true,
                         minlength: 10});
  const rep = h('input', {id: 'pw-repeat', type: 'password', autocomplete: 'new-password', required: true});
  const msg = msgBox();
  const btn = h('button', {type: 'submit', id: 'pw-submit', class: 'btn btn-primary'}, 'Set password');
  const form = h('form', {class: 'form', id: 'pw-form', novalidate: true},
    field('Current password', old), field('New password', nw, 'At least 10 characters.'),
    field('New password again', rep), msg, btn);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    msg.clear();
    // The server checks the same; saying so here saves a round trip.
    if (nw.value.length < 10) { msg.show('The new password needs at least 10 characters.'); return; }
    if (nw.value !== rep.value) { msg.show('The two new passwords differ.'); return; }
    if (nw.value === old.value) { msg.show('The new password must differ from the current one.'); return; }
    btn.disabled = true;
    try {
      await post('/api/password', {old: old.value, new: nw.value});
      old.value = nw.value = rep.value = '';
      const me = await get('/api/me');
      setCsrf(me.csrf);
      await ctx.start(me);
    } catch (err) {
      msg.show(err.describe ? err.describe() : String(err));
    } finally {
      btn.disabled = false;
    }
  });
  const first = S.me && S.me.must_change;
  main.append(h('div', {class: 'login-wrap'}, card(first ? 'Set a new password' : 'Change password',
    first ? h('p', {class: 'lead'}, `Welcome, ${S.me.user}. This is the first login with the initial password: choose your own before going on.`) : null,
    form)));
  old.focus();
}

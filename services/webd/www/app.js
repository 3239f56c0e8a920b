// ohmwatch-webd's pages: a one-page app on hash routes, fed by the JSON API
// and the server-sent event stream (WEBD.md). No framework, no build step:
// the browser loads these ES modules as they are.
import {h, setText} from './js/dom.js';
import {get, post, setCsrf, setHandlers} from './js/api.js';
import {S, on, emit, gateway, hasRole, allAlarms} from './js/store.js';
import {setZone, dateTime, now, zone, generalWords} from './js/fmt.js';
import * as login from './js/page_login.js';
import * as dash from './js/page_dash.js';
import * as alarms from './js/page_alarms.js';
import * as thresholds from './js/page_thresholds.js';
import * as histPage from './js/page_history.js';
import * as outputs from './js/page_outputs.js';
import * as users from './js/page_users.js';
import * as audit from './js/page_audit.js';
import * as backup from './js/page_backup.js';

const PAGES = {
  login: login.loginPage, password: login.passwordPage, dash: dash.page, alarms: alarms.page,
  thresholds: thresholds.page, history: histPage.page, outputs: outputs.page,
  users: users.page, audit: audit.page, backup: backup.page,
};
const TITLES = {login: 'Log in', password: 'New password', dash: 'Dashboard', alarms: 'Alarms',
  thresholds: 'Alarm thresholds', history: 'History', outputs: 'Outputs', users: 'Users',
  audit: 'Audit log', backup: 'Backup'};

const $ = (id) => document.getElementById(id);
let current = null; // {destroy?(), update?(kind, gw)} of the page shown
let es = null;

function parseHash() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  return {name: parts[0] || '', arg: parts[1]};
}

export function go(hash) {
  if (location.hash === hash) route(); else location.hash = hash;
}

async function route() {
  let {name, arg} = parseHash();
  if (!S.me) name = 'login';
  else if (S.me.must_change) name = 'password';
  else if (!PAGES[name] || name === 'login' || name === 'password') name = 'dash';
  if (name === 'dash') {
    const gw = arg && gateway(arg) ? arg : S.gw;
    if (gw !== arg) { history.replaceState(null, '', '#/dash/' + encodeURIComponent(gw)); }
    selectGw(gw);
  }
  if (current && current.destroy) current.destroy();
  current = null;
  const main = $('main');
  main.replaceChildren();
  const loggedIn = !!(S.me && !S.me.must_change);
  $('hdr').hidden = !loggedIn;
  $('nav').hidden = !loggedIn;
  document.body.classList.toggle('bare', !loggedIn);
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.route === name) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  $('nav').classList.remove('open');
  $('nav-toggle').setAttribute('aria-expanded', 'false');
  document.title = `${TITLES[name]} · ${S.site ? S.site.site : 'ohmwatch'}`;
  current = (await PAGES[name](main, {arg, go, start})) || {};
}

// After login (or a reload with a live session): the site, then the stream.
async function start(me) {
  S.me = me;
  setCsrf(me.csrf);
  if (me.must_change) { go('#/password'); return; }
  S.site = await get('/api/site');
  setZone(S.site.tz, S.site.now_us);
  setText($('site-name'), S.site.site || '');
  fillGateways();
  setText($('who'), me.user);
  $('who').title = 'Roles: ' + me.roles.join(', ');
  for (const li of document.querySelectorAll('.admin-only')) li.hidden = !hasRole('admin');
  startEvents();
  await loadAll();
  const {name} = parseHash();
  go(name && name !== 'login' && name !== 'password' ? location.hash : '#/dash/' + encodeURIComponent(S.gw));
}

function fillGateways() {
  const sel = $('gw-select');
  sel.replaceChildren(...S.site.gateways.map((g) => h('option', {value: g.id}, `${g.name || g.id} (${g.id})`)));
  const saved = sessionStorage.getItem('ow.gw');
  selectGw(saved && gateway(saved) ? saved : S.site.gateways[0] && S.site.gateways[0].id);
}

function selectGw(id) {
  if (!id) return;
  S.gw = id;
  sessionStorage.setItem('ow.gw', id);
  $('gw-select').value = id;
  header();
}

// Models and alarm lists as they stand, for the moment the stream has not
// yet delivered them (and after a reconnect). A model older than one the
// stream already gave is dropped; so is an alarm list fetched before an
// "alarms" event arrived.
async function loadAll() {
  await Promise.all(S.site.gateways.map(async (g) => {
    const seq = S.alarmsSeq;
    try {
      const [m, a] = await Promise.all([get('/api/live?gw=' + encodeURIComponent(g.id)),
                                        get('/api/alarms?gw=' + encodeURIComponent(g.id))]);
      const old = S.models.get(g.id);
      if (!old || (m.t_us || 0) >= (old.t_us || 0)) { S.models.set(g.id, m); S.seen.set(g.id, Date.now()); }
      if (S.alarmsSeq === seq) S.alarms.set(g.id, a.alarms || []);
      emit('gw', g.id);
      emit('alarms', g.id);
    } catch (e) {
      console.warn('load', g.id, e);
    }
  }));
}

function startEvents() {
  if (es) es.close();
  es = new EventSource('/api/events');
  es.addEventListener('gw', (e) => {
    const m = JSON.parse(e.data);
    S.models.set(m.gw, m);
    S.seen.set(m.gw, Date.now());
    emit('gw', m.gw);
  });
  es.addEventListener('alarms', (e) => {
    const a = JSON.parse(e.data);
    S.alarmsSeq++;
    S.alarms.set(a.gw, a.alarms || []);
    emit('alarms', a.gw);
  });
  es.onopen = () => {
    const was = S.live;
    S.live = true;
    conn();
    if (!was && S.site) loadAll(); // what changed while the stream was down
  };
  es.onerror = () => {
    S.live = false;
    conn();
    // EventSource retries by itself unless the server refused the stream
    // (401 after the session expired): then ask who we are, which sends a
    // 401 to the login page.
    if (es.readyState === EventSource.CLOSED) {
      setTimeout(async () => {
        try { await get('/api/me'); startEvents(); } catch { /* handled by 401 hook */ }
      }, 2000);
    }
  };
}

function stopEvents() {
  if (es) es.close();
  es = null;
  S.live = false;
}

function conn() {
  const c = $('conn');
  c.className = 'conn ' + (S.live ? 'conn-up' : 'conn-down');
  setText(c, S.live ? 'live' : 'reconnecting…');
}

// The header: the LED and count over every gateway (a control room must see
// an alarm of any gateway from any page), the status of the selected one.
const LED_TEXT = {green: 'No alarm', yellow: 'Alarm muted', red: 'ALARM', unknown: 'No data'};
function header() {
  if (!S.site) return;
  let led = 'unknown';
  const rank = {unknown: 0, green: 1, yellow: 2, red: 3};
  for (const g of S.site.gateways) {
    const m = S.models.get(g.id);
    // alarmd's word (a gateway not heard raises its own alarm there); the
    // status beside says "Gateway not heard" at once.
    const l = m && m.state && m.state.known !== false ? m.state.led : null;
    if (l && rank[l] > rank[led]) led = l;
  }
  const el = $('led');
  const cls = 'led led-' + led;
  if (el.className !== cls) el.className = cls;
  setText(el.querySelector('.led-text'), LED_TEXT[led]);
  el.title = LED_TEXT[led];
  setText($('alarm-count'), String(allAlarms().length));
  const m = S.models.get(S.gw);
  const st = $('gen-status');
  const words = m ? (m.answering === false ? [{text: 'Gateway not heard', bad: true}] : generalWords(m.state)) : [];
  const txt = words.map((w) => w.text).join(' · ');
  if (st.dataset.txt !== txt) {
    st.dataset.txt = txt;
    st.replaceChildren(...words.map((w) => h('span', {class: 'chip' + (w.bad ? ' chip-bad' : '')}, w.text)));
  }
}

function tick() {
  const t = $('clock');
  const ms = now();
  setText(t, dateTime(ms));
  t.setAttribute('datetime', new Date(ms).toISOString());
  t.title = zone();
  setText($('zone'), zone());
  if (current && current.tick) current.tick();
}

on((kind, gw) => {
  header();
  if (current && current.update) current.update(kind, gw);
});

setHandlers(() => {
  // The session is gone (expired, logged out elsewhere): back to the login.
  if (!S.me) return;
  S.me = null;
  stopEvents();
  go('#/login');
}, () => {
  if (S.me) S.me.must_change = true;
  go('#/password');
});

$('gw-select').addEventListener('change', (e) => {
  selectGw(e.target.value);
  if (parseHash().name === 'dash') go('#/dash/' + encodeURIComponent(S.gw));
  else route(); // every page shows the selected gateway: build it again
});
$('logout').addEventListener('click', async () => {
  try { await post('/api/logout', {}); } catch { /* gone anyway */ }
  S.me = null;
  stopEvents();
  go('#/login');
});
$('nav-toggle').addEventListener('click', () => {
  const open = !$('nav').classList.contains('open');
  $('nav').classList.toggle('open', open);
  $('nav-toggle').setAttribute('aria-expanded', String(open));
});
// The skip link must not change the hash (that is the router's).
document.querySelector('.skip').addEventListener('click', (e) => { e.preventDefault(); $('main').focus(); });
window.addEventListener('hashchange', route);
setInterval(tick, 1000);

(async () => {
  tick();
  try {
    const me = await get('/api/me', {quiet401: true});
    await start(me);
  } catch {
    route();
  }
})();

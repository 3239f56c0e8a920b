// The app's state: who is logged in, the site, and per gateway the latest
// model and alarm list from the event stream. Pages subscribe with on().

export const S = {
  me: null,          // {user, roles, must_change, csrf}
  site: null,        // /api/site
  gw: null,          // the gateway the header selects
  models: new Map(), // gw -> the "gw" event's model
  alarms: new Map(), // gw -> [alarm...]
  seen: new Map(),   // gw -> browser ms of the last model (staleness)
  alarmsSeq: 0,      // bumped by every "alarms" event (a fetch older than one is dropped)
  live: false,       // the event stream is open
};

const subs = new Set();
export function on(fn) { subs.add(fn); return () => subs.delete(fn); }
export function emit(kind, gw) {
  for (const fn of [...subs]) {
    try { fn(kind, gw); } catch (e) { console.error(e); }
  }
}

export const hasRole = (r) => !!(S.me && S.me.roles && S.me.roles.includes(r));
export const gateway = (id) => S.site && S.site.gateways.find((g) => g.id === id);
export function allAlarms() {
  const out = [];
  for (const list of S.alarms.values()) out.push(...list);
  return out;
}

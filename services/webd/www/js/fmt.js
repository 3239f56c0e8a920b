// Formatting shared by the pages: numbers at the resolution the G.BMS
// registers carry, times in the site's zone with the zone named, and the
// guide's flag names in words.

let tz;        // the site's IANA zone (from /api/site), else the browser's
let skewMs = 0; // server clock - browser clock: the clock shows webd's time

export function setZone(zone, serverNowUs) {
  try {
    if (zone) new Intl.DateTimeFormat('en', {timeZone: zone});
    tz = zone || undefined;
  } catch { tz = undefined; }
  if (serverNowUs) skewMs = serverNowUs / 1000 - Date.now();
}
export const zone = () => tz || Intl.DateTimeFormat().resolvedOptions().timeZone;
export const now = () => Date.now() + skewMs;

const fmtCache = new Map();
function dtf(opts) {
  const key = JSON.stringify(opts) + (tz || '');
  let f = fmtCache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {timeZone: tz, hourCycle: 'h23', ...opts});
    fmtCache.set(key, f);
  }
  return f;
}

// "2026-12-07 19:03:22 CET": ISO order whatever the browser's locale (an
// engineer reading 07/12 must not wonder which is the month), the zone named.
export function dateTime(ms, withZone = true) {
  if (ms === null || ms === undefined || !isFinite(ms)) return '—';
  const p = {};
  for (const x of dtf({year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
                       second: '2-digit', timeZoneName: 'short'}).formatToParts(new Date(ms))) p[x.type] = x.value;
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}${withZone ? ' ' + p.timeZoneName : ''}`;
}
export const usTime = (us, withZone) => dateTime(us / 1000, withZone);

// A chart's time tick: as much as the span needs, 24 h clock, site zone.
export function tickLabel(ms, spanS) {
  const p = {};
  for (const x of dtf({month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit'})
    .formatToParts(new Date(ms))) p[x.type] = x.value;
  if (spanS > 2 * 86400) return `${p.month}-${p.day}`;
  if (spanS > 86400 / 2) return `${p.month}-${p.day} ${p.hour}:${p.minute}`;
  return p.second === '00' ? `${p.hour}:${p.minute}` : `${p.hour}:${p.minute}:${p.second}`;
}
export function zoneName(ms = now()) {
  const p = dtf({timeZoneName: 'long'}).formatToParts(new Date(ms)).find((x) => x.type === 'timeZoneName');
  return p ? p.value : zone();
}

// Values at the registers' resolution: 1 mV, 0.5 degC, 0.01 mOhm, 1 %.
export function num(v, digits) {
  return v === null || v === undefined || !isFinite(v) ? '—' : Number(v).toFixed(digits);
}
export const volt = (v) => num(v, 3);
export const temp = (v) => num(v, 1);
export const ohm = (v) => num(v, 2);

// "BACS_ALARM_VOLTAGE_HIGH" -> "Voltage high"; "bacsAlarmVoltageWarnHigh"
// -> "Voltage warn high": the guide's names, readable.
export function flagWords(name) {
  let s = String(name).replace(/^BACS_(ALARM|STATE)[_-]/, '').replace(/[_-]+/g, ' ').toLowerCase();
  return s.charAt(0).toUpperCase() + s.slice(1);
}
export function alarmWords(name) {
  let s = String(name).replace(/^(bacsAlarm|ohmwatch)/, '');
  s = s.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : String(name);
}

// General Status Flags (Modbus 1000) as the guide names them; only used when
// the model does not carry the names itself (state.general_names).
const GENERAL = [
  [0x0001, 'Running'], [0x0002, 'Connected'], [0x0004, 'Module lost'], [0x0008, 'Discharging'],
  [0x0010, 'Charging'], [0x0020, 'Discharging stopped'], [0x0040, 'Float charging'],
  [0x0080, 'Equalisation'], [0x0100, 'System failure'], [0x0200, 'Voltage out of range'],
  [0x0400, 'Temperature out of range'], [0x0800, 'Resistor out of range'],
  [0x4000, 'Initializing'],
];
// The words worth a glance, most important first.
const BAD = new Set(['System failure', 'Module lost', 'Voltage out of range',
                     'Temperature out of range', 'Resistor out of range']);
export function generalWords(state) {
  if (!state) return [];
  const names = state.general_names ? state.general_names.map(flagWords)
    : GENERAL.filter(([b]) => (state.general & b) !== 0).map(([, n]) => n);
  return names.filter((n) => n !== 'None' && (n !== 'Running' && n !== 'Connected' || names.length === 1))
    .map((n) => ({text: n, bad: BAD.has(n)}));
}

// Which value column a module flag concerns (the cell turns red too).
export function flagColumn(name) {
  if (/VOLTAGE/.test(name)) return 'v';
  if (/TEMPERATURE/.test(name)) return 't';
  if (/RESIST/.test(name)) return 'ri';
  return null;
}

/* The codec of the wire contract. Each message kind is a table of fields
 * (name, type, place in ow_msg_t, range, unit, meaning). The encoder, the
 * strict decoder and the generated reference in proto/README.md all walk the
 * same tables, so the contract cannot drift from the code. */
#include "ow_proto.h"
#include "json_scan.h"
#include "ow_num.h"
#include "proto_int.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Beyond 2200-01-01 a timestamp is certainly wrong. */
#define TS_MAX 7258118400000000.0
#define I63    9.2233720368547758e18

/* The field tables read better with one row packed per field than one member
 * a line, so clang-format leaves them alone. */
/* clang-format off */
const field_t ow_proto_hdr_fields[] = {
    {.name = "pub", .type = FT_ID, .off = M(h.pub), .size = SZ(h.pub), .unit = "",
     .doc = "publisher id, e.g. `busd.wm1`"},
    {.name = "epoch", .type = FT_U64, .off = M(h.epoch), .min = 1, .max = I63, .unit = "µs",
     .doc = "boot id: wall clock at publisher start; changes on restart"},
    {.name = "seq", .type = FT_U64, .off = M(h.seq), .min = 1, .max = I63, .unit = "",
     .doc = "1, 2, 3 ... per publisher and epoch, one per message"},
    {.name = "ts_us", .type = FT_I64, .off = M(h.ts_us), .min = 0, .max = TS_MAX, .unit = "µs UTC",
     .doc = "when measured / when it happened"},
};
const size_t ow_proto_nhdr_fields = NF(ow_proto_hdr_fields);

static const char *const actions[] = {"raise", "clear", "ack", NULL};
static const char *const hb_states[] = {"starting", "running", "stopping", NULL};

static const field_t module_fields[] = {
    {.name = "string", .type = FT_INT, .off = M(u.module.string), .min = 1, .max = OW_MAX_STRINGS,
     .unit = "", .doc = "string number"},
    {.name = "module", .type = FT_INT, .off = M(u.module.module), .min = 1, .max = OW_MAX_MODULES,
     .unit = "", .doc = "webmanager module address"},
    {.name = "block", .type = FT_INT, .off = M(u.module.block), .min = 1, .max = OW_MAX_MODULES,
     .unit = "", .doc = "position of the block in its string"},
    {.name = "voltage_v", .type = FT_DBLN, .off = M(u.module.voltage_v), .min = 0, .max = 100,
     .unit = "V", .doc = "block voltage"},
    {.name = "temp_c", .type = FT_DBLN, .off = M(u.module.temp_c), .min = -50, .max = 150,
     .unit = "°C", .doc = "block temperature"},
    {.name = "impedance_mohm", .type = FT_DBLN, .off = M(u.module.impedance_mohm), .min = 0,
     .max = 10000, .unit = "mΩ", .doc = "last measured internal impedance"},
    {.name = "eq_pct", .type = FT_DBLN, .off = M(u.module.eq_pct), .min = 0, .max = 100,
     .unit = "%", .doc = "equalizer bypass as % of the module's maximum"},
    {.name = "status", .type = FT_U32, .off = M(u.module.status), .min = 0, .max = 0xffff,
     .unit = "",
     .doc = "bits: 1 no response (values null), 2 equalizing, 4 impedance measured this poll"},
};

/* The webmanager's string dashboard (guide, "Webmanager Interface
 * Overview") shows Σ Voltage, Target Voltage, DC Current, Real Power and AC
 * Current. Target Voltage is the per-block voltage the module equalizers
 * drive every block towards: the string's average block voltage. The
 * guide's sample says so by its numbers: 12.94 V beside 116.47 V of 9
 * blocks (116.47 / 9 = 12.941), while its FIAMM 12SLA50L blocks would float
 * at 13.62 V (2.27 V/cell); busd's simulator equalizes towards the same
 * average. So it is avg_voltage_v, not a field of its own. Real Power is
 * derived where the reading is made (busd) so every consumer gets the same
 * number; ripple_v is the guide's "AC (Ripple) voltage measurement" (0.1-5 V
 * RMS per string, 0.1 V resolution), the Miscellaneous panel's Ripple
 * Voltage. */
static const field_t string_fields[] = {
    {.name = "string", .type = FT_INT, .off = M(u.string.string), .min = 1, .max = OW_MAX_STRINGS,
     .unit = "", .doc = "string number"},
    {.name = "modules", .type = FT_INT, .off = M(u.string.modules), .min = 0, .max = OW_MAX_MODULES,
     .unit = "", .doc = "blocks in the string"},
    {.name = "modules_lost", .type = FT_INT, .off = M(u.string.modules_lost), .min = 0,
     .max = OW_MAX_MODULES, .unit = "", .doc = "blocks that did not answer this poll"},
    {.name = "current_a", .type = FT_DBLN, .off = M(u.string.current_a), .min = -100000,
     .max = 100000, .unit = "A", .doc = "DC current, + charging, - discharging; null: no sensor"},
    {.name = "ac_current_a", .type = FT_DBLN, .off = M(u.string.ac_current_a), .min = 0,
     .max = 100000, .unit = "A", .doc = "AC ripple current (RMS); null: no sensor"},
    {.name = "sum_voltage_v", .type = FT_DBLN, .off = M(u.string.sum_voltage_v), .min = 0,
     .max = 5000, .unit = "V", .doc = "sum of the answering blocks"},
    {.name = "avg_voltage_v", .type = FT_DBLN, .off = M(u.string.avg_voltage_v), .min = 0,
     .max = 100, .unit = "V",
     .doc = "average of the answering blocks: the webmanager's Target Voltage (see above)"},
    {.name = "power_kw", .type = FT_DBLN, .off = M(u.string.power_kw), .min = -500000,
     .max = 500000, .unit = "kW",
     .doc = "Real Power, `sum_voltage_v` x `current_a` / 1000: + charging, - discharging; "
            "null without a current sensor", .optional = 1},
    {.name = "ripple_v", .type = FT_DBLN, .off = M(u.string.ripple_v), .min = 0, .max = 1000,
     .unit = "V", .doc = "AC ripple voltage on the string (RMS); null: not measured",
     .optional = 1},
};

static const field_t aux_fields[] = {
    {.name = "ambient_c", .type = FT_DBLN, .off = M(u.aux.ambient_c), .min = -50, .max = 100,
     .unit = "°C", .doc = "ambient temperature; null: no sensor"},
    {.name = "humidity_pct", .type = FT_DBLN, .off = M(u.aux.humidity_pct), .min = 0, .max = 100,
     .unit = "%RH", .doc = "relative humidity; null: no sensor"},
    {.name = "hydrogen_pct_lel", .type = FT_DBLN, .off = M(u.aux.hydrogen_pct_lel), .min = 0,
     .max = 100, .unit = "%LEL", .doc = "hydrogen concentration; null: no sensor"},
    {.name = "aux_units", .type = FT_INT, .off = M(u.aux.aux_units), .min = 0, .max = OW_AUX_UNITS,
     .unit = "", .doc = "GX_R_AUX units fitted"},
    {.name = "inputs", .type = FT_U32, .off = M(u.aux.inputs), .min = 0, .max = 0xffff, .unit = "",
     .doc = "bit u*4+i set: GX_R_AUX unit u+1 input i+1 in alarm"},
    {.name = "outputs", .type = FT_U32, .off = M(u.aux.outputs), .min = 0, .max = 0xffff,
     .unit = "", .doc = "bit u*4+o set: GX_R_AUX unit u+1 output o+1 on"},
};

static const field_t hb_fields[] = {
    {.name = "state", .type = FT_TEXT, .off = M(u.heartbeat.state), .size = SZ(u.heartbeat.state),
     .choices = hb_states, .unit = "", .doc = "`starting`, `running` or `stopping`"},
    {.name = "source", .type = FT_ID, .off = M(u.heartbeat.source), .size = SZ(u.heartbeat.source),
     .unit = "", .doc = "where readings come from: `sim`, a field driver"},
    {.name = "period_us", .type = FT_I64, .off = M(u.heartbeat.period_us), .min = 1, .max = 1e12,
     .unit = "µs", .doc = "poll period in measurement time"},
    {.name = "speed", .type = FT_DBL, .off = M(u.heartbeat.speed), .min = 0, .max = 1e6, .unit = "",
     .doc = "simulated-time acceleration, 1 = real time"},
    {.name = "strings", .type = FT_INT, .off = M(u.heartbeat.strings), .min = 0,
     .max = OW_MAX_STRINGS, .unit = "", .doc = "strings"},
    {.name = "modules", .type = FT_INT, .off = M(u.heartbeat.modules), .min = 0,
     .max = OW_MAX_MODULES, .unit = "", .doc = "modules"},
    {.name = "modules_lost", .type = FT_INT, .off = M(u.heartbeat.modules_lost), .min = 0,
     .max = OW_MAX_MODULES, .unit = "", .doc = "modules not answering in the last cycle"},
    {.name = "journal_first", .type = FT_U64, .off = M(u.heartbeat.journal_first), .min = 0,
     .max = I63, .unit = "", .doc = "oldest seq still replayable"},
    {.name = "journal_last", .type = FT_U64, .off = M(u.heartbeat.journal_last), .min = 0,
     .max = I63, .unit = "", .doc = "newest seq published before this heartbeat"},
    {.name = "cycle_us", .type = FT_I64, .off = M(u.heartbeat.cycle_us), .min = 0, .max = 1e12,
     .unit = "µs", .doc = "wall time the last poll cycle took"},
    {.name = "cycles", .type = FT_U64, .off = M(u.heartbeat.cycles), .min = 0, .max = I63,
     .unit = "", .doc = "poll cycles since start"},
    {.name = "overruns", .type = FT_U64, .off = M(u.heartbeat.overruns), .min = 0, .max = I63,
     .unit = "", .doc = "poll deadlines missed since start"},
};

static const field_t alarm_fields[] = {
    {.name = "id", .type = FT_U64, .off = M(u.alarm.id), .min = 1, .max = I63, .unit = "",
     .doc = "alarm id, unique, never reused"},
    {.name = "type", .type = FT_INT, .off = M(u.alarm.type), .min = 1, .max = 999, .unit = "",
     .doc = "bacsWellKnownAlarms index (1-39) or a documented addition (100+)"},
    {.name = "severity", .type = FT_INT, .off = M(u.alarm.severity), .min = 0, .max = 2, .unit = "",
     .doc = "0 info, 1 warning, 2 alarm"},
    {.name = "action", .type = FT_TEXT, .off = M(u.alarm.action), .size = SZ(u.alarm.action),
     .choices = actions, .unit = "", .doc = "`raise`, `clear` or `ack`"},
    {.name = "string", .type = FT_INT, .off = M(u.alarm.string), .min = 0, .max = OW_MAX_STRINGS,
     .unit = "", .doc = "string, 0 when not about one"},
    {.name = "module", .type = FT_INT, .off = M(u.alarm.module), .min = 0, .max = OW_MAX_MODULES,
     .unit = "", .doc = "module address, 0 when not about one"},
    {.name = "value", .type = FT_DBLN, .off = M(u.alarm.value), .min = -1e9, .max = 1e9,
     .unit = "unit of the quantity", .doc = "measured value; null if none"},
    {.name = "threshold", .type = FT_DBLN, .off = M(u.alarm.threshold), .min = -1e9, .max = 1e9,
     .unit = "unit of the quantity", .doc = "threshold crossed; null if none"},
    {.name = "raised_us", .type = FT_I64, .off = M(u.alarm.raised_us), .min = 0, .max = TS_MAX,
     .unit = "µs UTC", .doc = "raised at"},
    {.name = "cleared_us", .type = FT_I64, .off = M(u.alarm.cleared_us), .min = 0, .max = TS_MAX,
     .unit = "µs UTC", .doc = "cleared at, 0 while active"},
    {.name = "text", .type = FT_TEXT, .off = M(u.alarm.text), .size = SZ(u.alarm.text), .unit = "",
     .doc = "description"},
};

static const field_t state_fields[] = {
    {.name = "general", .type = FT_U32, .off = M(u.state.general), .min = 0, .max = 0xffff,
     .unit = "", .doc = "General Status Flags (Modbus 1000)"},
    {.name = "battery", .type = FT_U32, .off = M(u.state.battery), .min = 0, .max = 0xffff,
     .unit = "", .doc = "Battery Status Flags (Modbus 1001)"},
    {.name = "alarm", .type = FT_U32, .off = M(u.state.alarm), .min = 0, .max = 0xffff, .unit = "",
     .doc = "Alarm Flags (Modbus 1002)"},
    {.name = "alarms_active", .type = FT_INT, .off = M(u.state.alarms_active), .min = 0, .max = 1e6,
     .unit = "", .doc = "bacsAlarmsPresent"},
    {.name = "module_alarms", .type = FT_INT, .off = M(u.state.module_alarms), .min = 0,
     .max = OW_MAX_MODULES, .unit = "", .doc = "bacsModuleAlarmsPresent"},
    {.name = "module_warnings", .type = FT_INT, .off = M(u.state.module_warnings), .min = 0,
     .max = OW_MAX_MODULES, .unit = "", .doc = "bacsModuleWarningsPresent"},
    {.name = "audible", .type = FT_BOOL, .off = M(u.state.audible), .min = 0, .max = 1, .unit = "",
     .doc = "common alarm sounding (true) or quiet/muted (false)"},
    {.name = "discharges", .type = FT_INT, .off = M(u.state.discharges), .min = 0, .max = 1e9,
     .unit = "", .doc = "Discharge Counter: discharges of any string detected since the state file "
     "began (kept across restarts)", .optional = 1},
    {.name = "eq_paused", .type = FT_BOOL, .off = M(u.state.eq_paused), .min = 0, .max = 1,
     .unit = "", .doc = "Equalizing paused: a string of the gateway is discharging, so its "
     "equalizers are off", .optional = 1},
    {.name = "string_flags", .type = FT_U16ARR, .off = M(u.state.string_flags),
     .size = ALEN(u.state.string_flags), .count_off = M(u.state.nstrings), .min = 0, .max = 0xffff,
     .unit = "", .doc = "per string: Alarm Flags (bacsStringAlarm)"},
    {.name = "string_flags2", .type = FT_U16ARR, .off = M(u.state.string_flags2),
     .size = ALEN(u.state.string_flags2), .count_off = M(u.state.nstrings), .min = 0, .max = 0xffff,
     .unit = "", .doc = "per string: Battery String Alarm Flags (bacsStringAlarm2); same length"},
    {.name = "module_flags", .type = FT_U16ARR, .off = M(u.state.module_flags),
     .size = ALEN(u.state.module_flags), .count_off = M(u.state.nmodules), .min = 0, .max = 0xffff,
     .unit = "", .doc = "per module: Alarm Flags (MODULE_nnn_ALARM)"},
};

static const field_t control_fields[] = {
    {.name = "cmd", .type = FT_ID, .off = M(u.control.cmd), .size = SZ(u.control.cmd), .unit = "",
     .doc = "command: one of the Commands table (proto/ow_cmd.c)"},
    {.name = "key", .type = FT_TEXT, .off = M(u.control.key), .size = SZ(u.control.key), .unit = "",
     .doc = "what it applies to, e.g. a threshold key"},
    {.name = "value", .type = FT_DBLN, .off = M(u.control.value), .min = -1e12, .max = 1e12,
     .unit = "", .doc = "new value; null if none"},
    {.name = "index", .type = FT_INT, .off = M(u.control.index), .min = 0, .max = 1e6, .unit = "",
     .doc = "e.g. an output number"},
    {.name = "req", .type = FT_IDE, .off = M(u.control.req), .size = SZ(u.control.req), .unit = "",
     .doc = "request id, echoed in the reply"},
    {.name = "user", .type = FT_IDE, .off = M(u.control.user), .size = SZ(u.control.user),
     .unit = "",
     .doc = "the person a front-end acts for (snmpd: the SNMPv3 user; the CLI: the login), "
            "recorded by the audit trail after the sender's identity as `WHO/USER`", .optional = 1},
};

static const field_t reply_fields[] = {
    {.name = "req", .type = FT_IDE, .off = M(u.reply.req), .size = SZ(u.reply.req), .unit = "",
     .doc = "the request's id"},
    {.name = "ok", .type = FT_BOOL, .off = M(u.reply.ok), .min = 0, .max = 1, .unit = "",
     .doc = "true accepted, false refused"},
    {.name = "value", .type = FT_DBLN, .off = M(u.reply.value), .min = -1e12, .max = 1e12,
     .unit = "", .doc = "the value now in force; null if none"},
    {.name = "error", .type = FT_TEXT, .off = M(u.reply.error), .size = SZ(u.reply.error),
     .unit = "", .doc = "why it was refused, empty when ok"},
};

static const char *const dis_actions[] = {"start", "progress", "end", NULL};
static const char *const dis_methods[] = {"", "time-adjusted", NULL};
static const char *const dis_modes[] = {"current", "voltage", NULL};

static const field_t discharge_fields[] = {
    {.name = "string", .type = FT_INT, .off = M(u.discharge.string), .min = 1,
     .max = OW_MAX_STRINGS, .unit = "", .doc = "string"},
    {.name = "action", .type = FT_TEXT, .off = M(u.discharge.action),
     .size = SZ(u.discharge.action), .choices = dis_actions, .unit = "", .doc = "`start` or `end`"},
    {.name = "mode", .type = FT_TEXT, .off = M(u.discharge.mode), .size = SZ(u.discharge.mode),
     .choices = dis_modes, .unit = "",
     .doc = "detected from the string current (`current`) or block voltages alone (`voltage`)"},
    {.name = "start_us", .type = FT_I64, .off = M(u.discharge.start_us), .min = 0, .max = TS_MAX,
     .unit = "µs UTC", .doc = "start"},
    {.name = "end_us", .type = FT_I64, .off = M(u.discharge.end_us), .min = 0, .max = TS_MAX,
     .unit = "µs UTC", .doc = "end, 0 while it goes on"},
    {.name = "duration_s", .type = FT_DBL, .off = M(u.discharge.duration_s), .min = 0, .max = 1e9,
     .unit = "s", .doc = "duration"},
    {.name = "ah_removed", .type = FT_DBLN, .off = M(u.discharge.ah_removed), .min = 0, .max = 1e7,
     .unit = "Ah", .doc = "charge removed; null without a current sensor"},
    {.name = "min_current_a", .type = FT_DBLN, .off = M(u.discharge.min_current_a), .min = -100000,
     .max = 100000, .unit = "A",
     .doc = "largest discharge current (most negative); null without a sensor"},
    {.name = "min_module", .type = FT_INT, .off = M(u.discharge.min_module), .min = 0,
     .max = OW_MAX_MODULES, .unit = "",
     .doc = "module address of the lowest block (0 if none answered)"},
    {.name = "min_voltage_v", .type = FT_DBLN, .off = M(u.discharge.min_voltage_v), .min = 0,
     .max = 100, .unit = "V", .doc = "lowest block voltage during the discharge"},
    {.name = "end_voltage_v", .type = FT_DBLN, .off = M(u.discharge.end_voltage_v), .min = 0,
     .max = 5000, .unit = "V", .doc = "string voltage at the end (at the start, for `start`)"},
    {.name = "test", .type = FT_BOOL, .off = M(u.discharge.test), .min = 0, .max = 1, .unit = "",
     .doc = "tagged as a capacity test (`captest`); false for an outage"},
    {.name = "rated_h", .type = FT_DBLN, .off = M(u.discharge.rated_h), .min = 0, .max = 1000,
     .unit = "h",
     .doc = "capacity test: rated time to end voltage at the test rate; null if untagged"},
    {.name = "end_v_per_cell", .type = FT_DBLN, .off = M(u.discharge.end_v_per_cell), .min = 0,
     .max = 5, .unit = "V", .doc = "capacity test: end voltage per cell; null if untagged"},
    {.name = "temp_c", .type = FT_DBLN, .off = M(u.discharge.temp_c), .min = -50, .max = 150,
     .unit = "°C",
     .doc = "average block temperature at the start (IEEE 450's average cell temperature)"},
    {.name = "capacity_pct", .type = FT_DBLN, .off = M(u.discharge.capacity_pct), .min = 0,
     .max = 1000, .unit = "%",
     .doc = "capacity test `end`: time-adjusted capacity (IEEE 450); null otherwise"},
    {.name = "method", .type = FT_TEXT, .off = M(u.discharge.method),
     .size = SZ(u.discharge.method), .choices = dis_methods, .unit = "",
     .doc = "`time-adjusted` for a capacity test, empty otherwise"},
    {.name = "dod_pct", .type = FT_DBLN, .off = M(u.discharge.dod_pct), .min = 0, .max = 1000,
     .unit = "%",
     .doc = "depth of discharge: Ah removed / C10 x 100 (not a capacity); null without a sensor"},
    {.name = "time_to_go_s", .type = FT_DBLN, .off = M(u.discharge.time_to_go_s), .min = 0,
     .max = 1e9, .unit = "s", .doc = "`progress`: estimated time to end voltage; null otherwise"},
};

static const field_t baseline_fields[] = {
    {.name = "string", .type = FT_INT, .off = M(u.baseline.string), .min = 1, .max = OW_MAX_STRINGS,
     .unit = "", .doc = "string"},
    {.name = "module", .type = FT_INT, .off = M(u.baseline.module), .min = 1, .max = OW_MAX_MODULES,
     .unit = "", .doc = "module address"},
    {.name = "baseline_mohm", .type = FT_DBL, .off = M(u.baseline.baseline_mohm), .min = 0,
     .max = 10000, .unit = "mΩ", .doc = "commissioning baseline (IEEE 1188)"},
    {.name = "impedance_mohm", .type = FT_DBL, .off = M(u.baseline.impedance_mohm), .min = 0,
     .max = 10000, .unit = "mΩ", .doc = "this measurement"},
    {.name = "deviation_pct", .type = FT_DBL, .off = M(u.baseline.deviation_pct), .min = -100,
     .max = 1e6, .unit = "%", .doc = "above (+) or below (-) the baseline"},
    {.name = "slope_pct_per_year", .type = FT_DBLN, .off = M(u.baseline.slope_pct_per_year),
     .min = -1e9, .max = 1e9, .unit = "%/year",
     .doc = "trend of the deviation; null until enough measurements"},
    {.name = "alarm_at_us", .type = FT_I64, .off = M(u.baseline.alarm_at_us), .min = 0, .max = 1e18,
     .unit = "µs UTC", .doc = "projected crossing of the baseline alarm level; 0 if not rising"},
};

static const char *const cfg_sources[] = {"control", "command", "reload", "state", NULL};

/* A config message is also the audit record of every change made through
 * alarmd (docs/audit.md): a setting (source control/reload) or an operator
 * command (source command: ack, output, baseline, captest). */
static const field_t config_fields[] = {
    {.name = "key", .type = FT_TEXT, .off = M(u.config.key), .size = SZ(u.config.key), .unit = "",
     .doc = "what changed: a setting's key, or `ack.ID` / `ack.all`, `output.N`, "
            "`baseline.module.N`, `captest.string.N`"},
    {.name = "value", .type = FT_DBLN, .off = M(u.config.value), .min = -1e12, .max = 1e12,
     .unit = "",
     .doc = "value now in force (a setting: never null); a command: its number (alarms "
            "acknowledged, output 0/1, baseline mOhm, rated h), null if none"},
    {.name = "old_value", .type = FT_DBLN, .off = M(u.config.old_value), .min = -1e12, .max = 1e12,
     .unit = "", .doc = "value before; null if none"},
    {.name = "source", .type = FT_TEXT, .off = M(u.config.source), .size = SZ(u.config.source),
     .choices = cfg_sources, .unit = "",
     .doc = "`control` (a setting by request), `command` (an operator command by request), "
            "`reload` (SIGHUP), `state` (restored at start)"},
    {.name = "who", .type = FT_TEXT, .off = M(u.config.who), .size = SZ(u.config.who), .unit = "",
     .doc = "who made the change: the requester's identity, `/USER` after it when a front-end "
            "named the person (`snmpd/nms`); `site-file` for a reload; empty in a `list` answer",
     .optional = 1},
    {.name = "old", .type = FT_TEXT, .off = M(u.config.old), .size = SZ(u.config.old), .unit = "",
     .doc = "the value before, as text (`14.4`, `off`, `active`, `learnt`); empty if none",
     .optional = 1},
    {.name = "new", .type = FT_TEXT, .off = M(u.config.new_), .size = SZ(u.config.new_), .unit = "",
     .doc = "the value after, as text (`13.5`, `on`, `acknowledged`, `reset`, `10 h to 1.750 "
            "V/cell`)", .optional = 1},
};

static const char *const links[] = {"up", "partial", "down", NULL};

static const field_t device_fields[] = {
    {.name = "link", .type = FT_TEXT, .off = M(u.device.link), .size = SZ(u.device.link),
     .choices = links, .unit = "",
     .doc = "`up` every request answered, `partial` some failed, `down` none (or not tried: "
            "backoff)"},
    {.name = "general", .type = FT_U32, .off = M(u.device.general), .min = 0, .max = 0xffff,
     .unit = "",
     .doc = "the device's General Status Flags (G.BMS Modbus 1000); 0 if not mapped or not read"},
    {.name = "battery", .type = FT_U32, .off = M(u.device.battery), .min = 0, .max = 0xffff,
     .unit = "", .doc = "the device's Battery Status Flags (1001); 0 if not mapped or not read"},
    {.name = "alarm", .type = FT_U32, .off = M(u.device.alarm), .min = 0, .max = 0xffff, .unit = "",
     .doc = "the device's Alarm Flags (1002); 0 if not mapped or not read"},
    {.name = "strings_reported", .type = FT_INT, .off = M(u.device.strings_reported), .min = 0,
     .max = 0xffff, .unit = "",
     .doc = "strings the device reports (1003); 0 if not mapped or not read"},
    {.name = "modules_reported", .type = FT_INT, .off = M(u.device.modules_reported), .min = 0,
     .max = 0xffff, .unit = "",
     .doc = "modules the device reports (1004); 0 if not mapped or not read"},
    {.name = "cycle_requests", .type = FT_INT, .off = M(u.device.cycle_requests), .min = 0,
     .max = 1e6, .unit = "", .doc = "Modbus requests sent in the last cycle, retries included"},
    {.name = "requests", .type = FT_U64, .off = M(u.device.requests), .min = 0, .max = I63,
     .unit = "", .doc = "requests since start, retries included"},
    {.name = "exceptions", .type = FT_U64, .off = M(u.device.exceptions), .min = 0, .max = I63,
     .unit = "", .doc = "exception responses since start"},
    {.name = "timeouts", .type = FT_U64, .off = M(u.device.timeouts), .min = 0, .max = I63,
     .unit = "", .doc = "requests not answered in time (or connection lost) since start"},
    {.name = "malformed", .type = FT_U64, .off = M(u.device.malformed), .min = 0, .max = I63,
     .unit = "", .doc = "replies that were not valid for their request since start"},
    {.name = "out_of_range", .type = FT_U64, .off = M(u.device.out_of_range), .min = 0, .max = I63,
     .unit = "",
     .doc = "values outside the wire's range for their quantity (published as null) since start"},
    {.name = "module_flags", .type = FT_U16ARR, .off = M(u.device.module_flags),
     .size = ALEN(u.device.module_flags), .count_off = M(u.device.nmodules), .min = 0,
     .max = 0xffff, .unit = "",
     .doc = "per module: its alarm word as read (MODULE_nnn_ALARM), 0 if not read; empty if not "
            "mapped or the device did not answer"},
};
/* clang-format on */

/* clang-format off */
const kind_t ow_proto_kinds[OW_MSG_KINDS] = {
    [OW_MSG_MODULE] = {.name = "module", .topic = "mod", .topic_doc = "mod/GW/SS/MMM",
                       .fields = module_fields, .nfields = NF(module_fields),
                       .doc = "One block's measurements from one poll (busd)."},
    [OW_MSG_STRING] = {.name = "string", .topic = "str", .topic_doc = "str/GW/SS",
                       .fields = string_fields, .nfields = NF(string_fields),
                       .doc = "One string's current and voltages from one poll (busd)."},
    [OW_MSG_AUX] = {.name = "aux", .topic = "aux", .topic_doc = "aux/GW", .fields = aux_fields,
                    .nfields = NF(aux_fields),
                    .doc = "Auxiliary sensors and GX_R_AUX inputs/outputs of a gateway (busd)."},
    [OW_MSG_HEARTBEAT] = {.name = "heartbeat", .topic = "hb", .topic_doc = "hb/GW",
                          .fields = hb_fields, .nfields = NF(hb_fields),
                          .doc = "Publisher status, after each poll cycle (busd)."},
    [OW_MSG_ALARM] = {.name = "alarm", .topic = "alm", .topic_doc = "alm/GW/SS/MMM",
                      .fields = alarm_fields, .nfields = NF(alarm_fields),
                      .doc = "An alarm raised, cleared or acknowledged (alarmd)."},
    [OW_MSG_STATE] = {.name = "state", .topic = "state", .topic_doc = "state/GW",
                      .fields = state_fields, .nfields = NF(state_fields),
                      .doc = "The flag words of one gateway, on change (alarmd)."},
    [OW_MSG_CONTROL] = {.name = "control", .topic = "ctl", .topic_doc = "ctl/GW",
                        .fields = control_fields, .nfields = NF(control_fields), .gw_optional = 1,
                        .doc = "A command or control request (CLI, snmpd to alarmd; alarmd to "
                               "busd)."},
    [OW_MSG_REPLY] = {.name = "reply", .topic = "rep", .topic_doc = "rep/GW",
                      .fields = reply_fields, .nfields = NF(reply_fields), .gw_optional = 1,
                      .doc = "The answer to a control request."},
    [OW_MSG_DISCHARGE] = {.name = "discharge", .topic = "dis", .topic_doc = "dis/GW/SS",
                          .fields = discharge_fields, .nfields = NF(discharge_fields),
                          .doc = "A discharge of a string started or ended (alarmd)."},
    [OW_MSG_BASELINE] = {.name = "baseline", .topic = "imp", .topic_doc = "imp/GW/SS/MMM",
                         .fields = baseline_fields, .nfields = NF(baseline_fields),
                         .doc = "A fresh impedance measurement against the module's baseline, "
                                "with its trend (alarmd)."},
    [OW_MSG_CONFIG] = {.name = "config", .topic = "cfg", .topic_doc = "cfg/GW",
                       .fields = config_fields, .nfields = NF(config_fields), .gw_optional = 1,
                       .doc = "A setting changed at runtime (alarmd)."},
    [OW_MSG_DEVICE] = {.name = "device", .topic = "dev", .topic_doc = "dev/GW",
                       .fields = device_fields, .nfields = NF(device_fields),
                       .doc = "A polled field device's link, its own flag words and the driver's "
                              "counters, after each poll cycle (busd with a Modbus source)."},
};
/* clang-format on */

static const char *const err_names[] = {
    "ok", "size", "json", "version", "kind", "missing", "type", "range", "topic",
};
_Static_assert(NF(err_names) == OW_PERR_COUNT, "a name for every ow_proto_err_t");

const char *ow_kind_name(ow_kind_t kind)
{
    return (unsigned)kind < OW_MSG_KINDS ? ow_proto_kinds[kind].name : "?";
}

const char *ow_kind_topic(ow_kind_t kind)
{
    return (unsigned)kind < OW_MSG_KINDS ? ow_proto_kinds[kind].topic : "?";
}

int ow_kind_from_name(const char *name)
{
    for (int k = 0; k < OW_MSG_KINDS; k++)
        if (strcmp(ow_proto_kinds[k].name, name) == 0) return k;
    return -1;
}

const char *ow_proto_err_name(ow_proto_err_t err)
{
    return (unsigned)err < OW_PERR_COUNT ? err_names[err] : "?";
}

void ow_msg_init(ow_msg_t *m, ow_kind_t kind)
{
    memset(m, 0, sizeof *m);
    m->kind = kind;
    if ((unsigned)kind >= OW_MSG_KINDS) return;
    for (size_t i = 0; i < ow_proto_kinds[kind].nfields; i++)
        if (ow_proto_kinds[kind].fields[i].type == FT_DBLN)
            *(double *)((char *)m + ow_proto_kinds[kind].fields[i].off) = NAN;
}

/* printf's "%0*d", by hand: a topic is formatted for every message sent
 * and for every message received (the decoder checks it). */
static size_t put_int(char *q, int v, int width)
{
    char d[12];
    size_t n = 0, k = 0;
    unsigned u = v < 0 ? 0u - (unsigned)v : (unsigned)v;

    do
        d[n++] = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0) q[k++] = '-', width--;
    for (int i = (int)n; i < width; i++)
        q[k++] = '0';
    while (n)
        q[k++] = d[--n];
    return k;
}

int ow_topic(const ow_msg_t *m, char *buf, size_t len)
{
    const char *gw = m->h.gw[0] ? m->h.gw : "-";
    char t[OW_TOPIC_MAX];
    size_t n, gl = strnlen(gw, sizeof m->h.gw);
    int ss = -1, mm = -1, has_ss = 1, has_mm = 1;

    if ((unsigned)m->kind >= OW_MSG_KINDS) return -1;
    switch (m->kind) {
    case OW_MSG_MODULE:
        ss = m->u.module.string, mm = m->u.module.module;
        break;
    case OW_MSG_STRING:
        ss = m->u.string.string, has_mm = 0;
        break;
    case OW_MSG_ALARM:
        ss = m->u.alarm.string, mm = m->u.alarm.module;
        break;
    case OW_MSG_DISCHARGE:
        ss = m->u.discharge.string, has_mm = 0;
        break;
    case OW_MSG_BASELINE:
        ss = m->u.baseline.string, mm = m->u.baseline.module;
        break;
    default:
        has_ss = has_mm = 0;
        break;
    }
    /* "<kind>/<gw>[/SS[/MMM]]": at most 5 + 1 + 32 + 2 * 12 bytes. */
    n = strlen(ow_proto_kinds[m->kind].topic);
    memcpy(t, ow_proto_kinds[m->kind].topic, n);
    t[n++] = '/';
    memcpy(t + n, gw, gl);
    n += gl;
    if (has_ss) t[n++] = '/', n += put_int(t + n, ss, 2);
    if (has_mm) t[n++] = '/', n += put_int(t + n, mm, 3);
    t[n] = '\0';
    if (len) { /* like snprintf: truncated but terminated */
        size_t c = n < len ? n : len - 1;
        memcpy(buf, t, c);
        buf[c] = '\0';
    }
    return n >= len ? -1 : (int)n;
}

/* ---- encoding: hand-written for speed (busd publishes tens of thousands of
 * these per second); strings are escaped, non-finite numbers refused. ---- */

typedef struct {
    char *p;
    size_t len, cap;
    int overflow;
} wbuf_t;

static void w_raw(wbuf_t *w, const char *s, size_t n)
{
    if (w->len + n >= w->cap) {
        w->overflow = 1;
        return;
    }
    memcpy(w->p + w->len, s, n);
    w->len += n;
}

static void w_fmt(wbuf_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void w_fmt(wbuf_t *w, const char *fmt, ...)
{
    va_list ap;
    if (w->overflow) return;
    va_start(ap, fmt);
    int n = vsnprintf(w->p + w->len, w->cap - w->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= w->cap - w->len)
        w->overflow = 1;
    else
        w->len += (size_t)n;
}

/* The encoder runs for every reading published (busd sends 100,000 a second
 * in the historian bench), and vsnprintf was half of busd's time there, so
 * integers and the usual reals are written by hand. */
static void w_u64(wbuf_t *w, uint64_t u)
{
    char d[20]; /* UINT64_MAX has 20 digits, written from the end */
    size_t n = sizeof d;
    do
        d[--n] = (char)('0' + u % 10);
    while (u /= 10);
    w_raw(w, d + n, sizeof d - n);
}

static void w_i64(wbuf_t *w, int64_t v)
{
    if (v < 0) w_raw(w, "-", 1);
    w_u64(w, v < 0 ? 0u - (uint64_t)v : (uint64_t)v);
}

/* printf's "%.7g", byte for byte. Fixed notation, the common case (values
 * from 1e-4 to below 1e7), is done with integers: 7 significant digits are
 * v * 10^d rounded, trailing zeros dropped. Where that product lies within
 * 1e-6 of a rounding tie (far above its own error, about 1e-9), printf's
 * exact decimal rounding could differ, so those and every other case go to
 * snprintf. ow_fmt_g7 is exposed for the test that compares the two. */
int ow_fmt_g7(double v, char *out, size_t len)
{
    const double *p10 = ow_num_pow10_exact; /* d is 0..10 */
    double a = fabs(v);
    if (len >= 24 && a >= 1e-4 && a < 1e7) {
        int e = 0; /* decimal exponent: 10^e <= a < 10^(e+1) */
        if (a >= 1.0)
            while (e < 6 && a >= p10[e + 1])
                e++;
        else
            for (e = -1; e > -4 && a < 1.0 / p10[-e];)
                e--;
        int d = 6 - e; /* digits after the point, 0..10 */
        double x = a * p10[d];
        double fl = floor(x), fr = x - fl;
        if (fabs(fr - 0.5) > 1e-6) {
            uint64_t sc = (uint64_t)fl + (fr > 0.5);
            if (sc >= 10000000u) { /* rounded up to the next decade */
                e++, d--;
                if (e > 6 || d < 0) goto slow;
                x = a * p10[d];
                fl = floor(x), fr = x - fl;
                if (fabs(fr - 0.5) <= 1e-6) goto slow;
                sc = (uint64_t)fl + (fr > 0.5);
            }
            if (sc == 0) goto slow;
            while (d > 0 && sc % 10 == 0)
                sc /= 10, d--;
            char dg[24];
            int n = 0;
            do
                dg[n++] = (char)('0' + sc % 10);
            while (sc /= 10);
            size_t k = 0;
            if (v < 0) out[k++] = '-';
            if (n <= d) { /* 0.000ddd */
                out[k++] = '0';
                out[k++] = '.';
                for (int i = n; i < d; i++)
                    out[k++] = '0';
                while (n)
                    out[k++] = dg[--n];
            } else {
                while (n > d)
                    out[k++] = dg[--n];
                if (d) {
                    out[k++] = '.';
                    while (n)
                        out[k++] = dg[--n];
                }
            }
            out[k] = '\0';
            return (int)k;
        }
    }
slow:
    return snprintf(out, len, "%.7g", v);
}

static void w_name(wbuf_t *w, const char *name)
{
    w_raw(w, ",\"", 2);
    w_raw(w, name, strlen(name));
    w_raw(w, "\":", 2);
}

static void w_str(wbuf_t *w, const char *s)
{
    w_raw(w, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            w_raw(w, e, 2);
        } else if (c < 0x20) {
            w_fmt(w, "\\u%04x", c);
        } else {
            w_raw(w, (const char *)&c, 1);
        }
    }
    w_raw(w, "\"", 1);
}

int ow_proto_id_ok(const char *s, int allow_empty)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return n < OW_ID_MAX && (n > 0 || allow_empty);
}

int ow_proto_choice_ok(const char *const *choices, const char *s)
{
    if (!choices) return 1;
    for (; *choices; choices++)
        if (strcmp(*choices, s) == 0) return 1;
    return 0;
}

/* Check one field's C value against the table; 0 or -1 with a reason. */
static int field_check(const field_t *f, const void *base, char *err, size_t errlen)
{
    const char *p = (const char *)base + f->off;
    double v;

    switch (f->type) {
    case FT_INT:
        v = *(const int *)p;
        break;
    case FT_I64:
        v = (double)*(const int64_t *)p;
        break;
    case FT_U32:
        v = *(const uint32_t *)p;
        break;
    case FT_U64:
        v = (double)*(const uint64_t *)p;
        break;
    case FT_BOOL:
        v = *(const int *)p != 0;
        break;
    case FT_DBL:
    case FT_DBLN:
        v = *(const double *)p;
        if (isnan(v) && f->type == FT_DBLN) return 0;
        if (!isfinite(v)) {
            snprintf(err, errlen, "field '%s': not a finite number", f->name);
            return -1;
        }
        break;
    case FT_ID:
    case FT_IDE:
        if (!ow_proto_id_ok(p, f->type == FT_IDE)) {
            snprintf(err, errlen, "field '%s': must be 1-31 characters of [A-Za-z0-9_.-]", f->name);
            return -1;
        }
        return 0;
    case FT_TEXT:
        if (!ow_proto_choice_ok(f->choices, p)) {
            snprintf(err, errlen, "field '%s': '%s' is not an allowed value", f->name, p);
            return -1;
        }
        return 0;
    case FT_U16ARR: {
        int n = *(const int *)((const char *)base + f->count_off);
        if (n < 0 || (size_t)n > f->size) {
            snprintf(err, errlen, "field '%s': %d elements, at most %zu", f->name, n, f->size);
            return -1;
        }
        return 0;
    }
    default:
        return -1;
    }
    if (v < f->min || v > f->max) {
        snprintf(err, errlen, "field '%s': %g out of range [%g, %g]", f->name, v, f->min, f->max);
        return -1;
    }
    return 0;
}

static void field_write(wbuf_t *w, const field_t *f, const void *base)
{
    const char *p = (const char *)base + f->off;

    w_name(w, f->name);
    switch (f->type) {
    case FT_INT:
        w_i64(w, *(const int *)p);
        break;
    case FT_I64:
        w_i64(w, *(const int64_t *)p);
        break;
    case FT_U32:
        w_u64(w, *(const uint32_t *)p);
        break;
    case FT_U64:
        w_u64(w, *(const uint64_t *)p);
        break;
    case FT_BOOL:
        if (*(const int *)p)
            w_raw(w, "true", 4);
        else
            w_raw(w, "false", 5);
        break;
    case FT_DBL:
    case FT_DBLN:
        if (isnan(*(const double *)p))
            w_raw(w, "null", 4);
        else {
            char g[32];
            int n = ow_fmt_g7(*(const double *)p, g, sizeof g);
            w_raw(w, g, (size_t)n);
        }
        break;
    case FT_ID:
    case FT_IDE:
    case FT_TEXT:
        w_str(w, p);
        break;
    case FT_U16ARR: {
        int n = *(const int *)((const char *)base + f->count_off);
        const uint16_t *a = (const uint16_t *)p;
        w_raw(w, "[", 1);
        for (int i = 0; i < n; i++) {
            if (i) w_raw(w, ",", 1);
            w_u64(w, a[i]);
        }
        w_raw(w, "]", 1);
        break;
    }
    }
}

int ow_encode(const ow_msg_t *m, char *buf, size_t len, char *err, size_t errlen)
{
    wbuf_t w = {buf, 0, len, 0};
    const kind_t *k;

    if ((unsigned)m->kind >= OW_MSG_KINDS) {
        snprintf(err, errlen, "unknown kind %d", (int)m->kind);
        return -1;
    }
    k = &ow_proto_kinds[m->kind];
    if (!ow_proto_id_ok(m->h.gw, k->gw_optional)) {
        snprintf(err, errlen, "field 'gw': must be 1-31 characters of [A-Za-z0-9_.-]");
        return -1;
    }
    for (size_t i = 0; i < NF(ow_proto_hdr_fields); i++)
        if (field_check(&ow_proto_hdr_fields[i], m, err, errlen) < 0) return -1;
    for (size_t i = 0; i < k->nfields; i++)
        if (field_check(&k->fields[i], m, err, errlen) < 0) return -1;

    w_raw(&w, "{\"v\":", 5);
    w_i64(&w, OW_PROTO_VERSION);
    w_raw(&w, ",\"kind\":\"", 9);
    w_raw(&w, k->name, strlen(k->name));
    w_raw(&w, "\"", 1);
    for (size_t i = 0; i < NF(ow_proto_hdr_fields); i++)
        field_write(&w, &ow_proto_hdr_fields[i], m);
    w_raw(&w, ",\"gw\":", 6);
    w_str(&w, m->h.gw);
    for (size_t i = 0; i < k->nfields; i++)
        field_write(&w, &k->fields[i], m);
    w_raw(&w, "}", 1);
    if (w.overflow) {
        snprintf(err, errlen, "message does not fit in %zu bytes", len);
        return -1;
    }
    buf[w.len] = '\0';
    return (int)w.len;
}

/* ---- decoding: strict, every documented field checked ---- */

ow_proto_err_t ow_proto_fail(ow_proto_err_t e, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return e;
}

/* The topic frame must be the one the body implies. */
ow_proto_err_t ow_proto_topic_check(const ow_msg_t *m, const char *topic, size_t topic_len,
                                    char *err, size_t errlen)
{
    char want[OW_TOPIC_MAX];
    int n = ow_topic(m, want, sizeof want);
    if (n < 0 || (size_t)n != topic_len || memcmp(want, topic, topic_len) != 0)
        return ow_proto_fail(OW_PERR_TOPIC, err, errlen,
                             "topic '%.*s' does not match body (expected '%s')",
                             (int)(topic_len > 80 ? 80 : topic_len), topic, n < 0 ? "?" : want);
    return OW_PERR_OK;
}

/* A JSON integer, or a real with no fractional part (some encoders write 1.0). */
static int intval(const ow_jmember_t *j, double *out)
{
    if (j->type == OW_JV_INT) {
        *out = (double)j->num.i;
        return 0;
    }
    if (j->type == OW_JV_REAL && floor(j->num.d) == j->num.d) {
        *out = j->num.d;
        return 0;
    }
    return -1;
}

/* Strings are decoded here and checked before they go into the message;
 * room for the longest char[] field (reply.error, 160) with margin. */
#define STR_MAX 256

static ow_proto_err_t field_read(const field_t *f, ow_jscan_t *js, void *base, char *err,
                                 size_t errlen)
{
    const ow_jmember_t *j = ow_jscan_get(js, f->name);
    char *p = (char *)base + f->off;
    double v = 0;

    if (!j && f->optional) return OW_PERR_OK;
    if (!j) return ow_proto_fail(OW_PERR_MISSING, err, errlen, "field '%s' is missing", f->name);
    switch (f->type) {
    case FT_INT:
    case FT_I64:
    case FT_U32:
    case FT_U64:
        if (intval(j, &v) < 0)
            return ow_proto_fail(OW_PERR_TYPE, err, errlen, "field '%s': expected an integer",
                                 f->name);
        if (v < f->min || v > f->max)
            return ow_proto_fail(OW_PERR_RANGE, err, errlen,
                                 "field '%s': %.17g out of range [%g, %g]", f->name, v, f->min,
                                 f->max);
        if (f->type == FT_INT)
            *(int *)p = (int)v;
        else if (f->type == FT_I64)
            *(int64_t *)p = j->type == OW_JV_INT ? j->num.i : (int64_t)v;
        else if (f->type == FT_U32)
            *(uint32_t *)p = (uint32_t)v;
        else
            *(uint64_t *)p = j->type == OW_JV_INT ? (uint64_t)j->num.i : (uint64_t)v;
        return OW_PERR_OK;
    case FT_DBLN:
        if (j->type == OW_JV_NULL) {
            *(double *)p = NAN;
            return OW_PERR_OK;
        }
        /* fall through */
    case FT_DBL:
        if (j->type != OW_JV_INT && j->type != OW_JV_REAL)
            return ow_proto_fail(OW_PERR_TYPE, err, errlen, "field '%s': expected a number%s",
                                 f->name, f->type == FT_DBLN ? " or null" : "");
        v = j->type == OW_JV_INT ? (double)j->num.i : j->num.d;
        if (!(v >= f->min && v <= f->max))
            return ow_proto_fail(OW_PERR_RANGE, err, errlen, "field '%s': %g out of range [%g, %g]",
                                 f->name, v, f->min, f->max);
        *(double *)p = v;
        return OW_PERR_OK;
    case FT_BOOL:
        if (j->type != OW_JV_TRUE && j->type != OW_JV_FALSE)
            return ow_proto_fail(OW_PERR_TYPE, err, errlen, "field '%s': expected true or false",
                                 f->name);
        *(int *)p = j->type == OW_JV_TRUE;
        return OW_PERR_OK;
    case FT_ID:
    case FT_IDE:
    case FT_TEXT: {
        char s[STR_MAX];
        long n;
        if (f->size > sizeof s) break; /* a table entry STR_MAX cannot hold */
        if (j->type != OW_JV_STRING)
            return ow_proto_fail(OW_PERR_TYPE, err, errlen, "field '%s': expected a string",
                                 f->name);
        /* The scanner refuses \u0000: a decoded string holds no NUL. */
        if ((n = ow_jscan_string(js, j, s, f->size)) < 0)
            return ow_proto_fail(OW_PERR_RANGE, err, errlen, "field '%s': longer than %zu bytes",
                                 f->name, f->size - 1);
        if (f->type != FT_TEXT && !ow_proto_id_ok(s, f->type == FT_IDE))
            return ow_proto_fail(OW_PERR_RANGE, err, errlen,
                                 "field '%s': must be 1-31 characters of [A-Za-z0-9_.-]", f->name);
        if (!ow_proto_choice_ok(f->choices, s))
            return ow_proto_fail(OW_PERR_RANGE, err, errlen,
                                 "field '%s': '%s' is not an allowed value", f->name, s);
        memcpy(p, s, (size_t)n + 1);
        return OW_PERR_OK;
    }
    case FT_U16ARR: {
        int *count = (int *)((char *)base + f->count_off);
        size_t n, pos = 0;
        ow_jmember_t e;
        if (j->type != OW_JV_ARRAY)
            return ow_proto_fail(OW_PERR_TYPE, err, errlen, "field '%s': expected an array",
                                 f->name);
        n = j->nelem;
        if (n > f->size)
            return ow_proto_fail(OW_PERR_RANGE, err, errlen,
                                 "field '%s': %zu elements, at most %zu", f->name, n, f->size);
        /* Arrays sharing a count (string_flags, string_flags2) must agree. */
        if (*count && (size_t)*count != n)
            return ow_proto_fail(OW_PERR_RANGE, err, errlen,
                                 "field '%s': %zu elements, expected %d", f->name, n, *count);
        for (size_t i = 0; i < n; i++) {
            if (!ow_jscan_elem(js, j, &pos, &e) || intval(&e, &v) < 0)
                return ow_proto_fail(OW_PERR_TYPE, err, errlen,
                                     "field '%s'[%zu]: expected an integer", f->name, i);
            if (v < f->min || v > f->max)
                return ow_proto_fail(OW_PERR_RANGE, err, errlen,
                                     "field '%s'[%zu]: %g out of range [%g, %g]", f->name, i, v,
                                     f->min, f->max);
            ((uint16_t *)p)[i] = (uint16_t)v;
        }
        *count = (int)n;
        return OW_PERR_OK;
    }
    }
    return ow_proto_fail(OW_PERR_TYPE, err, errlen, "field '%s': unsupported type", f->name);
}

/* One pass of the scanner checks the whole body as JSON and lists the
 * top-level members; then the kind's table is walked over that list. */
static ow_proto_err_t decode(const char *topic, size_t topic_len, const char *body, size_t body_len,
                             ow_msg_t *m, char *err, size_t errlen)
{
    ow_jscan_t js;
    ow_jscan_res_t r;
    const ow_jmember_t *j;
    ow_proto_err_t e = OW_PERR_OK;
    const kind_t *k;
    char name[16];
    double v;
    int kind;

    if (body_len == 0 || body_len > OW_BODY_MAX)
        return ow_proto_fail(OW_PERR_SIZE, err, errlen, "body of %zu bytes (1..%d allowed)",
                             body_len, OW_BODY_MAX);
    r = ow_jscan_object(&js, body, body_len);
    if (r == OW_JSCAN_NOT_OBJECT) {
        e = ow_proto_fail(OW_PERR_JSON, err, errlen, "body is not a JSON object");
        goto out;
    }
    if (r != OW_JSCAN_OK) {
        e = ow_proto_fail(OW_PERR_JSON, err, errlen, "invalid JSON at byte %zu: %s", js.err_pos,
                          js.err);
        goto out;
    }
    /* Version and kind first: nothing else is read until we know the layout. */
    j = ow_jscan_get(&js, "v");
    if (!j || intval(j, &v) < 0 || v != OW_PROTO_VERSION) {
        e = ow_proto_fail(OW_PERR_VERSION, err, errlen, "field 'v': expected version %d",
                          OW_PROTO_VERSION);
        goto out;
    }
    j = ow_jscan_get(&js, "kind");
    if (!j || j->type != OW_JV_STRING || ow_jscan_string(&js, j, name, sizeof name) < 0 ||
        (kind = ow_kind_from_name(name)) < 0) {
        e = ow_proto_fail(OW_PERR_KIND, err, errlen, "field 'kind': missing or unknown");
        goto out;
    }
    ow_msg_init(m, (ow_kind_t)kind);
    k = &ow_proto_kinds[kind];
    for (size_t i = 0; i < NF(ow_proto_hdr_fields) && !e; i++)
        e = field_read(&ow_proto_hdr_fields[i], &js, m, err, errlen);
    if (!e) {
        const field_t gwf = {
            "gw", k->gw_optional ? FT_IDE : FT_ID, M(h.gw), SZ(h.gw), 0, 0, 0, NULL, "", "", 0};
        e = field_read(&gwf, &js, m, err, errlen);
    }
    for (size_t i = 0; i < k->nfields && !e; i++)
        e = field_read(&k->fields[i], &js, m, err, errlen);
    if (!e && topic) e = ow_proto_topic_check(m, topic, topic_len, err, errlen);
out:
    ow_jscan_free(&js);
    return e;
}

ow_proto_err_t ow_proto_counted(ow_proto_err_t e, ow_proto_stats_t *stats)
{
    if (stats) {
        if (e == OW_PERR_OK)
            stats->ok++;
        else
            stats->rejected[e]++;
    }
    return e;
}

ow_proto_err_t ow_decode(const char *topic, size_t topic_len, const char *body, size_t body_len,
                         ow_msg_t *m, char *err, size_t errlen, ow_proto_stats_t *stats)
{
    if (err && errlen) err[0] = '\0';
    return ow_proto_counted(decode(topic, topic_len, body, body_len, m, err, errlen), stats);
}

/* ---- documentation from the same tables ---- */

static const char *type_doc(const field_t *f)
{
    switch (f->type) {
    case FT_INT:
    case FT_I64:
    case FT_U32:
    case FT_U64:
        return "integer";
    case FT_DBL:
        return "number";
    case FT_DBLN:
        return "number or null";
    case FT_ID:
        return "id";
    case FT_IDE:
        return "id or \"\"";
    case FT_TEXT:
        return "string";
    case FT_BOOL:
        return "boolean";
    case FT_U16ARR:
        return "array of integers";
    }
    return "?";
}

static void doc_fields(FILE *out, const field_t *fields, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const field_t *f = &fields[i];
        fprintf(out, "| `%s` | %s | %s | ", f->name, type_doc(f), f->unit[0] ? f->unit : "");
        switch (f->type) {
        case FT_ID:
        case FT_IDE:
        case FT_TEXT:
            if (f->type == FT_TEXT)
                fprintf(out, "≤ %zu bytes", f->size - 1);
            else
                fprintf(out, "1-31 of `[A-Za-z0-9_.-]`");
            break;
        case FT_BOOL:
            break;
        case FT_U16ARR:
            fprintf(out, "≤ %zu elements, each %g..%g", f->size, f->min, f->max);
            break;
        default:
            fprintf(out, "%.15g .. %.15g", f->min, f->max);
            break;
        }
        fprintf(out, " | %s%s |\n", f->optional ? "optional: " : "", f->doc);
    }
}

int ow_proto_doc(FILE *out)
{
    fprintf(out, "### Fields in every message\n\n");
    fprintf(out, "| field | type | unit | range | meaning |\n|---|---|---|---|---|\n");
    fprintf(out, "| `v` | integer | | %d | protocol version |\n", OW_PROTO_VERSION);
    fprintf(out, "| `kind` | string | | see below | message kind |\n");
    doc_fields(out, ow_proto_hdr_fields, NF(ow_proto_hdr_fields));
    fprintf(out, "| `gw` | id | | 1-31 of `[A-Za-z0-9_.-]` | gateway (webmanager) id; "
                 "`\"\"` allowed for site-wide control/reply |\n\n");
    for (int i = 0; i < OW_MSG_KINDS; i++) {
        const kind_t *k = &ow_proto_kinds[i];
        fprintf(out, "### `%s` — topic `%s`\n\n%s\n\n", k->name, k->topic_doc, k->doc);
        fprintf(out, "| field | type | unit | range | meaning |\n|---|---|---|---|---|\n");
        doc_fields(out, k->fields, k->nfields);
        fprintf(out, "\n");
    }
    return ferror(out) ? -1 : 0;
}

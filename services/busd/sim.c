/* The battery simulator behind the "sim" source: each block is a small
 * equivalent circuit (EMF against Ah removed, ohmic R, Tafel and
 * concentration polarisation against the charge accessible at the current,
 * a charge polarisation that grows steeply towards full charge)
 * in series strings on a CV/CC charger, with a lumped thermal model, passive
 * equalisation and scenario faults. Every random number comes from our own
 * xoshiro256** streams, so a seed reproduces a run exactly. */
#include "sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ow_log.h"

/* ---- model constants (docs/scenarios.md and sim.h describe the model) ---- */

#define SUBSTEP_US 10000000LL /* 10 s: stiff parts are solved, not integrated */
#define DAY_S      86400.0
#define YEAR_S     (365.25 * DAY_S)
/* The electrochemistry (EMF, polarisation, accessible charge, charge
 * efficiency, float current, mass) comes from the chemistry's row in
 * lib/ow_battery.c; what stays here is the load, the module and the
 * numerics. */
#define V_FLOOR_CELL    1.40 /* a collapsed block tends to this */
#define V_KNEE_CELL     0.05 /* width of the soft floor below the knee */
#define CUT_BLOCK_BELOW 0.07 /* a block this far below the load's end voltage ends it too */
#define RP_EPS          0.01 /* Rp = Rp0 / (1 - SOC + RP_EPS)^2 */
#define RP_SPREAD       0.05 /* 1 sigma, clipped at 2 sigma */
#define CAP_SPREAD      0.03
#define R_SPREAD        0.04
#define RTH_K_PER_W     1.5 /* 12 V 50 Ah block in free air */
#define T_MAX_C         90.0
#define TENV_SPREAD_C   0.8
#define RELAX_TAU_S     900.0 /* open-circuit relaxation of the overpotential */
#define SELF_DIS_DAY    0.001 /* of capacity per day at 20 degC (3 %/month) */
#define EQ_FULL_V       0.050 /* full bypass at this much above the string average */
#define EQ_TAU_S        600.0
#define EQ_SLEW_PER_S   (0.02 / 3600) /* bypass duty moves at most 2 %/h */
#define H2_TAU_S        180.0

/* ---- PRNG: splitmix64 seeds xoshiro256**, Box-Muller for normals ---- */

typedef struct {
    uint64_t s[4];
    int has_spare;
    double spare;
} rng_t;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_seed(rng_t *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    r->has_spare = 0;
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return res;
}

static double rng_uniform(rng_t *r) /* [0, 1) */
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static double rng_normal(rng_t *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u1 = 1.0 - rng_uniform(r), u2 = rng_uniform(r);
    double m = sqrt(-2.0 * log(u1));
    r->spare = m * sin(2 * M_PI * u2);
    r->has_spare = 1;
    return m * cos(2 * M_PI * u2);
}

/* A parameter spread: normal, clipped at two sigma so no block is absurd. */
static double spread(rng_t *r, double sigma)
{
    double z = rng_normal(r);
    if (z > 2) z = 2;
    if (z < -2) z = -2;
    return 1 + sigma * z;
}

/* ---- state ---- */

enum { MODE_OPEN = 0, MODE_CHARGE, MODE_DISCHARGE };

typedef struct {
    int string, block, module; /* 0-based, 0-based, webmanager address */
    /* fixed per block */
    double cap0_ah, r0_mohm, age_per_year, rp0_ohm, i10_a, tenv_off_c, rth0, tau_s;
    double runaway_w; /* how badly this block's cooling suffers in a runaway, 0.7..1.3 */
    /* state */
    double q_ah;   /* Ah actually removed (up to acc_max x capacity at a trickle) */
    double temp_c; /* block temperature */
    double eq;     /* bypass duty 0..1 */
    double v_over; /* terminal minus EMF when last loaded; relaxes on open circuit */
    /* derived at the current time */
    double cap_ah, emf_v, r_mohm, rp_ohm, rth, tenv_c, extra_heat_w;
    /* last solution */
    double v, i_a, ib_a; /* terminal voltage, block current (+ charge), bypass current */
    /* measurement */
    double impc_mohm;
    int64_t impc_us, impc_next_us; /* last measured (INT64_MIN none yet), next due */
    double meas_v;
    int64_t meas_us;
} block_t;

typedef struct {
    int first, n; /* blocks[first .. first+n-1] */
    int mode;
    int cutoff;        /* discharge ended by low voltage; until the discharge event ends */
    double i_a;        /* true current, + charge */
    double end_v_cell; /* the load's end voltage of the running discharge */
    double v_charger, i_limit;
} string_t;

struct ow_sim {
    const ow_gateway_cfg_t *gw;
    const ow_chemistry_t *chem;
    const ow_scenario_t *sc;
    uint8_t *ev_ok; /* events that fit this gateway */
    int64_t start_us, t_us;
    double tod0_s; /* simulated time of day at t = 0, s after UTC midnight */
    int nstrings, nblocks;
    double cells, eq_max_a, float_v_cell, installed_s;
    block_t *b;
    string_t str[OW_MAX_STRINGS];
    rng_t noise;
    double h2_pct; /* hydrogen, % LEL */
    uint32_t outputs;
    int impc_poll_min; /* impedance measurement period: alarmd's setting, else the file's */
};

/* ---- scenario events at a time ---- */

static double t_now_s(const ow_sim_t *s)
{
    return (double)s->t_us / 1e6;
}

static int ev_active(const ow_event_t *e, double t)
{
    return t >= e->at_s && (e->duration_s <= 0 || t < e->at_s + e->duration_s);
}

static double ev_elapsed_days(const ow_event_t *e, double t)
{
    double el = t - e->at_s;
    if (el <= 0) return 0;
    if (e->duration_s > 0 && el > e->duration_s) el = e->duration_s;
    return el / DAY_S;
}

static int ev_hits_string(const ow_event_t *e, int si)
{
    return e->string == 0 || e->string == si + 1;
}

static int ev_hits_block(const ow_event_t *e, const block_t *b)
{
    return e->string == b->string + 1 && e->block == b->block + 1;
}

/* Sum of the active events of one kind on a string (current or severity). */
static double string_sum(const ow_sim_t *s, int si, ow_event_kind_t kind, double t, int *any)
{
    double sum = 0;
    if (any) *any = 0;
    for (int i = 0; s->sc && i < s->sc->nevents; i++) {
        const ow_event_t *e = &s->sc->events[i];
        if (!s->ev_ok[i] || e->kind != kind || !ev_active(e, t) || !ev_hits_string(e, si)) continue;
        if (any) *any = 1;
        sum += kind == OW_EV_DISCHARGE ? e->current_a : e->rate;
    }
    return sum;
}

/* The load's end voltage per cell: the lowest any active discharge event on
 * the string asks for, a single block then ending it CUT_BLOCK_BELOW under
 * that; without one, what a UPS is usually set to for the rate (END_V rows:
 * a long discharge stops at 1.70 V/cell or a block at 1.63, a short one is
 * allowed down to 1.60 V/cell on the string voltage alone, as datasheets
 * pair rate and end voltage; at 2C the weakest block's knee comes minutes
 * before the string's). */
static const struct {
    double min_c10; /* from this current, in multiples of I10 ... */
    double end_v;   /* ... the load stops at this string average per cell */
    double block_v; /* or at one block this low (0: not watched) */
} END_V[] = {{0, 1.70, 1.63}, {10, 1.60, 0}};

static double end_v_cell(const ow_sim_t *s, int si, double t, double i_a, double i10_a,
                         double *block_v)
{
    double v = 0;
    for (int i = 0; s->sc && i < s->sc->nevents; i++) {
        const ow_event_t *e = &s->sc->events[i];
        if (s->ev_ok[i] && e->kind == OW_EV_DISCHARGE && ev_active(e, t) && ev_hits_string(e, si) &&
            e->end_v_per_cell > 0 && (v == 0 || e->end_v_per_cell < v))
            v = e->end_v_per_cell;
    }
    *block_v = v - CUT_BLOCK_BELOW;
    if (v > 0) return v;
    for (size_t k = 0; k < sizeof END_V / sizeof END_V[0]; k++)
        if (i_a >= END_V[k].min_c10 * i10_a) {
            v = END_V[k].end_v;
            *block_v = END_V[k].block_v;
        }
    return v;
}

static double ambient_c(const ow_sim_t *s, double t)
{
    double base = s->gw->sim.ambient_c, at = -1;
    for (int i = 0; s->sc && i < s->sc->nevents; i++) {
        const ow_event_t *e = &s->sc->events[i];
        if (s->ev_ok[i] && e->kind == OW_EV_AMBIENT && ev_active(e, t) && e->at_s >= at) {
            base = e->value;
            at = e->at_s;
        }
    }
    /* Daily swing peaking mid-afternoon UTC. */
    double tod = fmod(s->tod0_s + t, DAY_S);
    return base + 1.5 * sin(2 * M_PI * (tod - 9 * 3600) / DAY_S);
}

static int block_lost(const ow_sim_t *s, const block_t *b, double t)
{
    for (int i = 0; s->sc && i < s->sc->nevents; i++) {
        const ow_event_t *e = &s->sc->events[i];
        if (s->ev_ok[i] && e->kind == OW_EV_MODULE_LOST && ev_active(e, t) && ev_hits_block(e, b))
            return 1;
    }
    return 0;
}

static int breaker_open(const ow_sim_t *s, int si, double t)
{
    int any;
    int out = s->gw->thr.tr_breaker_output;
    if (out >= 1 && out <= OW_AUX_POINTS && (s->outputs & (1u << (out - 1)))) return 1;
    string_sum(s, si, OW_EV_BREAKER_OPEN, t, &any);
    return any;
}

/* ---- the electrical and thermal model ---- */

static double sq(double x)
{
    return x * x;
}

static double soc(const block_t *b)
{
    double x = 1 - b->q_ah / b->cap_ah;
    return x < 0 ? 0 : x;
}

/* Most charge a block holds beyond full discharge at C10 (reached only at a
 * trickle). */
static double q_max(const ow_sim_t *s, const block_t *b)
{
    return s->chem->acc_max * b->cap_ah;
}

/* Charge accessible at r = I / I10 and the block's temperature: acid and
 * active material deep in the plates cannot keep up with a high current, so
 * a fast discharge ends with charge still in the block, which a slower one
 * (or a rest) then delivers. Nothing is lost: q_ah counts what left. */
static double q_acc(const ow_sim_t *s, const block_t *b, double r)
{
    const ow_chemistry_t *c = s->chem;
    double tf = 1 + c->cap_per_c * (b->temp_c - 25);
    tf = tf < 0.3 ? 0.3 : tf > 1.15 ? 1.15 : tf;
    return b->cap_ah * tf * c->acc_max / (1 + pow(r / c->acc_rc, c->acc_n));
}

/* Everything that follows from the state, the time and the events. */
static void derive(ow_sim_t *s)
{
    double t = t_now_s(s), amb = ambient_c(s, t);
    double age_s = s->installed_s > 0 ? (double)(s->start_us / 1000000) + t - s->installed_s : 0;
    if (age_s < 0) age_s = 0;
    for (int k = 0; k < s->nblocks; k++) {
        block_t *b = &s->b[k];
        double imp = 0, dry = 0;
        for (int i = 0; s->sc && i < s->sc->nevents; i++) {
            const ow_event_t *e = &s->sc->events[i];
            if (!s->ev_ok[i] || !ev_hits_block(e, b)) continue;
            if (e->kind == OW_EV_IMPEDANCE_RISE)
                imp += e->rate / 100 * ev_elapsed_days(e, t);
            else if (e->kind == OW_EV_DRY_OUT)
                dry += e->rate / 100 * ev_elapsed_days(e, t);
        }
        double runaway = string_sum(s, b->string, OW_EV_THERMAL_RUNAWAY, t, NULL);
        double capf = 1 - dry / 2;
        b->cap_ah = b->cap0_ah * (capf < 0.2 ? 0.2 : capf);
        if (b->q_ah > q_max(s, b)) b->q_ah = q_max(s, b);
        double x = b->q_ah / b->cap_ah, sc = 1 - x;
        b->emf_v = s->cells * (s->chem->ocv_full_v - s->chem->emf_span_v * x);
        double tf = 1 - 0.01 * (b->temp_c - 25);
        tf = tf < 0.6 ? 0.6 : tf > 1.4 ? 1.4 : tf;
        b->r_mohm = b->r0_mohm * (1 + b->age_per_year * age_s / YEAR_S) * (1 + imp + dry) *
                    (1 + 0.5 * sq(1 - sc)) * tf;
        b->rp_ohm = b->rp0_ohm * (1 + dry) / (1 + 8 * runaway) * pow(2, -(b->temp_c - 25) / 10) /
                    sq(1 - sc + RP_EPS);
        b->rth = b->rth0 * (1 + 3 * runaway * b->runaway_w);
        b->tenv_c = amb + b->tenv_off_c;
        b->extra_heat_w = 0.5 * (dry > 1 ? 1 : dry) * (b->rth0 > 0 ? RTH_K_PER_W / b->rth0 : 1);
    }
}

/* Terminal voltage on discharge: EMF - I R - activation (Tafel: it grows
 * with log I, so 2C sags about twice as much as C10, not twenty times) -
 * concentration polarisation, which diverges as the removed charge nears
 * what is accessible at this current (the knee). */
static double v_discharge(const ow_sim_t *s, const block_t *b, double i_a)
{
    const ow_chemistry_t *c = s->chem;
    double r = i_a / b->i10_a, rem = q_acc(s, b, r) - b->q_ah;
    if (rem < 0.002 * b->cap_ah) rem = 0.002 * b->cap_ah;
    double pol = c->tafel_v * log1p(r / c->tafel_r0) + c->knee_v * b->q_ah / rem;
    double v = b->emf_v - i_a * b->r_mohm / 1000 - s->cells * pol;
    /* Past the knee the block collapses smoothly onto a floor instead of
     * going negative. */
    double vf = s->cells * V_FLOOR_CELL, d = s->cells * V_KNEE_CELL, x = v - vf;
    if (x < d) v = vf + d * exp((x - d) / d);
    return v;
}

static void solve_open(ow_sim_t *s, string_t *st)
{
    st->mode = MODE_OPEN;
    st->i_a = 0;
    for (int k = st->first; k < st->first + st->n; k++) {
        block_t *b = &s->b[k];
        b->i_a = b->ib_a = 0;
        b->v = b->emf_v + b->v_over;
    }
}

/* The charger holds the string at v_charger: sum(E + (I - Ib) * Z) = V, which
 * is linear in I. A block whose bypass exceeds the string current is being
 * discharged and sees its discharge impedance instead. */
static void solve_charge(ow_sim_t *s, string_t *st)
{
    double z[OW_MAX_MODULES];
    double i = 0;
    for (int pass = 0; pass < 2; pass++) {
        double num = st->v_charger, den = 0;
        for (int k = 0; k < st->n; k++) {
            block_t *b = &s->b[st->first + k];
            b->ib_a = b->eq * s->eq_max_a;
            if (pass == 0 || i - b->ib_a >= 0)
                z[k] = b->r_mohm / 1000 + b->rp_ohm;
            else
                z[k] =
                    b->r_mohm / 1000 + s->cells * s->chem->tafel_v / (s->chem->tafel_r0 * b->i10_a);
            num -= b->emf_v - b->ib_a * z[k];
            den += z[k];
        }
        i = num / den;
    }
    if (i > st->i_limit) i = st->i_limit;
    if (i <= 0) {
        for (int k = st->first; k < st->first + st->n; k++)
            s->b[k].eq = 0;
        solve_open(s, st);
        return;
    }
    st->mode = MODE_CHARGE;
    st->i_a = i;
    for (int k = 0; k < st->n; k++) {
        block_t *b = &s->b[st->first + k];
        b->i_a = i - b->ib_a;
        b->v = b->emf_v + b->i_a * z[k];
        b->v_over = b->v - b->emf_v;
    }
}

static void solve_string(ow_sim_t *s, int si)
{
    string_t *st = &s->str[si];
    double t = t_now_s(s);
    int dis, off;
    double i_dis = string_sum(s, si, OW_EV_DISCHARGE, t, &dis);
    string_sum(s, si, OW_EV_CHARGER_OFF, t, &off);
    if (!dis) st->cutoff = 0;
    if (breaker_open(s, si, t) || (dis && (st->cutoff || i_dis <= 0))) {
        solve_open(s, st);
        return;
    }
    if (!dis) {
        if (off)
            solve_open(s, st);
        else
            solve_charge(s, st);
        return;
    }
    double sum = 0, vmin = 1e9;
    double block_v;
    st->end_v_cell = end_v_cell(s, si, t, i_dis, s->b[st->first].i10_a, &block_v);
    for (int k = st->first; k < st->first + st->n; k++) {
        block_t *b = &s->b[k];
        b->eq = 0;
        b->ib_a = 0;
        b->i_a = -i_dis;
        b->v = v_discharge(s, b, i_dis);
        b->v_over = b->v - b->emf_v;
        sum += b->v;
        if (b->v < vmin) vmin = b->v;
    }
    /* The load (a UPS) gives up when a block collapses or the string is
     * exhausted; the string then rests until the mains returns. */
    if (vmin < s->cells * block_v || sum / st->n < s->cells * st->end_v_cell) {
        st->cutoff = 1;
        solve_open(s, st);
        return;
    }
    st->mode = MODE_DISCHARGE;
    st->i_a = -i_dis;
}

static void solve_all(ow_sim_t *s)
{
    derive(s);
    for (int si = 0; si < s->nstrings; si++)
        solve_string(s, si);
}

/* Integrate charge, temperature and the equalizers over dt from the solution
 * at the start of the sub-step. */
static void integrate(ow_sim_t *s, double dt)
{
    for (int si = 0; si < s->nstrings; si++) {
        string_t *st = &s->str[si];
        double vavg = 0;
        for (int k = st->first; k < st->first + st->n; k++)
            vavg += s->b[k].v;
        vavg /= st->n;
        for (int k = st->first; k < st->first + st->n; k++) {
            block_t *b = &s->b[k];
            double p = 0, ib = b->i_a;
            if (ib < 0) {
                double a = -ib;
                b->q_ah += a * dt / 3600;
                p = (b->emf_v - b->v) * a;
            } else if (ib > 0) {
                double in_ah = ib * dt / 3600, stored = s->chem->charge_eff * in_ah;
                if (stored > b->q_ah) stored = b->q_ah;
                b->q_ah -= stored;
                /* What is not stored (all of it on float) ends up as heat. */
                p = b->v * ib - b->emf_v * stored * 3600 / dt;
            }
            p += b->v * b->ib_a + b->extra_heat_w; /* the bypass resistor sits on the block */
            b->q_ah += b->cap_ah * SELF_DIS_DAY * pow(2, (b->temp_c - 20) / 10) * dt / DAY_S;
            if (b->q_ah > q_max(s, b)) b->q_ah = q_max(s, b);
            if (b->q_ah < 0) b->q_ah = 0;
            b->temp_c += dt * (b->rth * p - (b->temp_c - b->tenv_c)) / b->tau_s;
            if (b->temp_c > T_MAX_C) b->temp_c = T_MAX_C;
            if (st->mode == MODE_OPEN) b->v_over *= exp(-dt / RELAX_TAU_S);
            if (st->mode != MODE_CHARGE) {
                b->eq = 0;
                continue;
            }
            /* Module equalizer: a first-order controller on the deviation
             * from the string average, slew-limited like the firmware's duty
             * steps; the response is capped so a stiff block cannot make it
             * oscillate. */
            const ow_thresholds_t *th = &s->gw->thr;
            int in_range = (th->equalizing_min_v <= 0 || b->v >= th->equalizing_min_v) &&
                           (th->equalizing_max_v <= 0 || b->v <= th->equalizing_max_v);
            double target = in_range ? (b->v - vavg) / EQ_FULL_V : 0;
            target = target < 0 ? 0 : target > 1 ? 1 : target;
            double gain = s->eq_max_a * (b->r_mohm / 1000 + b->rp_ohm) / EQ_FULL_V;
            double alpha = dt / EQ_TAU_S;
            if (alpha * (1 + gain) > 1) alpha = 1 / (1 + gain);
            double d = alpha * (target - b->eq), lim = EQ_SLEW_PER_S * dt;
            d = d > lim ? lim : d < -lim ? -lim : d;
            b->eq += d;
            b->eq = b->eq < 0 ? 0 : b->eq > 1 ? 1 : b->eq;
        }
    }
    double h2 = 0;
    double t = t_now_s(s);
    for (int i = 0; s->sc && i < s->sc->nevents; i++) {
        const ow_event_t *e = &s->sc->events[i];
        if (s->ev_ok[i] && e->kind == OW_EV_HYDROGEN && ev_active(e, t) && e->value > h2)
            h2 = e->value;
    }
    s->h2_pct += (h2 - s->h2_pct) * (1 - exp(-dt / H2_TAU_S));
}

/* The next event start or end after now, so sub-steps land on them. */
static int64_t next_boundary(const ow_sim_t *s)
{
    int64_t best = INT64_MAX;
    for (int i = 0; s->sc && i < s->sc->nevents; i++) {
        const ow_event_t *e = &s->sc->events[i];
        int64_t a = (int64_t)llround(e->at_s * 1e6);
        int64_t z = e->duration_s > 0 ? (int64_t)llround((e->at_s + e->duration_s) * 1e6) : a;
        if (a > s->t_us && a < best) best = a;
        if (z > s->t_us && z < best) best = z;
    }
    return best;
}

void ow_sim_step(ow_sim_t *sim, int64_t dt_us)
{
    if (!sim || dt_us <= 0) return;
    int64_t end = sim->t_us + dt_us;
    while (sim->t_us < end) {
        int64_t h = end - sim->t_us, nb = next_boundary(sim) - sim->t_us;
        if (h > SUBSTEP_US) h = SUBSTEP_US;
        if (nb > 0 && nb < h) h = nb;
        solve_all(sim);
        integrate(sim, (double)h / 1e6);
        sim->t_us += h;
    }
    solve_all(sim);
}

int64_t ow_sim_time_us(const ow_sim_t *sim)
{
    return sim->start_us + sim->t_us;
}

/* ---- construction ---- */

static double parse_date_s(const char *ymd)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (sscanf(ymd, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3) return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (double)timegm(&tm);
}

static int events_check(ow_sim_t *s)
{
    const ow_gateway_cfg_t *gw = s->gw;
    if (!s->sc || s->sc->nevents == 0) return 0;
    s->ev_ok = calloc((size_t)s->sc->nevents, 1);
    if (!s->ev_ok) return -1;
    for (int i = 0; i < s->sc->nevents; i++) {
        const ow_event_t *e = &s->sc->events[i];
        int ok = e->string >= 0 && e->string <= s->nstrings;
        if (e->kind == OW_EV_IMPEDANCE_RISE || e->kind == OW_EV_DRY_OUT ||
            e->kind == OW_EV_MODULE_LOST)
            ok = ok && e->string >= 1 && e->block >= 1 &&
                 e->block <= gw->strings[e->string - 1].modules;
        if (e->input > gw->aux_units * 4)
            log_warnx("scenario %s: event %d (%s at %.0f s): input %d is on a GX_R_AUX unit "
                      "that is not fitted",
                      s->sc->name, i, ow_event_kind_name(e->kind), e->at_s, e->input);
        if (!ok)
            log_warnx("scenario %s: event %d (%s at %.0f s) names string %d block %d, which "
                      "gateway %s does not have; ignored",
                      s->sc->name, i, ow_event_kind_name(e->kind), e->at_s, e->string, e->block,
                      gw->id);
        s->ev_ok[i] = (uint8_t)ok;
    }
    return 0;
}

ow_sim_t *ow_sim_new(const ow_gateway_cfg_t *gw, const ow_scenario_t *sc, uint64_t seed,
                     int64_t start_us)
{
    if (!gw || gw->nstrings < 1 || gw->nstrings > OW_MAX_STRINGS) return NULL;
    ow_sim_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->gw = gw;
    s->impc_poll_min = gw->impedance_poll_min > 0 ? gw->impedance_poll_min : 720;
    s->chem = ow_gateway_chemistry(gw);
    s->sc = sc;
    s->start_us = start_us;
    /* A scenario may pin the time of day, so that its run repeats exactly
     * whenever it starts (the daily swing follows this clock). */
    s->tod0_s = sc && sc->time_of_day_s >= 0 ? sc->time_of_day_s
                                             : fmod((double)(start_us / 1000000), DAY_S);
    s->nstrings = gw->nstrings;
    for (int i = 0; i < gw->nstrings; i++) {
        if (gw->strings[i].modules < 1 || s->nblocks + gw->strings[i].modules > OW_MAX_MODULES) {
            free(s);
            return NULL;
        }
        s->str[i].first = s->nblocks;
        s->str[i].n = gw->strings[i].modules;
        s->nblocks += gw->strings[i].modules;
    }
    s->b = calloc((size_t)s->nblocks, sizeof *s->b);
    if (!s->b || events_check(s) < 0) {
        ow_sim_destroy(&s);
        return NULL;
    }
    /* A scenario's own seed wins over the site's, so a scenario replays the
     * same everywhere. */
    if (sc && sc->seed) seed = sc->seed;

    double vn = gw->module_type ? gw->module_type->nominal_v : 12;
    s->cells = vn / 2 >= 1 ? round(vn / 2) : 1;
    s->eq_max_a = gw->module_type ? gw->module_type->eq_current_a : 0.15;
    const ow_chemistry_t *ch = s->chem;
    s->float_v_cell = gw->sim.float_v_per_cell > 0 ? gw->sim.float_v_per_cell : ch->float_v;
    double c10 = gw->battery.capacity_ah > 0 ? gw->battery.capacity_ah : 100;
    double r_new = gw->battery.impedance_mohm > 0 ? gw->battery.impedance_mohm
                                                  : ow_chemistry_block_mohm(ch, (int)s->cells, c10);
    double limit_c = gw->sim.charge_limit_c > 0 ? gw->sim.charge_limit_c : 0.1;
    s->installed_s = gw->battery.installed_us > 0 ? (double)(gw->battery.installed_us / 1000000)
                                                  : parse_date_s(gw->battery.installed);
    /* Rp0 so that a full block at 25 degC floats at the chemistry's float
     * current. */
    double over = s->cells * (s->float_v_cell - ch->ocv_full_v);
    if (over < 0.02 * s->cells) over = 0.02 * s->cells;
    double i_float = ch->float_ma_per_ah / 1000 * c10;
    double rp0 = (over / i_float - r_new / 1000) * sq(RP_EPS);
    /* Cooling goes with the surface (size^2/3), heat capacity with the mass:
     * 16 kg x 0.8 J/g/K for a 12 V 50 Ah block, 5.3 h in free air. */
    double size = s->cells * c10 / (6 * 50.0);
    double mass_g = 1000 * ch->kg_per_cell_ah * s->cells * c10;
    double rth0 = RTH_K_PER_W * pow(size, -2.0 / 3), tau = rth0 * mass_g * ch->heat_j_per_gk;
    double amb0 = ambient_c(s, 0);

    for (int si = 0; si < s->nstrings; si++) {
        string_t *st = &s->str[si];
        st->v_charger = st->n * s->cells * s->float_v_cell;
        st->i_limit = limit_c * c10;
        int first_mod =
            gw->strings[si].first_module > 0 ? gw->strings[si].first_module : st->first + 1;
        for (int k = 0; k < st->n; k++) {
            block_t *b = &s->b[st->first + k];
            rng_t r;
            /* Per block streams: a block's make-up does not depend on the
             * size of the rest of the site. */
            rng_seed(&r, seed ^ (0x5851f42d4c957f2dULL * (uint64_t)(st->first + k + 1)));
            b->string = si;
            b->block = k;
            b->module = first_mod + k;
            b->cap0_ah = c10 * spread(&r, CAP_SPREAD);
            b->r0_mohm = r_new * spread(&r, R_SPREAD);
            b->age_per_year = 0.02 + 0.02 * rng_uniform(&r);
            b->rp0_ohm = rp0 * spread(&r, RP_SPREAD);
            b->i10_a = b->cap0_ah / 10;
            b->tenv_off_c = TENV_SPREAD_C * (2 * rng_uniform(&r) - 1);
            b->runaway_w = 0.7 + 0.6 * rng_uniform(&r);
            b->rth0 = rth0;
            b->tau_s = tau;
            b->cap_ah = b->cap0_ah;
            /* Start in float equilibrium. */
            b->temp_c = amb0 + b->tenv_off_c + rth0 * s->cells * s->float_v_cell * i_float;
            b->impc_next_us = start_us;
            b->impc_us = INT64_MIN;
            b->meas_us = INT64_MIN;
        }
    }
    rng_seed(&s->noise, seed ^ 0x6a09e667f3bcc909ULL);
    solve_all(s);
    return s;
}

void ow_sim_destroy(ow_sim_t **sim)
{
    if (!sim || !*sim) return;
    free((*sim)->b);
    free((*sim)->ev_ok);
    free(*sim);
    *sim = NULL;
}

/* ---- readings ---- */

static double round_to(double x, double step)
{
    return round(x / step) * step;
}

static block_t *find_block(ow_sim_t *s, int string, int block)
{
    if (string < 1 || string > s->nstrings || block < 1 || block > s->str[string - 1].n)
        return NULL;
    return &s->b[s->str[string - 1].first + block - 1];
}

static double measure_v(ow_sim_t *s, block_t *b)
{
    b->meas_v = round_to(b->v + 0.002 * rng_normal(&s->noise), 0.001);
    b->meas_us = s->t_us;
    return b->meas_v;
}

int ow_sim_read_module(ow_sim_t *sim, int string, int block, ow_module_t *out)
{
    memset(out, 0, sizeof *out);
    out->string = string;
    out->block = block;
    out->voltage_v = out->temp_c = out->impedance_mohm = out->eq_pct = NAN;
    out->status = OW_MODST_NO_RESPONSE;
    block_t *b = find_block(sim, string, block);
    if (!b) return -1;
    out->module = b->module;
    if (block_lost(sim, b, t_now_s(sim))) return -1;
    out->status = 0;
    out->voltage_v = measure_v(sim, b);
    out->temp_c = round_to(b->temp_c + 0.1 * rng_normal(&sim->noise), 0.5);
    int64_t now = ow_sim_time_us(sim);
    if (now >= b->impc_next_us) {
        int64_t period = (int64_t)sim->impc_poll_min * 60000000LL;
        /* Three significant digits, as the module reports them: 0.01 mOhm
         * for a 12 V block's 4.6 mOhm, 0.001 mOhm for a 1000 Ah cell's
         * 0.24 mOhm (a fixed 0.01 would swallow a quarter of its ageing). */
        double z = b->r_mohm * (1 + 0.01 * rng_normal(&sim->noise));
        b->impc_mohm = round_to(z, z > 0 ? pow(10, floor(log10(z)) - 2) : 0.01);
        /* On the grid of the period while polls keep up with it; a
         * measurement that catches up (a period changed, a stall) starts
         * the grid again from itself, so the next comes a period later. */
        b->impc_us = now;
        b->impc_next_us += period;
        if (b->impc_next_us <= now) b->impc_next_us = now + period;
        out->status |= OW_MODST_IMPC_FRESH;
    }
    out->impedance_mohm = b->impc_mohm;
    out->eq_pct = round(b->eq * 100);
    if (out->eq_pct > 0) out->status |= OW_MODST_EQUALIZING;
    return 0;
}

void ow_sim_read_string(ow_sim_t *sim, int string, ow_string_t *out)
{
    memset(out, 0, sizeof *out);
    out->string = string;
    out->current_a = out->ac_current_a = out->sum_voltage_v = out->avg_voltage_v = NAN;
    out->power_kw = out->ripple_v = NAN;
    if (string < 1 || string > sim->nstrings) return;
    string_t *st = &sim->str[string - 1];
    double t = t_now_s(sim), sum = 0, r_ohm = 0;
    int n = 0;
    out->modules = st->n;
    for (int k = st->first; k < st->first + st->n; k++) {
        block_t *b = &sim->b[k];
        r_ohm += b->r_mohm / 1000;
        if (block_lost(sim, b, t)) {
            out->modules_lost++;
            continue;
        }
        /* The webmanager adds up what it polled this cycle. */
        sum += b->meas_us == sim->t_us ? b->meas_v : measure_v(sim, b);
        n++;
    }
    if (n > 0) {
        out->sum_voltage_v = round_to(sum, 0.001);
        out->avg_voltage_v = round_to(sum / n, 0.001);
        /* The webmanager measures the ripple voltage itself, sensor or not:
         * the ripple current (the charger's 0.5 % of C10 on charge and
         * float, the load's 3 % on discharge, as below) through the string's
         * internal resistance, at the guide's 0.1 V resolution. A healthy
         * 50 Ah string on float gets about 10 mV: "0 mV", as the guide's
         * sample shows. No noise draw: the other readings keep their
         * random sequence. */
        double c10r = sim->gw->battery.capacity_ah > 0 ? sim->gw->battery.capacity_ah : 100;
        double iac = st->i_a > 0 ? 0.005 * c10r : st->i_a < 0 ? 0.03 * -st->i_a : 0;
        out->ripple_v = round_to(iac * r_ohm, 0.1);
    }
    if (!sim->gw->current_sensor) return;
    /* Hall sensor, sigma 0.2 % + 0.01 A (within +-(0.5 % + 0.05 A)); it
     * auto-zeroes, so no current reads exactly 0. */
    double i = st->i_a, c10 = sim->gw->battery.capacity_ah > 0 ? sim->gw->battery.capacity_ah : 100;
    if (i == 0) {
        out->current_a = out->ac_current_a = 0;
        return;
    }
    out->current_a = round_to(i + (0.002 * fabs(i) + 0.01) * rng_normal(&sim->noise), 0.01);
    double ac = i > 0 ? 0.005 * c10 : 0.03 * -i;
    ac *= 1 + 0.05 * rng_normal(&sim->noise);
    out->ac_current_a = round_to(ac > 0 ? ac : 0, 0.01);
}

void ow_sim_read_aux(ow_sim_t *sim, ow_aux_t *out)
{
    const ow_gateway_cfg_t *gw = sim->gw;
    double t = t_now_s(sim);
    memset(out, 0, sizeof *out);
    out->ambient_c = out->humidity_pct = out->hydrogen_pct_lel = NAN;
    out->aux_units = gw->aux_units;
    if (gw->ambient_sensor) {
        double tod = fmod(sim->tod0_s + t, DAY_S);
        out->ambient_c = round_to(ambient_c(sim, t) + 0.1 * rng_normal(&sim->noise), 0.1);
        double rh =
            45 - 3 * sin(2 * M_PI * (tod - 9 * 3600) / DAY_S) + 0.3 * rng_normal(&sim->noise);
        out->humidity_pct = round_to(rh, 0.1);
    }
    if (gw->hydrogen_sensor) {
        double h = sim->h2_pct;
        if (h > 0.05) h += 0.02 * h * rng_normal(&sim->noise);
        out->hydrogen_pct_lel = round_to(h > 0.05 ? h : 0, 0.1);
    }
    uint32_t mask = gw->aux_units >= 4 ? 0xffffu : (1u << (gw->aux_units * 4)) - 1;
    for (int i = 0; sim->sc && i < sim->sc->nevents; i++) {
        const ow_event_t *e = &sim->sc->events[i];
        if (!sim->ev_ok[i] || e->input < 1 || e->input > OW_AUX_POINTS || !ev_active(e, t))
            continue;
        if (e->kind == OW_EV_HYDROGEN || e->kind == OW_EV_BREAKER_OPEN ||
            e->kind == OW_EV_AUX_INPUT)
            out->inputs |= 1u << (e->input - 1);
    }
    out->inputs &= mask;
    out->outputs = sim->outputs & mask;
}

void ow_sim_set_output(ow_sim_t *sim, int output, int on)
{
    if (!sim || output < 1 || output > OW_AUX_POINTS) return;
    if (on)
        sim->outputs |= 1u << (output - 1);
    else
        sim->outputs &= ~(1u << (output - 1));
    solve_all(sim);
}

int ow_sim_set_impedance_poll(ow_sim_t *sim, int minutes)
{
    if (!sim || minutes < 1) return -1;
    if (minutes == sim->impc_poll_min) return 0;
    sim->impc_poll_min = minutes;
    /* The new period counts from each block's last measurement, as a
     * module's timer would: a shorter one already over measures at the
     * next read, a longer one waits out the rest. */
    for (int i = 0; i < sim->nblocks; i++) {
        block_t *b = &sim->b[i];
        if (b->impc_us != INT64_MIN) b->impc_next_us = b->impc_us + (int64_t)minutes * 60000000LL;
    }
    return 0;
}

int ow_sim_impedance_poll(const ow_sim_t *sim)
{
    return sim->impc_poll_min;
}

/* ---- ground truth ---- */

static const block_t *cfind(const ow_sim_t *s, int string, int block)
{
    return find_block((ow_sim_t *)s, string, block);
}

double ow_sim_true_soc(const ow_sim_t *sim, int string, int block)
{
    const block_t *b = cfind(sim, string, block);
    return b ? soc(b) : NAN;
}

double ow_sim_true_current_a(const ow_sim_t *sim, int string)
{
    return string >= 1 && string <= sim->nstrings ? sim->str[string - 1].i_a : NAN;
}

double ow_sim_true_voltage_v(const ow_sim_t *sim, int string, int block)
{
    const block_t *b = cfind(sim, string, block);
    return b ? b->v : NAN;
}

double ow_sim_true_temp_c(const ow_sim_t *sim, int string, int block)
{
    const block_t *b = cfind(sim, string, block);
    return b ? b->temp_c : NAN;
}

double ow_sim_true_impedance_mohm(const ow_sim_t *sim, int string, int block)
{
    const block_t *b = cfind(sim, string, block);
    return b ? b->r_mohm : NAN;
}

double ow_sim_true_capacity_ah(const ow_sim_t *sim, int string, int block)
{
    const block_t *b = cfind(sim, string, block);
    return b ? b->cap_ah : NAN;
}

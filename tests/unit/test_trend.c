/*
 * test_trend.c - agent/trend.c: the series ring, Theil-Sen, Mann-Kendall and
 * the growth verdict. Series are synthetic, one point per second unless a
 * case says otherwise, with noise from a fixed-seed PRNG so every run sees
 * the same numbers. A "never" case feeds the points one by one, trims to a
 * 60 s window and tests after each, as the detector does each tick; shapes
 * that really grow for a while (a burst, a plateau's ramp) are tested once
 * the growth is over.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "errors.h"
#include "trend.h"

#define NS 1000000000ll
#define T0 (1700000000ll * NS) /* realistic CLOCK_REALTIME magnitudes */
#define WINDOW (60 * NS)
#define MIB (1024.0 * 1024.0)

static const struct tl_trend_params params = {
    .min_duration_ns = 10 * NS,
    .alpha = 0.01,
    .min_slope = 4096, /* the option defaults, bytes per second */
};

/* Like assert_int_equal for doubles: prints both values when they differ by more than eps. */
#define assert_near(a, b, eps) assert_near_at((a), (b), (eps), #a, __FILE__, __LINE__)

static void assert_near_at(double a, double b, double eps, const char *expr, const char *file,
                           int line)
{
    if (!(fabs(a - b) <= eps)) {
        print_error("%s = %.17g, expected %.17g +- %g\n", expr, a, b, eps);
        _fail(file, line);
    }
}

/* ---- synthetic series ------------------------------------------------------------------ */

static uint64_t rng_state;

static uint64_t next_u64(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform01(void)
{
    return ((double)(next_u64() >> 11) + 0.5) * 0x1.0p-53; /* never 0: log() below */
}

/* Standard normal (Box-Muller). */
static double gauss(void)
{
    return sqrt(-2 * log(uniform01())) * cos(2 * M_PI * uniform01());
}

typedef double (*shape_fn)(double t);

/* The shapes take seconds since the start of the series and add their own noise. */
static double leak(double t) { return 1 * MIB + 8192 * t + 16384 * gauss(); }
static double flat(double t) { (void)t; return 1 * MIB + 16384 * gauss(); }
static double shrink(double t) { return 4 * MIB - 8192 * t + 4096 * gauss(); }
static double slow_leak(double t) { return 1 * MIB + 1024 * t + 256 * gauss(); }

/* 15 s of 16 KiB/s from t = 20, then freed at t = 35. */
static double burst(double t)
{
    double extra = t >= 20 && t < 35 ? 16384 * (t - 20) : 0;
    return 1 * MIB + extra + 2048 * gauss();
}

/* 8 KiB/s for the first 30% of 60 s, then flat. */
static double plateau(double t)
{
    return 1 * MIB + 8192 * fmin(t, 18) + 4096 * gauss();
}

/* A cache filled at 16 KiB/s and trimmed back to its floor every 10 s. */
static double sawtooth(double t)
{
    return 1 * MIB + 16384 * fmod(t, 10) + 2048 * gauss();
}

static void fill(struct tl_series *s, shape_fn shape, int npoints, double step_s, uint64_t seed)
{
    rng_state = seed;
    tl_series_clear(s);
    for (int i = 0; i < npoints; i++) {
        double t = i * step_s;
        assert_int_equal(tl_series_add(s, T0 + (int64_t)(t * NS), shape(t)), 0);
    }
}

/* Feeds `npoints` one by one into a 60 s window; returns the steps that tested as growing. */
static int steps_growing(shape_fn shape, int npoints, uint64_t seed, int from_step)
{
    static struct tl_series s;
    struct tl_trend_result r;
    rng_state = seed;
    tl_series_clear(&s);
    int growing = 0;
    for (int i = 0; i < npoints; i++) {
        int64_t t = T0 + (int64_t)i * NS;
        assert_int_equal(tl_series_add(&s, t, shape(i)), 0);
        tl_series_trim(&s, t - WINDOW);
        if (tl_trend_test(&s, &params, &r) && i >= from_step) {
            print_message("  seed %llu step %d: slope %.0f z %.2f p %.2g\n",
                          (unsigned long long)seed, i, r.slope, r.z, r.p);
            growing++;
        }
    }
    return growing;
}

/* ---- the ring -------------------------------------------------------------------------- */

static void test_trend_ring_keeps_newest_in_order(void **state)
{
    (void)state;
    static struct tl_series s;
    tl_series_clear(&s);
    assert_null(tl_series_last(&s));
    for (int i = 0; i < 300; i++)
        assert_int_equal(tl_series_add(&s, T0 + i * NS, i), 0);
    assert_int_equal(s.n, TL_TREND_CAP);
    for (unsigned i = 0; i < s.n; i++) {
        assert_true(tl_series_at(&s, i)->value == 300 - TL_TREND_CAP + i);
        assert_int_equal(tl_series_at(&s, i)->t_ns, T0 + (300 - TL_TREND_CAP + i) * NS);
    }
    assert_true(tl_series_last(&s)->value == 299);

    tl_series_trim(&s, T0 + 250 * NS); /* keeps 250..299 */
    assert_int_equal(s.n, 50);
    assert_true(tl_series_at(&s, 0)->value == 250);
    tl_series_trim(&s, T0 + 1000 * NS);
    assert_int_equal(s.n, 0);
    assert_int_equal(tl_series_add(&s, T0, 1), 0); /* empty again, any time goes */
    assert_int_equal(s.n, 1);
}

static void test_trend_ring_rejects_disorder_and_nan(void **state)
{
    (void)state;
    static struct tl_series s;
    tl_series_clear(&s);
    assert_int_equal(tl_series_add(&s, T0 + 5 * NS, 1), 0);
    assert_int_equal(tl_series_add(&s, T0 + 4 * NS, 2), TL_EINVAL);
    assert_int_equal(tl_series_add(&s, T0 + 6 * NS, NAN), TL_EINVAL);
    assert_int_equal(tl_series_add(&s, T0 + 6 * NS, INFINITY), TL_EINVAL);
    assert_int_equal(s.n, 1);
    assert_int_equal(tl_series_add(&s, T0 + 5 * NS, 3), 0); /* the same instant is fine */
    assert_int_equal(s.n, 2);
}

/* ---- statistics ------------------------------------------------------------------------ */

static void test_trend_theil_sen_exact_on_line(void **state)
{
    (void)state;
    static struct tl_series s;
    tl_series_clear(&s);
    /* Irregular spacing: the slope is per second, not per point. */
    double t = 0;
    for (int i = 0; i < 100; i++) {
        t += 0.25 + (i % 7) * 0.5;
        assert_int_equal(tl_series_add(&s, T0 + (int64_t)(t * NS), 3 + 2.5 * t), 0);
    }
    assert_near(tl_trend_theil_sen(&s, 0, s.n), 2.5, 1e-9);
    assert_near(tl_trend_theil_sen(&s, 40, 20), 2.5, 1e-9);

    /* An outlier moves n - 1 of n(n-1)/2 pairs: the median does not move. */
    static struct tl_series o;
    tl_series_clear(&o);
    for (int i = 0; i < 20; i++)
        tl_series_add(&o, T0 + i * NS, i == 10 ? 1e9 : -7.0 * i);
    assert_near(tl_trend_theil_sen(&o, 0, o.n), -7.0, 1e-9);
}

static void test_trend_theil_sen_even_pairs_averaged(void **state)
{
    (void)state;
    static struct tl_series s;
    tl_series_clear(&s);
    /* Pair slopes 1, 1.5, 7/3, 2, 3, 4: the median is (2 + 7/3) / 2. */
    static const double v[] = {0, 1, 3, 7};
    for (int i = 0; i < 4; i++)
        tl_series_add(&s, T0 + i * NS, v[i]);
    assert_near(tl_trend_theil_sen(&s, 0, 4), 13.0 / 6, 1e-12);
    assert_near(tl_trend_theil_sen(&s, 1, 3), 3.0, 1e-12);
    /* No pair, or only pairs at one instant: 0. */
    assert_true(tl_trend_theil_sen(&s, 2, 1) == 0);
    static struct tl_series same;
    tl_series_clear(&same);
    tl_series_add(&same, T0, 1);
    tl_series_add(&same, T0, 5);
    assert_true(tl_trend_theil_sen(&same, 0, 2) == 0);
}

static void test_trend_mann_kendall_monotone(void **state)
{
    (void)state;
    static struct tl_series up, down, tied;
    tl_series_clear(&up);
    tl_series_clear(&down);
    tl_series_clear(&tied);
    for (int i = 0; i < 20; i++) {
        tl_series_add(&up, T0 + i * NS, i * i);
        tl_series_add(&down, T0 + i * NS, -i);
        tl_series_add(&tied, T0 + i * NS, 42);
    }
    /* 20 rising points: S = 190, var = 20*19*45/18 = 950, z = 189/sqrt(950). */
    double z, p;
    assert_true(tl_trend_mann_kendall(&up, 0, 20, &z, &p) == 190);
    assert_near(z, 189 / sqrt(950), 1e-9);
    assert_true(p > 0 && p < 1e-8);
    assert_true(tl_trend_mann_kendall(&down, 0, 20, &z, &p) == -190);
    assert_near(z, -189 / sqrt(950), 1e-9);
    assert_true(p > 1 - 1e-8);
    assert_true(tl_trend_mann_kendall(&tied, 0, 20, &z, &p) == 0);
    assert_true(z == 0);
    assert_near(p, 0.5, 1e-12);
    /* A sub-range: points 5..9 of `up`, S = 10, var = 5*4*15/18. */
    assert_true(tl_trend_mann_kendall(&up, 5, 5, &z, NULL) == 10);
    assert_near(z, 9 / sqrt(5 * 4 * 15 / 18.0), 1e-9);
}

static void test_trend_mann_kendall_ties_shrink_variance(void **state)
{
    (void)state;
    static struct tl_series s;
    tl_series_clear(&s);
    /* A step count, as thread counts are: 1,1,2,2,...,10,10. */
    for (int i = 0; i < 20; i++)
        tl_series_add(&s, T0 + i * NS, i / 2 + 1);
    double z, p;
    double S = tl_trend_mann_kendall(&s, 0, 20, &z, &p);
    assert_true(S == 190 - 10); /* the 10 tied pairs count 0 */
    double var = (20 * 19 * 45 - 10 * (2 * 1 * 9)) / 18.0;
    assert_near(z, (S - 1) / sqrt(var), 1e-9);
    assert_near(p, 0.5 * erfc(z / sqrt(2)), 1e-15);
}

/* ---- the verdict ----------------------------------------------------------------------- */

static void test_trend_linear_leak_detected(void **state)
{
    (void)state;
    static struct tl_series s;
    struct tl_trend_result r;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        fill(&s, leak, 60, 1.0, seed);
        int grows = tl_trend_test(&s, &params, &r);
        print_message("  seed %llu: %s slope %.0f recent %.0f z %.2f p %.2g\n",
                      (unsigned long long)seed, tl_trend_verdict_name(r.verdict), r.slope,
                      r.recent_slope, r.z, r.p);
        assert_int_equal(grows, 1);
        assert_int_equal(r.verdict, TL_TREND_GROWS);
        assert_int_equal(r.n, 60);
        assert_near(r.span_s, 59, 1e-9);
        assert_true(fabs(r.slope - 8192) < 0.1 * 8192);
        assert_true(r.recent_slope >= params.min_slope / 2);
        assert_true(r.z > 0 && r.p <= params.alpha);
        assert_true(r.mk_s > 0);
    }
}

static void test_trend_leak_found_once_min_duration_spanned(void **state)
{
    (void)state;
    static struct tl_series s;
    struct tl_trend_result r;
    rng_state = 7;
    tl_series_clear(&s);
    int first = -1;
    for (int i = 0; i < 60 && first < 0; i++) {
        tl_series_add(&s, T0 + i * NS, leak(i));
        if (tl_trend_test(&s, &params, &r))
            first = i;
    }
    print_message("  first growing at %d s\n", first);
    assert_true(first >= 10); /* not before min_duration is spanned */
    assert_true(first <= 25);
}

static void test_trend_constant_with_noise_never(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++)
        assert_int_equal(steps_growing(flat, 200, seed, 0), 0);
}

static void test_trend_burst_freed_not_reported(void **state)
{
    (void)state;
    static struct tl_series s;
    struct tl_trend_result r;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        fill(&s, burst, 60, 1.0, seed);
        assert_int_equal(tl_trend_test(&s, &params, &r), 0);
        /* And at every tick after the burst was freed. */
        assert_int_equal(steps_growing(burst, 120, seed, 35), 0);
    }
}

static void test_trend_plateau_not_reported(void **state)
{
    (void)state;
    static struct tl_series s;
    struct tl_trend_result r;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        fill(&s, plateau, 60, 1.0, seed);
        assert_int_equal(tl_trend_test(&s, &params, &r), 0);
        assert_true(r.verdict == TL_TREND_STALLED || r.verdict == TL_TREND_SLOW);
    }
    /*
     * Growth for 60% of the span, the last 40% flat: everything but the
     * recent half says "grows"; the recent-half check is what says no.
     */
    for (uint64_t seed = 1; seed <= 20; seed++) {
        rng_state = seed;
        tl_series_clear(&s);
        for (int i = 0; i < 60; i++)
            tl_series_add(&s, T0 + i * NS, 1 * MIB + 8192 * fmin(i, 36) + 1024 * gauss());
        assert_int_equal(tl_trend_test(&s, &params, &r), 0);
        print_message("  seed %llu: %s slope %.0f recent %.0f\n", (unsigned long long)seed,
                      tl_trend_verdict_name(r.verdict), r.slope, r.recent_slope);
        assert_int_equal(r.verdict, TL_TREND_STALLED);
        assert_true(r.slope >= params.min_slope);
    }
}

static void test_trend_sawtooth_never(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++)
        assert_int_equal(steps_growing(sawtooth, 180, seed, 0), 0);
}

static void test_trend_short_span_not_reported(void **state)
{
    (void)state;
    static struct tl_series s;
    struct tl_trend_result r;
    /* 10 points over 9 s, a strong clean leak. */
    fill(&s, leak, 10, 1.0, 3);
    assert_int_equal(tl_trend_test(&s, &params, &r), 0);
    assert_int_equal(r.verdict, TL_TREND_SHORT);
    /* Many points, still under 10 s. */
    fill(&s, leak, 99, 0.1, 3);
    assert_int_equal(tl_trend_test(&s, &params, &r), 0);
    assert_int_equal(r.verdict, TL_TREND_SHORT);
    /* 7 points over a minute: too few. */
    fill(&s, leak, 7, 10.0, 3);
    assert_int_equal(tl_trend_test(&s, &params, &r), 0);
    assert_int_equal(r.verdict, TL_TREND_FEW_POINTS);
    /* The same leak over 12 s is enough. */
    fill(&s, leak, 13, 1.0, 3);
    assert_int_equal(tl_trend_test(&s, &params, &r), 1);
}

static void test_trend_slow_leak_under_min_slope(void **state)
{
    (void)state;
    static struct tl_series s;
    struct tl_trend_result r;
    for (uint64_t seed = 1; seed <= 20; seed++)
        assert_int_equal(steps_growing(slow_leak, 120, seed, 0), 0);
    /* It is a trend all right: with a lower bar it is one. */
    fill(&s, slow_leak, 60, 1.0, 5);
    struct tl_trend_params low = params;
    low.min_slope = 512;
    assert_int_equal(tl_trend_test(&s, &low, &r), 1);
    assert_true(fabs(r.slope - 1024) < 0.1 * 1024);
}

static void test_trend_decreasing_never(void **state)
{
    (void)state;
    static struct tl_series s;
    struct tl_trend_result r;
    for (uint64_t seed = 1; seed <= 20; seed++)
        assert_int_equal(steps_growing(shrink, 120, seed, 0), 0);
    fill(&s, shrink, 60, 1.0, 1);
    struct tl_trend_params any = params;
    any.min_slope = 0; /* even with no bar on the slope, falling is not growing */
    assert_int_equal(tl_trend_test(&s, &any, &r), 0);
}

/* Noise far above the slope bar: the window always holds a spurious slope that large. */
static double loud(double t) { (void)t; return 64 * MIB + 1 * MIB * gauss(); }

static void test_trend_loud_noise_never(void **state)
{
    (void)state;
    /*
     * In full 60 s windows, Mann-Kendall alone passes about 1% of them, and
     * Theil-Sen clears 4 KiB/s easily: the noise check is what says no.
     */
    for (uint64_t seed = 1; seed <= 20; seed++)
        assert_int_equal(steps_growing(loud, 600, seed, 60), 0);
}

/* Start-up fills 8 MiB in the first second, then a slow leak. */
static double startup_then_slow(double t)
{
    return (t < 1 ? 0 : 8 * MIB) + 1024 * t + 256 * gauss();
}

static void test_trend_startup_jump_is_not_the_slope(void **state)
{
    (void)state;
    static struct tl_series s;
    struct tl_trend_result r;
    /* First - last says 140 KiB/s; the pairs say 1 KiB/s. */
    for (uint64_t seed = 1; seed <= 20; seed++) {
        fill(&s, startup_then_slow, 60, 1.0, seed);
        assert_int_equal(tl_trend_test(&s, &params, &r), 0);
        assert_int_equal(r.verdict, TL_TREND_SLOW);
        assert_true(fabs(r.slope - 1024) < 0.1 * 1024);
    }
}

static void test_trend_mostly_freed_at_the_end_not_reported(void **state)
{
    (void)state;
    static struct tl_series s;
    struct tl_trend_result r;
    /* A 59 s leak whose last point fell back to where it stood at 20 s. */
    for (uint64_t seed = 1; seed <= 20; seed++) {
        fill(&s, leak, 59, 1.0, seed);
        tl_series_add(&s, T0 + 59 * NS, 1 * MIB + 8192 * 20);
        assert_int_equal(tl_trend_test(&s, &params, &r), 0);
        assert_int_equal(r.verdict, TL_TREND_NOT_ABOVE_START);
        assert_true(r.slope > 0.9 * 8192); /* the slope alone would say "grows" */
    }
}

static void test_trend_flushed_once_floor_did_not_rise(void **state)
{
    (void)state;
    static struct tl_series s;
    struct tl_trend_result r;
    /*
     * A steady climb, but at 45 s everything was freed, and refilled by the
     * next sample: a cache, not a leak. The ranks, the slopes and the noise
     * all shrug one point off; the low-water mark does not.
     */
    for (uint64_t seed = 1; seed <= 20; seed++) {
        rng_state = seed;
        tl_series_clear(&s);
        for (int i = 0; i < 60; i++)
            tl_series_add(&s, T0 + i * NS, i == 45 ? 1 * MIB : leak(i));
        assert_int_equal(tl_trend_test(&s, &params, &r), 0);
        assert_int_equal(r.verdict, TL_TREND_FLOOR_FLAT);
    }
}

static void test_trend_mann_kendall_decides(void **state)
{
    (void)state;
    static struct tl_series s;
    struct tl_trend_result r;
    /*
     * 8 points over 10.5 s, rising 32 KiB in all but stepping back often:
     * S = 18 (23 pairs up, 5 down), z = 17/sqrt(65.33) = 2.10, p = 0.018.
     * The magnitude checks all pass; only the rank test is unconvinced.
     */
    static const double v[] = {2, 0, 1, 5, 3, 4, 7, 6};
    tl_series_clear(&s);
    for (int i = 0; i < 8; i++)
        tl_series_add(&s, T0 + i * 1500 * 1000000ll, 1 * MIB + 8192 * v[i]);
    assert_int_equal(tl_trend_test(&s, &params, &r), 0);
    print_message("  S %.0f z %.3f p %.4f\n", r.mk_s, r.z, r.p);
    assert_int_equal(r.verdict, TL_TREND_NOT_SIGNIFICANT);
    assert_true(r.mk_s == 18);
    assert_near(r.p, 0.5 * erfc(17 / sqrt(8 * 7 * 21 / 18.0) / sqrt(2)), 1e-12);
    /* At alpha = 0.05 the same points are a trend. */
    struct tl_trend_params lax = params;
    lax.alpha = 0.05;
    assert_int_equal(tl_trend_test(&s, &lax, &r), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trend_ring_keeps_newest_in_order),
        cmocka_unit_test(test_trend_ring_rejects_disorder_and_nan),
        cmocka_unit_test(test_trend_theil_sen_exact_on_line),
        cmocka_unit_test(test_trend_theil_sen_even_pairs_averaged),
        cmocka_unit_test(test_trend_mann_kendall_monotone),
        cmocka_unit_test(test_trend_mann_kendall_ties_shrink_variance),
        cmocka_unit_test(test_trend_linear_leak_detected),
        cmocka_unit_test(test_trend_leak_found_once_min_duration_spanned),
        cmocka_unit_test(test_trend_constant_with_noise_never),
        cmocka_unit_test(test_trend_burst_freed_not_reported),
        cmocka_unit_test(test_trend_plateau_not_reported),
        cmocka_unit_test(test_trend_sawtooth_never),
        cmocka_unit_test(test_trend_short_span_not_reported),
        cmocka_unit_test(test_trend_slow_leak_under_min_slope),
        cmocka_unit_test(test_trend_decreasing_never),
        cmocka_unit_test(test_trend_loud_noise_never),
        cmocka_unit_test(test_trend_startup_jump_is_not_the_slope),
        cmocka_unit_test(test_trend_mostly_freed_at_the_end_not_reported),
        cmocka_unit_test(test_trend_mann_kendall_decides),
        cmocka_unit_test(test_trend_flushed_once_floor_did_not_rise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* trend.c - Theil-Sen, Mann-Kendall and the growth verdict (see trend.h). */
#include "trend.h"

#include <math.h>
#include <string.h>

#include "errors.h"

/* ---- series ---------------------------------------------------------------------------- */

void tl_series_clear(struct tl_series *s)
{
    s->head = 0;
    s->n = 0;
}

const struct tl_trend_point *tl_series_at(const struct tl_series *s, unsigned i)
{
    return &s->pt[(s->head + i) % TL_TREND_CAP];
}

/* The newest point, or NULL when the series is empty. */
const struct tl_trend_point *tl_series_last(const struct tl_series *s)
{
    return s->n ? tl_series_at(s, s->n - 1) : NULL;
}

/*
 * Appends a point, dropping the oldest when the ring is full. Returns 0, or
 * TL_EINVAL (and keeps the series as it was) for a value that is not finite
 * or a time before the newest point's: the statistics need time order.
 */
int tl_series_add(struct tl_series *s, int64_t t_ns, double value)
{
    if (!isfinite(value))
        return TL_EINVAL;
    if (s->n && t_ns < tl_series_last(s)->t_ns)
        return TL_EINVAL;
    if (s->n == TL_TREND_CAP) {
        s->head = (s->head + 1) % TL_TREND_CAP;
        s->n--;
    }
    s->pt[(s->head + s->n) % TL_TREND_CAP] = (struct tl_trend_point){t_ns, value};
    s->n++;
    return 0;
}

/* Drops the points observed before `oldest_ns` (those that left the window). Can't fail. */
void tl_series_trim(struct tl_series *s, int64_t oldest_ns)
{
    while (s->n && tl_series_at(s, 0)->t_ns < oldest_ns) {
        s->head = (s->head + 1) % TL_TREND_CAP;
        s->n--;
    }
}

/* ---- helpers --------------------------------------------------------------------------- */

static double seconds(int64_t ns)
{
    return (double)ns * 1e-9;
}

/*
 * The k-th smallest of a[0..n) (Wirth's selection, in place, O(n) expected).
 * Leaves a[0..k) <= a[k] <= a[k+1..n).
 */
static double select_kth(double *a, long n, long k)
{
    long lo = 0, hi = n - 1;
    while (lo < hi) {
        double x = a[k];
        long i = lo, j = hi;
        do {
            while (a[i] < x)
                i++;
            while (x < a[j])
                j--;
            if (i <= j) {
                double t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                j--;
            }
        } while (i <= j);
        if (j < k)
            lo = i;
        if (k < i)
            hi = j;
    }
    return a[k];
}

/* Median of a[0..n), n > 0; reorders a. */
static double median(double *a, long n)
{
    double upper = select_kth(a, n, n / 2);
    if (n % 2)
        return upper;
    double lower = a[0]; /* the largest of a[0..n/2), all <= upper after the selection */
    for (long i = 1; i < n / 2; i++)
        if (a[i] > lower)
            lower = a[i];
    return (lower + upper) / 2;
}

/* Standard normal upper tail, P(Z >= z). */
static double normal_upper_tail(double z)
{
    return 0.5 * erfc(z / sqrt(2.0));
}

/*
 * The noise around the line of slope `slope` per second: 1.4826 times the
 * median absolute deviation of the residuals from their median (the
 * standard deviation for normal noise, unmoved by a few wild points).
 */
static double robust_sd_around(const struct tl_series *s, double slope)
{
    double res[TL_TREND_CAP];
    int64_t t0 = tl_series_at(s, 0)->t_ns;
    for (unsigned i = 0; i < s->n; i++) {
        const struct tl_trend_point *pt = tl_series_at(s, i);
        res[i] = pt->value - slope * seconds(pt->t_ns - t0);
    }
    double centre = median(res, s->n);
    for (unsigned i = 0; i < s->n; i++)
        res[i] = fabs(res[i] - centre);
    return 1.4826 * median(res, s->n);
}

/* ---- statistics ------------------------------------------------------------------------ */

/*
 * Theil-Sen slope of points [from, from + n) of `s`, in value units per
 * second: the median of the slopes of every pair of points (pairs observed
 * at the same instant are skipped). A burst moves few pairs, so it barely
 * moves the median, unlike least squares. Returns 0 when there is no pair.
 * Uses TL_TREND_MAX_PAIRS doubles of stack. Can't fail.
 */
double tl_trend_theil_sen(const struct tl_series *s, unsigned from, unsigned n)
{
    double slopes[TL_TREND_MAX_PAIRS];
    long m = 0;
    for (unsigned i = from; i < from + n; i++) {
        const struct tl_trend_point *a = tl_series_at(s, i);
        for (unsigned j = i + 1; j < from + n; j++) {
            const struct tl_trend_point *b = tl_series_at(s, j);
            if (b->t_ns > a->t_ns)
                slopes[m++] = (b->value - a->value) / seconds(b->t_ns - a->t_ns);
        }
    }
    return m ? median(slopes, m) : 0.0;
}

/*
 * Mann-Kendall trend test over points [from, from + n): returns S, the
 * number of later-higher pairs minus later-lower pairs. Under "no trend" S
 * is about normal with mean 0 and variance (n(n-1)(2n+5) - sum over groups
 * of tied values t(t-1)(2t+5)) / 18; *z is S with a continuity correction
 * over its standard deviation, *p the one-sided p-value of "increasing",
 * P(Z >= z) (so a falling series has p near 1). With every value tied,
 * z = 0 and p = 0.5. Either pointer may be NULL. Can't fail.
 */
double tl_trend_mann_kendall(const struct tl_series *s, unsigned from, unsigned n, double *z,
                             double *p)
{
    double values[TL_TREND_CAP];
    long sum = 0;
    for (unsigned i = from; i < from + n; i++) {
        double vi = tl_series_at(s, i)->value;
        values[i - from] = vi;
        for (unsigned j = i + 1; j < from + n; j++) {
            double vj = tl_series_at(s, j)->value;
            sum += (vj > vi) - (vj < vi);
        }
    }
    /* Ties: sort the values (insertion sort, n <= TL_TREND_CAP) and count equal runs. */
    for (unsigned i = 1; i < n; i++) {
        double v = values[i];
        unsigned j = i;
        for (; j > 0 && values[j - 1] > v; j--)
            values[j] = values[j - 1];
        values[j] = v;
    }
    double dn = n;
    double var = dn * (dn - 1) * (2 * dn + 5);
    for (unsigned i = 0; i < n;) {
        unsigned run = 1;
        while (i + run < n && values[i + run] == values[i])
            run++;
        double t = run;
        var -= t * (t - 1) * (2 * t + 5);
        i += run;
    }
    var /= 18;
    double zz = 0;
    if (var > 0 && sum > 0)
        zz = (double)(sum - 1) / sqrt(var);
    else if (var > 0 && sum < 0)
        zz = (double)(sum + 1) / sqrt(var);
    if (z)
        *z = zz;
    if (p)
        *p = normal_upper_tail(zz);
    return (double)sum;
}

/*
 * The growth verdict (contract in trend.h). Checks run cheapest first and
 * stop at the first that fails, so `r` holds the statistics up to that one.
 */
int tl_trend_test(const struct tl_series *s, const struct tl_trend_params *params,
                  struct tl_trend_result *r)
{
    memset(r, 0, sizeof *r);
    r->n = s->n;
    r->p = 1.0;
    if (s->n < TL_TREND_MIN_POINTS) {
        r->verdict = TL_TREND_FEW_POINTS;
        return 0;
    }
    const struct tl_trend_point *first = tl_series_at(s, 0), *last = tl_series_last(s);
    int64_t span_ns = last->t_ns - first->t_ns;
    r->span_s = seconds(span_ns);
    if (span_ns <= 0 || span_ns < params->min_duration_ns) {
        r->verdict = TL_TREND_SHORT;
        return 0;
    }
    double min_slope = params->min_slope;
    /* slope >= min_slope is required below, so this bound of the final check is exact. */
    r->rise = last->value - first->value;
    if (r->rise < min_slope * r->span_s / 2) {
        r->verdict = TL_TREND_NOT_ABOVE_START;
        return 0;
    }
    /*
     * The low-water mark: what is freed in churn comes back down to the old
     * floor; what leaks never does. Split at the middle of the span.
     */
    int64_t mid_ns = first->t_ns + span_ns / 2;
    unsigned recent = s->n;
    double old_min = INFINITY, new_min = INFINITY;
    for (unsigned i = 0; i < s->n; i++) {
        const struct tl_trend_point *pt = tl_series_at(s, i);
        if (pt->t_ns < mid_ns) {
            old_min = fmin(old_min, pt->value);
        } else {
            if (recent == s->n)
                recent = i;
            new_min = fmin(new_min, pt->value);
        }
    }
    r->floor_rise = new_min - old_min; /* both halves hold a point: first and last */
    if (r->floor_rise < min_slope / 2 * r->span_s / 2) {
        r->verdict = TL_TREND_FLOOR_FLAT;
        return 0;
    }
    r->mk_s = tl_trend_mann_kendall(s, 0, s->n, &r->z, &r->p);
    if (r->mk_s <= 0 || !(r->p <= params->alpha)) {
        r->verdict = TL_TREND_NOT_SIGNIFICANT;
        return 0;
    }
    r->slope = tl_trend_theil_sen(s, 0, s->n);
    if (r->slope < min_slope) {
        r->verdict = TL_TREND_SLOW;
        return 0;
    }
    if (r->rise < r->slope * r->span_s / 2) {
        r->verdict = TL_TREND_NOT_ABOVE_START;
        return 0;
    }
    r->noise = robust_sd_around(s, r->slope);
    if (r->slope * r->span_s < TL_TREND_SNR * r->noise) {
        r->verdict = TL_TREND_NOISY;
        return 0;
    }
    r->recent_slope = tl_trend_theil_sen(s, recent, s->n - recent);
    if (s->n - recent < 3 || r->recent_slope < min_slope / 2) {
        r->verdict = TL_TREND_STALLED;
        return 0;
    }
    r->verdict = TL_TREND_GROWS;
    return 1;
}

/* "grows", "stalled", ... for logs and test messages. Can't fail. */
const char *tl_trend_verdict_name(int verdict)
{
    static const char *const names[] = {
        "grows", "few-points", "short", "not-above-start",
        "floor-flat", "not-significant", "slow", "noisy", "stalled",
    };
    if (verdict < 0 || verdict >= (int)(sizeof names / sizeof names[0]))
        return "?";
    return names[verdict];
}

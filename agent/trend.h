/*
 * trend.h - does a series keep growing? Pure statistics over a bounded
 * series of (time, value) points: the Theil-Sen slope (median of pairwise
 * slopes, robust to outliers and bursts), the Mann-Kendall test (does the
 * value rise with time more often than chance allows), and tl_trend_test(),
 * which adds the checks that tell a steady leak from a plateau, a freed
 * burst or saw-tooth churn.
 *
 * No globals, no allocation, no locks: a series belongs to its caller (the
 * growth detector, collector thread only). Scratch space for the pairwise
 * slopes lives on the caller's stack (TL_TREND_MAX_PAIRS doubles, 64 KiB),
 * which is why the capacity is 128 points: keep the series' spacing at
 * window / TL_TREND_CAP or wider so a whole window fits.
 *
 * Cost: tl_trend_test() is O(n^2) in the points held (n <= TL_TREND_CAP),
 * with cheap O(n) rejections first, so a flat or shrinking series costs O(n).
 */
#ifndef TL_TREND_H
#define TL_TREND_H

#include <stdint.h>

#define TL_TREND_CAP 128                                         /* points a series holds */
#define TL_TREND_MAX_PAIRS (TL_TREND_CAP * (TL_TREND_CAP - 1) / 2) /* Theil-Sen scratch */
#define TL_TREND_MIN_POINTS 8                                    /* fewer: never a trend */
#define TL_TREND_SNR 4.0 /* growth over the span, in noise sds, a trend must reach */

struct tl_trend_point {
    int64_t t_ns;  /* when it was observed; non-decreasing along a series */
    double value;  /* bytes, threads, tasks... */
};

/* A ring of the most recent points, oldest dropped when full. Zeroed = empty. */
struct tl_series {
    struct tl_trend_point pt[TL_TREND_CAP];
    unsigned head;  /* index in pt[] of the oldest point */
    unsigned n;     /* points held */
};

struct tl_trend_params {
    int64_t min_duration_ns;  /* the growth must span at least this long */
    double alpha;             /* one-sided Mann-Kendall significance, e.g. 0.01 */
    double min_slope;         /* units per second the Theil-Sen slope must reach */
};

/* Why tl_trend_test() said no (or TL_TREND_GROWS). In the order checked. */
enum tl_trend_verdict {
    TL_TREND_GROWS,           /* all checks passed */
    TL_TREND_FEW_POINTS,      /* fewer than TL_TREND_MIN_POINTS */
    TL_TREND_SHORT,           /* span < min_duration */
    TL_TREND_NOT_ABOVE_START, /* last - first < slope * span / 2: it came back down */
    TL_TREND_FLOOR_FLAT,      /* the low-water mark did not rise: churn, not growth */
    TL_TREND_NOT_SIGNIFICANT, /* Mann-Kendall: not increasing at alpha */
    TL_TREND_SLOW,            /* Theil-Sen slope < min_slope */
    TL_TREND_NOISY,           /* slope * span < TL_TREND_SNR robust sd of the residuals */
    TL_TREND_STALLED,         /* slope of the recent half < min_slope / 2: a plateau */
};

struct tl_trend_result {
    int verdict;          /* enum tl_trend_verdict */
    unsigned n;           /* points tested */
    double span_s;        /* seconds from the first point to the last */
    double rise;          /* last value - first value */
    double floor_rise;    /* min of the recent half - min of the older half */
    double mk_s;          /* Mann-Kendall S: concordant - discordant pairs */
    double z;             /* S normalised (ties and continuity corrected); > 0 = rising */
    double p;             /* one-sided p of "increasing": P(Z >= z) */
    double slope;         /* Theil-Sen slope, units per second, whole series */
    double noise;         /* robust sd of the values around the Theil-Sen line (MAD * 1.4826) */
    double recent_slope;  /* Theil-Sen slope of the points in the recent half of the span */
};

/* Empties `s`. Can't fail. */
void tl_series_clear(struct tl_series *s);
/* Point i, 0 = oldest. i must be < s->n. */
const struct tl_trend_point *tl_series_at(const struct tl_series *s, unsigned i);
/* The newest point, NULL when empty. */
const struct tl_trend_point *tl_series_last(const struct tl_series *s);
/* Appends; 0, or TL_EINVAL for a non-finite value or a time before the newest point's. */
int tl_series_add(struct tl_series *s, int64_t t_ns, double value);
/* Drops the points older than `oldest_ns`. */
void tl_series_trim(struct tl_series *s, int64_t oldest_ns);

/* Theil-Sen slope (units per second) of points [from, from + n); 0 without a pair. */
double tl_trend_theil_sen(const struct tl_series *s, unsigned from, unsigned n);
/* Mann-Kendall S of points [from, from + n); z and one-sided p of "increasing" (NULL ok). */
double tl_trend_mann_kendall(const struct tl_series *s, unsigned from, unsigned n, double *z,
                             double *p);
/*
 * Is the series a sustained growth? Returns 1 when every check below passes,
 * else 0 with r->verdict naming the first that failed (checked in the order
 * of enum tl_trend_verdict, cheapest first). Can't fail otherwise.
 *   - at least TL_TREND_MIN_POINTS points, spanning >= min_duration_ns;
 *   - last value - first value >= slope * span / 2 (a freed burst, or a
 *     saw-tooth just trimmed, is back near where it started); tested first
 *     against min_slope, which costs O(1), then against the slope;
 *   - the low-water mark rose: min of the recent half of the span - min of
 *     the older half >= min_slope / 2 * span / 2 (churn returns to its floor;
 *     a leak under churn still lifts it);
 *   - Mann-Kendall S > 0 with one-sided p <= alpha;
 *   - Theil-Sen slope of the whole series >= min_slope;
 *   - the growth stands out of the noise: slope * span >= TL_TREND_SNR times
 *     the robust sd of the values around the Theil-Sen line. Each tick tests
 *     a new, overlapping window, so at alpha = 0.01 a long run of pure noise
 *     would pass the Mann-Kendall test sooner or later; this does not;
 *   - Theil-Sen slope of the points in the recent half of the span (at least
 *     3) >= min_slope / 2 (growth that stopped is a plateau, not a trend).
 * `r` always gets verdict, n and span_s; rise, floor_rise, mk_s, z, p, slope,
 * noise and recent_slope are filled as far as the checks got (0, and p = 1,
 * beyond). When 1 is returned all are set: slope and recent_slope in units
 * per second, span_s in seconds, z > 0 and p <= alpha.
 */
int tl_trend_test(const struct tl_series *s, const struct tl_trend_params *params,
                  struct tl_trend_result *r);
/* "grows", "stalled", ... Can't fail. */
const char *tl_trend_verdict_name(int verdict);

#endif
